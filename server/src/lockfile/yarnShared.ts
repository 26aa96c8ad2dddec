// Pieces both Yarn parsers share: descriptors, source kinds, conflict masking, importers from manifests and
// dev/optional marking over the resolved graph.
import type { Importer, ImporterDependency, LockEntry, ParseProblem, Range, SourceKind } from "./model";
import type { WorkspaceManifest } from "./index";
import { LineIndex, lineRange } from "./lineIndex";
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
export function maskConflicts(text: string, index: LineIndex): { text: string; problems: ParseProblem[] } {
  const problems = findConflictMarkers(index);
  if (problems.length === 0 && !text.includes("\n|||||||")) return { text, problems };
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

/** An out-edge of the resolved graph; optional edges are `optionalDependencies` / `dependenciesMeta.optional`. */
export interface Edge {
  to: string;
  optional: boolean;
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
      const dep: ImporterDependency = { name, spec, entryId: resolve(name, spec) };
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

/**
 * npm's meaning of the flags: an entry is dev when only dev dependencies of the importers reach it, optional
 * when only optional edges reach it. Left unset when there are no importers (nothing to reach from).
 */
export function markDevAndOptional(entries: LockEntry[], edges: Map<string, Edge[]>, importers: Importer[]): void {
  if (importers.length === 0) return;
  const walk = (roots: string[], followOptional: boolean): Set<string> => {
    const seen = new Set<string>(roots);
    const queue = [...seen];
    for (let i = 0; i < queue.length; i++) {
      for (const edge of edges.get(queue[i]) ?? []) {
        if ((followOptional || !edge.optional) && !seen.has(edge.to)) {
          seen.add(edge.to);
          queue.push(edge.to);
        }
      }
    }
    return seen;
  };
  const all: string[] = [];
  const prod: string[] = [];
  const required: string[] = [];
  for (const importer of importers) {
    for (const dep of importer.dependencies) {
      if (dep.entryId === undefined) continue;
      all.push(dep.entryId);
      if (dep.dev !== true) prod.push(dep.entryId);
      if (dep.optional !== true) required.push(dep.entryId);
    }
  }
  // Workspace entries are importers themselves: whatever they reach counts as reached.
  for (const entry of entries) if (entry.source === "workspace") all.push(entry.id);
  const reached = walk(all, true);
  const reachedByProd = walk(prod, true);
  const reachedRequired = walk(required, false);
  for (const entry of entries) {
    if (!reached.has(entry.id) || entry.source === "workspace") continue;
    entry.dev = !reachedByProd.has(entry.id);
    entry.optional = !reachedRequired.has(entry.id);
  }
}
