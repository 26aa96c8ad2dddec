// Parsed package-lock.json values + key locations -> the shared lockfile model. No text handling here:
// npm.ts decides how the values and locations were obtained (fast path or library fallback).
//
// Speed (issue #2, last round): profile of npm/cli's v3 lockfile (400 parses after warm-up): JSON.parse ~49% of our
// parse, the layout scan ~11% (one indexOf per line, needed for line numbers), this builder ~11% self plus the
// node_modules tree and source checks ~12%. The installed-name search is now one native lastIndexOf (the character
// loop over slashes was ~4%) and key ranges come straight from the scan's offsets. bench/parse.ts: 1.9-2.2x ->
// 1.78-1.96x JSON.parse (CRA 1.57-1.68x). Under 1.6x would need JSON.parse to do less, which it cannot be asked to.

import type { Importer, ImporterDependency, LockEntry, ProblemSeverity, Range } from "./model";
import type { WorkspaceManifest } from "./index";
import type { NpmKeyLocations, OffsetRange } from "./jsonKeyScan";
import { v1EntryId } from "./jsonKeyScan";
import { readV1Version, sourceOfSpec } from "./npmSource";
import { installedNameStart, NodeModulesTree, type Folder } from "./npmTree";

/** A problem located by offsets; npm.ts turns offsets into lines once, for all problems. */
export interface OffsetProblem extends OffsetRange {
  severity: ProblemSeverity;
  code: string;
  message: string;
}

export interface NpmModelInput {
  root: Record<string, unknown>;
  locations: NpmKeyLocations;
  /** Entries cut short by a syntax error: not read, their values may be incomplete. */
  damaged: ReadonlySet<string>;
  manifests?: WorkspaceManifest[];
  toRange: (offsets: OffsetRange) => Range;
}

export interface NpmModel {
  entries: LockEntry[];
  importers: Importer[];
  problems: OffsetProblem[];
  /** Fields of the `packages` entries as JSON.parse kept them (compared with what the layout scan saw written). */
  fieldCount: number;
  /** Lockfile v2/v3: the node_modules tree of the keys, and the entries some link resolves to (npmIncremental.ts). */
  tree?: NodeModulesTree;
  linkTargets?: ReadonlySet<string>;
}

export type Json = Record<string, unknown>;

const NODE_MODULES = "node_modules/";
const EDGE_FIELDS = ["dependencies", "optionalDependencies", "peerDependencies"] as const;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringField(object: Json, key: string): string | undefined {
  const value = object[key];
  return typeof value === "string" ? value : undefined;
}

/** Key i of the layout scan's packageOrder, with its line (so no line index is needed). */
function orderedRange(offsets: Int32Array, i: number): OffsetRange {
  const at = 4 * i;
  return { start: offsets[at], end: offsets[at + 1], line: offsets[at + 2], lineStart: offsets[at + 3] };
}

/** Where packages key i is written, from the layout scan's offsets or the general scanner's map. */
function keyOffsets(locations: NpmKeyLocations, key: string, i: number): OffsetRange {
  const order = locations.packageOrder;
  return order !== undefined ? orderedRange(order.offsets, i) : locations.packages.get(key) ?? { start: 0, end: 0 };
}

/** The same key as a Range, built directly (no offset record in between: this runs for every entry). */
function orderedKeyRange(offsets: Int32Array, i: number): Range {
  const at = 4 * i;
  const line = offsets[at + 2];
  const lineStart = offsets[at + 3];
  return { start: { line, character: offsets[at] - lineStart }, end: { line, character: offsets[at + 1] - lineStart } };
}

function importerDependencies(
  declared: Json,
  folder: string,
  resolve: (folder: string, name: string) => string | undefined,
): ImporterDependency[] {
  const byName = new Map<string, ImporterDependency>();
  const add = (field: string, dev: boolean, optional: boolean, override: boolean): void => {
    const map = declared[field];
    if (!isObject(map)) return;
    for (const name of Object.keys(map)) {
      if (!override && byName.has(name)) continue;
      const spec = typeof map[name] === "string" ? (map[name] as string) : "";
      const dependency: ImporterDependency = { name, spec, dev, optional };
      const entryId = resolve(folder, name);
      if (entryId !== undefined) dependency.entryId = entryId;
      byName.set(name, dependency);
    }
  };
  // A name in both places is installed as npm decides: optionalDependencies override dependencies, and a
  // production dependency wins over the same name in devDependencies.
  add("dependencies", false, false, true);
  add("optionalDependencies", false, true, true);
  add("devDependencies", true, false, false);
  add("peerDependencies", false, false, false);
  return [...byName.values()];
}

/** What reading one `packages` entry needs besides the entry: shared by every entry of a parse. */
export interface EntryContext {
  tree: NodeModulesTree;
  packages: Json;
  /** Link entry id -> the entry it resolves to, when that entry exists. */
  linkTarget: ReadonlyMap<string, string>;
  /** Fields read so far (for-in count, compared with the layout scan's field lines). */
  fields: number;
}

/**
 * One `packages` entry other than the root, as the model has it. `installed` is the key's installed name (undefined
 * for a workspace folder), `from` the folder its dependencies are resolved from. Also used by npmIncremental.ts.
 */
export function readPackageEntry(key: string, raw: Json, nameStart: number, installed: string | undefined, from: Folder, range: Range, context: EntryContext): LockEntry {
  const { tree, packages, linkTarget } = context;
  // One pass over the entry's own fields: JSON.parse gives every entry its own shape, so named reads are
  // megamorphic lookups, while for-in reads go through V8's enum cache. Measured: this loop is hot.
  let version = "";
  let name: string | undefined;
  let resolved: string | undefined;
  let integrity: string | undefined;
  let dev = false;
  let optional = false;
  let link = false;
  let inBundle = false;
  const dependencies: string[] = [];
  for (const field in raw) {
    context.fields++;
    const value = raw[field];
    switch (field) {
      case "version":
        if (typeof value === "string") version = value;
        break;
      case "name":
        if (typeof value === "string") name = value;
        break;
      case "resolved":
        if (typeof value === "string") resolved = value;
        break;
      case "integrity":
        if (typeof value === "string") integrity = value;
        break;
      case "dev":
        dev = value === true;
        break;
      case "optional":
      // devOptional: needed by an optional dependency in production and by dev dependencies: installed in
      // production (so not dev), but only as optional.
      case "devOptional":
        optional ||= value === true;
        break;
      case "link":
        link = value === true;
        break;
      case "inBundle":
        inBundle = value === true;
        break;
      case "dependencies":
      case "optionalDependencies":
      case "peerDependencies":
        // Resolved here rather than after the loop: one array less per entry (allocation shows in profiles).
        if (isObject(value)) {
          for (const dependency in value) {
            const id = tree.resolveIn(from, dependency);
            if (id !== undefined && !dependencies.includes(id)) dependencies.push(id);
          }
        }
        break;
    }
  }
  const entry: LockEntry = { id: key, name: "", version, source: "registry", dev, optional, range, dependencies };
  if (inBundle) entry.inBundle = true;
  if (nameStart === -1) {
    // A workspace folder: the package itself (its importer is the caller's).
    entry.name = name ?? key.slice(key.lastIndexOf("/") + 1);
    entry.source = "workspace";
    entry.resolved = key;
  } else if (link) {
    const targetEntry = resolved === undefined ? undefined : packages[resolved];
    const linked = key.slice(nameStart);
    entry.name = (isObject(targetEntry) ? stringField(targetEntry, "name") : undefined) ?? linked;
    if (entry.name !== linked) entry.alias = linked;
    if (entry.version === "" && isObject(targetEntry)) entry.version = stringField(targetEntry, "version") ?? "";
    entry.source = "link";
    entry.resolved = resolved;
    // A link depends on nothing but its target (npm writes no dependencies on link entries).
    dependencies.length = 0;
    const resolvedTarget = linkTarget.get(key);
    if (resolvedTarget !== undefined) dependencies.push(resolvedTarget);
  } else {
    const own = installed ?? key.slice(nameStart);
    entry.name = name ?? own;
    if (entry.name !== own) entry.alias = own;
    // npm can omit `resolved` (omit-lockfile-registry-resolved): a versioned entry without it is a registry one.
    if (resolved !== undefined) {
      entry.resolved = resolved;
      entry.source = sourceOfSpec(resolved, entry.name);
    }
    if (integrity !== undefined) entry.integrity = integrity;
  }
  return entry;
}

/** Lockfile v2/v3: the flat `packages` map keyed by install folder. */
export function buildFromPackages(packages: Json, input: NpmModelInput): NpmModel {
  const { locations, damaged, toRange } = input;
  const problems: OffsetProblem[] = [];
  const entries: LockEntry[] = [];
  const importers: Importer[] = [];
  const tree = new NodeModulesTree();
  const linkTarget = new Map<string, string>();
  const order = locations.packageOrder;
  const keys = order?.keys ?? Object.keys(packages);
  const ownFolders: (Folder | undefined)[] = new Array(keys.length);
  const nameStarts: number[] = new Array(keys.length);
  const installedNames: string[] = new Array(keys.length);
  let fieldCount = 0;

  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const raw = packages[key];
    const nameStart = installedNameStart(key);
    nameStarts[i] = nameStart;
    if (key === "" || nameStart === -1 || !isObject(raw) || damaged.has(key)) continue;
    let resolvesTo = key;
    if (raw.link === true) {
      const target = stringField(raw, "resolved");
      if (target !== undefined && Object.hasOwn(packages, target) && isObject(packages[target])) {
        linkTarget.set(key, target);
        resolvesTo = target;
      }
    }
    const folder = nameStart === NODE_MODULES.length ? "" : key.slice(0, nameStart - NODE_MODULES.length - 1);
    installedNames[i] = key.slice(nameStart);
    ownFolders[i] = tree.install(key, folder, installedNames[i], resolvesTo);
  }
  const resolve = (folder: string, name: string): string | undefined => tree.resolve(folder, name);
  const context: EntryContext = { tree, packages, linkTarget, fields: 0 };

  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const raw = packages[key];
    if (!isObject(raw)) {
      problems.push({ ...keyOffsets(locations, key, i), severity: "warning", code: "invalid-entry", message: `The entry "${key}" is not an object; it was skipped.` });
      continue;
    }
    if (damaged.has(key)) {
      problems.push({ ...keyOffsets(locations, key, i), severity: "warning", code: "incomplete-entry", message: `The entry "${key}" is cut short by a syntax error; it was not read.` });
      continue;
    }
    if (key === "") {
      fieldCount += Object.keys(raw).length;
      importers.push({ path: ".", name: stringField(raw, "name") ?? stringField(input.root, "name"), dependencies: importerDependencies(raw, "", resolve) });
      continue;
    }
    const nameStart = nameStarts[i];
    const range = order !== undefined ? orderedKeyRange(order.offsets, i) : toRange(keyOffsets(locations, key, i));
    const entry = readPackageEntry(key, raw, nameStart, installedNames[i], ownFolders[i] ?? tree.folder(key), range, context);
    // A workspace folder: the package itself, and an importer of its own dependencies.
    if (nameStart === -1) importers.push({ path: key, name: stringField(raw, "name"), dependencies: importerDependencies(raw, key, resolve) });
    entries.push(entry);
  }
  return { entries, importers, problems, fieldCount: fieldCount + context.fields, tree, linkTargets: new Set(linkTarget.values()) };
}

/** Lockfile v1: the nested `dependencies` tree; each nesting level is one node_modules level. */
export function buildFromV1Tree(dependencyTree: Json, input: NpmModelInput): NpmModel {
  const { locations, damaged, toRange } = input;
  const problems: OffsetProblem[] = [];
  const entries: LockEntry[] = [];
  const requires = new Map<LockEntry, Json>();
  const tree = new NodeModulesTree();

  const walk = (dependencies: Json, parentId: string): void => {
    for (const installed of Object.keys(dependencies)) {
      const raw = dependencies[installed];
      const id = v1EntryId(parentId, installed);
      const keyRange = locations.v1.get(id) ?? { start: 0, end: 0 };
      if (!isObject(raw)) {
        problems.push({ ...keyRange, severity: "warning", code: "invalid-entry", message: `The entry "${installed}" is not an object; it was skipped.` });
        continue;
      }
      if (damaged.has(id)) {
        problems.push({ ...keyRange, severity: "warning", code: "incomplete-entry", message: `The entry "${installed}" is cut short by a syntax error; it was not read.` });
        continue;
      }
      const read = readV1Version(installed, stringField(raw, "version") ?? "", stringField(raw, "resolved"));
      const entry: LockEntry = {
        id,
        name: read.name,
        version: read.version,
        source: read.source,
        dev: raw.dev === true,
        optional: raw.optional === true,
        range: toRange(keyRange),
        dependencies: [],
      };
      // v1 writes `bundled: true` for what v2/v3 call `inBundle`.
      if (raw.bundled === true) entry.inBundle = true;
      if (read.alias !== undefined) entry.alias = read.alias;
      if (read.resolved !== undefined) entry.resolved = read.resolved;
      const integrity = stringField(raw, "integrity");
      if (integrity !== undefined) entry.integrity = integrity;
      entries.push(entry);
      tree.install(id, parentId, installed);
      if (isObject(raw.requires)) requires.set(entry, raw.requires);
      if (isObject(raw.dependencies)) walk(raw.dependencies, id);
    }
  };
  walk(dependencyTree, "");

  for (const [entry, required] of requires) {
    for (const name of Object.keys(required)) {
      const id = tree.resolve(entry.id, name);
      if (id !== undefined && !entry.dependencies.includes(id)) entry.dependencies.push(id);
    }
  }
  return { entries, importers: v1Importers(entries, input, tree), problems, fieldCount: -1 };
}

/**
 * v1 lockfiles do not record what the project asked for: that is in package.json (options.manifests).
 * Without it, the root importer is approximated by the top-level entries nothing else requires.
 */
function v1Importers(entries: LockEntry[], input: NpmModelInput, tree: NodeModulesTree): Importer[] {
  const resolve = (folder: string, name: string): string | undefined => tree.resolve(folder, name);
  if (input.manifests !== undefined && input.manifests.length > 0) {
    return input.manifests.map((manifest) => ({
      path: manifest.path,
      name: manifest.name,
      dependencies: importerDependencies(manifest as unknown as Json, manifest.path === "." ? "" : manifest.path, resolve),
    }));
  }
  const required = new Set<string>();
  for (const entry of entries) for (const id of entry.dependencies) required.add(id);
  const dependencies: ImporterDependency[] = [];
  for (const entry of entries) {
    if (entry.id.indexOf(`/${NODE_MODULES}`) !== -1 || required.has(entry.id)) continue;
    dependencies.push({ name: entry.alias ?? entry.name, spec: entry.version, entryId: entry.id, dev: entry.dev, optional: entry.optional });
  }
  return [{ path: ".", name: stringField(input.root, "name"), dependencies }];
}
