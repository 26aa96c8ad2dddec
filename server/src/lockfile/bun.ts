// bun.lock (text, lockfileVersion 0/1) -> the shared lockfile model.
// Tuple shapes, as Bun writes them (src/install/lockfile/bun.lock.zig):
//   npm       ["name@1.2.3", "<tarball url, empty for the default registry>", INFO, "sha512-..."]
//   git       ["name@git+<repo>#<commit>", INFO, "<bun tag>"]      github ["name@github:owner/repo#<sha>", INFO, "<tag>"]
//   tarball   ["name@https://...tgz" | "name@./local.tgz", INFO]   symlink ["name@link:path", INFO]
//   folder    ["name@file:path", INFO]   workspace ["name@workspace:path"]   root ["name@root:", {bin}]
// Keys are install paths: "parent/child" is child installed under parent's node_modules.
import type { ParseOptions } from "./index";
import type { Importer, ImporterDependency, LockEntry, ParsedLockfile, ParseProblem, Range, SourceKind } from "./model";
import { readBunJson } from "./bunJson";
import { markDevAndOptional, prepareLockText, problem } from "./pnpmBunShared";

type Json = { [key: string]: unknown };

export function parseBunLockfile(text: string, options: ParseOptions): ParsedLockfile {
  return parseBunLockfileWith(text, options, "scanner");
}

/** `reader: "library"` forces jsonc-parser (the reference the scanner is tested against). */
export function parseBunLockfileWith(text: string, options: ParseOptions, reader: "scanner" | "library"): ParsedLockfile {
  const prepared = prepareLockText(text, "Bun");
  const index = prepared.index;
  const nowhere: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const read = readBunJson(prepared.text, prepared.start, index, reader);
  const problems: ParseProblem[] = [...prepared.problems, ...read.problems];
  const result: ParsedLockfile = { format: "bun", lockfileVersion: undefined, entries: [], importers: [], problems };
  if (!isObject(read.value)) {
    problems.push(problem(nowhere, "error", "parse-error", "bun.lock is empty or is not a JSON object. Re-run bun install."));
    return result;
  }
  const root = read.value;
  const version = root.lockfileVersion;
  if (typeof version === "number" || typeof version === "string") result.lockfileVersion = version;
  if (version !== 0 && version !== 1) {
    problems.push(problem(read.spans.get("")?.get("lockfileVersion") ?? nowhere, "warning", "unknown-lockfile-version", `Unknown bun.lock lockfileVersion ${String(version)} (known: 0, 1); it was read as version 1, results may be incomplete.`));
  }
  const packages = isObject(root.packages) ? root.packages : {};
  const packageSpans = read.spans.get("packages") ?? new Map<string, Range>();
  const keys = Object.keys(packages);
  const tree = new InstallTree(keys);
  const optionalEdges = new Map<string, Set<string>>();
  let unresolved: { ref: string; at: Range; count: number } | undefined;
  const entries: LockEntry[] = [];
  for (const key of keys) {
    const tuple = packages[key];
    const range = packageSpans.get(key) ?? nowhere;
    if (!Array.isArray(tuple) || typeof tuple[0] !== "string") {
      problems.push(problem(range, "error", "parse-error", `The entry for ${key} is not a [ "name@version", ... ] tuple; it was skipped.`));
      continue;
    }
    const entry = describeTuple(key, range, tuple, root);
    const installedAs = tree.nameOf(key);
    if (installedAs !== entry.name) entry.alias = installedAs;
    if (entry.source === "registry" && entry.integrity === undefined) {
      problems.push(problem(range, "warning", "missing-integrity", `${entry.name}@${entry.version} has no integrity in bun.lock, so its registry signature cannot be checked. Re-run bun install.`));
    }
    const info = infoOf(tuple);
    const optionalPeers = Array.isArray(info.optionalPeers) ? info.optionalPeers : [];
    let optional: Set<string> | undefined;
    for (const group of PACKAGE_DEP_GROUPS) {
      const deps = info[group];
      if (!isObject(deps)) continue;
      for (const name of Object.keys(deps)) {
        const id = tree.resolve(key, name);
        const isOptional = group === "optionalDependencies" || (group === "peerDependencies" && optionalPeers.includes(name));
        if (id === undefined) {
          // Optional and peer dependencies are often not installed at all; only a missing regular one is wrong.
          if (group === "dependencies") {
            if (unresolved === undefined) unresolved = { ref: `${key} -> ${name}`, at: range, count: 0 };
            unresolved.count++;
          }
          continue;
        }
        if (!entry.dependencies.includes(id)) entry.dependencies.push(id);
        if (isOptional) (optional ??= new Set()).add(id);
      }
    }
    if (optional !== undefined) optionalEdges.set(key, optional);
    entries.push(entry);
  }
  result.entries = entries;
  result.importers = importersOf(root, tree, options);
  // Bun records neither `dev` nor `optional`: both come from which edges reach an entry.
  markDevAndOptional(entries, result.importers, optionalEdges);
  if (unresolved !== undefined) {
    problems.push(problem(unresolved.at, "warning", "unresolved-dependency", `${unresolved.count} dependency(ies) are not in bun.lock's packages (first: ${unresolved.ref}). The lockfile is incomplete or was edited by hand; re-run bun install.`));
  }
  return result;
}

const PACKAGE_DEP_GROUPS = ["dependencies", "optionalDependencies", "peerDependencies"] as const;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function infoOf(tuple: unknown[]): Json {
  // INFO is the first object after the id (npm tuples have the registry string before it).
  for (let i = 1; i < tuple.length; i++) if (isObject(tuple[i])) return tuple[i] as Json;
  return {};
}

/** The name a key installs under: its last path segment, scope included. */
export function lastName(key: string): string {
  const slash = key.lastIndexOf("/");
  if (slash === -1) return key;
  const before = key.lastIndexOf("/", slash - 1);
  const segment = key.slice(before + 1, slash);
  return segment.startsWith("@") ? key.slice(before + 1) : key.slice(slash + 1);
}

/**
 * The install tree of bun.lock's keys, for node_modules lookup: `a/b` needing `c` finds `a/b/c`, then `a/c`,
 * then `c`. Children are indexed by parent once, so a lookup is a few Map hits instead of string building.
 */
class InstallTree {
  private readonly children = new Map<string, Map<string, string>>();
  private readonly parents = new Map<string, string>();
  private readonly names = new Map<string, string>();

  constructor(keys: string[]) {
    for (const key of keys) {
      const name = lastName(key);
      const parent = key.length === name.length ? "" : key.slice(0, key.length - name.length - 1);
      this.names.set(key, name);
      this.parents.set(key, parent);
      let map = this.children.get(parent);
      if (map === undefined) this.children.set(parent, (map = new Map()));
      map.set(name, key);
    }
  }

  has(key: string): boolean {
    return this.names.has(key);
  }

  nameOf(key: string): string {
    return this.names.get(key) ?? lastName(key);
  }

  resolve(fromKey: string, name: string): string | undefined {
    let prefix: string | undefined = fromKey;
    while (prefix !== undefined) {
      const found = this.children.get(prefix)?.get(name);
      if (found !== undefined) return found;
      prefix = prefix === "" ? undefined : this.parents.get(prefix) ?? "";
    }
    return undefined;
  }
}

function describeTuple(key: string, range: Range, tuple: unknown[], root: Json): LockEntry {
  const id = tuple[0] as string;
  const at = id.indexOf("@", 1);
  const name = at === -1 ? id : id.slice(0, at);
  const spec = at === -1 ? "" : id.slice(at + 1);
  const entry: LockEntry = { id: key, name, version: spec, source: "registry", range, dependencies: [] };
  const from = (source: SourceKind, resolved: string): LockEntry => {
    entry.source = source;
    entry.resolved = resolved;
    return entry;
  };
  if (spec.startsWith("workspace:")) {
    const folder = spec.slice("workspace:".length);
    const workspace = isObject(root.workspaces) ? root.workspaces[folder] : undefined;
    if (isObject(workspace) && typeof workspace.version === "string") entry.version = workspace.version;
    return from("workspace", folder);
  }
  if (spec.startsWith("root:")) return from("workspace", ".");
  if (spec.startsWith("link:")) return from("link", spec.slice(5));
  if (spec.startsWith("file:")) return from("file", spec.slice(5));
  if (spec.startsWith("github:") || spec.startsWith("git+") || spec.startsWith("git:")) return from("git", spec);
  if (spec.startsWith("https://") || spec.startsWith("http://")) return from("tarball", spec);
  if (typeof tuple[1] === "string") {
    // npm: the registry string is empty for the default registry, else the tarball URL.
    if (tuple[1] !== "") entry.resolved = tuple[1];
    if (typeof tuple[3] === "string" && tuple[3] !== "") entry.integrity = tuple[3];
    return entry;
  }
  // Anything else is a local tarball path.
  return from("file", spec);
}

function importersOf(root: Json, tree: InstallTree, options: ParseOptions): Importer[] {
  const workspaces = isObject(root.workspaces) ? root.workspaces : {};
  const importers: Importer[] = [];
  for (const folder of Object.keys(workspaces)) {
    const workspace = isObject(workspaces[folder]) ? workspaces[folder] : {};
    const path = folder === "" ? "." : folder;
    const name = typeof workspace.name === "string" ? workspace.name : options.manifests?.find((m) => m.path === path)?.name;
    const importer: Importer = { path, dependencies: [] };
    if (name !== undefined) importer.name = name;
    for (const group of ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"]) {
      const deps = workspace[group];
      if (!isObject(deps)) continue;
      for (const depName of Object.keys(deps)) {
        const dep: ImporterDependency = { name: depName, spec: String(deps[depName]) };
        // A workspace's own installs live under its package name ("@scope/app/zod"), hoisted ones at the top.
        const entryId = tree.resolve(path !== "." && name !== undefined && tree.has(name) ? name : "", depName);
        if (entryId !== undefined) dep.entryId = entryId;
        if (group === "devDependencies") dep.dev = true;
        if (group === "optionalDependencies") dep.optional = true;
        importer.dependencies.push(dep);
      }
    }
    importers.push(importer);
  }
  return importers;
}

export function binaryBunLockfile(): ParsedLockfile {
  return {
    format: "bun",
    lockfileVersion: undefined,
    entries: [],
    importers: [],
    problems: [
      {
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: "error",
        code: "binary-lockfile",
        message:
          "bun.lockb is Bun's binary lockfile, which this tool cannot read. Bun 1.2 and later write the text lockfile bun.lock by default; to convert this project run `bun install --save-text-lockfile --frozen-lockfile --lockfile-only`, then delete bun.lockb.",
      },
    ],
  };
}
