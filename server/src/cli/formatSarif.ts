// SARIF 2.1.0 for GitHub code scanning: one rule per finding code, one result per finding, located at the lockfile
// line of the entry with a repository-relative URI so the pull request is annotated on the right line.
// Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html; GitHub's subset:
// https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
import * as path from "node:path";
import type { PolicyCode } from "../policy/index";
import type { DiagnosticLevel } from "../protocol/settings";
import type { PackageStatus } from "../protocol/verdicts";
import { DOCS_URL, describeChange, packageFindings, packageLabel, ruleFor, type FindingLevel, type FindingRule } from "./findings";
import type { Report, ReportPosition } from "./report";

export interface SarifOptions {
  failOn: readonly PackageStatus[];
  toolVersion: string;
  /** The report's lockfile paths are relative to the working directory; this is that directory inside the repository ("" at its root). */
  repositoryPrefix: string;
  /** The policy's `severity` (statuses it names take that level). */
  severity?: Partial<Record<PolicyCode, DiagnosticLevel>>;
}

/** An accepted finding stays in the log, marked as reviewed, with the policy's reason (SARIF 2.1.0 §3.35). */
interface SarifSuppression {
  kind: "external";
  status: "accepted";
  justification: string;
}

interface SarifLocation {
  physicalLocation: {
    artifactLocation: { uri: string; uriBaseId: "%SRCROOT%" };
    region: { startLine: number; startColumn: number };
  };
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: FindingLevel;
  message: { text: string };
  locations: SarifLocation[];
  relatedLocations?: (SarifLocation & { id: number; message: { text: string } })[];
  partialFingerprints: Record<string, string>;
  suppressions?: SarifSuppression[];
  properties?: Record<string, unknown>;
}

export function formatSarif(report: Report, options: SarifOptions): string {
  const rules: FindingRule[] = [];
  const ruleIndex = (code: string, severity?: "error" | "warning" | "information"): number => {
    const found = rules.findIndex((r) => r.code === code);
    if (found >= 0) return found;
    rules.push(ruleFor(code, severity));
    return rules.length - 1;
  };
  const uriOf = (reportPath: string): string => path.posix.normalize(options.repositoryPrefix === "" ? reportPath : `${options.repositoryPrefix}/${reportPath}`);
  const locationOf = (reportPath: string, at: ReportPosition): SarifLocation => ({
    physicalLocation: { artifactLocation: { uri: uriOf(reportPath), uriBaseId: "%SRCROOT%" }, region: { startLine: at.line, startColumn: at.column } },
  });
  /** A problem of a file (a lockfile's, or the policy file's) as a result on its position in that file. */
  const problemResult = (problem: (typeof report.policy.problems)[number] | (typeof report.lockfiles)[number]["problems"][number], filePath: string, fingerprint: string): SarifResult => ({
    ruleId: problem.code,
    ruleIndex: ruleIndex(problem.code, problem.severity),
    level: problem.severity === "information" ? "note" : problem.severity,
    message: { text: problem.message },
    locations: [locationOf(filePath, problem)],
    partialFingerprints: { [fingerprint]: `${uriOf(filePath)}:${problem.code}:${problem.message}` },
  });
  const results: SarifResult[] = [];
  for (const lockfile of report.lockfiles) {
    for (const problem of lockfile.problems) results.push(problemResult(problem, lockfile.path, "lockfileProblem/v1"));
  }
  // Problems of the policy file sit in the policy file, so code scanning annotates the line to fix.
  for (const problem of report.policy.problems) results.push(problemResult(problem, problem.path, "policyProblem/v1"));
  for (const finding of packageFindings(report, options.failOn, options.severity)) {
    const { pkg, change, lockfile } = finding;
    const [first, ...others] = pkg.locations;
    if (first === undefined) continue;
    const what = change === undefined ? "" : ` (${describeChange(change)})`;
    const identity = `${uriOf(lockfile.path)}:${pkg.name}@${pkg.version}:${pkg.source}:${pkg.resolved ?? ""}`;
    const result: SarifResult = {
      ruleId: finding.code,
      ruleIndex: ruleIndex(finding.code),
      level: finding.level,
      message: { text: finding.isStatus ? `${packageLabel(pkg)} is ${pkg.status}${what}: ${finding.message}` : `${packageLabel(pkg)}${what}: ${finding.message}` },
      locations: [locationOf(lockfile.path, first)],
      // Stable across runs and line moves: the package identity (and the finding code), not its line (GitHub matches alerts by it).
      partialFingerprints: { "packageIdentity/v1": finding.isStatus ? identity : `${identity}:${finding.code}` },
      ...(finding.accepted === null ? {} : { suppressions: [{ kind: "external", status: "accepted", justification: finding.accepted.reason }] }),
      properties: finding.isStatus ? { status: pkg.status, source: pkg.source, reasons: pkg.reasons } : { status: pkg.status, source: pkg.source, ...(pkg.historyLine === null ? {} : { history: pkg.historyLine }) },
    };
    if (others.length > 0) {
      result.relatedLocations = others.map((at, i) => ({ id: i + 1, ...locationOf(lockfile.path, at), message: { text: `${packageLabel(pkg)} is also locked here` } }));
    }
    results.push(result);
  }
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "Provenance Lens",
            version: options.toolVersion,
            semanticVersion: options.toolVersion,
            informationUri: DOCS_URL,
            rules: rules.map((r) => ({
              id: r.code,
              name: r.code.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase()),
              shortDescription: { text: r.title },
              fullDescription: { text: r.help },
              help: { text: r.help, markdown: `${r.help}\n\n[Provenance Lens: ${r.code}](${r.helpUri})` },
              helpUri: r.helpUri,
              defaultConfiguration: { level: r.defaultLevel },
              properties: { tags: ["supply-chain", "security"] },
            })),
          },
        },
        // Registry notices are facts about the run, not about a line: said once, as tool notifications.
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: [
              ...report.notices.map((n) => ({ level: "warning", message: { text: n.message }, descriptor: { id: `registry-${n.kind}` } })),
              // What the policy or a flag weakens is a fact about the run too (issue 8): said once, where CI shows it.
              ...report.weakenings.map((w) => ({ level: "note", message: { text: `Weakened by ${w.source === "policy" ? "policy" : "flag"}: ${w.message}` }, descriptor: { id: `weakened-by-${w.source}` } })),
            ],
          },
        ],
        columnKind: "utf16CodeUnits",
        originalUriBaseIds: { "%SRCROOT%": { description: { text: "The repository root." } } },
        ...(report.base !== undefined ? { properties: { base: report.base, changes: report.summary.changes } } : {}),
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

