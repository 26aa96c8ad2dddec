// Lockfile analysis -> LSP diagnostics. Severity by verdict status is decided here only, from a level table
// (DEFAULT_STATUS_LEVELS unless a caller passes its own).
import { Diagnostic, DiagnosticSeverity } from "vscode-languageserver";
import { packageKey, type LockedPackage, type ProblemSeverity } from "../lockfile/index";
import { DEFAULT_STATUS_LEVELS, type DiagnosticLevel } from "../protocol/settings";
import type { PackageStatus, Verdict } from "../protocol/verdicts";
import type { LockfileAnalysis } from "../workspace/analyze";

export const DIAGNOSTIC_SOURCE = "Provenance Lens";

const PROBLEM_SEVERITY: Record<ProblemSeverity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

function severityOf(level: DiagnosticLevel): DiagnosticSeverity | undefined {
  switch (level) {
    case "error":
      return DiagnosticSeverity.Error;
    case "warning":
      return DiagnosticSeverity.Warning;
    case "information":
      return DiagnosticSeverity.Information;
    case "hint":
      return DiagnosticSeverity.Hint;
    case "none":
      return undefined;
  }
}

/** Attached to package diagnostics so code actions and hovers can find the package again. */
export interface PackageDiagnosticData {
  packageKey: string;
}

export function diagnosticsFor(
  analysis: LockfileAnalysis,
  levels: Readonly<Record<PackageStatus, DiagnosticLevel>> = DEFAULT_STATUS_LEVELS,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = analysis.parsed.problems.map((problem) => ({
    range: problem.range,
    severity: PROBLEM_SEVERITY[problem.severity],
    code: problem.code,
    source: DIAGNOSTIC_SOURCE,
    message: problem.message,
  }));
  for (const pkg of analysis.packages) {
    const key = packageKey(pkg);
    const verdict = analysis.result.verdicts.get(key);
    if (verdict === undefined) continue;
    // The project's own folders (workspaces, links) are not dependencies someone else published: no noise.
    if (pkg.source === "workspace" || pkg.source === "link") continue;
    const severity = severityOf(levels[verdict.status]);
    if (severity === undefined) continue;
    const data: PackageDiagnosticData = { packageKey: key };
    for (const range of pkg.locations) {
      diagnostics.push({ range, severity, code: verdict.status, source: DIAGNOSTIC_SOURCE, message: messageOf(pkg, verdict), data });
    }
  }
  return diagnostics;
}

function messageOf(pkg: LockedPackage, verdict: Verdict): string {
  const label = `${pkg.alias ?? pkg.name}@${pkg.version}`;
  if (verdict.status === "not-from-registry") {
    return `${label} comes from ${pkg.source}${pkg.resolved ? `: ${pkg.resolved}` : ""}. No registry signature or provenance applies.`;
  }
  return `${label}: ${verdict.status}. ${verdict.reasons[0] ?? ""}`.trim();
}
