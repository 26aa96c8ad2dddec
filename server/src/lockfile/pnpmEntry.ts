// The model's objects built from pnpm records: entries, importer dependencies and their ranges. Split from pnpm.ts
// (the reader) to keep files at the house size; pnpm.ts binds these once, so under tsx a call is a plain call.
import type { ImporterDependency, LockEntry, Range } from "./model";
import { NOWHERE, type PnpmImporterDep, type PnpmImporterRecord, type PnpmResolution } from "./pnpmYaml";

/**
 * An entry with its source, resolved URL and integrity from the `resolution`. The usual registry entry (an integrity
 * and nothing else) is one literal of its final shape: adding integrity and flags to a smaller literal allocated a
 * property store and changed the object's shape for nearly every entry of a parse.
 */
export function newPnpmEntry(id: string, name: string, version: string, resolution: PnpmResolution, range: Range, dev: boolean, optional: boolean): LockEntry {
  const { integrity, type, repo, directory, tarball } = resolution;
  if (integrity !== undefined && type === undefined && repo === undefined && directory === undefined && tarball === undefined && !isFileId(id)) {
    if (!dev && !optional) return { id, name, version, source: "registry", integrity, range, dependencies: NO_DEPENDENCIES };
    if (!optional) return { id, name, version, source: "registry", integrity, dev: true, range, dependencies: NO_DEPENDENCIES };
    if (!dev) return { id, name, version, source: "registry", integrity, optional: true, range, dependencies: NO_DEPENDENCIES };
    return { id, name, version, source: "registry", integrity, dev: true, optional: true, range, dependencies: NO_DEPENDENCIES };
  }
  const entry: LockEntry = { id, name, version, range, dependencies: NO_DEPENDENCIES, source: "registry" };
  setSource(entry, resolution, id);
  if (dev) entry.dev = true;
  if (optional) entry.optional = true;
  return entry;
}

/**
 * The `dependencies` of every entry until the reader gives it its own: one frozen list instead of an array per entry
 * (nothing writes to a parsed entry's list; frozen, a writer would fail loudly instead of changing every entry).
 */
export const NO_DEPENDENCIES = Object.freeze([]) as unknown as string[];

function isFileId(id: string): boolean {
  // One search on every entry's id; the second only when `file:` is there at all.
  const at = id.indexOf("file:");
  return at !== -1 && (at === 0 || id.includes("@file:"));
}

/** Where a package comes from, from its `resolution`. */
function setSource(entry: LockEntry, resolution: PnpmResolution, id: string): void {
  const { integrity, type, repo, commit, directory, tarball } = resolution;
  if (type === "git" || (repo !== undefined && commit !== undefined)) {
    entry.source = "git";
    entry.resolved = `${repo ?? ""}#${commit ?? ""}`;
    return;
  }
  if (type === "directory" || directory !== undefined) {
    entry.source = "file";
    if (directory !== undefined) entry.resolved = directory;
    return;
  }
  if (integrity !== undefined) entry.integrity = integrity;
  if (tarball !== undefined) {
    // A registry tarball (`<registry>/<name>/-/<file>.tgz`) is the registry's own artifact: still verifiable.
    entry.source = tarball.startsWith("file:") ? "file" : /^https?:\/\/[^#?]+\/-\/[^/]+\.tgz$/.test(tarball) ? "registry" : "tarball";
    entry.resolved = tarball;
    return;
  }
  if (isFileId(id)) {
    entry.source = "file";
    entry.resolved = id.slice(id.indexOf("file:"));
  }
  // Otherwise "registry". `(patch_hash=...)` entries stay "registry" too: pnpm downloads the registry
  // tarball (this integrity) and patches it on disk afterwards, so the original's signature and provenance
  // still say something true about what was downloaded.
}

/**
 * The model's dependency with only the fields it has, written as one literal per shape: adding fields one by one to
 * an object made from a smaller literal allocates a property store and changes its shape for every dependency.
 */
export function importerDependency(name: string, spec: string, entryId: string | undefined, group: number): ImporterDependency {
  if (entryId === undefined) return group === 0 ? { name, spec } : group === 1 ? { name, spec, dev: true } : { name, spec, optional: true };
  return group === 0 ? { name, spec, entryId } : group === 1 ? { name, spec, entryId, dev: true } : { name, spec, entryId, optional: true };
}

/** Where a dependency name is written (the importer's key, or nowhere, when its position is unknown). */
export function depRange(d: PnpmImporterDep, importer: PnpmImporterRecord): Range {
  if (d.line < 0) return importer.range ?? NOWHERE;
  return { start: { line: d.line, character: d.start }, end: { line: d.line, character: d.end } };
}

/** The range of a record's key, built only for the records that become entries. */
export function recordRange(r: { line: number; start: number; endLine: number; end: number }): Range {
  return { start: { line: r.line, character: r.start }, end: { line: r.endLine, character: r.end } };
}
