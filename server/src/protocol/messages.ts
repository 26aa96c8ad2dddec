// Custom LSP messages, each declared once with its literal method name. Plain constants and parameter types
// (not jsonrpc classes) so the client and server can share them whatever vscode-jsonrpc copy each bundles.
import type { LockfileFormat, Range, SourceKind } from "../lockfile/model";
import type { Finding, PackageStatus, RegistryNotice, Verdict } from "./verdicts";

/** Sent by the server whenever the workspace summary changes; the client shows it in its language status item. */
export const STATUS_NOTIFICATION = "provenanceLens/status" as const;

export type ServerState = "checking" | "idle" | "disabled";

export interface StatusParams {
  state: ServerState;
  /** Lockfiles with a current result. */
  lockfiles: number;
  packages: number;
  byStatus: Record<PackageStatus, number>;
  /** Parse problems over all lockfiles. */
  problems: number;
  /** Set when the workspace is untrusted and checking runs in limited (offline) mode. */
  limited: boolean;
}

/**
 * Sent by the server after it published the diagnostics of one lockfile (also when it cleared them). The
 * idle signal tests and tools wait on instead of sleeping.
 */
export const CHECKED_NOTIFICATION = "provenanceLens/checked" as const;

export interface CheckedParams {
  uri: string;
  /** Set when a person cancelled the check (progress "Cancel"): the previous result stays shown. */
  cancelled?: boolean;
  /** The document version the result is for; null when read from disk. */
  version: number | null;
  packages: number;
  problems: number;
  diagnostics: number;
}

/**
 * Sent by the client (commands `provenanceLens.recheck` and `provenanceLens.recheckIgnoringCache`): drop cached
 * settings and check every lockfile again; with ignoreCache, the verdict caches in use are emptied first.
 */
export const RECHECK_REQUEST = "provenanceLens/recheck" as const;

export interface RecheckParams {
  ignoreCache?: boolean;
}

export interface RecheckResult {
  lockfiles: number;
}

/** Sent by the client (command `provenanceLens.clearCache`): empty the verdict caches in use, then re-check. */
export const CLEAR_CACHE_REQUEST = "provenanceLens/clearCache" as const;

export interface ClearCacheResult {
  /** Verdict caches emptied. */
  caches: number;
}

/** Sent by the client to fill the "Dependency Trust" tree: every lockfile's packages with their verdicts. */
export const TREE_REQUEST = "provenanceLens/tree" as const;

export interface TreeParams {
  /** Only this lockfile; all of them when omitted. */
  uri?: string;
}

export interface TreePackage {
  /** packageKey(): name@version for registry packages. */
  key: string;
  name: string;
  alias?: string;
  version: string;
  source: SourceKind;
  status: PackageStatus;
  /** Set when `.provenance-lens.json` accepts its status (an exception, ignorePackages, ignoreDev): shown greyed, with no diagnostic. */
  accepted?: { reason: string; expires?: string };
  /** Findings beyond the status (downgrade, drift, provenance-required, exception-expired), accepted ones with their reason. */
  findings?: Finding[];
  /** "provenance since 2.1.0; built by org/repo publish.yml" (trust history), when there is one. */
  history?: string;
  /** Where the policy or the settings weaken the checks for this package, in words. */
  weakenings?: string[];
  direct: boolean;
  dev: boolean;
  optional: boolean;
  integrity?: string;
  resolved?: string;
  verdict: Verdict;
  /** From a workspace package down to this one: ["(root)", "a@1.0.0", "b@2.0.0"]. */
  chain: string[];
  /** The first entry of it in the lockfile (where "reveal" goes). */
  range: Range;
  /** Package URL, `pkg:npm/%40scope/name@1.0.0` (registry packages only). */
  purl?: string;
  /** Link to the source commit, from verified provenance. */
  commitUrl?: string;
}

export interface TreeLockfile {
  uri: string;
  /** The workspace folder it belongs to, when it is inside one. */
  folderUri?: string;
  format: LockfileFormat;
  packages: TreePackage[];
  notices: RegistryNotice[];
}

export interface TreeResult {
  lockfiles: TreeLockfile[];
  /** Set while a review is active: shown as "Changes since <ref>" at the top of the tree. */
  review?: ReviewResult;
  /** Set while the workspace is untrusted (offline, cached verdicts only). */
  limited: boolean;
  state: ServerState;
}

/** Sent by the client (command `provenanceLens.acceptWithReason`, after asking for the reason): the edit that records an exception. */
export const ACCEPT_EDIT_REQUEST = "provenanceLens/acceptEdit" as const;

/** One entry of `.provenance-lens.json` `exceptions` (the shape the policy engine and CLI read too). */
export interface PolicyException {
  package: string;
  /** A version or a semver range. */
  versions: string;
  reason: string;
  /** ISO date after which the exception no longer applies. */
  expires?: string;
}

export interface AcceptEditParams {
  /** The lockfile the finding is in; the policy file goes in its workspace folder root (else next to it). */
  lockfileUri: string;
  exception: PolicyException;
}

/**
 * Sent by the client (command `provenanceLens.review`, before asking for a ref): the refs to offer, the default (the
 * merge base with the default branch) first.
 */
export const REVIEW_REFS_REQUEST = "provenanceLens/reviewRefs" as const;

export interface ReviewRef {
  /** What is passed to git (a branch, a tag, a commit id). */
  ref: string;
  /** What a person reads, e.g. "merge base with origin/main". */
  label: string;
  /** Full commit id, when resolved. */
  commit?: string;
}

export interface ReviewRefsResult {
  /** The default first, when one was found; then local and remote branches. */
  refs: ReviewRef[];
  /** Why no default could be found (not a git repository...), when none was. */
  problem?: string;
}

/**
 * Sent by the client (command `provenanceLens.review`): diff each lockfile against `ref` (read from git, not the work
 * tree) and keep the review active (tree section, `diagnostics.changedOnly`) until END_REVIEW_REQUEST. Answers with
 * what the CLI's `check --base` reports.
 */
export const REVIEW_REQUEST = "provenanceLens/review" as const;

export interface ReviewParams {
  ref: string;
  /** How the tree names it ("merge base with origin/main"); the ref itself when absent. */
  label?: string;
}

/** Sent by the client (command `provenanceLens.endReview`): back to the whole tree and every diagnostic. */
export const END_REVIEW_REQUEST = "provenanceLens/endReview" as const;

export type ChangeKind = "added" | "changed";

export interface ReviewChange {
  /** packageKey() of the package as it is now. */
  key: string;
  name: string;
  version: string;
  kind: ChangeKind;
  /** Empty when added; otherwise what differs ("version", "source", "integrity", "status"). */
  aspects: string[];
  /** Set when changed. */
  from?: { version: string; status: PackageStatus; source: SourceKind };
  status: PackageStatus;
  /** The status got worse (e.g. verified -> signed), or a new package is a problem. */
  trustDowngrade: boolean;
  /** "new", "1.0.0 -> 1.1.0, signed -> verified", as the CLI says it. */
  description: string;
  /** The entry in the lockfile now. */
  range: Range;
}

export interface ReviewLockfile {
  uri: string;
  /** false when the lockfile did not exist at the base revision (every package is added). */
  existedAtBase: boolean;
  changes: ReviewChange[];
  removed: number;
  /** Up to 50 of the removed packages, `name@version`. */
  removedPackages: string[];
  unchanged: number;
}

export interface ReviewResult {
  ref: string;
  label: string;
  /** Per workspace folder the commit `ref` resolved to (the first one here). */
  commit?: string;
  lockfiles: ReviewLockfile[];
  /** Plain sentences: a folder that is not a git repository, a ref that does not resolve, a lockfile git cannot read. */
  problems: string[];
}

/** The name of the policy file at a folder root. */
export const POLICY_FILE_NAME = ".provenance-lens.json" as const;

/** Arguments of the client command `provenanceLens.acceptWithReason` (offered by the "Accept with a reason" code action). */
export interface AcceptCommandArgs {
  lockfileUri: string;
  package: string;
  version: string;
}

/** Arguments of the client command `provenanceLens.offerInstall` (run after a pin or override is applied). */
export interface InstallCommandArgs {
  /** Folder to run the install in. */
  folderPath: string;
  /** e.g. "npm install", "yarn install", "pnpm install", "bun install". */
  command: string;
}

/** What the client passes in `initialize`'s initializationOptions. */
export interface InitializationOptions {
  /** `vscode.workspace.isTrusted`. Not told means trusted (other editors have no such concept). */
  workspaceTrusted?: boolean;
  /** The client already watches lockfiles and package.json files; the server then registers no watchers of its own. */
  clientWatchesFiles?: boolean;
}

export function emptyByStatus(): Record<PackageStatus, number> {
  return { invalid: 0, unsigned: 0, unverifiable: 0, signed: 0, verified: 0, "not-from-registry": 0 };
}

/** The order counts are said in a summary: the common, good news first, then what needs a look. */
const SUMMARY_ORDER: readonly PackageStatus[] = ["verified", "signed", "not-from-registry", "unverifiable", "unsigned", "invalid"];

/** "1,204 verified · 37 signed · 2 invalid": the language status item's and the CodeLens's text. */
export function formatSummary(byStatus: Record<PackageStatus, number>): string {
  const parts = SUMMARY_ORDER.filter((s) => byStatus[s] > 0).map((s) => `${byStatus[s].toLocaleString("en-US")} ${s}`);
  return parts.length === 0 ? "no packages" : parts.join(" · ");
}
