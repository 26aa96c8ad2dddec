// A pull-request comment: a summary table a reviewer reads at a glance, then the findings in a collapsible list with
// links to each package's source commit and transparency-log entry. GitHub-flavoured Markdown.
import type { PolicyCode } from "../policy/index";
import type { DiagnosticLevel } from "../protocol/settings";
import { FINDING_CODES, PACKAGE_STATUSES, type PackageStatus } from "../protocol/verdicts";
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
  /** The policy's `severity` (statuses it names take that level). */
  severity?: Partial<Record<PolicyCode, DiagnosticLevel>>;
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
  for (const code of FINDING_CODES) if (report.summary.findings[code] > 0) out.push(`| ${code} | ${report.summary.findings[code]} |`);
  if (report.summary.accepted > 0) out.push(`| Accepted by the policy | ${report.summary.accepted} |`);
  out.push(`| Lockfile problems | ${report.summary.problems} |`);
  if (report.policy.problems.length > 0) out.push(`| Policy file problems (\`${code(report.policy.path)}\`) | ${report.policy.problems.length} |`);
  out.push("");
  for (const notice of report.notices) out.push(`> [!WARNING]`, `> ${escape(notice.message)}`, "");
  // Said once per run (issue 8), one line each: what makes this run check less than the defaults.
  if (report.weakenings.length > 0) {
    for (const w of report.weakenings) out.push(`- Weakened by ${w.source === "policy" ? "policy" : "flag"}: ${escape(w.message)}`);
    out.push("");
  }
  if (report.policy.fellBack) out.push(`The policy file \`${code(report.policy.path)}\` does not parse: it is ignored and the default checks apply.`, "");

  const findings = packageFindings(report, options.failOn, options.severity);
  const problems = [
    ...report.lockfiles.flatMap((l) => l.problems.map((p) => ({ lockfile: l.path, problem: p }))),
    ...report.policy.problems.map((p) => ({ lockfile: p.path, problem: p })),
  ];
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
    const described = new Set<ReportPackage>();
    for (const finding of findings) {
      if (listed++ >= MAX_LISTED) break;
      const { pkg, change } = finding;
      const what = change === undefined ? "" : ` (${escape(describeChange(change))})`;
      const where = pkg.locations[0] === undefined ? "" : ` line ${pkg.locations[0].line}`;
      const head = finding.isStatus ? `${MARK[pkg.status]} **${pkg.status}**` : `**${finding.level}**`;
      const accepted = finding.accepted === null ? "" : ` _Accepted: ${escape(finding.accepted.reason)}${finding.accepted.expires === null ? "" : ` (until ${escape(finding.accepted.expires)})`}_`;
      out.push(`- ${finding.accepted === null ? "" : "☑️ "}${head} [${finding.code}](${ruleFor(finding.code).helpUri}) \`${code(packageLabel(pkg))}\`${what} in \`${code(finding.lockfile.path)}\`${where}: ${escape(finding.message)}${accepted}`);
      // Evidence and history once per package, under its first finding.
      if (described.has(pkg)) continue;
      described.add(pkg);
      const evidence = evidenceLinks(pkg);
      if (evidence !== "") out.push(`  ${evidence}`);
      if (pkg.historyLine !== null) out.push(`  History: ${escape(pkg.historyLine)}`);
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
      const history = pkg.historyLine === null ? "" : ` (${escape(pkg.historyLine)})`;
      out.push(`- ${MARK[pkg.status]} **${pkg.status}** \`${code(packageLabel(pkg))}\`${what}${evidence === "" ? "" : `: ${evidence}`}${history}`);
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
