// Reads pnpm-lock.yaml into plain data plus the offsets of the keys diagnostics are placed on.
//
// Why hand-written: pnpm writes a small, regular subset of YAML (block maps, block sequences of scalars,
// one-line flow maps/sequences, plain and quoted scalars, no anchors, tags or block scalars), and lockfiles
// are re-read on every keystroke in the editor. A line-based scanner driven by indentation reads that subset
// several times faster than a full YAML parser. Anything outside the subset makes the scanner stop, and the
// `yaml` library reads the file instead, so correctness never depends on the subset holding.
// Measured (issue #2 "Speed", bench/parse.ts, 2-core shared machine, medians): the pnpm corpus files parse in
// 0.48x (v6) and 0.52x (v9) of js-yaml `load`; the target is 0.25x. Profiles (--cpu-prof) put most of the rest in
// building the generic Map tree and in scavenges copying it (a 128 MB semi-space halves a parse), so the next
// step is scanning straight into entry records.
import { isMap, isScalar, parseAllDocuments, type Document, type YAMLMap } from "yaml";
import type { LineIndex } from "./lineIndex";
import type { ParseProblem, Range } from "./model";
import { problem } from "./pnpmBunShared";
import { FlowReader, plainStart, quoted, resolvePlain, Unexpected } from "./pnpmYamlSyntax";

/** Maps, not objects: Map keys need no string internalization, which made object-building the scanner's hot spot. */
export type YamlMap = Map<string, unknown>;

export interface YamlDocument {
  value: unknown;
  /**
   * Key ranges, grouped by the path of the map holding them (joined with "\n", "" for the root): top-level and
   * second-level keys, and importers' dependency names.
   */
  spans: Map<string, Map<string, Range>>;
}

export interface YamlRead {
  docs: YamlDocument[];
  problems: ParseProblem[];
  /** Which reader produced the result (the scanner falls back to the library on unexpected input). */
  reader: "scanner" | "library";
}

/** Whether the key at this path gets its span recorded (depth = number of keys above it). */
function wantsSpan(depth: number, top: string): boolean {
  return depth <= 1 || (depth === 3 && top === "importers");
}

export function readPnpmYaml(text: string, start: number, index: () => LineIndex, reader: "scanner" | "library"): YamlRead {
  if (reader === "scanner") {
    try {
      const scanned = scanYaml(text, start, index);
      return { ...scanned, reader: "scanner" };
    } catch (error) {
      // Expected: the scanner only knows pnpm's subset. The library reads (and reports on) the rest.
      if (!(error instanceof Unexpected)) throw error;
    }
  }
  return { ...readWithLibrary(text, index), reader: "library" };
}

interface Frame {
  indent: number;
  map?: YamlMap;
  seq?: unknown[];
  /** Number of keys from the document root to this container. */
  depth: number;
  /** The top-level key this container is under ("" for the root). */
  section: string;
  /** The keys from the root joined with "\n", only where spans are wanted (else ""): no per-map path arrays. */
  pathKey: string;
  /** Ranges of this map's keys, when they are wanted. */
  spans?: Map<string, Range>;
}

const TOP_KEYS = new Set(["lockfileVersion", "importers", "packages", "snapshots", "dependencies", "devDependencies", "optionalDependencies", "specifiers"]);
const ENTRY_FIELDS = new Set(["resolution", "dependencies", "optionalDependencies", "dev", "optional", "name", "version"]);
const IMPORTER_FIELDS = new Set(["dependencies", "devDependencies", "optionalDependencies", "specifiers"]);

/**
 * Keys the lockfile model never reads (settings, engines, peer metadata, transitivePeerDependencies...). The
 * scanner skips their lines by indentation without reading them: most of its speed comes from here. The
 * library reader keeps them; the model built from either is the same.
 */
function ignored(depth: number, section: string, key: string): boolean {
  if (depth === 0) return !TOP_KEYS.has(key);
  if (depth !== 2) return false;
  if (section === "packages" || section === "snapshots") return !ENTRY_FIELDS.has(key);
  if (section === "importers") return !IMPORTER_FIELDS.has(key);
  return false;
}

function scanYaml(text: string, start: number, index: () => LineIndex): { docs: YamlDocument[]; problems: ParseProblem[] } {
  const docs: YamlDocument[] = [];
  const problems: ParseProblem[] = [];
  let doc: YamlDocument | undefined;
  let stack: Frame[] = [];
  // A key whose value is on the following, more indented lines.
  let pending: { frame: Frame; key: string; indent: number } | undefined;
  const length = text.length;
  let pos = start;
  // Lines are counted here, so ranges need no offset-to-line search.
  let line = -1;
  // Lines indented deeper than this belong to an ignored key and are skipped (-1: none).
  let skipDeeperThan = -1;
  while (pos < length) {
    line++;
    let eol = text.indexOf("\n", pos);
    if (eol === -1) eol = length;
    let end = eol;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--;
    const lineStart = pos;
    pos = eol + 1;
    let i = lineStart;
    while (i < end && text.charCodeAt(i) === 32) i++;
    if (i === end) continue;
    const first = text.charCodeAt(i);
    if (first === 35 /* # */) continue;
    if (first === 9) throw new Unexpected(i, "tab indentation");
    const indent = i - lineStart;
    if (indent === 0 && first === 45 && text.startsWith("---", i) && (end === i + 3 || text.charCodeAt(i + 3) === 32)) {
      if (pending) pending.frame.map!.set(pending.key, null);
      pending = undefined;
      doc = undefined;
      stack = [];
      if (end > i + 3 && text.slice(i + 3, end).trim() !== "") throw new Unexpected(i, "content after ---");
      continue;
    }
    if (indent === 0 && text.startsWith("...", i)) throw new Unexpected(i, "document end marker");
    const isDash = first === 45 && (i + 1 === end || text.charCodeAt(i + 1) === 32);
    if (skipDeeperThan >= 0) {
      if (indent > skipDeeperThan || (indent === skipDeeperThan && isDash)) continue;
      skipDeeperThan = -1;
    }
    if (doc === undefined) {
      if (isDash || indent !== 0) throw new Unexpected(i, "document root is not a map");
      const root: Frame = { indent: 0, map: new Map(), depth: 0, section: "", pathKey: "" };
      doc = { value: root.map, spans: new Map() };
      docs.push(doc);
      stack = [root];
    }
    if (pending !== undefined) {
      const parent = pending.frame;
      if (indent > pending.indent || (indent === pending.indent && isDash)) {
        const depth = parent.depth + 1;
        const section = depth === 1 ? pending.key : parent.section;
        // Only maps whose keys get spans need their path as a string (see wantsSpan).
        const pathKey = depth === 1 ? pending.key : depth <= 3 && section === "importers" ? `${parent.pathKey}\n${pending.key}` : "";
        const child: Frame = { indent, depth, section, pathKey };
        if (isDash) child.seq = [];
        else child.map = new Map();
        parent.map!.set(pending.key, child.seq ?? child.map);
        stack.push(child);
      } else parent.map!.set(pending.key, null);
      pending = undefined;
    }
    let top = stack[stack.length - 1];
    while (top.indent > indent || (top.indent === indent && top.seq !== undefined && !isDash)) {
      stack.pop();
      if (stack.length === 0) throw new Unexpected(i, "indentation below the document root");
      top = stack[stack.length - 1];
    }
    if (top.indent !== indent) throw new Unexpected(i, "inconsistent indentation");
    if (isDash) {
      if (top.seq === undefined) throw new Unexpected(i, "sequence item in a map");
      let j = i + 1;
      while (j < end && text.charCodeAt(j) === 32) j++;
      if (j === end) throw new Unexpected(i, "empty or nested sequence item");
      const item = inlineValue(text, j, end);
      if (lastKeyLike) throw new Unexpected(j, "map inside a sequence");
      top.seq.push(item);
      continue;
    }
    if (top.map === undefined) throw new Unexpected(i, "map key in a sequence");
    // The key: quoted, or plain up to ": " / a final ":".
    let key: string;
    let keyEnd: number;
    let j: number;
    if (first === 39 || first === 34) {
      const q = quoted(text, i, end);
      key = q.value;
      keyEnd = q.end;
      j = keyEnd;
      if (text.charCodeAt(j) !== 58) throw new Unexpected(j, "quoted key without ':'");
    } else {
      if (!plainStart(first)) throw new Unexpected(i, "unsupported key syntax");
      j = text.indexOf(":", i);
      while (j !== -1 && j < end && j + 1 < end && text.charCodeAt(j + 1) !== 32) j = text.indexOf(":", j + 1);
      if (j === -1 || j >= end) throw new Unexpected(i, "line without a key");
      keyEnd = j;
      while (keyEnd > i && text.charCodeAt(keyEnd - 1) === 32) keyEnd--;
      key = text.slice(i, keyEnd);
    }
    j++;
    while (j < end && text.charCodeAt(j) === 32) j++;
    const map = top.map;
    const depth = top.depth;
    if (ignored(depth, top.section, key)) {
      if (j === end || text.charCodeAt(j) === 35) skipDeeperThan = indent;
      continue;
    }
    if (map.has(key)) {
      problems.push(
        problem(index().range(i, keyEnd), "error", "duplicate-key", `Duplicate key "${key}": only the last one counts. The lockfile was probably merged by hand; re-run pnpm install.`),
      );
    }
    if (wantsSpan(depth, depth === 0 ? key : top.section)) {
      const range = { start: { line, character: indent }, end: { line, character: keyEnd - lineStart } };
      let spans = top.spans;
      if (spans === undefined) doc.spans.set(top.pathKey, (spans = top.spans = new Map()));
      spans.set(key, range);
    }
    if (j === end || text.charCodeAt(j) === 35) {
      map.set(key, null);
      pending = { frame: top, key, indent };
      continue;
    }
    map.set(key, inlineValue(text, j, end));
  }
  if (pending) pending.frame.map!.set(pending.key, null);
  return { docs, problems };
}

/** Whether the last inlineValue looked like `key: value` (a map in a sequence). A variable, not a field of a result object: one object per line was measurable GC. */
let lastKeyLike = false;

/** A value that fills the rest of the line: scalar, quoted scalar or one-line flow collection. */
function inlineValue(text: string, i: number, end: number): unknown {
  lastKeyLike = false;
  const c = text.charCodeAt(i);
  if (c === 123 || c === 91) {
    const flow = new FlowReader(text, i, end);
    const value = flow.value();
    flow.expectEnd();
    return value;
  }
  if (c === 39 || c === 34) {
    const q = quoted(text, i, end);
    let k = q.end;
    while (k < end && text.charCodeAt(k) === 32) k++;
    if (k < end && text.charCodeAt(k) === 58) lastKeyLike = true;
    else if (k < end && text.charCodeAt(k) !== 35) throw new Unexpected(k, "text after a quoted scalar");
    return q.value;
  }
  if (!plainStart(c) && c !== 63) throw new Unexpected(i, "unsupported value syntax");
  let raw = text.slice(i, end);
  const comment = raw.indexOf(" #");
  if (comment !== -1) raw = raw.slice(0, comment);
  if (raw.charCodeAt(raw.length - 1) === 32) raw = raw.trimEnd();
  lastKeyLike = raw.indexOf(": ") !== -1 || raw.charCodeAt(raw.length - 1) === 58;
  return resolvePlain(raw);
}

/** The reference reader: the `yaml` library, which also explains what is wrong with broken files. */
function readWithLibrary(text: string, lazyIndex: () => LineIndex): { docs: YamlDocument[]; problems: ParseProblem[] } {
  // YAML allows a leading BOM, so the text goes in unchanged and every offset stays the original's.
  const source = text;
  const index = lazyIndex();
  const problems: ParseProblem[] = [];
  const docs: YamlDocument[] = [];
  for (const document of parseAllDocuments(source, { uniqueKeys: true, prettyErrors: false })) {
    for (const error of document.errors) {
      const code = error.code === "DUPLICATE_KEY" ? "duplicate-key" : "parse-error";
      const [from, to] = error.pos;
      problems.push(problem(index.range(from, Math.max(from, to)), "error", code, `pnpm-lock.yaml is not valid YAML here: ${error.message.split("\n")[0]}`));
    }
    docs.push({ value: documentValue(document, problems, index), spans: librarySpans(document, index) });
  }
  return { docs, problems };
}

function documentValue(document: Document, problems: ParseProblem[], index: LineIndex): unknown {
  try {
    return stringKeys(document.toJS({ maxAliasCount: 100, mapAsMap: true }));
  } catch (error) {
    const at = document.range?.[0] ?? 0;
    problems.push(problem(index.range(at, at), "error", "parse-error", `This YAML document could not be read: ${String(error)}`));
    return null;
  }
}

/** The scanner's shape: Maps with string keys (YAML allows other scalars as keys; the scanner reads them as text). */
function stringKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stringKeys);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [String(k), stringKeys(v)]));
  return value;
}

function librarySpans(document: Document, index: LineIndex): Map<string, Map<string, Range>> {
  const spans = new Map<string, Map<string, Range>>();
  const walk = (map: YAMLMap, path: string[]): void => {
    for (const pair of map.items) {
      if (!isScalar(pair.key) || pair.key.range == null) continue;
      const key = String(pair.key.value);
      const depth = path.length;
      if (wantsSpan(depth, depth === 0 ? key : path[0])) {
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
