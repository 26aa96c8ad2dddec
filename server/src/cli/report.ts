// The CLI's report: one shape, declared here, that every output format prints (docs/CLI.md documents each field).
import * as path from "node:path";
import { packageKey, type LockedPackage, type ProblemSeverity, type Range, type SourceKind } from "../lockfile/index";
import { blockingFinding, historyLine, type PolicyOutcome } from "../policy/index";
import type { DiagnosticLevel } from "../protocol/settings";
import { FINDING_CODES, PACKAGE_STATUSES, type Finding, type FindingCode, type PackageStatus, type ProvenanceStatus, type RegistryNotice, type SignatureStatus, type VerdictHistory } from "../protocol/verdicts";
import type { ChangeAspect, DiffItem, LockfileDiff } from "../review/diff";
import type { LockfileAnalysis } from "../workspace/analyze";
import type { ReportPolicyProblem, ReportWeakening } from "./cliPolicy";

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
  /** The status first, then trust-history and policy findings (issue #6). */
  findings: ReportFinding[];
  /** Why the policy leaves it out (ignoreDev, ignorePackages): its findings are then all accepted with this reason. */
  ignored: string | null;
  /** How the locked version compares with earlier versions of its major line; null when not looked at. */
  history: VerdictHistory | null;
  /** "provenance since 2.1.0; built by org/repo release.yml", as hovers show it; null when there is nothing to say. */
  historyLine: string | null;
}

export interface ReportFinding {
  code: FindingCode | PackageStatus;
  /** After the policy's `severity` and --fail-on: "error" (not accepted) fails the run. */
  level: DiagnosticLevel;
  message: string;
  /** Set when an exception, an ignore rule or a trusted pattern accepts it: shown with the reason, never dropped. */
  accepted: { reason: string; expires: string | null } | null;
}

/** The policy file of the run: where it is, whether it applied, and what is wrong with it. */
export interface ReportPolicy {
  /** Relative to the working directory (absolute when outside it); the file looked for when none was found. */
  path: string;
  found: boolean;
  /** The file did not parse (or is not an object): the defaults apply as a whole. */
  fellBack: boolean;
  problems: ReportPolicyProblem[];
}

/** What buildReport needs of the policy: the outcome of applyPolicy per analysed lockfile path. */
export interface ReportPolicyInput {
  outcomes: Map<string, PolicyOutcome>;
  policy: ReportPolicy;
  weakenings: ReportWeakening[];
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
  policy: ReportPolicy;
  /** Each way the policy or a flag makes this run check less than the defaults, once. */
  weakenings: ReportWeakening[];
  lockfiles: ReportLockfile[];
  /** Every distinct registry notice of the run, once (each lockfile also lists those that concern it). */
  notices: RegistryNotice[];
  summary: {
    packages: number;
    byStatus: Record<PackageStatus, number>;
    problems: number;
    /** Findings beyond the status that no rule accepts, per code. */
    findings: Record<FindingCode, number>;
    /** Findings (statuses included) that an exception, ignore rule or trusted pattern accepts. */
    accepted: number;
    policyProblems: number;
    changes?: ReportChangeCounts;
  };
}

const NO_POLICY: ReportPolicyInput = { outcomes: new Map(), policy: { path: ".provenance-lens.json", found: false, fellBack: false, problems: [] }, weakenings: [] };

function reportFindingOf(f: Finding): ReportFinding {
  return { code: f.code, level: f.level, message: f.message, accepted: f.accepted === undefined ? null : { reason: f.accepted.reason, expires: f.accepted.expires ?? null } };
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

export function buildReport(analyses: LockfileAnalysis[], cwd: string, trustedRoot: string, review?: ReviewInput, policy: ReportPolicyInput = NO_POLICY): Report {
  const byStatus = Object.fromEntries(PACKAGE_STATUSES.map((s) => [s, 0])) as Record<PackageStatus, number>;
  const findingCounts = Object.fromEntries(FINDING_CODES.map((c) => [c, 0])) as Record<FindingCode, number>;
  let accepted = 0;
  const changeCounts: ReportChangeCounts = { added: 0, changed: 0, removed: 0, unchanged: 0 };
  let packageCount = 0;
  let problemCount = 0;
  const lockfiles = analyses.map((analysis): ReportLockfile => {
    const reviewed = review?.lockfiles.get(analysis.path);
    // With --base only what changed is reported: the diff's head packages, in its order.
    const shown: LockedPackage[] = reviewed === undefined ? analysis.packages : reviewed.diff.changes.map((c) => c.head.pkg);
    const outcomes = policy.outcomes.get(analysis.path)?.packages;
    const packages = shown.map((pkg): ReportPackage => {
      const verdict = analysis.result.verdicts.get(packageKey(pkg));
      // The Checker contract gives every package a verdict; a missing one is reported, not hidden.
      const status: PackageStatus = verdict?.status ?? "unverifiable";
      byStatus[status]++;
      const outcome = outcomes?.get(packageKey(pkg));
      const findings = (outcome?.findings ?? []).map(reportFindingOf);
      if (findings.length === 0) findings.push({ code: status, level: "none", message: verdict?.reasons[0] ?? status, accepted: null });
      for (const f of findings) {
        if (f.accepted !== null) accepted++;
        else if (f.code !== status && f.level !== "none") findingCounts[f.code as FindingCode]++;
      }
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
        findings,
        ignored: outcome?.ignored ?? null,
        history: verdict?.history ?? null,
        historyLine: verdict === undefined ? null : historyLine(verdict) ?? null,
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
  // Key order as documented: base right after trustedRoot, changes last in summary.
  return {
    schemaVersion: 1,
    trustedRoot,
    ...(review === undefined ? {} : { base: { ref: review.ref, commit: review.commit } }),
    policy: policy.policy,
    weakenings: policy.weakenings,
    lockfiles,
    notices: distinctNotices(lockfiles.flatMap((l) => l.notices)),
    summary: {
      packages: packageCount,
      byStatus,
      problems: problemCount,
      findings: findingCounts,
      accepted,
      policyProblems: policy.policy.problems.length,
      ...(review === undefined ? {} : { changes: changeCounts }),
    },
  };
}

/**
 * 1 when a lockfile or the policy file has a problem at error severity, or a reported package has a finding at error
 * level that nothing accepts (blockingFinding over the outcomes, which cover exactly the reported packages; a
 * --fail-on status is at error level, see cliStatusLevels); else 0. With --base only changed packages can fail it.
 */
export function exitCodeOf(report: Report, outcomes: Iterable<PolicyOutcome>): 0 | 1 {
  if (report.lockfiles.some((l) => l.problems.some((p) => p.severity === "error"))) return 1;
  if (report.policy.problems.some((p) => p.severity === "error")) return 1;
  for (const outcome of outcomes) if (blockingFinding(outcome) !== undefined) return 1;
  return 0;
}
