// Parsed package-lock.json values + key locations -> the shared lockfile model. No text handling here:
// npm.ts decides how the values and locations were obtained (fast path or library fallback).

import type { Importer, ImporterDependency, LockEntry, ProblemSeverity, Range } from "./model";
import type { WorkspaceManifest } from "./index";
import type { NpmKeyLocations, OffsetRange } from "./jsonKeyScan";
import { v1EntryId } from "./jsonKeyScan";
import { readV1Version, sourceOfSpec } from "./npmSource";

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
}

type Json = Record<string, unknown>;

const NODE_MODULES = "node_modules/";
const EDGE_FIELDS = ["dependencies", "optionalDependencies", "peerDependencies"] as const;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringField(object: Json, key: string): string | undefined {
  const value = object[key];
  return typeof value === "string" ? value : undefined;
}

/**
 * npm's node_modules lookup: `<folder>/node_modules/<name>`, then each enclosing package's node_modules,
 * then the root's. Workspace folders (`packages/foo`) fall back to the root, as Node would.
 *
 * Indexed by folder then name, not by building `${folder}/node_modules/${name}` strings: each built string
 * must be hashed afresh, which made lookups the slowest part of parsing a 2,600-entry lockfile.
 */
export class NodeModulesTree {
  private readonly children = new Map<string, Map<string, string>>();
  private readonly parents = new Map<string, string>();

  /** Registers an installed package: `id` is `${folder}/node_modules/${name}` (folder "" is the root). */
  add(id: string, folder: string, name: string): void {
    let names = this.children.get(folder);
    if (names === undefined) this.children.set(folder, (names = new Map()));
    names.set(name, id);
  }

  resolve(folder: string, name: string): string | undefined {
    let dir = folder;
    for (;;) {
      const found = this.children.get(dir)?.get(name);
      if (found !== undefined) return found;
      if (dir === "") return undefined;
      let parent = this.parents.get(dir);
      if (parent === undefined) {
        const cut = dir.lastIndexOf(`/${NODE_MODULES}`);
        parent = cut === -1 ? "" : dir.slice(0, cut);
        this.parents.set(dir, parent);
      }
      dir = parent;
    }
  }
}

/** Where the installed name starts in a packages key; -1 for a workspace folder (no node_modules segment). */
function installedNameStart(key: string): number {
  const at = key.lastIndexOf(NODE_MODULES);
  return at === 0 || (at > 0 && key.charCodeAt(at - 1) === 47) ? at + NODE_MODULES.length : -1;
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
      byName.set(name, { name, spec, entryId: resolve(folder, name), dev, optional });
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

/** Lockfile v2/v3: the flat `packages` map keyed by install folder. */
export function buildFromPackages(packages: Json, input: NpmModelInput): NpmModel {
  const { locations, damaged, toRange } = input;
  const problems: OffsetProblem[] = [];
  const entries: LockEntry[] = [];
  const importers: Importer[] = [];
  const tree = new NodeModulesTree();
  const linkTarget = new Map<string, string>();
  const keys = Object.keys(packages);

  for (const key of keys) {
    const raw = packages[key];
    const nameStart = installedNameStart(key);
    if (key === "" || nameStart === -1 || !isObject(raw) || damaged.has(key)) continue;
    tree.add(key, nameStart === NODE_MODULES.length ? "" : key.slice(0, nameStart - NODE_MODULES.length - 1), key.slice(nameStart));
    if (raw.link !== true) continue;
    const target = stringField(raw, "resolved");
    if (target !== undefined && Object.hasOwn(packages, target) && isObject(packages[target])) linkTarget.set(key, target);
  }
  const resolve = (folder: string, name: string): string | undefined => {
    const id = tree.resolve(folder, name);
    return id === undefined ? undefined : linkTarget.get(id) ?? id;
  };

  for (const key of keys) {
    const raw = packages[key];
    const keyRange = locations.packages.get(key) ?? { start: 0, end: 0 };
    if (!isObject(raw)) {
      problems.push({ ...keyRange, severity: "warning", code: "invalid-entry", message: `The entry "${key}" is not an object; it was skipped.` });
      continue;
    }
    if (damaged.has(key)) {
      problems.push({ ...keyRange, severity: "warning", code: "incomplete-entry", message: `The entry "${key}" is cut short by a syntax error; it was not read.` });
      continue;
    }
    if (key === "") {
      importers.push({ path: ".", name: stringField(raw, "name") ?? stringField(input.root, "name"), dependencies: importerDependencies(raw, "", resolve) });
      continue;
    }
    const nameStart = installedNameStart(key);
    const dependencies: string[] = [];
    const entry: LockEntry = {
      id: key,
      name: "",
      version: stringField(raw, "version") ?? "",
      source: "registry",
      dev: raw.dev === true,
      // devOptional: needed by an optional dependency in production and by dev dependencies: installed in
      // production (so not dev), but only as optional.
      optional: raw.optional === true || raw.devOptional === true,
      range: toRange(keyRange),
      dependencies,
    };
    if (nameStart === -1) {
      // A workspace folder: the package itself, and an importer of its own dependencies.
      entry.name = stringField(raw, "name") ?? key.slice(key.lastIndexOf("/") + 1);
      entry.source = "workspace";
      entry.resolved = key;
      importers.push({ path: key, name: stringField(raw, "name"), dependencies: importerDependencies(raw, key, resolve) });
    } else if (raw.link === true) {
      const target = stringField(raw, "resolved");
      const targetEntry = target === undefined ? undefined : packages[target];
      const installed = key.slice(nameStart);
      entry.name = (isObject(targetEntry) ? stringField(targetEntry, "name") : undefined) ?? installed;
      if (entry.name !== installed) entry.alias = installed;
      if (entry.version === "" && isObject(targetEntry)) entry.version = stringField(targetEntry, "version") ?? "";
      entry.source = "link";
      entry.resolved = target;
      const resolvedTarget = linkTarget.get(key);
      if (resolvedTarget !== undefined) dependencies.push(resolvedTarget);
    } else {
      const installed = key.slice(nameStart);
      entry.name = stringField(raw, "name") ?? installed;
      if (entry.name !== installed) entry.alias = installed;
      const resolved = stringField(raw, "resolved");
      // npm can omit `resolved` (omit-lockfile-registry-resolved): a versioned entry without it is a registry one.
      if (resolved !== undefined) {
        entry.resolved = resolved;
        entry.source = sourceOfSpec(resolved, entry.name);
      }
      const integrity = stringField(raw, "integrity");
      if (integrity !== undefined) entry.integrity = integrity;
    }
    if (entry.source !== "link") {
      for (const field of EDGE_FIELDS) {
        const map = raw[field];
        if (!isObject(map)) continue;
        for (const name of Object.keys(map)) {
          const id = resolve(key, name);
          if (id !== undefined && !dependencies.includes(id)) dependencies.push(id);
        }
      }
    }
    entries.push(entry);
  }
  return { entries, importers, problems };
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
      if (read.alias !== undefined) entry.alias = read.alias;
      if (read.resolved !== undefined) entry.resolved = read.resolved;
      const integrity = stringField(raw, "integrity");
      if (integrity !== undefined) entry.integrity = integrity;
      entries.push(entry);
      tree.add(id, parentId, installed);
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
  return { entries, importers: v1Importers(entries, input, tree), problems };
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
