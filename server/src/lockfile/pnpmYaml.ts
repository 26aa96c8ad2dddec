// Reads pnpm-lock.yaml into compact per-entry records plus the positions diagnostics are placed on.
//
// Two readers produce the same records: the hand scanner in pnpmScan.ts (pnpm's YAML subset, straight into
// records), and the `yaml` library (anything else, and the reference the scanner is tested against), whose
// general tree is reduced to the same records here.
import { isMap, isScalar, parseAllDocuments, type Document, type YAMLMap } from "yaml";
import type { LineIndex } from "./lineIndex";
import type { ParseProblem, Range } from "./model";
import { problem } from "./pnpmBunShared";
import { newEntryRecord, scanPnpmYaml } from "./pnpmScan";

export { newEntryRecord };
import { str, Unexpected } from "./pnpmYamlSyntax";

export { str };

/** The fields of a package's `resolution` the model reads. */
export interface PnpmResolution {
  integrity?: string;
  tarball?: string;
  repo?: string;
  commit?: string;
  directory?: string;
  /** As written (`git`, `directory`...); only compared with strings. */
  type?: unknown;
}

/** A `packages` or `snapshots` entry: only what the model reads. */
export interface PnpmEntryRecord {
  key: string;
  /**
   * Where the key is written. Numbers, not a Range: a v9 snapshot's range is not used when its package has one
   * (nearly always), and the Range objects of every record were ~5,000 allocations a parse of the corpus file.
   */
  line: number;
  start: number;
  endLine: number;
  end: number;
  name: string | undefined;
  version: string | undefined;
  resolution: PnpmResolution;
  dev: boolean;
  optional: boolean;
  /** `dependencies` then `optionalDependencies`, flat: name, reference, name, reference... */
  deps: string[];
  /** Set by the reader when a v9 snapshot stands for this package (it then becomes no entry of its own). */
  claimed: boolean;
}

/** Dependency groups of an importer, in the order the model lists them. */
export const IMPORTER_GROUPS = ["dependencies", "devDependencies", "optionalDependencies"] as const;

export interface PnpmImporterDep {
  /** Index into IMPORTER_GROUPS. */
  group: number;
  name: string;
  /** The resolved reference (`version`, or the value itself in 5.x). */
  ref: string;
  /** The `specifier` of the 6.x/9.x map form; undefined in the 5.x form (see `specifiers`). */
  spec: string | undefined;
  mapForm: boolean;
  /** Position of the name, built into a Range only when a diagnostic or link entry needs it. */
  line: number;
  start: number;
  end: number;
}

export interface PnpmImporterRecord {
  path: string;
  range: Range | undefined;
  deps: PnpmImporterDep[];
  /** 5.x: declared specifiers by name. */
  specifiers: Map<string, string | undefined>;
}

export interface PnpmDoc {
  lockfileVersion: unknown;
  lockfileVersionRange: Range | undefined;
  /** Whether the document has the key at all (a newer pnpm's first document has neither importers nor packages). */
  hasImporters: boolean;
  hasPackages: boolean;
  hasSnapshots: boolean;
  /** Importers when `importers` is a map; otherwise the root's own dependency groups as importer ".". */
  importersIsMap: boolean;
  importers: PnpmImporterRecord[];
  /**
   * In file order; undefined when the key is absent or not a map. Arrays, not Maps by key: hashing every long key
   * was ~8% of a scan. Keys repeated within a section (a duplicate YAML key) are found by the reader, which then
   * hands the file to the library as the scanner does for anything else unexpected.
   */
  packages: PnpmEntryRecord[] | undefined;
  snapshots: PnpmEntryRecord[] | undefined;
}

export interface PnpmRead {
  docs: PnpmDoc[];
  problems: ParseProblem[];
  /** Which reader produced the result (the scanner falls back to the library on unexpected input). */
  reader: "scanner" | "library";
}

export const NOWHERE: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };


export function newDoc(): PnpmDoc {
  return {
    lockfileVersion: undefined,
    lockfileVersionRange: undefined,
    hasImporters: false,
    hasPackages: false,
    hasSnapshots: false,
    importersIsMap: false,
    importers: [],
    packages: undefined,
    snapshots: undefined,
  };
}

export function readPnpmYaml(text: string, start: number, index: () => LineIndex, reader: "scanner" | "library"): PnpmRead {
  if (reader === "scanner") {
    try {
      return { docs: scanPnpmYaml(text, start), problems: [], reader: "scanner" };
    } catch (error) {
      // Expected: the scanner only knows pnpm's subset. The library reads (and reports on) the rest.
      if (!(error instanceof Unexpected)) throw error;
    }
  }
  return { ...readWithLibrary(text, index), reader: "library" };
}

/** The reference reader: the `yaml` library, which also explains what is wrong with broken files. */
function readWithLibrary(text: string, lazyIndex: () => LineIndex): { docs: PnpmDoc[]; problems: ParseProblem[] } {
  // YAML allows a leading BOM, so the text goes in unchanged and every offset stays the original's.
  const index = lazyIndex();
  const problems: ParseProblem[] = [];
  const docs: PnpmDoc[] = [];
  for (const document of parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false })) {
    for (const error of document.errors) {
      const code = error.code === "DUPLICATE_KEY" ? "duplicate-key" : "parse-error";
      // The library may put an error's end one past the text (an unclosed quote at the end of the file).
      const from = Math.min(error.pos[0], text.length);
      const to = Math.min(Math.max(from, error.pos[1]), text.length);
      problems.push(problem(index.range(from, to), "error", code, `pnpm-lock.yaml is not valid YAML here: ${error.message.split("\n")[0]}`));
    }
    const value = documentValue(document, problems, index);
    if (value instanceof Map) docs.push(docFromTree(value as Tree, librarySpans(document, index)));
  }
  return { docs, problems };
}

type Tree = Map<string, unknown>;

function documentValue(document: Document, problems: ParseProblem[], index: LineIndex): unknown {
  try {
    return stringKeys(document.toJS({ maxAliasCount: 100, mapAsMap: true }));
  } catch (error) {
    const at = document.range?.[0] ?? 0;
    problems.push(problem(index.range(at, at), "error", "parse-error", `This YAML document could not be read: ${String(error)}`));
    return null;
  }
}

/** Maps with string keys (YAML allows other scalars as keys; the scanner reads them as text). */
function stringKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stringKeys);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [String(k), stringKeys(v)]));
  return value;
}

/** Key ranges by the path of the map holding them ("\n"-joined, "" for the root): what the records keep. */
function librarySpans(document: Document, index: LineIndex): Map<string, Map<string, Range>> {
  const spans = new Map<string, Map<string, Range>>();
  const walk = (map: YAMLMap, path: string[]): void => {
    for (const pair of map.items) {
      if (!isScalar(pair.key) || pair.key.range == null) continue;
      const key = String(pair.key.value);
      const depth = path.length;
      if (depth <= 1 || (depth === 3 && path[0] === "importers")) {
        const group = path.join("\n");
        let map = spans.get(group);
        if (map === undefined) spans.set(group, (map = new Map()));
        map.set(key, index.range(pair.key.range[0], pair.key.range[1]));
      }
      if (isMap(pair.value) && (depth === 0 || (depth < 3 && path[0] === "importers"))) walk(pair.value, [...path, key]);
    }
  };
  if (isMap(document.contents)) walk(document.contents, []);
  return spans;
}

/** One field of a `resolution` map, as the scanner reads it (block form, or a flow map off the usual line). */
export function setResolution(entry: PnpmEntryRecord, key: string, value: unknown): void {
  if (key === "type") entry.resolution.type = value;
  else if (key === "integrity" || key === "tarball" || key === "repo" || key === "commit" || key === "directory") {
    const v = str(value);
    if (v !== undefined) entry.resolution[key] = v;
  }
}

const EMPTY: Tree = new Map();

function mapAt(map: Tree, key: string): Tree {
  const value = map.get(key);
  return value instanceof Map ? (value as Tree) : EMPTY;
}

/** The library's general tree reduced to the records the scanner writes directly. */
function docFromTree(root: Tree, spans: Map<string, Map<string, Range>>): PnpmDoc {
  const doc = newDoc();
  doc.lockfileVersion = root.get("lockfileVersion");
  doc.lockfileVersionRange = spans.get("")?.get("lockfileVersion");
  doc.hasImporters = root.has("importers");
  doc.hasPackages = root.has("packages");
  doc.hasSnapshots = root.has("snapshots");
  const entries = (section: string): PnpmEntryRecord[] | undefined => {
    const value = root.get(section);
    if (!(value instanceof Map)) return undefined;
    const sectionSpans = spans.get(section);
    const out: PnpmEntryRecord[] = [];
    for (const [key, v] of value as Tree) out.push(entryFromTree(key, sectionSpans?.get(key) ?? NOWHERE, v instanceof Map ? (v as Tree) : EMPTY));
    return out;
  };
  doc.packages = entries("packages");
  doc.snapshots = entries("snapshots");
  const importers = root.get("importers");
  doc.importersIsMap = importers instanceof Map;
  if (importers instanceof Map) {
    for (const [path, value] of importers as Tree) {
      const record = value instanceof Map ? (value as Tree) : EMPTY;
      doc.importers.push(importerFromTree(path, spans.get("importers")?.get(path), record, (group) => spans.get(`importers\n${path}\n${group}`)));
    }
  } else doc.importers.push(importerFromTree(".", undefined, root, (group) => spans.get(group)));
  return doc;
}

function entryFromTree(key: string, range: Range, value: Tree): PnpmEntryRecord {
  const record = newEntryRecord(key, range.start.line, range.start.character, range.end.line, range.end.character);
  record.name = str(value.get("name"));
  record.version = str(value.get("version"));
  const resolution = mapAt(value, "resolution");
  for (const field of ["integrity", "tarball", "repo", "commit", "directory"] as const) {
    const v = str(resolution.get(field));
    if (v !== undefined) record.resolution[field] = v;
  }
  if (resolution.has("type")) record.resolution.type = resolution.get("type");
  record.dev = value.get("dev") === true;
  record.optional = value.get("optional") === true;
  for (const group of ["dependencies", "optionalDependencies"]) {
    const deps = value.get(group);
    if (deps instanceof Map) for (const [name, ref] of deps as Tree) record.deps.push(name, str(ref) ?? "");
  }
  return record;
}

function importerFromTree(path: string, range: Range | undefined, value: Tree, groupSpans: (group: string) => Map<string, Range> | undefined): PnpmImporterRecord {
  const importer: PnpmImporterRecord = { path, range, deps: [], specifiers: new Map() };
  for (const [name, spec] of mapAt(value, "specifiers")) importer.specifiers.set(name, str(spec));
  IMPORTER_GROUPS.forEach((group, g) => {
    const deps = value.get(group);
    if (!(deps instanceof Map)) return;
    const keySpans = groupSpans(group);
    for (const [name, v] of deps as Tree) {
      const mapForm = v instanceof Map;
      const ref = mapForm ? str((v as Tree).get("version")) ?? "" : str(v) ?? "";
      const spec = mapForm ? str((v as Tree).get("specifier")) : undefined;
      const at = keySpans?.get(name);
      importer.deps.push({ group: g, name, ref, spec, mapForm, line: at?.start.line ?? -1, start: at?.start.character ?? 0, end: at?.end.character ?? 0 });
    }
  });
  return importer;
}
