// The one model every lockfile format is read into. Pure data: no I/O, no imports from the rest of the
// server (lockfile/ is used by all and uses none).

export type LockfileFormat = "npm" | "yarn-classic" | "yarn-berry" | "pnpm" | "bun";

/** Where a locked package comes from. Only "registry" packages can carry registry signatures. */
export type SourceKind = "registry" | "git" | "tarball" | "file" | "link" | "workspace" | "patch";

/** Zero-based line and UTF-16 character, as in the Language Server Protocol. */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type ProblemSeverity = "error" | "warning" | "information";

/** Something wrong with the lockfile text itself. Always has a position and a plain reason. */
export interface ParseProblem {
  range: Range;
  severity: ProblemSeverity;
  /** Stable code, e.g. "parse-error", "merge-conflict", "duplicate-key", "unknown-lockfile-version". */
  code: string;
  message: string;
}

/** One entry as it is written in the lockfile. A package may have several (npm's nested node_modules). */
export interface LockEntry {
  /** Unique within the lockfile: npm's `node_modules/a/node_modules/b`, Yarn's header, pnpm's key, Bun's key. */
  id: string;
  /** The real (registry) name of the package. */
  name: string;
  /** The name it is installed under, when that differs from `name` (`npm:` aliases). */
  alias?: string;
  version: string;
  source: SourceKind;
  /** Resolved URL or source spec as written (tarball URL, git URL with commit, file path...). */
  resolved?: string;
  /** SRI string of the registry tarball, when the format records it (`sha512-...`). */
  integrity?: string;
  /**
   * A format-specific hash that is NOT the registry tarball's integrity (Yarn Berry's `checksum` is the
   * hash of Yarn's own zip). Recorded for display; never compared with registry integrity.
   */
  checksum?: string;
  dev?: boolean;
  optional?: boolean;
  /**
   * Shipped inside its parent's tarball (npm `inBundle`, from `bundleDependencies`): never downloaded on its own,
   * so its bytes are covered by the parent's integrity, signature and provenance, not by its own.
   */
  inBundle?: boolean;
  /** Range of the entry's key (where diagnostics for this entry go). */
  range: Range;
  /** Ids of the entries this entry depends on, resolved as the package manager would. */
  dependencies: string[];
}

/** A dependency declared by a workspace package (the root project or a workspace folder). */
export interface ImporterDependency {
  name: string;
  /** The range or spec as declared (`^1.2.0`, `workspace:*`, `npm:foo@1`). */
  spec: string;
  /** The entry it resolves to, when resolvable. */
  entryId?: string;
  dev?: boolean;
  optional?: boolean;
}

/** A workspace package (the project root is path "."). */
export interface Importer {
  /** Folder relative to the lockfile, "." for the root, POSIX separators. */
  path: string;
  name?: string;
  dependencies: ImporterDependency[];
}

export interface ParsedLockfile {
  format: LockfileFormat;
  /** As written in the file (npm `lockfileVersion`, Yarn `__metadata.version`, pnpm `lockfileVersion`...). */
  lockfileVersion: string | number | undefined;
  entries: LockEntry[];
  importers: Importer[];
  problems: ParseProblem[];
}

/** A distinct name@version@source, with every place it appears. What verdicts are given to. */
export interface LockedPackage {
  name: string;
  alias?: string;
  version: string;
  source: SourceKind;
  resolved?: string;
  integrity?: string;
  checksum?: string;
  /** True only when every entry of it is dev (it is also needed in production otherwise). */
  dev: boolean;
  optional: boolean;
  /** True only when every entry of it is bundled inside a parent's tarball. */
  inBundle?: boolean;
  /** A direct dependency of some importer. */
  direct: boolean;
  entryIds: string[];
  locations: Range[];
}

export function packageKey(p: { name: string; version: string; source: SourceKind; resolved?: string }): string {
  // Registry packages are identified by name@version; other sources also by where they come from.
  return p.source === "registry" ? `${p.name}@${p.version}` : `${p.name}@${p.version}@${p.source}:${p.resolved ?? ""}`;
}

/** Groups entries into distinct packages, in the order they first appear in the file. */
export function packagesOf(lockfile: ParsedLockfile): LockedPackage[] {
  const direct = new Set<string>();
  for (const importer of lockfile.importers) {
    for (const dep of importer.dependencies) if (dep.entryId !== undefined) direct.add(dep.entryId);
  }
  const byKey = new Map<string, LockedPackage>();
  for (const entry of lockfile.entries) {
    const key = packageKey(entry);
    const found = byKey.get(key);
    if (found === undefined) {
      byKey.set(key, {
        name: entry.name,
        alias: entry.alias,
        version: entry.version,
        source: entry.source,
        resolved: entry.resolved,
        integrity: entry.integrity,
        checksum: entry.checksum,
        dev: entry.dev === true,
        optional: entry.optional === true,
        ...(entry.inBundle === true ? { inBundle: true } : {}),
        direct: direct.has(entry.id),
        entryIds: [entry.id],
        locations: [entry.range],
      });
      continue;
    }
    found.entryIds.push(entry.id);
    found.locations.push(entry.range);
    found.dev = found.dev && entry.dev === true;
    found.optional = found.optional && entry.optional === true;
    if (found.inBundle === true && entry.inBundle !== true) delete found.inBundle;
    found.direct = found.direct || direct.has(entry.id);
    found.integrity ??= entry.integrity;
    found.resolved ??= entry.resolved;
    found.alias ??= entry.alias;
  }
  return [...byKey.values()].sort((a, b) => compareRanges(a.locations[0], b.locations[0]));
}

export function compareRanges(a: Range, b: Range): number {
  return a.start.line - b.start.line || a.start.character - b.start.character;
}

/**
 * The shortest chain of dependents from a workspace package down to the entry: ["(root)", "react-scripts@5.0.1",
 * "babel-loader@8.3.0"]. Breadth-first over the resolved edges; empty when nothing reaches it.
 */
export function dependencyChain(lockfile: ParsedLockfile, entryId: string): string[] {
  const byId = new Map(lockfile.entries.map((e) => [e.id, e]));
  const label = (id: string): string => {
    const e = byId.get(id);
    return e === undefined ? id : `${e.alias ?? e.name}@${e.version}`;
  };
  const parent = new Map<string, string | undefined>();
  const queue: string[] = [];
  const importerOf = new Map<string, string>();
  for (const importer of lockfile.importers) {
    for (const dep of importer.dependencies) {
      if (dep.entryId === undefined || parent.has(dep.entryId)) continue;
      parent.set(dep.entryId, undefined);
      importerOf.set(dep.entryId, importer.path === "." ? "(root)" : importer.name ?? importer.path);
      queue.push(dep.entryId);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    if (id === entryId) break;
    for (const child of byId.get(id)?.dependencies ?? []) {
      if (parent.has(child)) continue;
      parent.set(child, id);
      queue.push(child);
    }
  }
  if (!parent.has(entryId)) return [];
  const chain: string[] = [];
  let at: string | undefined = entryId;
  let top = entryId;
  while (at !== undefined) {
    chain.unshift(label(at));
    top = at;
    at = parent.get(at);
  }
  chain.unshift(importerOf.get(top) ?? "(root)");
  return chain;
}
