// Who pulls a package in: one breadth-first walk over the lockfile's edges per analysis, so the diagnostics, the
// hover and the tree of a lockfile with thousands of entries do not walk the graph once per entry.
import { findNodeAtLocation, parseTree, type Node } from "jsonc-parser";
import type { ImporterDependency, LockEntry, ParsedLockfile, Range } from "../lockfile/model";

/** The importer dependency at the top of an entry's shortest chain. */
export interface DirectRoot {
  /** Folder of the workspace package that declares it, relative to the lockfile ("." for the root). */
  importerPath: string;
  dependency: ImporterDependency;
}

export interface DependentsIndex {
  /** Same labels and order as model.ts dependencyChain(): ["(root)", "a@1.0.0", "b@2.0.0"]; empty when unreachable. */
  chainOf(entryId: string): string[];
  rootOf(entryId: string): DirectRoot | undefined;
}

/**
 * The index, built on first use: an edit re-checks the lockfile, and most edits are published before any hover, tree
 * or related-information lookup needs the graph walk (issue #7).
 */
export function lazyDependentsIndex(parsed: ParsedLockfile): DependentsIndex {
  let index: DependentsIndex | undefined;
  return {
    rootOf: (entryId) => (index ??= dependentsIndex(parsed)).rootOf(entryId),
    chainOf: (entryId) => (index ??= dependentsIndex(parsed)).chainOf(entryId),
  };
}

export function dependentsIndex(parsed: ParsedLockfile): DependentsIndex {
  const byId = new Map<string, LockEntry>(parsed.entries.map((e) => [e.id, e]));
  const parent = new Map<string, string | undefined>();
  const root = new Map<string, DirectRoot>();
  const importerLabel = new Map<string, string>();
  const queue: string[] = [];
  for (const importer of parsed.importers) {
    for (const dependency of importer.dependencies) {
      const id = dependency.entryId;
      if (id === undefined || parent.has(id)) continue;
      parent.set(id, undefined);
      root.set(id, { importerPath: importer.path, dependency });
      importerLabel.set(id, importer.path === "." ? "(root)" : importer.name ?? importer.path);
      queue.push(id);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    for (const child of byId.get(id)?.dependencies ?? []) {
      if (parent.has(child)) continue;
      parent.set(child, id);
      root.set(child, root.get(id)!);
      queue.push(child);
    }
  }
  const label = (id: string): string => {
    const e = byId.get(id);
    return e === undefined ? id : `${e.alias ?? e.name}@${e.version}`;
  };
  return {
    rootOf: (entryId) => root.get(entryId),
    chainOf(entryId) {
      if (!parent.has(entryId)) return [];
      const chain: string[] = [];
      let top = entryId;
      for (let at: string | undefined = entryId; at !== undefined; at = parent.get(at)) {
        chain.unshift(label(at));
        top = at;
      }
      chain.unshift(importerLabel.get(top) ?? "(root)");
      return chain;
    },
  };
}

export const DEPENDENCY_FIELDS = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"] as const;
export type DependencyField = (typeof DEPENDENCY_FIELDS)[number];

export interface ManifestKey {
  field: DependencyField;
  /** Range of the property key ("left-pad") in package.json. */
  range: Range;
  /** The spec as written. */
  spec?: string;
}

/** Where `name` is declared in a package.json text, in the first dependency field that has it. */
export function findManifestKey(text: string, name: string): ManifestKey | undefined {
  const tree = parseTree(text);
  if (tree === undefined) return undefined;
  for (const field of DEPENDENCY_FIELDS) {
    const value = findNodeAtLocation(tree, [field, name]);
    const key = value?.parent?.children?.[0];
    if (value === undefined || key === undefined) continue;
    return { field, range: rangeOfNode(text, key), spec: typeof value.value === "string" ? value.value : undefined };
  }
  return undefined;
}

function rangeOfNode(text: string, node: Node): Range {
  return { start: positionAt(text, node.offset), end: positionAt(text, node.offset + node.length) };
}

/** Zero-based line/character (UTF-16) of an offset. */
export function positionAt(text: string, offset: number): Range["start"] {
  let line = 0;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, character: offset - lineStart };
}
