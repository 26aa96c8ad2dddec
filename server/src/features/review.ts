// Review in the editor (issue #5): the lockfiles against a git revision, with the review code the CLI's `--base` uses
// (server/src/review/), shown as "Changes since <ref>" at the top of the tree and, with `diagnostics.changedOnly`,
// limiting diagnostics to what changed.
import { pathToFileURL } from "node:url";
import { packageKey } from "../lockfile/index";
import type { ReviewChange, ReviewLockfile, ReviewRef, ReviewRefsResult } from "../protocol/messages";
import { PACKAGE_STATUSES } from "../protocol/verdicts";
import { isTrustDowngrade, type PackageChange } from "../review/diff";
import { gitRevisionFileSystem, resolveRevision, runGit, type GitOptions, type GitRevision } from "../review/git";
import { reviewLockfile, type LockfileReview } from "../review/reviewLockfile";
import type { CheckedLockfile } from "./lockfileState";

/** A review as asked for: the ref, and what it resolved to per workspace folder (resolved once, when asked). */
export interface ActiveReview {
  ref: string;
  label: string;
  /** By folder path: the revision, or why the folder cannot be reviewed. */
  revisions: Map<string, { ok: true; revision: GitRevision } | { ok: false; reason: string }>;
}

/** Git in the editor answers quickly or not at all: a hung git must not hang a command. */
export const GIT_TIMEOUT_MS = 15_000;

/**
 * The refs to offer: the merge base of HEAD with the default branch first (origin/HEAD, else main, else master), then
 * local and remote branches.
 */
export async function reviewRefs(folder: string, options: GitOptions = {}): Promise<ReviewRefsResult> {
  const git = { timeoutMs: GIT_TIMEOUT_MS, ...options };
  const refs: ReviewRef[] = [];
  let problem: string | undefined;
  for (const branch of ["origin/HEAD", "origin/main", "origin/master", "main", "master"]) {
    const base = await runGit(folder, ["merge-base", "HEAD", branch], git);
    if (!base.ok) continue;
    const commit = base.stdout.toString("utf8").trim();
    const name = branch === "origin/HEAD" ? await symbolicName(folder, git) : branch;
    refs.push({ ref: commit, label: `merge base with ${name}`, commit });
    break;
  }
  if (refs.length === 0) problem = `No default branch to compare with in ${folder} (tried origin/HEAD, main and master); type a branch or commit.`;
  const branches = await runGit(folder, ["for-each-ref", "--count=100", "--sort=-committerdate", "--format=%(refname:short)%09%(objectname)", "refs/heads", "refs/remotes"], git);
  if (branches.ok) {
    for (const line of branches.stdout.toString("utf8").split("\n")) {
      const [ref, commit] = line.split("\t");
      if (ref && commit && !ref.endsWith("/HEAD")) refs.push({ ref, label: ref, commit });
    }
  } else problem ??= `${folder}: ${branches.reason}`;
  return { refs, ...(problem !== undefined ? { problem } : {}) };
}

async function symbolicName(folder: string, git: GitOptions): Promise<string> {
  const name = await runGit(folder, ["rev-parse", "--abbrev-ref", "origin/HEAD"], git);
  return name.ok ? name.stdout.toString("utf8").trim() : "origin/HEAD";
}

export async function startReview(ref: string, label: string | undefined, folders: readonly string[], signal?: AbortSignal): Promise<ActiveReview> {
  const revisions: ActiveReview["revisions"] = new Map();
  for (const folder of folders) revisions.set(folder, await resolveRevision(folder, ref, { timeoutMs: GIT_TIMEOUT_MS, signal }));
  return { ref, label: label ?? ref, revisions };
}

/** One checked lockfile against the review's base, read from git with the same checker. */
export async function reviewOf(state: CheckedLockfile, review: ActiveReview, folder: string, signal?: AbortSignal): Promise<LockfileReview | string> {
  const revision = review.revisions.get(folder);
  if (revision === undefined) return `${state.path} is in no reviewed folder.`;
  if (!revision.ok) return revision.reason;
  const baseFs = gitRevisionFileSystem(revision.revision, { timeoutMs: GIT_TIMEOUT_MS, signal });
  try {
    return await reviewLockfile({ head: state.analysis, baseFs, checker: state.checker, offline: state.offline, signal });
  } catch (error) {
    return `Cannot read ${state.path} at ${review.label}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The keys of packages added or changed (what `diagnostics.changedOnly` keeps). */
export function changedKeys(review: LockfileReview): Set<string> {
  return new Set(review.diff.changes.map((c) => packageKey(c.head.pkg)));
}

export function reviewLockfileOf(state: CheckedLockfile, review: LockfileReview): ReviewLockfile {
  return {
    uri: state.uri,
    existedAtBase: review.existedAtBase,
    changes: review.diff.changes.map(changeOf),
    removed: review.diff.removed.length,
    removedPackages: review.diff.removed.slice(0, 50).map((p) => `${p.name}@${p.version}`),
    unchanged: review.diff.unchanged,
  };
}

const PROBLEM_STATUSES = new Set(["invalid", "unsigned", "unverifiable"]);

function changeOf(change: PackageChange): ReviewChange {
  const { head, base } = change;
  const trustDowngrade = base === undefined ? PROBLEM_STATUSES.has(head.status) || head.status === "not-from-registry" : isTrustDowngrade(base.status, head.status, PACKAGE_STATUSES);
  return {
    key: packageKey(head.pkg),
    name: head.pkg.name,
    version: head.pkg.version,
    kind: change.kind,
    aspects: change.aspects,
    ...(base !== undefined ? { from: { version: base.pkg.version, status: base.status, source: base.pkg.source } } : {}),
    status: head.status,
    trustDowngrade,
    description: describe(change),
    range: head.pkg.locations[0],
  };
}

/** In the CLI's words (cli/findings.ts describeChange): "new", "1.0.0 -> 1.1.0, signed -> verified". */
function describe(change: PackageChange): string {
  const { head, base } = change;
  if (base === undefined) return `new, ${head.status}`;
  const parts: string[] = [];
  if (change.aspects.includes("version")) parts.push(`${base.pkg.version} -> ${head.pkg.version}`);
  if (change.aspects.includes("source")) parts.push(`source ${base.pkg.source} -> ${head.pkg.source}`);
  if (change.aspects.includes("integrity")) parts.push("integrity changed at the same version");
  if (change.aspects.includes("status")) parts.push(`${base.status} -> ${head.status}`);
  return parts.join(", ");
}

export function folderUriOf(folder: string): string {
  return pathToFileURL(folder).href;
}
