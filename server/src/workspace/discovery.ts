// Finding lockfiles in a folder tree and reading the package.json files that go with them.
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { isLockfileName, LOCKFILE_NAMES, type WorkspaceManifest } from "../lockfile/index";
import { errorCode, type FileSystem } from "./fileSystem";

/** Folders never searched: installed packages carry their own (irrelevant) lockfiles. */
const SKIPPED_FOLDERS = new Set(["node_modules", ".git", ".hg", ".svn", ".yarn", ".pnpm-store"]);

export interface DiscoveryOptions {
  /** How many folder levels below the root are searched (monorepos nest a few deep). */
  maxDepth?: number;
}

/**
 * Every lockfile under `root` whose name is in LOCKFILE_NAMES, outside node_modules, sorted by path and,
 * within a folder, in LOCKFILE_NAMES order. Several per folder is allowed (a repo moving between managers).
 * Unreadable folders are skipped: a folder we may not list holds nothing we could check.
 */
export async function findLockfiles(fs: FileSystem, root: string, options: DiscoveryOptions = {}): Promise<string[]> {
  const maxDepth = options.maxDepth ?? 8;
  const found: string[] = [];
  const walk = async (folder: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await fs.readDirectory(folder);
    } catch (error) {
      if (depth === 0) throw error;
      return;
    }
    const names = new Set(entries.filter((e) => e.kind === "file").map((e) => e.name));
    for (const name of LOCKFILE_NAMES) if (names.has(name)) found.push(path.join(folder, name));
    if (depth >= maxDepth) return;
    const subfolders = entries.filter((e) => e.kind === "directory" && !SKIPPED_FOLDERS.has(e.name)).map((e) => e.name);
    for (const name of subfolders.sort()) await walk(path.join(folder, name), depth + 1);
  };
  await walk(root, 0);
  return found;
}

export interface ManifestReading {
  manifests: WorkspaceManifest[];
  /** Things a person may want to know (unreadable or malformed package.json), as plain sentences. */
  warnings: string[];
}

/**
 * The package.json of the lockfile's folder and of each workspace it declares (package.json `workspaces`,
 * or pnpm-workspace.yaml `packages`). Missing files are normal (a lockfile without a manifest): no manifest,
 * no warning.
 */
export async function readManifests(fs: FileSystem, folder: string): Promise<ManifestReading> {
  const warnings: string[] = [];
  const root = await readManifest(fs, folder, ".", warnings);
  if (root === undefined) return { manifests: [], warnings };
  const manifests: WorkspaceManifest[] = [root.manifest];
  const patterns = [...workspacePatterns(root.json), ...(await pnpmWorkspacePatterns(fs, folder, warnings))];
  const seen = new Set<string>(["."]);
  for (const relative of await expandWorkspacePatterns(fs, folder, patterns)) {
    if (seen.has(relative)) continue;
    seen.add(relative);
    const workspace = await readManifest(fs, path.join(folder, relative), relative, warnings);
    if (workspace !== undefined) manifests.push(workspace.manifest);
  }
  return { manifests, warnings };
}

async function readManifest(
  fs: FileSystem,
  folder: string,
  relative: string,
  warnings: string[],
): Promise<{ manifest: WorkspaceManifest; json: Record<string, unknown> } | undefined> {
  const file = path.join(folder, "package.json");
  let text: string;
  try {
    text = await fs.readFile(file);
  } catch (error) {
    const code = errorCode(error);
    if (code !== "ENOENT" && code !== "ENOTDIR") warnings.push(`Could not read ${file}: ${String(error)}`);
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    warnings.push(`${file} is not valid JSON (${(error as Error).message}); its dependencies are not known.`);
    return undefined;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    warnings.push(`${file} is not a JSON object; its dependencies are not known.`);
    return undefined;
  }
  const record = json as Record<string, unknown>;
  const manifest: WorkspaceManifest = { path: relative };
  if (typeof record.name === "string") manifest.name = record.name;
  for (const field of ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"] as const) {
    const deps = stringRecord(record[field]);
    if (deps !== undefined) manifest[field] = deps;
  }
  return { manifest, json: record };
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, spec] of Object.entries(value)) if (typeof spec === "string") out[key] = spec;
  return out;
}

/** npm and Yarn: `workspaces: [...]` or Yarn classic's `workspaces: { packages: [...] }`. */
function workspacePatterns(json: Record<string, unknown>): string[] {
  const field = json.workspaces;
  const list = Array.isArray(field) ? field : typeof field === "object" && field !== null ? (field as Record<string, unknown>).packages : undefined;
  return Array.isArray(list) ? list.filter((p): p is string => typeof p === "string") : [];
}

async function pnpmWorkspacePatterns(fs: FileSystem, folder: string, warnings: string[]): Promise<string[]> {
  const file = path.join(folder, "pnpm-workspace.yaml");
  let text: string;
  try {
    text = await fs.readFile(file);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") warnings.push(`Could not read ${file}: ${String(error)}`);
    return [];
  }
  try {
    const doc: unknown = parseYaml(text);
    const packages = typeof doc === "object" && doc !== null ? (doc as Record<string, unknown>).packages : undefined;
    return Array.isArray(packages) ? packages.filter((p): p is string => typeof p === "string") : [];
  } catch (error) {
    warnings.push(`${file} is not valid YAML (${(error as Error).message}); its workspaces are not known.`);
    return [];
  }
}

/**
 * Workspace globs -> folders relative to `root` (POSIX). Supports what package managers' docs show:
 * literal segments, `*` within a segment and `**` for any depth; `!negations` remove matches.
 */
export async function expandWorkspacePatterns(fs: FileSystem, root: string, patterns: string[]): Promise<string[]> {
  const included = new Set<string>();
  const excluded: RegExp[] = [];
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const pattern = normalizePattern(negated ? raw.slice(1) : raw);
    if (pattern === "") continue;
    if (negated) {
      excluded.push(globToRegExp(pattern));
      continue;
    }
    for (const folder of await matchSegments(fs, root, "", pattern.split("/"), 0)) included.add(folder);
  }
  return [...included].filter((f) => !excluded.some((re) => re.test(f))).sort();
}

function normalizePattern(pattern: string): string {
  return pattern.replace(/\\/g, "/").replace(/^\.\//, "").replace(/\/+$/, "");
}

async function matchSegments(fs: FileSystem, root: string, at: string, segments: string[], depth: number): Promise<string[]> {
  if (segments.length === 0) return at === "" ? [] : [at];
  if (depth > 12) return [];
  const [head, ...rest] = segments;
  const join = (name: string) => (at === "" ? name : `${at}/${name}`);
  if (!head.includes("*")) return matchSegments(fs, root, join(head), rest, depth + 1);
  let entries;
  try {
    entries = await fs.readDirectory(path.join(root, at));
  } catch (error) {
    // A glob over a folder that does not exist matches nothing, as in npm.
    if (errorCode(error) === undefined) throw error;
    return [];
  }
  const folders = entries.filter((e) => e.kind === "directory" && !SKIPPED_FOLDERS.has(e.name)).map((e) => e.name).sort();
  const out: string[] = [];
  if (head === "**") {
    out.push(...(await matchSegments(fs, root, at, rest, depth + 1)));
    for (const name of folders) out.push(...(await matchSegments(fs, root, join(name), segments, depth + 1)));
    return out;
  }
  const re = globToRegExp(head);
  for (const name of folders) if (re.test(name)) out.push(...(await matchSegments(fs, root, join(name), rest, depth + 1)));
  return out;
}

function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      source += ".*";
      i++;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/**
 * The lockfiles of a folder (or the one lockfile a path names), or why there are none, in words for a usage error.
 * What `check` and `bundle` both take as their target.
 */
export async function lockfilesIn(fs: FileSystem, target: string): Promise<string[] | string> {
  try {
    const found = await findLockfiles(fs, target);
    return found.length > 0 ? found : `No lockfile found in ${target} (node_modules is not searched).`;
  } catch (error) {
    const code = errorCode(error);
    // Not a folder: then it must name a lockfile, read (and reported if unreadable) by the caller.
    if (code === "ENOTDIR" && isLockfileName(target)) return [target];
    if (code === "ENOTDIR") return `${target} is not a lockfile: expected one of ${LOCKFILE_NAMES.join(", ")}.`;
    if (code === "ENOENT") return `${target} does not exist.`;
    return `cannot read ${target}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
