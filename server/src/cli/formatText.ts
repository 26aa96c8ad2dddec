// The report for people: problems first, then packages grouped by status in PACKAGE_STATUSES order.
// Statuses that need a look list every package; the rest are counted, with their distinct reasons.
import { PACKAGE_STATUSES, type PackageStatus } from "../protocol/verdicts";
import type { Report, ReportPackage } from "./report";

const LISTED: ReadonlySet<PackageStatus> = new Set<PackageStatus>(["invalid", "unsigned", "not-from-registry"]);

export function formatText(report: Report): string {
  const out: string[] = [];
  for (const lockfile of report.lockfiles) {
    const version = lockfile.lockfileVersion === null ? "" : `, lockfileVersion ${lockfile.lockfileVersion}`;
    out.push(`${lockfile.path} (${lockfile.format}${version}): ${plural(lockfile.packages.length, "package")}`);
    for (const notice of lockfile.notices) out.push(`  Note: ${notice.message}`);
    if (lockfile.problems.length > 0) {
      out.push(`  ${plural(lockfile.problems.length, "problem")}:`);
      for (const p of lockfile.problems) out.push(`    ${lockfile.path}:${p.line}:${p.column} ${p.severity} [${p.code}] ${p.message}`);
    }
    for (const status of PACKAGE_STATUSES) {
      const packages = lockfile.packages.filter((p) => p.status === status);
      if (packages.length === 0) continue;
      out.push(`  ${status} (${packages.length}):`);
      if (LISTED.has(status)) {
        for (const p of packages) out.push(`    ${label(p)}  ${p.reasons[0] ?? ""}`.trimEnd());
        continue;
      }
      const reasons = new Map<string, number>();
      for (const p of packages) reasons.set(p.reasons[0] ?? "", (reasons.get(p.reasons[0] ?? "") ?? 0) + 1);
      for (const [reason, count] of reasons) out.push(`    ${plural(count, "package")}: ${reason || "no reason given"}`);
    }
  }
  const counts = PACKAGE_STATUSES.filter((s) => report.summary.byStatus[s] > 0).map((s) => `${report.summary.byStatus[s]} ${s}`);
  out.push(`Provenance checked with the ${report.trustedRoot}.`);
  out.push(
    `Summary: ${plural(report.lockfiles.length, "lockfile")}, ${plural(report.summary.packages, "package")}` +
      `${counts.length > 0 ? ` (${counts.join(", ")})` : ""}, ${plural(report.summary.problems, "problem")}.`,
  );
  return `${out.join("\n")}\n`;
}

function label(p: ReportPackage): string {
  const name = p.alias !== null ? `${p.alias} (${p.name})` : p.name;
  const where = p.locations[0] === undefined ? "" : ` line ${p.locations[0].line}`;
  return `${name}@${p.version}${p.dev ? " [dev]" : ""}${where}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
