// Lockfiles as they are at a git revision, read without touching the work tree (issue #5, `check --base REF`).
// Git runs as a child process with argument arrays (never a shell), a deadline and the caller's cancel signal.
import type * as childProcess from "node:child_process";
import * as path from "node:path";
import type { DirectoryEntry, FileSystem } from "../workspace/fileSystem";

export interface GitOptions {
  /** Per git invocation; a hung git (a lock, a network filesystem) must not hang the check. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The git executable (default: `git` on PATH). */
  gitBinary?: string;
}

export type GitOutput = { ok: true; stdout: Buffer } | { ok: false; reason: string };

const DEFAULT_TIMEOUT_MS = 30_000;
/** Large monorepo lockfiles reach tens of MiB; a blob beyond this is not a lockfile we can check anyway. */
const MAX_OUTPUT_BYTES = 512 * 1024 * 1024;

// Required on first use: every CLI run and the language server load this module, few of them run git, and loading
// child_process was ~5 ms of each start (issue #7: a warm check is mostly start-up).
let execFileOnce: typeof childProcess.execFile | undefined;

export function runGit(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitOutput> {
  const execFile = (execFileOnce ??= (require("node:child_process") as typeof childProcess).execFile);
  return new Promise((resolve) => {
    execFile(
      options.gitBinary ?? "git",
      args,
      {
        cwd,
        encoding: "buffer",
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        signal: options.signal,
        maxBuffer: MAX_OUTPUT_BYTES,
        windowsHide: true,
        // English messages (we tell "no such path" from other failures by them) and never a credential prompt.
        env: { ...process.env, LC_ALL: "C", LANGUAGE: "C", GIT_TERMINAL_PROMPT: "0" },
      },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ ok: true, stdout });
        const detail = stderr.toString("utf8").trim();
        const killed = "killed" in error && error.killed === true && options.signal?.aborted !== true;
        resolve({ ok: false, reason: killed ? `git ${args[0]} did not finish within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` : detail || error.message });
      },
    );
  });
}

/** A git revision resolved to a commit, and where the folder it was asked from sits in the repository. */
export interface GitRevision {
  /** As the user wrote it (`main`, `origin/main`, `HEAD~3`, a sha). */
  ref: string;
  /** Full commit id. */
  commit: string;
  /** A folder of the work tree (absolute, as the caller spells it) and its path inside the repository. */
  anchorDir: string;
  /** POSIX, "" at the repository root, no trailing slash. */
  anchorPrefix: string;
}

export type RevisionResult = { ok: true; revision: GitRevision } | { ok: false; reason: string };

/** Where `dir` is inside its repository: "" at the root, `packages/app` below it. Undefined outside a repository. */
export async function repositoryPrefix(dir: string, options: GitOptions = {}): Promise<string | { error: string }> {
  const prefix = await runGit(dir, ["rev-parse", "--show-prefix"], options);
  if (!prefix.ok) return { error: `${dir} is not inside a git repository (${prefix.reason})` };
  return prefix.stdout.toString("utf8").trim().replace(/\/+$/, "");
}

export async function resolveRevision(dir: string, ref: string, options: GitOptions = {}): Promise<RevisionResult> {
  const prefix = await repositoryPrefix(dir, options);
  if (typeof prefix !== "string") return { ok: false, reason: prefix.error };
  // `^{commit}` peels tags and refuses trees and blobs; --verify refuses anything that is not exactly one object.
  const commit = await runGit(dir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], options);
  if (!commit.ok) return { ok: false, reason: `${ref} is not a commit in this repository (is it fetched? a shallow clone needs fetch-depth: 0)` };
  return { ok: true, revision: { ref, commit: commit.stdout.toString("utf8").trim(), anchorDir: path.resolve(dir), anchorPrefix: prefix } };
}

/** The repository path of an absolute work-tree path, or undefined when it lies outside the repository. */
export function repositoryPathOf(revision: GitRevision, absolutePath: string): string | undefined {
  const relative = path.relative(revision.anchorDir, absolutePath).split(path.sep).join("/");
  const joined = path.posix.normalize(revision.anchorPrefix === "" ? relative || "." : `${revision.anchorPrefix}/${relative}`);
  if (joined === ".." || joined.startsWith("../") || path.posix.isAbsolute(joined)) return undefined;
  return joined === "." ? "" : joined.replace(/\/+$/, "");
}

interface TreeEntry {
  type: "blob" | "tree" | "commit";
  object: string;
  /** Repository path. */
  path: string;
}

/** `git ls-tree -z` lines: `<mode> SP <type> SP <object> TAB <path>` NUL. */
export function parseLsTree(output: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of output.split("\0")) {
    if (record === "") continue;
    const tab = record.indexOf("\t");
    const [, type, object] = record.slice(0, tab).split(" ");
    if (tab < 0 || (type !== "blob" && type !== "tree" && type !== "commit") || object === undefined) continue;
    entries.push({ type, object, path: record.slice(tab + 1) });
  }
  return entries;
}

function fsError(code: "ENOENT" | "EISDIR" | "EIO", message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/**
 * The repository as it is at `revision`, seen through the FileSystem interface the CLI and discovery use, so
 * manifests (package.json, workspaces) are read from the same revision as the lockfile. Read-only; paths are the
 * work tree's absolute paths.
 */
export function gitRevisionFileSystem(revision: GitRevision, options: GitOptions = {}): FileSystem {
  // ls-tree resolves paths relative to the current folder; running from the anchor folder with repository paths
  // would be wrong below the root, so every call names paths from the root with `--full-tree`.
  const fullTree = async (repoPath: string, listChildren: boolean): Promise<TreeEntry[]> => {
    const args = ["ls-tree", "-z", "--full-tree", revision.commit];
    if (repoPath !== "") args.push("--", listChildren ? `${repoPath}/` : repoPath);
    const out = await runGit(revision.anchorDir, args, options);
    if (!out.ok) throw fsError("EIO", `git ls-tree ${revision.ref}: ${out.reason}`);
    return parseLsTree(out.stdout.toString("utf8"));
  };
  const repoPathOrThrow = (absolutePath: string): string => {
    const repoPath = repositoryPathOf(revision, absolutePath);
    if (repoPath === undefined) throw fsError("ENOENT", `${absolutePath} is outside the repository`);
    return repoPath;
  };
  return {
    async readFile(absolutePath, signal) {
      const repoPath = repoPathOrThrow(absolutePath);
      const withSignal = { ...options, signal: signal ?? options.signal };
      const [entry] = repoPath === "" ? [] : await fullTree(repoPath, false);
      if (repoPath === "" || entry?.type === "tree") throw fsError("EISDIR", `${repoPath || "."} is a folder at ${revision.ref}`);
      if (entry === undefined || entry.type !== "blob") throw fsError("ENOENT", `${repoPath} does not exist at ${revision.ref}`);
      const blob = await runGit(revision.anchorDir, ["cat-file", "blob", entry.object], withSignal);
      if (!blob.ok) throw fsError("EIO", `git cat-file ${repoPath} at ${revision.ref}: ${blob.reason}`);
      return blob.stdout.toString("utf8");
    },
    async readDirectory(absolutePath) {
      const repoPath = repoPathOrThrow(absolutePath);
      const entries = await fullTree(repoPath, true);
      if (entries.length === 0 && repoPath !== "") {
        const [self] = await fullTree(repoPath, false);
        if (self === undefined) throw fsError("ENOENT", `${repoPath} does not exist at ${revision.ref}`);
      }
      return entries.map((e): DirectoryEntry => ({ name: path.posix.basename(e.path), kind: e.type === "blob" ? "file" : e.type === "tree" ? "directory" : "other" }));
    },
  };
}
