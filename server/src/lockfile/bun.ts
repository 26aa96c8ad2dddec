// bun.lock (text, lockfileVersion 0/1) -> the shared lockfile model.
// Tuple shapes, as Bun writes them (src/install/lockfile/bun.lock.zig):
//   npm       ["name@1.2.3", "<tarball url, empty for the default registry>", INFO, "sha512-..."]
//   git       ["name@git+<repo>#<commit>", INFO, "<bun tag>"]      github ["name@github:owner/repo#<sha>", INFO, "<tag>"]
//   tarball   ["name@https://...tgz" | "name@./local.tgz", INFO]   symlink ["name@link:path", INFO]
//   folder    ["name@file:path", INFO]   workspace ["name@workspace:path"]   root ["name@root:", {bin}]
// Keys are install paths: "parent/child" is child installed under parent's node_modules.
import type { ParseOptions } from "./index";
import type { Importer, ImporterDependency, LockEntry, ParsedLockfile, ParseProblem, Range } from "./model";
import { readBunJson } from "./bunJson";
import { rangeAt } from "./bunLayoutScan";
import { OPTIONAL, OPTIONAL_PEER, REGULAR, tableFromJson } from "./bunPackages";
import { devAndOptional, EdgeList, InstallTree, type Root } from "./bunTree";
import { LineIndex } from "./lineIndex";
import { prepareLockText, problem, type PreparedText } from "./pnpmBunShared";

export { lastName } from "./bunTree";

type Json = { [key: string]: unknown };

export function parseBunLockfile(text: string, options: ParseOptions): ParsedLockfile {
  return parseBunLockfileWith(text, options, "scanner");
}

/**
 * A healthy bun.lock (no byte-order mark, CRLF, conflict marker, and a final newline) needs no preparation; telling
 * so with two native searches is cheaper than prepareLockText's line-anchored conflict search, which measured 3% of
 * a parse. Anything else goes through prepareLockText, so the problems reported are the same.
 */
function prepare(text: string): PreparedText {
  const healthy =
    text.length > 0 &&
    text.charCodeAt(0) !== 0xfeff &&
    text.charCodeAt(text.length - 1) === 10 &&
    text.indexOf("\r\n") === -1 &&
    !hasConflictMarker(text);
  if (!healthy) return prepareLockText(text, "Bun");
  let built: LineIndex | undefined;
  return { text, start: 0, index: () => (built ??= new LineIndex(text)), problems: [] };
}

// "<" is rare in bun.lock (a few version ranges), so hopping between them is quicker than a 7-character search.
function hasConflictMarker(text: string): boolean {
  for (let at = text.indexOf("<"); at !== -1; at = text.indexOf("<", at + 1)) if (text.startsWith("<<<<<<<", at)) return true;
  return false;
}

/** `reader: "library"` forces jsonc-parser (the reference the scanner is tested against). */
export function parseBunLockfileWith(text: string, options: ParseOptions, reader: "scanner" | "library"): ParsedLockfile {
  const prepared = prepare(text);
  const nowhere: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const read = readBunJson(prepared.text, prepared.start, prepared.index, reader);
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
  const fromLayout = read.packages;
  const parsedPackages = isObject(root.packages) ? root.packages : {};
  const table = fromLayout?.table ?? tableFromJson(parsedPackages, Object.keys(parsedPackages));
  const keys = table.keys;
  const packageSpans = fromLayout === undefined ? read.spans.get("packages") ?? new Map<string, Range>() : undefined;
  const tree = new InstallTree(keys, table.indexOf);
  const edges = new EdgeList(keys.length);
  const workspaces = isObject(root.workspaces) ? root.workspaces : {};
  let unresolved: { ref: string; at: Range; count: number } | undefined;
  const entries: LockEntry[] = [];
  // Entry number of key i, -1 for a key that was skipped.
  const entryOf = new Int32Array(keys.length).fill(-1);
  const { ids, depStarts, depNames, depKinds } = table;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const id = ids[i];
    const range = fromLayout !== undefined ? rangeAt(fromLayout.offsets, i) : packageSpans?.get(key) ?? nowhere;
    if (id === undefined) {
      problems.push(problem(range, "error", "parse-error", `The entry for ${key} is not a [ "name@version", ... ] tuple; it was skipped.`));
      continue;
    }
    const entry = describeTuple(key, range, id, table.seconds[i], table.fourths[i], workspaces);
    const installedAs = tree.names[i];
    if (installedAs !== entry.name) entry.alias = installedAs;
    if (entry.source === "registry" && entry.integrity === undefined) {
      problems.push(problem(range, "warning", "missing-integrity", `${entry.name}@${entry.version} has no integrity in bun.lock, so its registry signature cannot be checked. Re-run bun install.`));
    }
    edges.open(i);
    for (let d = depStarts[i]; d < depStarts[i + 1]; d++) {
      const name = depNames[d];
      const kind = depKinds[d];
      const target = tree.resolve(i, name);
      if (target === -1) {
        // Optional and peer dependencies are often not installed at all; only a missing regular one is wrong.
        if (kind === REGULAR) {
          if (unresolved === undefined) unresolved = { ref: `${key} -> ${name}`, at: range, count: 0 };
          unresolved.count++;
        }
        continue;
      }
      if (edges.add(target, kind === OPTIONAL || kind === OPTIONAL_PEER)) entry.dependencies.push(keys[target]);
    }
    entryOf[i] = entries.length;
    entries.push(entry);
  }
  edges.close();
  result.entries = entries;
  const roots: Root[] = [];
  result.importers = importersOf(workspaces, keys, tree, options, roots);
  // Bun records neither `dev` nor `optional`: both come from which edges reach an entry.
  const flags = devAndOptional(edges, roots);
  for (let i = 0; i < keys.length; i++) {
    const f = flags[i];
    if (f === 0 || entryOf[i] === -1) continue;
    const entry = entries[entryOf[i]];
    if ((f & 1) !== 0) entry.dev = true;
    if ((f & 2) !== 0) entry.optional = true;
  }
  if (unresolved !== undefined) {
    problems.push(problem(unresolved.at, "warning", "unresolved-dependency", `${unresolved.count} dependency(ies) are not in bun.lock's packages (first: ${unresolved.ref}). The lockfile is incomplete or was edited by hand; re-run bun install.`));
  }
  return result;
}

const WORKSPACE_DEP_GROUPS = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"] as const;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The entry of a tuple: `id` is tuple[0], `second` and `fourth` tuple[1] and tuple[3] when they are strings. */
function describeTuple(key: string, range: Range, id: string, second: string | undefined, fourth: string | undefined, workspaces: Json): LockEntry {
  const at = id.indexOf("@", 1);
  const name = at === -1 ? id : id.slice(0, at);
  const spec = at === -1 ? "" : id.slice(at + 1);
  const entry: LockEntry = { id: key, name, version: spec, source: "registry", range, dependencies: [] };
  const first = spec.charCodeAt(0);
  // Most specs are plain versions: a leading digit rules out every protocol prefix below.
  if (!(first >= 48 && first <= 57)) {
    if (spec.startsWith("workspace:")) {
      const folder = spec.slice("workspace:".length);
      const workspace = workspaces[folder];
      if (isObject(workspace) && typeof workspace.version === "string") entry.version = workspace.version;
      return withSource(entry, "workspace", folder);
    }
    if (spec.startsWith("root:")) return withSource(entry, "workspace", ".");
    if (spec.startsWith("link:")) return withSource(entry, "link", spec.slice(5));
    if (spec.startsWith("file:")) return withSource(entry, "file", spec.slice(5));
    if (spec.startsWith("github:") || spec.startsWith("git+") || spec.startsWith("git:")) return withSource(entry, "git", spec);
    if (spec.startsWith("https://") || spec.startsWith("http://")) return withSource(entry, "tarball", spec);
  }
  if (second !== undefined) {
    // npm: the registry string is empty for the default registry, else the tarball URL.
    if (second !== "") entry.resolved = second;
    if (fourth !== undefined && fourth !== "") entry.integrity = fourth;
    return entry;
  }
  // Anything else is a local tarball path.
  return withSource(entry, "file", spec);
}

function withSource(entry: LockEntry, source: LockEntry["source"], resolved: string): LockEntry {
  entry.source = source;
  entry.resolved = resolved;
  return entry;
}

/** Workspaces as importers; `roots` receives the key each dependency resolves to, for the dev/optional walk. */
function importersOf(workspaces: Json, keys: string[], tree: InstallTree, options: ParseOptions, roots: Root[]): Importer[] {
  const importers: Importer[] = [];
  for (const folder of Object.keys(workspaces)) {
    const workspace = isObject(workspaces[folder]) ? workspaces[folder] : {};
    const path = folder === "" ? "." : folder;
    const name = typeof workspace.name === "string" ? workspace.name : options.manifests?.find((m) => m.path === path)?.name;
    const importer: Importer = { path, dependencies: [] };
    if (name !== undefined) importer.name = name;
    // A workspace's own installs live under its package name ("@scope/app/zod"), hoisted ones at the top.
    const from = path !== "." && name !== undefined ? tree.find(name) : -1;
    for (const group of WORKSPACE_DEP_GROUPS) {
      const deps = workspace[group];
      if (!isObject(deps)) continue;
      for (const depName of Object.keys(deps)) {
        const dep: ImporterDependency = { name: depName, spec: String(deps[depName]) };
        const target = tree.resolve(from, depName);
        if (target !== -1) dep.entryId = keys[target];
        if (group === "devDependencies") dep.dev = true;
        if (group === "optionalDependencies") dep.optional = true;
        importer.dependencies.push(dep);
        roots.push({ key: target, dev: dep.dev === true, optional: dep.optional === true });
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
