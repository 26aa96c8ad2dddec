// Findings: what the SARIF and Markdown reports flag, each under a stable code with help text and a link.
// A package status that needs a look is a finding with the status as its code; a lockfile parse problem is one
// with the parser's code.
import type { PolicyCode } from "../policy/index";
import type { DiagnosticLevel } from "../protocol/settings";
import { PACKAGE_STATUSES, type PackageStatus } from "../protocol/verdicts";
import { isTrustDowngrade } from "../review/diff";
import type { Report, ReportChange, ReportFinding, ReportLockfile, ReportPackage, ReportProblem } from "./report";

/**
 * Where docs/CLI.md is published, for SARIF `helpUri` and Markdown links (absolute URIs are required there).
 * Change it here when the repository moves.
 */
export const DOCS_URL = "https://github.com/provenance-lens/provenance-lens/blob/main/docs/CLI.md";

export type FindingLevel = "error" | "warning" | "note";

export interface FindingRule {
  code: string;
  title: string;
  help: string;
  helpUri: string;
  defaultLevel: FindingLevel;
}

/** The statuses that are findings; signed and verified packages are what we hope for. */
export const FINDING_STATUSES: readonly PackageStatus[] = ["invalid", "unsigned", "unverifiable", "not-from-registry"];

const STATUS_RULES: Record<string, Omit<FindingRule, "code" | "helpUri">> = {
  invalid: {
    title: "Signature or provenance does not verify",
    help:
      "A registry signature or a Sigstore attestation of this package fails to verify, or the integrity in the lockfile differs from the one the registry signed. " +
      "The tarball you would install is not the one its publisher released. Do not install it: find out which side changed (lockfile or registry) before merging.",
    defaultLevel: "error",
  },
  unsigned: {
    title: "No registry signature",
    help:
      "The registry signs packages in general but serves no signature for this version, so nothing ties the locked tarball to the registry. " +
      "Prefer a signed version, or confirm the integrity by other means.",
    defaultLevel: "warning",
  },
  unverifiable: {
    title: "Could not be verified",
    help:
      "Verification could not decide: the registry was unreachable, the signing key is unknown, the check ran offline without a cached verdict, or the registry serves no signatures at all. " +
      "The reason says which; re-run with network access or the right --registry-keys.",
    defaultLevel: "note",
  },
  "trust-downgrade": {
    title: "Trust went down since the base revision",
    help:
      "Compared with the base revision this package lost trust, e.g. a new version has no provenance (verified -> signed) or no signature (signed -> unsigned). " +
      "Check why the publisher stopped attesting the release before accepting the upgrade.",
    defaultLevel: "warning",
  },
  "not-from-registry": {
    title: "Not from a registry",
    help:
      "The package comes from git, a remote tarball or a local path. No registry signature or provenance applies, so review where it comes from yourself.",
    defaultLevel: "note",
  },
};

// Trust history and policy findings (issue #6); their levels come from the policy's `severity`.
const HISTORY_RULES: Record<string, Omit<FindingRule, "code" | "helpUri">> = {
  "provenance-downgrade": {
    title: "Provenance lost since an earlier version of the major line",
    help:
      "The locked version has no verified provenance (or no registry signature) while an earlier version of the same major line had it. " +
      "A release published another way than before can mean a stolen token or a compromised maintainer account: check why before installing it. The finding names the last version that had it and when it was published.",
    defaultLevel: "warning",
  },
  "build-identity-drift": {
    title: "Built from another repository or workflow than before",
    help:
      "The verified provenance names another source repository or workflow than the previous verified version of the major line, or another repository than the package's own metadata. " +
      "Both identities are shown. If the move is expected, list the new repository in trustedRepositories (or the builder in trustedBuilders) of the policy file.",
    defaultLevel: "warning",
  },
  "provenance-required": {
    title: "Provenance required by the policy",
    help: "The policy file's requireProvenance covers this package (direct, production or all dependencies) and it has no verified provenance. Choose a version with provenance, or add an exception with a reason.",
    defaultLevel: "error",
  },
  "exception-expired": {
    title: "A policy exception has expired",
    help: "An exception of the policy file matched this package but its expires date has passed: what it accepted is reported again. Renew it with a new date and a reason, or remove it.",
    defaultLevel: "warning",
  },
};

const POLICY_FILE_RULES: Record<string, Omit<FindingRule, "code" | "helpUri" | "defaultLevel">> = {
  "policy-syntax-error": { title: "Policy file is not valid JSON", help: "The policy file does not parse. Until it is fixed the whole file is ignored: the default checks apply, no exception accepts anything and nothing is ignored." },
  "policy-invalid-value": { title: "Policy value does not validate", help: "A field of the policy file has a value it cannot use: the field falls back to its default, and an exception or registry entry is dropped, so nothing is accepted that the file did not clearly say." },
  "policy-unknown-key": { title: "Unknown key in the policy file", help: "The policy file has a key Provenance Lens does not know (a typo?). It is ignored." },
};

const PARSE_RULE: Omit<FindingRule, "code" | "helpUri" | "defaultLevel"> = {
  title: "Lockfile problem",
  help: "The lockfile text could not be read completely at this point (a conflict marker, a duplicate key, a cut-off file, an unknown version). Entries after it may be missing from the check. Regenerate the lockfile with its package manager.",
};

export function ruleFor(code: string, severity?: ReportProblem["severity"]): FindingRule {
  const status = STATUS_RULES[code];
  if (status !== undefined) return { code, ...status, helpUri: `${DOCS_URL}#status-${code}` };
  const history = HISTORY_RULES[code];
  if (history !== undefined) return { code, ...history, helpUri: `${DOCS_URL}#finding-${code}` };
  const policy = POLICY_FILE_RULES[code];
  if (policy !== undefined) return { code, ...policy, defaultLevel: severity === "error" ? "error" : severity === "warning" ? "warning" : "note", helpUri: `${DOCS_URL}#policy-problems` };
  return { code, ...PARSE_RULE, defaultLevel: severity === "error" ? "error" : severity === "warning" ? "warning" : "note", helpUri: `${DOCS_URL}#lockfile-problems` };
}

/** A status in --fail-on is an error whatever its default level: the reader should see what fails the build. */
export function levelOf(status: PackageStatus, failOn: readonly PackageStatus[]): FindingLevel {
  return failOn.includes(status) ? "error" : (STATUS_RULES[status]?.defaultLevel ?? "note");
}

export interface PackageFinding {
  /** The package's status, "trust-downgrade" for a downgrade to a status that is not a finding by itself, or a finding code. */
  code: string;
  level: FindingLevel;
  /** The plain sentence: the status's deciding reason, or the finding's message. */
  message: string;
  /** Set when the policy accepts it: shown with the reason (a SARIF suppression), never dropped. */
  accepted: ReportFinding["accepted"];
  /** True for the package's status (or trust-downgrade) finding, false for history and policy findings. */
  isStatus: boolean;
  lockfile: ReportLockfile;
  pkg: ReportPackage;
  change: ReportChange | undefined;
}

export function findingLevelOf(level: DiagnosticLevel): FindingLevel {
  return level === "error" ? "error" : level === "warning" ? "warning" : "note";
}

/**
 * What the reports flag, per package: its status when a finding status (or raised by the policy's `severity`), plus
 * (with --base) any trust downgrade, then its history and policy findings. `severity` is the policy's: a status it
 * names takes that level ("none" drops it); others keep their report level. The project's own folders (workspace and
 * link entries) are not dependencies someone else published: no finding, as in the editor.
 */
export function packageFindings(report: Report, failOn: readonly PackageStatus[], severity: Partial<Record<PolicyCode, DiagnosticLevel>> = {}): PackageFinding[] {
  const out: PackageFinding[] = [];
  for (const lockfile of report.lockfiles) {
    for (const [i, pkg] of lockfile.packages.entries()) {
      if (pkg.source === "workspace" || pkg.source === "link") continue;
      const change = lockfile.changes?.entries[i];
      const [statusFinding, ...others] = pkg.findings;
      const accepted = statusFinding?.code === pkg.status ? statusFinding.accepted : null;
      const base = { message: pkg.reasons[0] ?? "no reason given", accepted, isStatus: true, lockfile, pkg, change };
      const explicit = failOn.includes(pkg.status) ? undefined : severity[pkg.status];
      if (explicit !== undefined ? explicit !== "none" : FINDING_STATUSES.includes(pkg.status)) {
        out.push({ ...base, code: pkg.status, level: explicit !== undefined ? findingLevelOf(explicit) : levelOf(pkg.status, failOn) });
      } else if (change?.from != null && isTrustDowngrade(change.from.status, change.to.status, PACKAGE_STATUSES)) {
        out.push({ ...base, code: "trust-downgrade", level: levelOf(pkg.status, failOn) === "error" ? "error" : "warning" });
      }
      for (const f of others) {
        if (f.level === "none") continue;
        out.push({ code: f.code, level: findingLevelOf(f.level), message: f.message, accepted: f.accepted, isStatus: false, lockfile, pkg, change });
      }
    }
  }
  return out;
}

/** `2.0.0 -> 2.1.0, verified -> signed` for a change; `new` for an addition. */
export function describeChange(change: ReportChange): string {
  if (change.from === null) return "new";
  const parts: string[] = [];
  if (change.aspects.includes("version")) parts.push(`${change.from.version} -> ${change.to.version}`);
  if (change.aspects.includes("source")) parts.push(`source ${change.from.source}${change.from.resolved ? ` ${change.from.resolved}` : ""} -> ${change.to.source}${change.to.resolved ? ` ${change.to.resolved}` : ""}`);
  if (change.aspects.includes("integrity")) parts.push("integrity changed at the same version");
  if (change.aspects.includes("status")) parts.push(`${change.from.status} -> ${change.to.status}`);
  return parts.join(", ");
}

export function packageLabel(p: ReportPackage): string {
  return `${p.alias !== null ? `${p.alias} (${p.name})` : p.name}@${p.version}`;
}

/** A link to the commit a package was built from, when its provenance names a GitHub or GitLab repository. */
export function sourceCommitUrl(p: ReportPackage): string | undefined {
  const { sourceRepository: repo, sourceCommit: commit } = p.provenance;
  if (repo === null || commit === null || !/^https:\/\//.test(repo)) return undefined;
  const base = repo.replace(/\.git$/, "").replace(/\/+$/, "");
  return base.startsWith("https://gitlab.com/") ? `${base}/-/commit/${commit}` : `${base}/commit/${commit}`;
}
