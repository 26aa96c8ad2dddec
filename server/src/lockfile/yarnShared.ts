// Pieces both Yarn parsers share: descriptors, source kinds, conflict masking, importers from manifests and
// dev/optional marking over the resolved graph.
import type { Importer, ImporterDependency, LockEntry, ParseProblem, Range, SourceKind } from "./model";
import type { WorkspaceManifest } from "./index";
import { type LineIndex, lineRange } from "./lineIndex";
import { findConflictMarkers } from "./textChecks";

/** `name@range` split at the `@` that ends the name (a scoped name starts with one). */
export function splitDescriptor(descriptor: string): { name: string; range: string } {
  const at = descriptor.indexOf("@", 1);
  if (at === -1) return { name: descriptor, range: "" };
  return { name: descriptor.slice(0, at), range: descriptor.slice(at + 1) };
}

/** For `npm:real@^1` (an alias range) the real name; undefined for any other range. */
export function aliasTarget(range: string): string | undefined {
  if (!range.startsWith("npm:")) return undefined;
  const rest = range.slice(4);
  const at = rest.indexOf("@", 1);
  // `npm:^1.0.0` (Berry's plain registry range) has no name in it.
  if (at === -1) return undefined;
  return rest.slice(0, at);
}

/**
 * The alias an entry is installed under: set only when no descriptor uses the real name, so an entry shared by
 * `string-width-cjs@npm:string-width@^4` and `string-width@^4` is not called an alias.
 */
export function aliasOf(descriptorNames: string[], realName: string): string | undefined {
  let alias: string | undefined;
  for (const name of descriptorNames) {
    if (name === realName) return undefined;
    alias ??= name;
  }
  return alias;
}

const GIT_PREFIX = /^(?:git\+|git:|git@|ssh:|github:|gitlab:|bitbucket:|gist:)/;

/** Whether a URL or spec points at a git repository (or GitHub's per-commit tarballs). */
export function isGitSpec(spec: string): boolean {
  if (GIT_PREFIX.test(spec)) return true;
  if (!/^https?:/.test(spec)) return /^[\w.-]+\/[\w.-]+(?:#.*)?$/.test(spec); // `user/repo` GitHub shorthand
  const hash = spec.indexOf("#");
  const url = hash === -1 ? spec : spec.slice(0, hash);
  return url.endsWith(".git") || spec.includes("#commit=") || url.startsWith("https://codeload.github.com/");
}

/**
 * A registry tarball URL is `<registry>/<name>/-/<basename>-<version>.tgz` on any host (mirrors, Artifactory
 * paths); the scoped name may be written `@scope/name` or `@scope%2fname`.
 */
export function isRegistryTarball(url: string, name: string, version: string): boolean {
  if (!/^https?:\/\//.test(url)) return false;
  const hash = url.indexOf("#");
  const path = hash === -1 ? url : url.slice(0, hash);
  const base = name.slice(name.indexOf("/") + 1);
  if (!path.endsWith(`/-/${base}-${version}.tgz`)) return false;
  const head = path.slice(0, path.length - `/-/${base}-${version}.tgz`.length).toLowerCase();
  return head.endsWith(`/${name.toLowerCase()}`) || head.endsWith(`/${name.replace("/", "%2f").toLowerCase()}`);
}

/** Kinds for a URL that is not a registry tarball. */
export function urlSourceKind(url: string): SourceKind | undefined {
  if (url.startsWith("link:") || url.startsWith("portal:")) return "link";
  if (url.startsWith("file:")) return "file";
  if (isGitSpec(url)) return "git";
  if (/^https?:\/\//.test(url)) return "tarball";
  return undefined;
}

/**
 * Git conflict markers are reported once, then hidden: the marker lines and the "theirs" (and diff3 base) sides
 * become blank, offsets kept, so the scanners read git's "ours" version of the file plus the common text.
 */
const MARKERS = ["<<<<<<<", "=======", ">>>>>>>", "|||||||"];

export function maskConflicts(text: string, lineIndex: () => LineIndex): { text: string; problems: ParseProblem[] } {
  // Plain indexOf per marker: the shared marker regex walks every line, and even one unanchored regex over the text
  // measured 5% of a Berry parse.
  const marked = MARKERS.some((m) => text.startsWith(m) || text.indexOf(`\n${m}`) !== -1);
  if (!marked) return { text, problems: [] };
  const problems = findConflictMarkers(lineIndex());
  const lines = text.split("\n");
  let hiding = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("<<<<<<<")) {
      lines[i] = " ".repeat(line.length);
    } else if (line.startsWith("|||||||") || line.startsWith("=======")) {
      hiding = true;
      lines[i] = " ".repeat(line.length);
    } else if (line.startsWith(">>>>>>>")) {
      hiding = false;
      lines[i] = " ".repeat(line.length);
    } else if (hiding) {
      lines[i] = " ".repeat(line.length);
    }
  }
  return { text: lines.join("\n"), problems };
}

export function problemAt(range: Range, severity: ParseProblem["severity"], code: string, message: string): ParseProblem {
  return { range, severity, code, message };
}

export function problemOnLine(
  index: LineIndex,
  line: number,
  severity: ParseProblem["severity"],
  code: string,
  message: string,
): ParseProblem {
  return { range: lineRange(index, line), severity, code, message };
}

/** Optional edges (`optionalDependencies`, `dependenciesMeta.optional`): from entry id to the ids it reaches. */
export type OptionalEdges = Map<string, Set<string>>;

export function addOptionalEdge(edges: OptionalEdges, from: string, to: string): void {
  const out = edges.get(from);
  if (out === undefined) edges.set(from, new Set([to]));
  else out.add(to);
}

/**
 * Importers for a format that has none (classic yarn.lock): each manifest's declared dependencies, resolved to
 * the entry whose descriptor is `name@spec`.
 */
export function importersFromManifests(
  manifests: WorkspaceManifest[],
  resolve: (name: string, spec: string) => string | undefined,
): Importer[] {
  return manifests.map((manifest) => ({
    path: manifest.path,
    name: manifest.name,
    dependencies: manifestDependencies(manifest, resolve),
  }));
}

export function manifestDependencies(
  manifest: WorkspaceManifest,
  resolve: (name: string, spec: string) => string | undefined,
): ImporterDependency[] {
  const deps: ImporterDependency[] = [];
  const add = (block: Record<string, string> | undefined, dev: boolean, optional: boolean): void => {
    for (const [name, spec] of Object.entries(block ?? {})) {
      const dep: ImporterDependency = { name, spec };
      const entryId = resolve(name, spec);
      if (entryId !== undefined) dep.entryId = entryId;
      if (dev) dep.dev = true;
      if (optional) dep.optional = true;
      deps.push(dep);
    }
  };
  add(manifest.dependencies, false, false);
  add(manifest.optionalDependencies, false, true);
  add(manifest.devDependencies, true, false);
  return deps;
}

/** Where the dev/optional walk starts: an importer's dependency (or, with `workspace`, a workspace entry itself). */
export interface Root {
  index: number;
  dev: boolean;
  optional: boolean;
  /** A workspace entry: whatever it reaches counts as reached, but it makes nothing production or required. */
  workspace?: boolean;
}

/**
 * npm's meaning of the flags: an entry is dev when only dev dependencies of the importers reach it, optional
 * when only optional edges reach it. Left unset when there are no importers (nothing to reach from).
 */
export function markDevAndOptional(entries: LockEntry[], optionalEdges: OptionalEdges, importers: Importer[]): void {
  if (importers.length === 0) return;
  const indexOf = new Map<string, number>();
  for (let i = 0; i < entries.length; i++) indexOf.set(entries[i].id, i);
  const children: number[][] = entries.map((e) => {
    const out: number[] = [];
    for (const id of e.dependencies) {
      const j = indexOf.get(id);
      if (j !== undefined) out.push(j);
    }
    return out;
  });
  const optionalTargets = entries.map((e) => {
    const to = optionalEdges.get(e.id);
    return to === undefined ? undefined : [...to].map((id) => indexOf.get(id) ?? -1);
  });
  const roots: Root[] = [];
  for (const importer of importers) {
    for (const dep of importer.dependencies) {
      const i = dep.entryId === undefined ? undefined : indexOf.get(dep.entryId);
      if (i !== undefined) roots.push({ index: i, dev: dep.dev === true, optional: dep.optional === true });
    }
  }
  for (let i = 0; i < entries.length; i++) if (entries[i].source === "workspace") roots.push({ index: i, dev: true, optional: true, workspace: true });
  markReached(entries, children, optionalTargets, roots);
}

/**
 * The walk itself, over entry indexes and byte arrays, not id sets: it runs on every parse of every lockfile.
 * `children[i]`: the entries i depends on; `optionalTargets[i]`: those of them i reaches by an optional edge.
 * One walk carries three bits (reached at all, reached from production roots, reached without an optional edge or
 * root): an entry is queued again only when it gains a bit, so most entries are visited once instead of three times.
 */
export function markReached(entries: LockEntry[], children: number[][], optionalTargets: (number[] | undefined)[], roots: Root[]): void {
  const state = new Uint8Array(entries.length);
  const queue: number[] = [];
  for (let k = 0; k < roots.length; k++) {
    const r = roots[k];
    const bits = r.workspace === true ? REACHED : REACHED | (r.dev ? 0 : BY_PROD) | (r.optional ? 0 : REQUIRED);
    if ((bits & ~state[r.index]) !== 0) {
      state[r.index] |= bits;
      queue.push(r.index);
    }
  }
  // Indexed loops over numbers, no predicate closure or for-of: the walks were 8% of a Berry parse.
  for (let q = 0; q < queue.length; q++) {
    const at = queue[q];
    const bits = state[at];
    const optional = (bits & REQUIRED) !== 0 ? optionalTargets[at] : undefined;
    const next = children[at];
    for (let k = 0; k < next.length; k++) {
      const to = next[k];
      const carried = optional !== undefined && optional.includes(to) ? bits & ~REQUIRED : bits;
      if ((carried & ~state[to]) !== 0) {
        state[to] |= carried;
        queue.push(to);
      }
    }
  }
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const s = state[i];
    if (s === 0 || entry.source === "workspace") continue;
    entry.dev = (s & BY_PROD) === 0;
    entry.optional = (s & REQUIRED) === 0;
  }
}

const REACHED = 1;
const BY_PROD = 2;
/** Reached from a required root without crossing an optional edge. */
const REQUIRED = 4;
