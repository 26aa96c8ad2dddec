// pnpm-lock.yaml (lockfileVersion 5.x, 6.x, 9.x) -> the shared lockfile model.
// Key and reference forms: https://github.com/pnpm/spec/blob/master/lockfile/ (5.2, 6.0, 9.0).
import type { ParseOptions } from "./index";
import type { Importer, ImporterDependency, LockEntry, ParsedLockfile, ParseProblem, Range, SourceKind } from "./model";
import { joinPosix, markDevAndOptional, prepareLockText, problem } from "./pnpmBunShared";
import { IMPORTER_GROUPS, NOWHERE, newEntryRecord, readPnpmYaml, type PnpmDoc, type PnpmEntryRecord, type PnpmImporterDep, type PnpmImporterRecord, type PnpmResolution } from "./pnpmYaml";

type Major = 5 | 6 | 9;

export function parsePnpmLockfile(text: string, options: ParseOptions): ParsedLockfile {
  return parsePnpmLockfileWith(text, options, "scanner");
}

/** `reader: "library"` forces the `yaml` library (the reference the scanner is tested against). */
export function parsePnpmLockfileWith(original: string, options: ParseOptions, reader: "scanner" | "library"): ParsedLockfile {
  // A lone CR ends a line for the editor and for YAML; LF-counting positions need it as LF (same length, same offsets).
  const text = original.indexOf("\r") === -1 ? original : original.replace(/\r(?!\n)/g, "\n");
  const prepared = prepareLockText(text, "pnpm");
  const read = readPnpmYaml(prepared.text, prepared.start, prepared.index, reader);
  const problems: ParseProblem[] = [...prepared.problems, ...read.problems];
  const doc = pickDocument(read.docs);
  const result: ParsedLockfile = { format: "pnpm", lockfileVersion: undefined, entries: [], importers: [], problems };
  if (doc === undefined) {
    problems.push(problem(NOWHERE, "error", "parse-error", "No lockfile content found: pnpm-lock.yaml is empty or is not a YAML map. Re-run pnpm install."));
    return result;
  }
  const version = doc.lockfileVersion;
  result.lockfileVersion = typeof version === "number" || typeof version === "string" ? version : undefined;
  const major = majorOf(doc, problems);
  new PnpmReader(doc, major, options, result).read();
  return result;
}

/** Newer pnpm may write a first document (config dependencies); the lockfile proper has importers/packages. */
function pickDocument(docs: PnpmDoc[]): PnpmDoc | undefined {
  // pnpm 10 writes the config-dependencies document first, so the last lockfile-shaped document wins.
  const lockfiles = docs.filter((d) => d.hasImporters || d.hasPackages);
  return lockfiles[lockfiles.length - 1] ?? docs[docs.length - 1];
}

function majorOf(doc: PnpmDoc, problems: ParseProblem[]): Major {
  const raw = doc.lockfileVersion;
  const text = raw === undefined || raw === null ? "" : String(raw);
  const major = parseInt(text, 10);
  if (major === 5 || major === 6 || major === 9) return major;
  // Unknown or missing: read it by its shape, and say so.
  const keys = [...(doc.packages?.keys() ?? [])];
  const guess: Major = doc.snapshots !== undefined ? 9 : keys.some((k) => k.startsWith("/") && k.includes("@", 2)) ? 6 : keys.some((k) => k.startsWith("/")) ? 5 : 9;
  problems.push(
    problem(doc.lockfileVersionRange ?? NOWHERE, "warning", "unknown-lockfile-version", text === "" ? `pnpm-lock.yaml has no lockfileVersion; it was read as version ${guess}.` : `Unknown pnpm lockfileVersion ${text} (known: 5.x, 6.x, 9.x); it was read as version ${guess}, results may be incomplete.`),
  );
  return guess;
}

/** Splits a package key / reference into name, version and the peer or patch suffix. */
export function splitPnpmKey(key: string, major: Major): { name: string; version: string; suffix: string } | undefined {
  const body = key.startsWith("/") ? key.slice(1) : key;
  if (major === 5) {
    // /@scope/name/1.2.3_peer@1.0.0+other@2.0.0
    const parts = body.split("/");
    const nameParts = parts[0].startsWith("@") ? 2 : 1;
    if (parts.length !== nameParts + 1) return undefined;
    const rest = parts[nameParts];
    const underscore = rest.indexOf("_");
    return {
      name: parts.slice(0, nameParts).join("/"),
      version: underscore === -1 ? rest : rest.slice(0, underscore),
      suffix: underscore === -1 ? "" : rest.slice(underscore),
    };
  }
  // 6: /name@1.2.3(peer@1.0.0)   9: name@1.2.3(peer@1.0.0)(patch_hash=...)
  const at = body.indexOf("@", 1);
  if (at === -1) return undefined;
  const rest = body.slice(at + 1);
  const paren = rest.indexOf("(");
  return { name: body.slice(0, at), version: paren === -1 ? rest : rest.slice(0, paren), suffix: paren === -1 ? "" : rest.slice(paren) };
}

class PnpmReader {
  private readonly entries = new Map<string, LockEntry>();
  /**
   * Entries by the two halves of their key (name, then what follows the name's separator), so the usual
   * reference resolves without building `name@ref`: concatenating and hashing that string for every edge was
   * the reader's largest cost on the corpus. A miss falls back to the full-key forms.
   */
  private readonly byNameAndRef = new Map<string, Map<string, LockEntry>>();
  private readonly importerPaths: Set<string>;
  private unresolved: { ref: string; from: Range } | undefined;
  private unresolvedCount = 0;

  constructor(
    private readonly doc: PnpmDoc,
    private readonly major: Major,
    private readonly options: ParseOptions,
    private readonly result: ParsedLockfile,
  ) {
    this.importerPaths = new Set(doc.importersIsMap ? doc.importers.map((i) => i.path) : ["."]);
  }

  read(): void {
    const packages = this.doc.packages ?? new Map<string, PnpmEntryRecord>();
    const snapshots = this.major === 9 && this.doc.hasSnapshots ? this.doc.snapshots ?? new Map<string, PnpmEntryRecord>() : undefined;
    // Entries are the snapshots in v9 (one per peer/patch variant), packages before that. A v9 package
    // with no snapshot (a truncated file) still becomes an entry, so what is readable is reported.
    const used = new Set<string>();
    const depsOf: [LockEntry, PnpmEntryRecord][] = [];
    if (snapshots) {
      for (const [key, snapshot] of snapshots) {
        const split = splitPnpmKey(key, 9);
        const base = split === undefined ? key : split.suffix === "" ? key : key.slice(0, key.length - split.suffix.length);
        used.add(base);
        const record = packages.get(base);
        // The range is the packages key when there is one: that line holds the integrity being verified,
        // and peer variants of one package then share one location instead of scattering diagnostics.
        const entry = this.entry(key, split, record ?? EMPTY_RECORD, snapshot, record?.range ?? snapshot.range);
        depsOf.push([entry, snapshot]);
      }
    }
    for (const [key, record] of packages) {
      if (used.has(key)) continue;
      const entry = this.entry(key, splitPnpmKey(key, this.major), record, record, record.range);
      depsOf.push([entry, record]);
    }
    for (const [entry, record] of depsOf) {
      const deps = record.deps;
      for (let k = 0; k < deps.length; k += 2) {
        const name = deps[k];
        const ref = deps[k + 1];
        const id = ref.startsWith("link:") ? this.linkEntry(name, joinPosix(".", ref.slice(5)), entry.range) : this.resolve(name, ref, entry.range, undefined);
        if (id !== undefined && !entry.dependencies.includes(id)) entry.dependencies.push(id);
      }
    }
    this.readImporters();
    this.result.entries.push(...this.entries.values());
    // pnpm 9 dropped `dev` from the lockfile (`optional` stays on snapshots).
    if (this.major === 9) markDevAndOptional(this.result.entries, this.result.importers);
    if (this.unresolved) {
      this.result.problems.push(
        problem(this.unresolved.from, "warning", "unresolved-dependency", `${this.unresolvedCount} dependency reference(s) point at packages missing from the lockfile (first: ${this.unresolved.ref}). The lockfile is incomplete or was edited by hand; re-run pnpm install.`),
      );
    }
  }

  private entry(id: string, split: { name: string; version: string; suffix: string } | undefined, record: PnpmEntryRecord, flags: PnpmEntryRecord, range: Range): LockEntry {
    const name = record.name ?? split?.name ?? id;
    const version = record.version ?? split?.version ?? "";
    const entry: LockEntry = { id, name, version, range, dependencies: [], source: "registry" };
    setSource(entry, record.resolution, id);
    if (entry.source === "registry" && entry.integrity === undefined) {
      this.result.problems.push(problem(range, "warning", "missing-integrity", `${name}@${version} has no resolution integrity in the lockfile, so its registry signature cannot be checked. Re-run pnpm install.`));
    }
    if (flags.dev) entry.dev = true;
    if (flags.optional) entry.optional = true;
    this.entries.set(id, entry);
    this.indexByNameAndRef(id, entry);
    return entry;
  }

  /** Files the entry under the (name, ref) pair whose usual reference form is exactly its id. */
  private indexByNameAndRef(id: string, entry: LockEntry): void {
    const from = this.major === 9 ? 0 : 1;
    if (from === 1 && id.charCodeAt(0) !== 47 /* / */) return;
    let sep: number;
    if (this.major === 5) {
      sep = id.indexOf("/", from);
      if (sep !== -1 && id.charCodeAt(from) === 64 /* @ */) sep = id.indexOf("/", sep + 1);
    } else sep = id.indexOf("@", from + 1);
    if (sep === -1) return;
    const name = id.slice(from, sep);
    let refs = this.byNameAndRef.get(name);
    if (refs === undefined) this.byNameAndRef.set(name, (refs = new Map()));
    refs.set(id.slice(sep + 1), entry);
  }

  /**
   * A (non-`link:`) dependency reference -> entry id, trying each form the reference can take in this version.
   * `from` is an entry's range, or undefined with the importer dependency whose range a problem would need: no
   * closure per dependency (under tsx each closure also costs a `__name` property definition, 3% of a parse).
   */
  private resolve(name: string, ref: string, from: Range | undefined, dep: { d: PnpmImporterDep; importer: PnpmImporterRecord } | undefined): string | undefined {
    // The usual form first; the others (aliases, non-registry ids) only when it misses.
    const entry = this.byNameAndRef.get(name)?.get(ref) ?? this.entries.get(this.usualId(name, ref)) ?? this.entries.get(ref) ?? (this.major === 9 ? undefined : this.entries.get(`/${ref}`));
    if (entry !== undefined) {
      // Installed under another name than its own: an alias (`foo: npm:bar@1`).
      if (entry.name !== name && entry.alias === undefined) entry.alias = name;
      return entry.id;
    }
    this.unresolvedCount++;
    this.unresolved ??= { ref: `${name}: ${ref}`, from: from ?? depRange(dep!.d, dep!.importer) };
    return undefined;
  }

  private usualId(name: string, ref: string): string {
    return this.major === 9 ? `${name}@${ref}` : this.major === 6 ? `/${name}@${ref}` : `/${name}/${ref}`;
  }

  /** `link:` targets get one entry per folder: a workspace package when it is an importer, a link otherwise. */
  private linkEntry(name: string, folder: string, range: Range | undefined, d?: PnpmImporterDep, importer?: PnpmImporterRecord): string {
    const id = `link:${folder}`;
    if (!this.entries.has(id)) {
      const source: SourceKind = this.importerPaths.has(folder) ? "workspace" : "link";
      this.entries.set(id, { id, name, version: id, source, resolved: folder, range: range ?? depRange(d!, importer!), dependencies: [] });
    }
    return id;
  }

  private readImporters(): void {
    for (const record of this.doc.importers) {
      const path = record.path;
      const manifest = this.options.manifests?.find((m) => m.path === path);
      const importer: Importer = { path, dependencies: [] };
      if (manifest?.name !== undefined) importer.name = manifest.name;
      // The model lists dependencies, then devDependencies, then optionalDependencies, whatever the file's order.
      for (let g = 0; g < IMPORTER_GROUPS.length; g++) {
        for (const d of record.deps) {
          if (d.group !== g) continue;
          // 6.x/9.x: {specifier, version}; 5.x: the version, with the specifier under `specifiers`.
          const spec = d.mapForm ? d.spec ?? d.ref : record.specifiers.get(d.name) ?? d.ref;
          const dep: ImporterDependency = { name: d.name, spec };
          const ref = d.ref;
          const entryId = ref.startsWith("link:") ? this.linkEntry(d.name, joinPosix(path, ref.slice(5)), undefined, d, record) : this.resolve(d.name, ref, undefined, { d, importer: record });
          if (entryId !== undefined) dep.entryId = entryId;
          if (g === 1) dep.dev = true;
          if (g === 2) dep.optional = true;
          importer.dependencies.push(dep);
        }
      }
      this.result.importers.push(importer);
    }
  }
}

/** Where a dependency name is written (the importer's key, or nowhere, when its position is unknown). */
function depRange(d: PnpmImporterDep, importer: PnpmImporterRecord): Range {
  if (d.line < 0) return importer.range ?? NOWHERE;
  return { start: { line: d.line, character: d.start }, end: { line: d.line, character: d.end } };
}

const EMPTY_RECORD: PnpmEntryRecord = newEntryRecord("", NOWHERE);

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
  if (id.startsWith("file:") || id.includes("@file:")) {
    entry.source = "file";
    entry.resolved = id.slice(id.indexOf("file:"));
  }
  // Otherwise "registry". `(patch_hash=...)` entries stay "registry" too: pnpm downloads the registry
  // tarball (this integrity) and patches it on disk afterwards, so the original's signature and provenance
  // still say something true about what was downloaded.
}
