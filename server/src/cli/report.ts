// The CLI's report: one shape, declared here, that every output format prints (docs/CLI.md documents each field).
import * as path from "node:path";
import { packageKey, type LockedPackage, type ProblemSeverity, type Range, type SourceKind } from "../lockfile/index";
import { PACKAGE_STATUSES, type PackageStatus, type ProvenanceStatus, type RegistryNotice, type SignatureStatus } from "../protocol/verdicts";
import type { ChangeAspect, DiffItem, LockfileDiff } from "../review/diff";
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
  /** Only with --base: what changed since then. `packages` then holds only added and changed packages. */
  changes?: ReportLockfileChanges;
}

/** A package on one side of a change. */
export interface ReportPackageState {
  version: string;
  source: SourceKind;
  resolved: string | null;
  integrity: string | null;
  status: PackageStatus;
}

export interface ReportChange {
  name: string;
  alias: string | null;
  kind: "added" | "changed";
  aspects: ChangeAspect[];
  /** null when added. */
  from: ReportPackageState | null;
  to: ReportPackageState;
}

export interface ReportLockfileChanges {
  /** false when the lockfile did not exist at the base revision (then every package is added). */
  existedAtBase: boolean;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  /** One per entry of `packages`, in the same order. */
  entries: ReportChange[];
  removedPackages: { name: string; version: string; source: SourceKind }[];
}

export interface ReportChangeCounts {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
}

export interface Report {
  schemaVersion: 1;
  /** The Sigstore trusted root provenance was verified with, and how old it is. */
  trustedRoot: string;
  /** Only with --base: the revision compared against. */
  base?: { ref: string; commit: string };
  lockfiles: ReportLockfile[];
  /** Every distinct registry notice of the run, once (each lockfile also lists those that concern it). */
  notices: RegistryNotice[];
  summary: { packages: number; byStatus: Record<PackageStatus, number>; problems: number; changes?: ReportChangeCounts };
}

/** Per lockfile path (absolute, as analysed): its diff against the base revision. */
export interface ReviewInput {
  ref: string;
  commit: string;
  lockfiles: Map<string, { existedAtBase: boolean; diff: LockfileDiff; baseNotices: RegistryNotice[] }>;
}

function positionOf(range: Range): ReportPosition {
  return { line: range.start.line + 1, column: range.start.character + 1 };
}

function stateOf(item: DiffItem): ReportPackageState {
  return { version: item.pkg.version, source: item.pkg.source, resolved: item.pkg.resolved ?? null, integrity: item.pkg.integrity ?? null, status: item.status };
}

/** Notices deduplicated by registry and kind, first one kept. */
export function distinctNotices(notices: readonly RegistryNotice[]): RegistryNotice[] {
  const seen = new Set<string>();
  return notices.filter((n) => {
    const key = `${n.registry}\n${n.kind}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function buildReport(analyses: LockfileAnalysis[], cwd: string, trustedRoot: string, review?: ReviewInput): Report {
  const byStatus = Object.fromEntries(PACKAGE_STATUSES.map((s) => [s, 0])) as Record<PackageStatus, number>;
  const changeCounts: ReportChangeCounts = { added: 0, changed: 0, removed: 0, unchanged: 0 };
  let packageCount = 0;
  let problemCount = 0;
  const lockfiles = analyses.map((analysis): ReportLockfile => {
    const reviewed = review?.lockfiles.get(analysis.path);
    // With --base only what changed is reported: the diff's head packages, in its order.
    const shown: LockedPackage[] = reviewed === undefined ? analysis.packages : reviewed.diff.changes.map((c) => c.head.pkg);
    const packages = shown.map((pkg): ReportPackage => {
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
    const lockfile: ReportLockfile = {
      path: path.relative(cwd, analysis.path).split(path.sep).join("/") || path.basename(analysis.path),
      format: analysis.parsed.format,
      lockfileVersion: analysis.parsed.lockfileVersion ?? null,
      packages,
      problems,
      notices: distinctNotices([...analysis.result.notices, ...(reviewed?.baseNotices ?? [])]),
    };
    if (reviewed !== undefined) {
      const { diff } = reviewed;
      const added = diff.changes.filter((c) => c.kind === "added").length;
      lockfile.changes = {
        existedAtBase: reviewed.existedAtBase,
        added,
        changed: diff.changes.length - added,
        removed: diff.removed.length,
        unchanged: diff.unchanged,
        entries: diff.changes.map((c) => ({
          name: c.head.pkg.name,
          alias: c.head.pkg.alias ?? null,
          kind: c.kind,
          aspects: c.aspects,
          from: c.base === undefined ? null : stateOf(c.base),
          to: stateOf(c.head),
        })),
        removedPackages: diff.removed.map((p) => ({ name: p.name, version: p.version, source: p.source })),
      };
      changeCounts.added += added;
      changeCounts.changed += diff.changes.length - added;
      changeCounts.removed += diff.removed.length;
      changeCounts.unchanged += diff.unchanged;
    }
    return lockfile;
  });
  const report: Report = {
    schemaVersion: 1,
    trustedRoot,
    lockfiles,
    notices: distinctNotices(lockfiles.flatMap((l) => l.notices)),
    summary: { packages: packageCount, byStatus, problems: problemCount },
  };
  if (review !== undefined) {
    // Key order as documented: base right after trustedRoot, changes last in summary.
    const { schemaVersion, lockfiles: l, notices, summary } = report;
    return { schemaVersion, trustedRoot, base: { ref: review.ref, commit: review.commit }, lockfiles: l, notices, summary: { ...summary, changes: changeCounts } };
  }
  return report;
}

/**
 * 1 when a reported package has one of the `failOn` statuses, or a lockfile has a parse problem at error severity;
 * else 0. With --base only changed packages are reported, so only they can fail the run.
 */
export function exitCodeOf(report: Report, failOn: readonly PackageStatus[]): 0 | 1 {
  for (const lockfile of report.lockfiles) {
    if (lockfile.problems.some((p) => p.severity === "error")) return 1;
    if (lockfile.packages.some((p) => failOn.includes(p.status))) return 1;
  }
  return 0;
}
