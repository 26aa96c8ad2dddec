// The report for people: notices once, then per lockfile its problems, then packages grouped by status in
// PACKAGE_STATUSES order (problems first). Statuses that need a look list every package; the rest are counted,
// with their distinct reasons. With --base every changed package is listed with what changed.
import { PACKAGE_STATUSES, type PackageStatus } from "../protocol/verdicts";
import { describeChange } from "./findings";
import type { Report, ReportChange, ReportPackage } from "./report";

const LISTED: ReadonlySet<PackageStatus> = new Set<PackageStatus>(["invalid", "unsigned", "not-from-registry"]);

export interface TextOptions {
  /** ANSI colours: only on a terminal, never with NO_COLOR (decided by the caller, see colorWanted). */
  color: boolean;
}

const SGR: Record<PackageStatus | "problem" | "dim" | "bold", string> = {
  invalid: "31",
  unsigned: "33",
  unverifiable: "33",
  signed: "36",
  verified: "32",
  "not-from-registry": "34",
  problem: "31",
  dim: "2",
  bold: "1",
};

/** https://no-color.org: any non-empty NO_COLOR turns colour off; FORCE_COLOR is not ours to honour here. */
export function colorWanted(isTTY: boolean, env: Record<string, string | undefined>): boolean {
  return isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === "") && env.TERM !== "dumb";
}

export function formatText(report: Report, options: TextOptions = { color: false }): string {
  const paint = (style: keyof typeof SGR, text: string): string => (options.color ? `\u001b[${SGR[style]}m${text}\u001b[0m` : text);
  const out: string[] = [];
  if (report.base !== undefined && report.summary.changes !== undefined) {
    const c = report.summary.changes;
    out.push(paint("bold", `Changes since ${report.base.ref} (${report.base.commit.slice(0, 12)}): ${c.added} added, ${c.changed} changed, ${c.removed} removed, ${c.unchanged} unchanged.`));
  }
  for (const notice of report.notices) out.push(`Note: ${notice.message}`);
  // Said once per run (issue 8): anything that makes this run check less than the defaults.
  for (const w of report.weakenings) out.push(paint("unsigned", `Weakened by ${w.source === "policy" ? "policy" : "flag"}: ${w.message}`));
  const policy = report.policy;
  if (policy.found || policy.problems.length > 0) {
    const state = policy.fellBack ? " (not applied: the default checks apply)" : policy.problems.length > 0 ? ` (${plural(policy.problems.length, "problem")})` : "";
    out.push(`Policy: ${policy.path}${state}`);
    for (const p of policy.problems) out.push(`  ${paint(p.severity === "error" ? "problem" : "dim", `${p.path}:${p.line}:${p.column} ${p.severity} [${p.code}] ${p.message}`)}`);
  }
  for (const lockfile of report.lockfiles) {
    const version = lockfile.lockfileVersion === null ? "" : `, lockfileVersion ${lockfile.lockfileVersion}`;
    const what = lockfile.changes === undefined ? plural(lockfile.packages.length, "package") : changeLine(lockfile.changes);
    out.push(paint("bold", `${lockfile.path} (${lockfile.format}${version}): ${what}`));
    if (lockfile.problems.length > 0) {
      out.push(`  ${paint("problem", `${plural(lockfile.problems.length, "problem")}:`)}`);
      for (const p of lockfile.problems) out.push(`    ${lockfile.path}:${p.line}:${p.column} ${p.severity} [${p.code}] ${p.message}`);
    }
    const indexOf = new Map(lockfile.packages.map((p, i) => [p, i]));
    for (const status of PACKAGE_STATUSES) {
      const packages = lockfile.packages.filter((p) => p.status === status);
      if (packages.length === 0) continue;
      out.push(`  ${paint(status, `${status} (${packages.length}):`)}`);
      if (lockfile.changes !== undefined) {
        for (const p of packages) out.push(`    ${label(p)}  ${paint("dim", changeOf(lockfile.changes.entries[indexOf.get(p) ?? -1]))}  ${p.reasons[0] ?? ""}`.trimEnd(), ...details(p, paint));
        continue;
      }
      // Packages with history or findings are listed whatever their status: that is where those are read.
      const listed = LISTED.has(status) ? packages : packages.filter((p) => details(p, paint).length > 0);
      for (const p of listed) out.push(`    ${label(p)}  ${p.reasons[0] ?? ""}`.trimEnd(), ...details(p, paint));
      const rest = packages.filter((p) => !listed.includes(p));
      const reasons = new Map<string, number>();
      for (const p of rest) reasons.set(p.reasons[0] ?? "", (reasons.get(p.reasons[0] ?? "") ?? 0) + 1);
      for (const [reason, count] of reasons) out.push(`    ${plural(count, "package")}: ${reason || "no reason given"}`);
    }
    const removed = lockfile.changes?.removedPackages ?? [];
    if (removed.length > 0) out.push(`  removed (${removed.length}): ${removed.slice(0, 20).map((r) => `${r.name}@${r.version}`).join(", ")}${removed.length > 20 ? ", ..." : ""}`);
  }
  const counts = PACKAGE_STATUSES.filter((s) => report.summary.byStatus[s] > 0).map((s) => paint(s, `${report.summary.byStatus[s]} ${s}`));
  out.push(`Provenance checked with the ${report.trustedRoot}.`);
  const noun = report.base === undefined ? "package" : "changed package";
  out.push(
    `Summary: ${plural(report.lockfiles.length, "lockfile")}, ${plural(report.summary.packages, noun)}` +
      `${counts.length > 0 ? ` (${counts.join(", ")})` : ""}, ${plural(report.summary.problems, "problem")}.`,
  );
  return `${out.join("\n")}\n`;
}

/** The lines under a package: its history line, then its findings beyond the status, accepted ones with their reason. */
function details(p: ReportPackage, paint: (style: keyof typeof SGR, text: string) => string): string[] {
  const out: string[] = [];
  if (p.historyLine !== null) out.push(`      history: ${p.historyLine}`);
  const [status, ...others] = p.findings;
  if (status?.accepted != null) out.push(`      ${paint("dim", `accepted: ${acceptedText(status.accepted)}`)}`);
  for (const f of others) {
    if (f.level === "none") continue;
    if (f.accepted !== null) out.push(`      ${paint("dim", `accepted [${f.code}] ${f.message} (${acceptedText(f.accepted)})`)}`);
    else out.push(`      ${paint(f.level === "error" ? "problem" : "unsigned", `${f.level} [${f.code}]`)} ${f.message}`);
  }
  return out;
}

function acceptedText(a: { reason: string; expires: string | null }): string {
  return `${a.reason}${a.expires === null ? "" : ` until ${a.expires}`}`;
}

function changeLine(c: NonNullable<Report["lockfiles"][number]["changes"]>): string {
  const fresh = c.existedAtBase ? "" : " (new lockfile: not at the base revision)";
  return `${c.added} added, ${c.changed} changed, ${c.removed} removed, ${c.unchanged} unchanged${fresh}`;
}

function changeOf(change: ReportChange | undefined): string {
  return change === undefined ? "" : `[${describeChange(change)}]`;
}

function label(p: ReportPackage): string {
  const name = p.alias !== null ? `${p.alias} (${p.name})` : p.name;
  const where = p.locations[0] === undefined ? "" : ` line ${p.locations[0].line}`;
  return `${name}@${p.version}${p.dev ? " [dev]" : ""}${where}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
