// Findings: what the SARIF and Markdown reports flag, each under a stable code with help text and a link.
// A package status that needs a look is a finding with the status as its code; a lockfile parse problem is one
// with the parser's code.
import { PACKAGE_STATUSES, type PackageStatus } from "../protocol/verdicts";
import { isTrustDowngrade } from "../review/diff";
import type { Report, ReportChange, ReportLockfile, ReportPackage, ReportProblem } from "./report";

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

const PARSE_RULE: Omit<FindingRule, "code" | "helpUri" | "defaultLevel"> = {
  title: "Lockfile problem",
  help: "The lockfile text could not be read completely at this point (a conflict marker, a duplicate key, a cut-off file, an unknown version). Entries after it may be missing from the check. Regenerate the lockfile with its package manager.",
};

export function ruleFor(code: string, severity?: ReportProblem["severity"]): FindingRule {
  const status = STATUS_RULES[code];
  if (status !== undefined) return { code, ...status, helpUri: `${DOCS_URL}#status-${code}` };
  return { code, ...PARSE_RULE, defaultLevel: severity === "error" ? "error" : severity === "warning" ? "warning" : "note", helpUri: `${DOCS_URL}#lockfile-problems` };
}

/** A status in --fail-on is an error whatever its default level: the reader should see what fails the build. */
export function levelOf(status: PackageStatus, failOn: readonly PackageStatus[]): FindingLevel {
  return failOn.includes(status) ? "error" : (STATUS_RULES[status]?.defaultLevel ?? "note");
}

export interface PackageFinding {
  /** The package's status, or "trust-downgrade" for a downgrade to a status that is not a finding by itself. */
  code: string;
  level: FindingLevel;
  lockfile: ReportLockfile;
  pkg: ReportPackage;
  change: ReportChange | undefined;
}

/**
 * Packages worth a finding: the finding statuses, plus (with --base) any trust downgrade. The project's own folders
 * (workspace and link entries) are not dependencies someone else published: no finding, as in the editor.
 */
export function packageFindings(report: Report, failOn: readonly PackageStatus[]): PackageFinding[] {
  const out: PackageFinding[] = [];
  for (const lockfile of report.lockfiles) {
    for (const [i, pkg] of lockfile.packages.entries()) {
      if (pkg.source === "workspace" || pkg.source === "link") continue;
      const change = lockfile.changes?.entries[i];
      if (FINDING_STATUSES.includes(pkg.status)) out.push({ code: pkg.status, level: levelOf(pkg.status, failOn), lockfile, pkg, change });
      else if (change?.from != null && isTrustDowngrade(change.from.status, change.to.status, PACKAGE_STATUSES)) {
        out.push({ code: "trust-downgrade", level: levelOf(pkg.status, failOn) === "error" ? "error" : "warning", lockfile, pkg, change });
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
