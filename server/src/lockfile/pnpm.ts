// pnpm-lock.yaml (lockfileVersion 5.x, 6.x, 9.x) -> the shared lockfile model.
// Key and reference forms: https://github.com/pnpm/spec/blob/master/lockfile/ (5.2, 6.0, 9.0).
import type { ParseOptions } from "./index";
import type { Importer, LockEntry, ParsedLockfile, ParseProblem, Range, SourceKind } from "./model";
import * as shared from "./pnpmBunShared";
import * as build from "./pnpmEntry";
import { markDevByIndexes, prepareLockText, problem } from "./pnpmBunShared";
import { Unexpected } from "./pnpmYamlSyntax";
import { IMPORTER_GROUPS, NOWHERE, newEntryRecord, readPnpmYaml, type PnpmDoc, type PnpmEntryRecord, type PnpmImporterDep, type PnpmImporterRecord } from "./pnpmYaml";

type Major = 5 | 6 | 9;

// Called for every `link:` reference (~900 in the corpus file). Under tsx (bench/parse.ts, the tests) an imported
// binding is an export-getter call at each use; bound once, it is a plain call.
const { joinPosix } = shared;
const { depRange, importerDependency, newPnpmEntry, recordRange, NO_DEPENDENCIES } = build;

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
  try {
    new PnpmReader(doc, major, options, result).read();
  } catch (error) {
    // A key repeated in a section, found while indexing the scanner's records: the library reads the whole file
    // (and reports the duplicate), exactly as when the scanner itself meets something unexpected.
    if (!(error instanceof Unexpected) || read.reader !== "scanner") throw error;
    return parsePnpmLockfileWith(original, options, "library");
  }
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
  const keys = (doc.packages ?? []).map((r) => r.key);
  const guess: Major = doc.snapshots !== undefined ? 9 : keys.some((k) => k.startsWith("/") && k.includes("@", 2)) ? 6 : keys.some((k) => k.startsWith("/")) ? 5 : 9;
  problems.push(
    problem(doc.lockfileVersionRange ?? NOWHERE, "warning", "unknown-lockfile-version", text === "" ? `pnpm-lock.yaml has no lockfileVersion; it was read as version ${guess}.` : `Unknown pnpm lockfileVersion ${text} (known: 5.x, 6.x, 9.x); it was read as version ${guess}, results may be incomplete.`),
  );
  return guess;
}

export interface PnpmKeyParts {
  name: string;
  version: string;
  suffix: string;
  /** 6.x/9.x: what follows the name's `@` (version and suffix): the reference that points at this key. */
  rest?: string;
}

/** Splits a package key / reference into name, version and the peer or patch suffix. */
export function splitPnpmKey(key: string, major: Major): PnpmKeyParts | undefined {
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
  return { name: body.slice(0, at), version: paren === -1 ? rest : rest.slice(0, paren), suffix: paren === -1 ? "" : rest.slice(paren), rest };
}

class PnpmReader {
  /**
   * Entries in file order and their dependencies as indexes: the dev/optional walk then runs on the indexes the
   * resolution already found instead of looking every id up again (2-4% of a v9 parse).
   */
  private readonly list: LockEntry[] = [];
  private readonly edges: number[][] = [];
  /**
   * Entry indexes by the two halves of their key (name, then what follows the name's separator: keyParts), so the
   * usual reference resolves without building `name@ref`: concatenating and hashing that string for every edge was
   * the reader's largest cost on the corpus. It is also the index by id (the halves give back the key), so no Map
   * keyed by whole ids is kept: hashing each long key once more was 5-8% of a parse.
   */
  private readonly byNameAndRef = new Map<string, number | Map<string, number>>();
  /** Each entry's reference half: a name with one locked version holds its index, and the reference is compared. */
  private readonly refOf: string[] = [];
  /** Whether an entry's name is the name half it is filed under (then a reference found by name is no alias). */
  private readonly ownName: boolean[] = [];
  /** Entries whose id has no (name, reference) halves, and `link:` entries, by id. */
  private readonly otherIds = new Map<string, number>();
  /** Entries from this index on come from the section being read: a key seen again among them is a duplicate. */
  private sectionStart = 0;
  private readonly importerPaths: Set<string>;
  private readonly recordOf: PnpmEntryRecord[] = [];
  /** `link:` entries by target folder: no `link:${folder}` string built and hashed for every link reference. */
  private readonly linkByFolder = new Map<string, number>();
  private readonly prodRoots: number[] = [];
  private readonly devRoots: number[] = [];
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
    const packages = this.doc.packages ?? [];
    const snapshots = this.major === 9 && this.doc.hasSnapshots ? this.doc.snapshots ?? [] : undefined;
    // Entries are the snapshots in v9 (one per peer/patch variant), packages before that. A v9 package
    // with no snapshot (a truncated file) still becomes an entry, so what is readable is reported.
    // The record whose dependencies each entry has, by entry index (link entries, added later, have none).
    const recordOf = this.recordOf;
    let unclaimed = packages.length;
    if (snapshots) {
      // pnpm writes both sections sorted by key, so a snapshot's package is the one the previous snapshot had (a
      // peer variant) or the next; only a file written otherwise pays for an index of the package keys.
      let byKey: Map<string, number> | undefined;
      let p = 0;
      for (let s = 0; s < snapshots.length; s++) {
        const snapshot = snapshots[s];
        const key = snapshot.key;
        const split = splitPnpmKey(key, 9);
        const base = split === undefined ? key : split.suffix === "" ? key : key.slice(0, key.length - split.suffix.length);
        let record: PnpmEntryRecord | undefined;
        if (p < packages.length && packages[p].key === base) record = packages[p];
        else if (p + 1 < packages.length && packages[p + 1].key === base) record = packages[++p];
        else {
          byKey ??= keyIndex(packages);
          const at = byKey.get(base);
          if (at !== undefined) record = packages[(p = at)];
        }
        // Marked on the record, not in a Set of keys: one hash lookup less per entry.
        if (record !== undefined && !record.claimed) (record.claimed = true), unclaimed--;
        // The range is the packages key when there is one: that line holds the integrity being verified,
        // and peer variants of one package then share one location instead of scattering diagnostics.
        recordOf[this.entry(key, split, record ?? EMPTY_RECORD, snapshot, recordRange(record ?? snapshot))] = snapshot;
      }
      // A package key written twice leaves one copy unclaimed: the index finds it (and sends the file to the library).
      if (unclaimed > 0 && byKey === undefined) keyIndex(packages);
      this.sectionStart = this.list.length;
    }
    if (unclaimed > 0) {
      for (const record of packages) {
        if (record.claimed) continue;
        recordOf[this.entry(record.key, splitPnpmKey(record.key, this.major), record, record, recordRange(record))] = record;
      }
    }
    // Link entries come from no section (the largest small integer: the field stays a Smi, no deoptimization).
    this.sectionStart = 0x3fffffff;
    // An entry replaced by a later one with the same id (a hand-edited file) keeps only the later one's edges.
    const count = this.list.length;
    const scratch: number[] = [];
    for (let at = 0; at < count; at++) {
      const entry = this.list[at];
      const record = recordOf[at];
      const deps = record.deps;
      // Targets gathered in one reused array, then copied into arrays of their final size: arrays grown by push were
      // a large share of what a parse allocates, and the GC work that follows lands in whatever runs next.
      let n = 0;
      for (let k = 0; k < deps.length; k += 2) {
        const name = deps[k];
        const ref = deps[k + 1];
        const to = ref.startsWith("link:") ? this.linkEntry(name, joinPosix(".", ref.slice(5)), entry.range) : this.resolve(name, ref, entry.range, undefined);
        if (to !== -1 && !firstOf(scratch, n, to)) scratch[n++] = to;
      }
      // Unless a link entry just replaced this one (its id written as a key too): the replacement keeps no edges.
      if (n === 0 || this.list[at] !== entry) continue;
      const edges = new Array<number>(n);
      const ids = new Array<string>(n);
      for (let k = 0; k < n; k++) {
        edges[k] = scratch[k];
        ids[k] = this.list[scratch[k]].id;
      }
      this.edges[at] = edges;
      entry.dependencies = ids;
    }
    this.readImporters();
    this.result.entries.push(...this.list);
    // pnpm 9 dropped `dev` from the lockfile (`optional` stays on snapshots).
    if (this.major === 9) markDevByIndexes(this.list, this.edges, this.prodRoots, this.devRoots);
    if (this.unresolved) {
      this.result.problems.push(
        problem(this.unresolved.from, "warning", "unresolved-dependency", `${this.unresolvedCount} dependency reference(s) point at packages missing from the lockfile (first: ${this.unresolved.ref}). The lockfile is incomplete or was edited by hand; re-run pnpm install.`),
      );
    }
  }

  /**
   * Adds an entry filed under its key's halves (name undefined: by whole id); returns its index. An id already read
   * in an earlier section is replaced in its place, as a Map would; one repeated within a section is a duplicate key.
   */
  private add(entry: LockEntry, name: string | undefined, ref: string): number {
    // The name's slot is read once here and updated below: one hash of the name per entry, not two.
    const refs = name === undefined ? undefined : this.byNameAndRef.get(name);
    const existing = name === undefined ? this.otherIds.get(entry.id) : refs === undefined ? undefined : typeof refs === "number" ? (this.refOf[refs] === ref ? refs : undefined) : refs.get(ref);
    if (existing !== undefined) {
      if (existing >= this.sectionStart) throw new Unexpected(0, "duplicate entry");
      this.list[existing] = entry;
      this.edges[existing] = NO_EDGES;
      this.ownName[existing] = entry.name === name;
      return existing;
    }
    const at = this.list.push(entry) - 1;
    this.edges.push(NO_EDGES);
    this.ownName.push(entry.name === name);
    if (name === undefined) this.otherIds.set(entry.id, at);
    else {
      this.refOf[at] = ref;
      if (refs === undefined) this.byNameAndRef.set(name, at);
      else if (typeof refs !== "number") refs.set(ref, at);
      else this.byNameAndRef.set(name, new Map<string, number>().set(this.refOf[refs], refs).set(ref, at));
    }
    return at;
  }

  private entry(id: string, split: PnpmKeyParts | undefined, record: PnpmEntryRecord, flags: PnpmEntryRecord, range: Range): number {
    const name = record.name ?? split?.name ?? id;
    const version = record.version ?? split?.version ?? "";
    const entry = newPnpmEntry(id, name, version, record.resolution, range, flags.dev, flags.optional);
    if (entry.source === "registry" && entry.integrity === undefined) {
      this.result.problems.push(problem(range, "warning", "missing-integrity", `${name}@${version} has no resolution integrity in the lockfile, so its registry signature cannot be checked. Re-run pnpm install.`));
    }
    // The key's own parts when they are its halves (name at the start, or after the 6.x leading slash): no slices.
    if (split?.rest !== undefined && (id.charCodeAt(0) === 47) === (this.major === 6)) return this.add(entry, split.name, split.rest);
    const halves = this.keyParts(id);
    return halves === undefined ? this.add(entry, undefined, "") : this.add(entry, halves[0], halves[1]);
  }

  /** A key's name and what follows the name's separator: the (name, reference) pair whose usual id it is. */
  private keyParts(id: string): [string, string] | undefined {
    const from = this.major === 9 ? 0 : 1;
    if (from === 1 && id.charCodeAt(0) !== 47 /* / */) return undefined;
    let sep: number;
    if (this.major === 5) {
      sep = id.indexOf("/", from);
      if (sep !== -1 && id.charCodeAt(from) === 64 /* @ */) sep = id.indexOf("/", sep + 1);
    } else sep = id.indexOf("@", from + 1);
    if (sep === -1) return undefined;
    return [id.slice(from, sep), id.slice(sep + 1)];
  }

  private lookup(name: string, ref: string): number | undefined {
    const refs = this.byNameAndRef.get(name);
    return refs === undefined ? undefined : typeof refs === "number" ? (this.refOf[refs] === ref ? refs : undefined) : refs.get(ref);
  }

  /** The entry with this id (keyParts gives every filed id back its halves). */
  private findId(id: string): number | undefined {
    const halves = this.keyParts(id);
    return (halves === undefined ? undefined : this.lookup(halves[0], halves[1])) ?? this.otherIds.get(id);
  }

  /**
   * A (non-`link:`) dependency reference -> entry index (-1 when missing), trying each form the reference can take
   * in this version. `from` is an entry's range, or undefined with the importer dependency whose range a problem
   * would need: no closure per dependency (under tsx each closure also costs a `__name` definition, 3% of a parse).
   */
  private resolve(name: string, ref: string, from: Range | undefined, d?: PnpmImporterDep, importer?: PnpmImporterRecord): number {
    // The usual form first; the others (aliases, non-registry ids) only when it misses.
    const usual = this.lookup(name, ref);
    if (usual !== undefined && this.ownName[usual]) return usual;
    const at = usual ?? this.findId(this.usualId(name, ref)) ?? this.findId(ref) ?? (this.major === 9 ? undefined : this.findId(`/${ref}`));
    if (at !== undefined) {
      const entry = this.list[at];
      // Installed under another name than its own: an alias (`foo: npm:bar@1`).
      if (entry.alias === undefined && entry.name !== name) entry.alias = name;
      return at;
    }
    this.unresolvedCount++;
    this.unresolved ??= { ref: `${name}: ${ref}`, from: from ?? depRange(d!, importer!) };
    return -1;
  }

  private usualId(name: string, ref: string): string {
    return this.major === 9 ? `${name}@${ref}` : this.major === 6 ? `/${name}@${ref}` : `/${name}/${ref}`;
  }

  /** `link:` targets get one entry per folder: a workspace package when it is an importer, a link otherwise. */
  private linkEntry(name: string, folder: string, range: Range | undefined, d?: PnpmImporterDep, importer?: PnpmImporterRecord): number {
    const known = this.linkByFolder.get(folder);
    if (known !== undefined) return known;
    const id = `link:${folder}`;
    let at = this.findId(id);
    if (at === undefined) {
      const source: SourceKind = this.importerPaths.has(folder) ? "workspace" : "link";
      at = this.add({ id, name, version: id, source, resolved: folder, range: range ?? depRange(d!, importer!), dependencies: NO_DEPENDENCIES }, undefined, "");
    }
    this.linkByFolder.set(folder, at);
    return at;
  }

  private readImporters(): void {
    // `link:../x` references by the folder above their importer: siblings link to siblings, so the same reference
    // recurs from every importer in a folder (~860 links, a few hundred targets in the pnpm corpus file). Found here,
    // a reference skips joinPosix and the hash of a freshly joined folder (7% of a 6.x parse). Only `../` references:
    // joinPosix(p, "../x") depends on p's parent alone.
    const linksAbove = new Map<string, Map<string, number>>();
    for (const record of this.doc.importers) {
      const path = record.path;
      let links: Map<string, number> | undefined;
      const manifest = this.options.manifests?.find((m) => m.path === path);
      const importer: Importer = { path, dependencies: [] };
      if (manifest?.name !== undefined) importer.name = manifest.name;
      // The model lists dependencies, then devDependencies, then optionalDependencies, whatever the file's order.
      for (let g = 0; g < IMPORTER_GROUPS.length; g++) {
        for (const d of record.deps) {
          if (d.group !== g) continue;
          // 6.x/9.x: {specifier, version}; 5.x: the version, with the specifier under `specifiers`.
          const spec = d.mapForm ? d.spec ?? d.ref : record.specifiers.get(d.name) ?? d.ref;
          const ref = d.ref;
          let to: number;
          if (!ref.startsWith("link:")) to = this.resolve(d.name, ref, undefined, d, record);
          else if (!ref.startsWith("../", 5)) to = this.linkEntry(d.name, joinPosix(path, ref.slice(5)), undefined, d, record);
          else {
            links ??= linksIn(linksAbove, path);
            const known = links.get(ref);
            if (known !== undefined) to = known;
            else links.set(ref, (to = this.linkEntry(d.name, joinPosix(path, ref.slice(5)), undefined, d, record)));
          }
          (g === 1 ? this.devRoots : this.prodRoots).push(to);
          importer.dependencies.push(importerDependency(d.name, spec, to === -1 ? undefined : this.list[to].id, g));
        }
      }
      this.result.importers.push(importer);
    }
  }
}

/** The memo of `link:../` references for importers in the folder above `path` ("" for the root and top folders). */
function linksIn(byParent: Map<string, Map<string, number>>, path: string): Map<string, number> {
  const parent = path.slice(0, Math.max(0, path.lastIndexOf("/")));
  let links = byParent.get(parent);
  if (links === undefined) byParent.set(parent, (links = new Map<string, number>()));
  return links;
}

/** The edges of every entry without dependencies (only read: an entry's edges are replaced, never pushed to). */
const NO_EDGES: number[] = [];

/** Whether `to` is among the first n values (an entry lists a target once). */
function firstOf(values: number[], n: number, to: number): boolean {
  for (let k = 0; k < n; k++) if (values[k] === to) return true;
  return false;
}

const EMPTY_RECORD: PnpmEntryRecord = newEntryRecord("", 0, 0, 0, 0);

/** Package keys -> index; a key written twice is a duplicate YAML key, which the library reads and reports. */
function keyIndex(records: PnpmEntryRecord[]): Map<string, number> {
  const byKey = new Map<string, number>();
  for (let i = 0; i < records.length; i++) {
    if (byKey.has(records[i].key)) throw new Unexpected(0, "duplicate entry");
    byKey.set(records[i].key, i);
  }
  return byKey;
}
