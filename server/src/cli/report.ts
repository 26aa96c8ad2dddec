// The CLI's report: one shape, declared here, that both the JSON and the text output print.
import * as path from "node:path";
import { packageKey, type ProblemSeverity, type Range, type SourceKind } from "../lockfile/index";
import { DEFAULT_STATUS_LEVELS } from "../protocol/settings";
import { PACKAGE_STATUSES, type PackageStatus, type ProvenanceStatus, type RegistryNotice, type SignatureStatus } from "../protocol/verdicts";
import type { LockfileAnalysis } from "../workspace/analyze";

/** One-based, as people and editors count. */
export interface ReportPosition {
  line: number;
  column: number;
}

export interface ReportPackage {
  name: string;
  version: string;
  alias: string | null;
  source: SourceKind;
  integrity: string | null;
  resolved: string | null;
  dev: boolean;
  direct: boolean;
  locations: ReportPosition[];
  status: PackageStatus;
  reasons: string[];
  signature: { status: SignatureStatus; keyid: string | null };
  provenance: {
    status: ProvenanceStatus;
    sourceRepository: string | null;
    sourceCommit: string | null;
    sourceRef: string | null;
    workflow: string | null;
    builder: string | null;
    predicateType: string | null;
    logIndex: string | null;
    logUrl: string | null;
  };
}

export interface ReportProblem extends ReportPosition {
  severity: ProblemSeverity;
  code: string;
  message: string;
}

export interface ReportLockfile {
  /** Relative to the working directory, POSIX separators. */
  path: string;
  format: string;
  lockfileVersion: string | number | null;
  packages: ReportPackage[];
  problems: ReportProblem[];
  /** Facts about whole registries (e.g. a mirror that strips signatures), each said once. */
  notices: RegistryNotice[];
}

export interface Report {
  schemaVersion: 1;
  /** The Sigstore trusted root provenance was verified with, and how old it is. */
  trustedRoot: string;
  lockfiles: ReportLockfile[];
  summary: { packages: number; byStatus: Record<PackageStatus, number>; problems: number };
}

function positionOf(range: Range): ReportPosition {
  return { line: range.start.line + 1, column: range.start.character + 1 };
}

export function buildReport(analyses: LockfileAnalysis[], cwd: string, trustedRoot: string): Report {
  const byStatus = Object.fromEntries(PACKAGE_STATUSES.map((s) => [s, 0])) as Record<PackageStatus, number>;
  let packageCount = 0;
  let problemCount = 0;
  const lockfiles = analyses.map((analysis): ReportLockfile => {
    const packages = analysis.packages.map((pkg): ReportPackage => {
      const verdict = analysis.result.verdicts.get(packageKey(pkg));
      // The Checker contract gives every package a verdict; a missing one is reported, not hidden.
      const status: PackageStatus = verdict?.status ?? "unverifiable";
      byStatus[status]++;
      return {
        name: pkg.name,
        version: pkg.version,
        alias: pkg.alias ?? null,
        source: pkg.source,
        integrity: pkg.integrity ?? null,
        resolved: pkg.resolved ?? null,
        dev: pkg.dev,
        direct: pkg.direct,
        locations: pkg.locations.map(positionOf),
        status,
        reasons: verdict?.reasons ?? ["The verification engine returned no verdict for this package."],
        signature: { status: verdict?.signature.status ?? "not-checked", keyid: verdict?.signature.keyid ?? null },
        provenance: {
          status: verdict?.provenance.status ?? "not-checked",
          sourceRepository: verdict?.provenance.sourceRepository ?? null,
          sourceCommit: verdict?.provenance.sourceCommit ?? null,
          sourceRef: verdict?.provenance.sourceRef ?? null,
          workflow: verdict?.provenance.workflow ?? null,
          builder: verdict?.provenance.builder ?? null,
          predicateType: verdict?.provenance.predicateType ?? null,
          logIndex: verdict?.provenance.logIndex ?? null,
          logUrl: verdict?.provenance.logUrl ?? null,
        },
      };
    });
    const problems = analysis.parsed.problems.map((p): ReportProblem => ({ ...positionOf(p.range), severity: p.severity, code: p.code, message: p.message }));
    packageCount += packages.length;
    problemCount += problems.length;
    return {
      path: path.relative(cwd, analysis.path).split(path.sep).join("/") || path.basename(analysis.path),
      format: analysis.parsed.format,
      lockfileVersion: analysis.parsed.lockfileVersion ?? null,
      packages,
      problems,
      notices: analysis.result.notices,
    };
  });
  return { schemaVersion: 1, trustedRoot, lockfiles, summary: { packages: packageCount, byStatus, problems: problemCount } };
}

/** 1 when anything is at error severity (a parse error, or a status whose level is error), else 0. */
export function exitCodeOf(report: Report): 0 | 1 {
  for (const lockfile of report.lockfiles) {
    if (lockfile.problems.some((p) => p.severity === "error")) return 1;
    if (lockfile.packages.some((p) => DEFAULT_STATUS_LEVELS[p.status] === "error")) return 1;
  }
  return 0;
}
