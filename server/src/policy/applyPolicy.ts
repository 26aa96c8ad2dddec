// Rules: verdicts (facts) + the policy file -> findings per package. The one function the CLI and the language server
// both call, so a team's decisions read the same in the editor and in CI. Pure: the clock comes in as `now`.
import semver from "semver";
import { packageKey, type LockedPackage, type ParseProblem } from "../lockfile/model";
import { DEFAULT_STATUS_LEVELS, type DiagnosticLevel } from "../protocol/settings";
import type { Finding, FindingCode, PackageStatus, Verdict } from "../protocol/verdicts";
import { matchesAny, globToRegExp } from "./glob";
import type { Policy, PolicyCode, PolicyException } from "./policyFile";

/** How loudly each finding code is shown unless the policy says otherwise. */
export const DEFAULT_FINDING_LEVELS: Readonly<Record<FindingCode, DiagnosticLevel>> = {
  "provenance-downgrade": "warning",
  "build-identity-drift": "warning",
  // Only raised when a team asked for provenance (requireProvenance), so it fails CI like an invalid package.
  "provenance-required": "error",
  "exception-expired": "warning",
};

const LEVEL_RANK: Record<DiagnosticLevel, number> = { none: 0, hint: 1, information: 2, warning: 3, error: 4 };

export interface PackageOutcome {
  key: string;
  /** The status first, then the findings of history and policy; accepted ones carry their reason. */
  findings: Finding[];
  /** Why the policy leaves the package out (ignoreDev, ignorePackages): shown as accepted, never hidden. */
  ignored?: string;
}

export interface PolicyOutcome {
  /** Keyed by packageKey(). */
  packages: Map<string, PackageOutcome>;
  /** Findings about the policy file itself (expired exceptions), positioned in it. */
  policyFindings: ParseProblem[];
  /** Each way this policy weakens the default checks, in words (shown once per run, and per package where it applies). */
  weakenings: string[];
}

export interface ApplyOptions {
  /** Milliseconds since the epoch: when exceptions expire is decided against it. */
  now: number;
  /** Per-status levels from the settings (or the CLI); the policy's `severity` overrides them. */
  statusLevels?: Readonly<Record<PackageStatus, DiagnosticLevel>>;
}

export interface PolicyInput {
  packages: readonly LockedPackage[];
  result: { verdicts: ReadonlyMap<string, Verdict> };
}

export function applyPolicy(input: PolicyInput, policy: Policy, options: ApplyOptions): PolicyOutcome {
  const statusLevels = options.statusLevels ?? DEFAULT_STATUS_LEVELS;
  const levelOf = (code: PolicyCode): DiagnosticLevel =>
    policy.severity[code] ?? ((statusLevels as Record<string, DiagnosticLevel | undefined>)[code] ?? DEFAULT_FINDING_LEVELS[code as FindingCode]);
  const expired = (e: PolicyException): boolean => e.expires !== undefined && !(Date.parse(e.expires) > options.now);
  const packages = new Map<string, PackageOutcome>();

  for (const pkg of input.packages) {
    const key = packageKey(pkg);
    const verdict = input.result.verdicts.get(key);
    if (verdict === undefined) continue;
    const findings: Finding[] = [{ code: verdict.status, message: verdict.reasons[0] ?? verdict.status, level: levelOf(verdict.status) }];
    const history = verdict.history;
    if (history?.downgrade !== undefined) findings.push({ code: "provenance-downgrade", message: history.downgrade, level: levelOf("provenance-downgrade") });
    if (history?.drift !== undefined) {
      const drift: Finding = { code: "build-identity-drift", message: history.drift.message, level: levelOf("build-identity-drift") };
      const trusted = trustedIdentity(history.drift.current, policy);
      if (trusted !== undefined) drift.accepted = { reason: trusted };
      findings.push(drift);
    }
    if (requiresProvenance(pkg, policy) && verdict.provenance.status !== "verified") {
      findings.push({
        code: "provenance-required",
        message: `The policy requires verified provenance for ${policy.requireProvenance === "all" ? "every" : policy.requireProvenance === "direct" ? "every direct" : "every production"} dependency; ${pkg.name}@${pkg.version} has ${verdict.provenance.status === "absent" ? "none" : `provenance ${verdict.provenance.status}`}.`,
        level: levelOf("provenance-required"),
      });
    }

    const outcome: PackageOutcome = { key, findings };
    const ignored = ignoredBecause(pkg, policy);
    if (ignored !== undefined) {
      outcome.ignored = ignored;
      for (const f of findings) f.accepted ??= { reason: ignored };
    }
    // Runs for every package on every edit in the editor: nothing more is allocated when the policy has no exceptions.
    if (policy.exceptions.length > 0) applyExceptions(findings, pkg, policy.exceptions, expired, levelOf);
    packages.set(key, outcome);
  }

  const policyFindings: ParseProblem[] = [];
  for (const e of policy.exceptions) {
    if (!expired(e) || e.range === undefined) continue;
    const level = levelOf("exception-expired");
    policyFindings.push({
      range: e.range,
      severity: level === "error" ? "error" : level === "warning" ? "warning" : "information",
      code: "exception-expired",
      message: `This exception for ${e.package}@${e.versions} expired on ${e.expires}: renew it with a new date, or remove it.`,
    });
  }
  return { packages, policyFindings, weakenings: weakeningsOf(policy, statusLevels) };
}

/** Accepts the findings a live exception covers; an expired one that would have covered a finding is a finding itself. */
function applyExceptions(findings: Finding[], pkg: LockedPackage, exceptions: readonly PolicyException[], expired: (e: PolicyException) => boolean, levelOf: (code: PolicyCode) => DiagnosticLevel): void {
  const expiredSeen = new Set<PolicyException>();
  for (const finding of findings) {
    if (finding.accepted !== undefined) continue;
    const matching = exceptions.filter((e) => exceptionCovers(e, pkg, finding.code));
    const live = matching.find((e) => !expired(e));
    if (live !== undefined) finding.accepted = { reason: live.reason, ...(live.expires ? { expires: live.expires } : {}) };
    else for (const e of matching) expiredSeen.add(e);
  }
  for (const e of expiredSeen) {
    findings.push({ code: "exception-expired", message: `The exception "${e.reason}" for ${e.package}@${e.versions} expired on ${e.expires}; what it accepted is reported again.`, level: levelOf("exception-expired") });
  }
}

/** The first finding a person must act on (not accepted, at error level): the CLI's exit code 1. */
export function blockingFinding(outcome: PolicyOutcome): Finding | undefined {
  for (const p of outcome.packages.values()) {
    const found = p.findings.find((f) => f.accepted === undefined && f.level === "error");
    if (found !== undefined) return found;
  }
  return undefined;
}

function exceptionCovers(e: PolicyException, pkg: LockedPackage, code: PolicyCode): boolean {
  if (e.codes !== undefined && !e.codes.includes(code)) return false;
  if (!globToRegExp(e.package).test(pkg.name)) return false;
  return e.versions === pkg.version || semver.satisfies(pkg.version, e.versions, { includePrerelease: true });
}

function requiresProvenance(pkg: LockedPackage, policy: Policy): boolean {
  // The project's own folders are not published by anyone: nothing to attest.
  if (pkg.source === "workspace" || pkg.source === "link") return false;
  switch (policy.requireProvenance) {
    case "none":
      return false;
    case "direct":
      return pkg.direct;
    case "production":
      return !pkg.dev;
    case "all":
      return true;
  }
}

function ignoredBecause(pkg: LockedPackage, policy: Policy): string | undefined {
  const pattern = matchesAny(pkg.name, policy.ignorePackages);
  if (pattern !== undefined) return `Ignored by the policy file (ignorePackages "${pattern}").`;
  if (policy.ignoreDev && pkg.dev) return "Ignored by the policy file (ignoreDev: a development-only dependency).";
  return undefined;
}

function trustedIdentity(identity: { repository?: string; builder?: string }, policy: Policy): string | undefined {
  const repo = identity.repository === undefined ? undefined : matchesAny(identity.repository, policy.trustedRepositories);
  if (repo !== undefined) return `The new build identity is trusted by the policy file (trustedRepositories "${repo}").`;
  const builder = identity.builder === undefined ? undefined : matchesAny(identity.builder, policy.trustedBuilders);
  if (builder !== undefined) return `The new build identity is trusted by the policy file (trustedBuilders "${builder}").`;
  return undefined;
}

function weakeningsOf(policy: Policy, statusLevels: Readonly<Record<PackageStatus, DiagnosticLevel>>): string[] {
  const out: string[] = [];
  for (const [code, level] of Object.entries(policy.severity) as [PolicyCode, DiagnosticLevel][]) {
    const base = (statusLevels as Record<string, DiagnosticLevel | undefined>)[code] ?? DEFAULT_FINDING_LEVELS[code as FindingCode];
    if (LEVEL_RANK[level] < LEVEL_RANK[base]) out.push(`severity: "${code}" is shown as ${level} instead of ${base}.`);
  }
  if (policy.ignoreDev) out.push("ignoreDev: the findings of development-only dependencies are accepted (they are still listed).");
  if (policy.ignorePackages.length > 0) out.push(`ignorePackages: the findings of ${policy.ignorePackages.join(", ")} are accepted (they are still listed).`);
  if (policy.trustedRepositories.length > 0) out.push(`trustedRepositories: build-identity drift towards ${policy.trustedRepositories.join(", ")} is accepted.`);
  if (policy.trustedBuilders.length > 0) out.push(`trustedBuilders: build-identity drift towards ${policy.trustedBuilders.join(", ")} is accepted.`);
  if (policy.exceptions.length > 0) out.push(`exceptions: ${policy.exceptions.length} accepted finding(s), each shown with its reason.`);
  return out;
}
