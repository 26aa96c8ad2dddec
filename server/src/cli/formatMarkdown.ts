// A pull-request comment: a summary table a reviewer reads at a glance, then the findings in a collapsible list with
// links to each package's source commit and transparency-log entry. GitHub-flavoured Markdown.
import { PACKAGE_STATUSES, type PackageStatus } from "../protocol/verdicts";
import { describeChange, packageFindings, packageLabel, ruleFor, sourceCommitUrl } from "./findings";
import type { Report, ReportPackage } from "./report";

const MARK: Record<PackageStatus, string> = {
  invalid: "❌",
  unsigned: "⚠️",
  unverifiable: "❔",
  signed: "🔏",
  verified: "✅",
  "not-from-registry": "📦",
};

/** A comment has a size limit (65,536 characters on GitHub): long lists are cut with a count of what was left out. */
const MAX_LISTED = 200;

export interface MarkdownOptions {
  failOn: readonly PackageStatus[];
}

export function formatMarkdown(report: Report, options: MarkdownOptions): string {
  const out: string[] = [];
  const base = report.base;
  out.push(base === undefined ? "### Provenance Lens" : `### Provenance Lens: dependency changes since \`${code(base.ref)}\` (${base.commit.slice(0, 12)})`);
  out.push("");
  const changes = report.summary.changes;
  if (changes !== undefined) {
    out.push(`**${changes.added} added, ${changes.changed} changed, ${changes.removed} removed** (${changes.unchanged} unchanged).`, "");
  }
  out.push("| Status | Packages |", "| --- | ---: |");
  for (const status of PACKAGE_STATUSES) {
    const failing = options.failOn.includes(status) ? " (fails the check)" : "";
    out.push(`| ${MARK[status]} ${status}${failing} | ${report.summary.byStatus[status]} |`);
  }
  out.push(`| Lockfile problems | ${report.summary.problems} |`, "");
  for (const notice of report.notices) out.push(`> [!WARNING]`, `> ${escape(notice.message)}`, "");

  const findings = packageFindings(report, options.failOn);
  const problems = report.lockfiles.flatMap((l) => l.problems.map((p) => ({ lockfile: l.path, problem: p })));
  const count = findings.length + problems.length;
  if (count === 0) {
    out.push(base === undefined ? "No findings." : "No findings in the changed packages.");
  } else {
    out.push("<details>", `<summary>${count} finding${count === 1 ? "" : "s"}</summary>`, "");
    let listed = 0;
    for (const { lockfile, problem } of problems) {
      if (listed++ >= MAX_LISTED) break;
      out.push(`- **${problem.severity}** [${problem.code}](${ruleFor(problem.code, problem.severity).helpUri}) \`${code(lockfile)}\` line ${problem.line}: ${escape(problem.message)}`);
    }
    for (const finding of findings) {
      if (listed++ >= MAX_LISTED) break;
      const { pkg, change } = finding;
      const what = change === undefined ? "" : ` (${escape(describeChange(change))})`;
      const where = pkg.locations[0] === undefined ? "" : ` line ${pkg.locations[0].line}`;
      out.push(
        `- ${MARK[pkg.status]} **${pkg.status}** [${finding.code}](${ruleFor(finding.code).helpUri}) \`${code(packageLabel(pkg))}\`${what} in \`${code(finding.lockfile.path)}\`${where}: ${escape(pkg.reasons[0] ?? "no reason given")}`,
      );
      const evidence = evidenceLinks(pkg);
      if (evidence !== "") out.push(`  ${evidence}`);
    }
    if (listed > MAX_LISTED) out.push("", `…and ${count - MAX_LISTED} more: run \`provenance-lens check --format text\` for the full list.`);
    out.push("", "</details>");
  }

  // What verifies is listed too: its evidence (source commit, log entry) is what a reviewer checks.
  const fine = report.lockfiles.flatMap((l) => l.packages.map((pkg, i) => ({ pkg, change: l.changes?.entries[i] })));
  const trusted = fine.filter((f) => (f.pkg.status === "verified" || f.pkg.status === "signed") && !findings.some((x) => x.pkg === f.pkg));
  if (trusted.length > 0) {
    const noun = `${base === undefined ? "" : "changed "}package${trusted.length === 1 ? "" : "s"}`;
    out.push("", "<details>", `<summary>${trusted.length} ${noun} that verify</summary>`, "");
    for (const { pkg, change } of trusted.slice(0, MAX_LISTED)) {
      const what = change === undefined ? "" : ` (${escape(describeChange(change))})`;
      const evidence = evidenceLinks(pkg);
      out.push(`- ${MARK[pkg.status]} **${pkg.status}** \`${code(packageLabel(pkg))}\`${what}${evidence === "" ? "" : `: ${evidence}`}`);
    }
    if (trusted.length > MAX_LISTED) out.push(`- …and ${trusted.length - MAX_LISTED} more`);
    out.push("", "</details>");
  }
  if (base !== undefined) {
    const removed = report.lockfiles.flatMap((l) => l.changes?.removedPackages ?? []);
    if (removed.length > 0) out.push("", `Removed: ${removed.slice(0, 50).map((r) => `\`${code(`${r.name}@${r.version}`)}\``).join(", ")}${removed.length > 50 ? `, …and ${removed.length - 50} more` : ""}.`);
  }
  out.push("", `<sub>Provenance checked with the ${escape(report.trustedRoot)}.</sub>`);
  return `${out.join("\n")}\n`;
}

/** `built from [org/repo@abc1234](…) · [transparency log entry 123](…)` */
function evidenceLinks(pkg: ReportPackage): string {
  const parts: string[] = [];
  const commitUrl = sourceCommitUrl(pkg);
  const { sourceRepository, sourceCommit, logIndex, logUrl } = pkg.provenance;
  if (commitUrl !== undefined && sourceRepository !== null && sourceCommit !== null) {
    const repo = sourceRepository.replace(/^https:\/\/[^/]+\//, "").replace(/\.git$/, "");
    parts.push(`built from [${escape(repo)}@${sourceCommit.slice(0, 7)}](${commitUrl})`);
  }
  if (logUrl !== null) parts.push(`[transparency log entry${logIndex === null ? "" : ` ${logIndex}`}](${logUrl})`);
  else if (logIndex !== null) parts.push(`transparency log entry ${logIndex}`);
  return parts.join(" · ");
}

/** Text from packages and registries goes into a comment that renders HTML: neutralise markup and @mentions (a zero-width space after an @ that starts a word). */
function escape(text: string): string {
  return text.replace(/[<>&]/g, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&amp;")).replace(/([\\`*_[\]|])/g, "\\$1").replace(/(^|[^\w`])@(?=[A-Za-z0-9])/g, "$1@\u200b");
}

/** Inside backticks only a backtick can break out. */
function code(text: string): string {
  return text.replace(/`/g, "'");
}
