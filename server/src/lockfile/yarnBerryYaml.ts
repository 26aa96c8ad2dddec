// The YAML subset Yarn Berry writes (its `syml` stringifier): block mappings only, two-space indentation,
// plain or double-quoted scalars, comments at the top. Hand-scanned because yarn.lock files run to 20k lines,
// are re-parsed on every edit, and a general YAML parser is several times slower on them. Anything outside
// the subset (flow collections, anchors, multi-line scalars, odd indentation, a cut-off quote) makes the
// scanner give up, and the `yaml` library parses the whole file instead, with its own error positions.
// Measured (issue #2 "Speed", bench/parse.ts, medians): the babel corpus file parses in 0.47x of js-yaml `load`
// (was 0.61x); the target is 0.25x. The rest is mostly Map building and the descriptor maps in yarnBerry.ts.
import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from "yaml";
import type { ParseProblem } from "./model";
import type { LineIndex } from "./lineIndex";

// Maps, not plain objects: inserting thousands of arbitrary package names into objects sends them into
// dictionary mode, which measured about three times slower than Map on the corpus.
export type BerryMap = Map<string, BerryValue>;
export type BerryValue = string | BerryMap;

/** A top-level key and its value, with the key's position (quotes included). */
export interface BerryRecord {
  key: string;
  line: number;
  keyStart: number;
  keyEnd: number;
  value: BerryValue;
}

/** Why the scanner handed over to the library: a line and a reason, for tests and logs. */
export interface Unsupported {
  unsupported: true;
  line: number;
  reason: string;
}

const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COLON = 58;
// Characters that start YAML syntax the subset does not use (flow collections, anchors, tags, block scalars...).
const SPECIAL_START = new Set("[]{}&*!|>%@`'?-,".split("").map((c) => c.charCodeAt(0)));

/**
 * The entry fields the lockfile model reads. The scanner skips every other field (languageName, linkType,
 * peerDependencies, bin, conditions...: about a third of the lines of the babel corpus file) by indentation, without
 * slicing it; the library reader drops the same fields, so both readers keep returning the same records.
 */
export const BERRY_FIELDS: ReadonlySet<string> = new Set(["version", "resolution", "checksum", "dependencies", "dependenciesMeta"]);

function duplicate(line: number, start: number, end: number, key: string, nested: boolean): ParseProblem {
  return {
    range: { start: { line, character: start }, end: { line, character: end } },
    severity: "warning",
    code: "duplicate-key",
    message: nested
      ? `\`${key}\` is written twice in this entry; the first value is used.`
      : `\`${key}\` is written twice in the lockfile; the first entry is used.`,
  };
}

/** Scans Berry's YAML subset; `text` must already have conflict regions masked. */
export function scanBerryYaml(text: string, problems: ParseProblem[]): BerryRecord[] | Unsupported {
  const records: BerryRecord[] = [];
  const seenTop = new Set<string>();
  // Open mappings, innermost last; the top level (indent 0) is `records`.
  const stack: { indent: number; map: BerryMap }[] = [];
  // A `key:` with nothing after it: a mapping if the next line is deeper, an empty string otherwise.
  let pending: { map: BerryMap | undefined; record: BerryRecord | undefined; key: string; indent: number } | undefined;
  let lineNo = -1;
  // Lines indented deeper than this belong to a skipped field (-1: none).
  let skipDeeperThan = -1;
  let nextComment = -1;
  const giveUp = (reason: string): Unsupported => ({ unsupported: true, line: lineNo, reason });
  // A byte-order mark is skipped; positions on line 0 still count it, as the editor's text does.
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let start = bom; start <= text.length; ) {
    lineNo++;
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    const lineStart = start;
    start = next;
    let i = lineStart;
    while (i < end && text.charCodeAt(i) === SPACE) i++;
    if (i === end || text.charCodeAt(i) === HASH) continue;
    const indent = i - lineStart;
    if (text.charCodeAt(i) === 9) return giveUp("tab in indentation");
    if (skipDeeperThan >= 0) {
      if (indent > skipDeeperThan) continue;
      skipDeeperThan = -1;
    }
    if (pending !== undefined) {
      const parentIndent = pending.indent;
      const value: BerryValue = indent > parentIndent ? new Map() : "";
      if (pending.record !== undefined) pending.record.value = value;
      else pending.map?.set(pending.key, value);
      if (typeof value !== "string") stack.push({ indent, map: value });
      pending = undefined;
    }
    while (stack.length > 0 && stack[stack.length - 1].indent > indent) stack.pop();
    if (indent > 0 && (stack.length === 0 || stack[stack.length - 1].indent !== indent)) {
      return giveUp("indentation that does not match an open mapping");
    }
    // Searches run on the whole text, bounded by `end`, instead of on a slice of the line: one string less per
    // line. Each search stops at the line's end or soon after it (the next quote or colon is on the next line).
    const keyStart = lineStart + indent;
    let key: string;
    let keyEnd: number;
    const c = text.charCodeAt(keyStart);
    if (c === QUOTE) {
      const close = text.indexOf('"', keyStart + 1);
      if (close === -1 || close >= end) return giveUp("quoted key not closed on its line");
      keyEnd = close + 1;
      key = text.slice(keyStart + 1, close);
      if (key.includes("\\")) return giveUp("escape in a quoted key");
    } else {
      if (SPECIAL_START.has(c) || (indent === 0 && (text.startsWith("---", lineStart) || text.startsWith("...", lineStart)))) {
        return giveUp("YAML syntax outside Yarn's subset");
      }
      let j = text.indexOf(":", keyStart);
      while (j !== -1 && j + 1 < end && text.charCodeAt(j + 1) !== SPACE) j = text.indexOf(":", j + 1);
      if (j === -1 || j >= end) return giveUp("a line without `key:`");
      keyEnd = j;
      while (keyEnd > keyStart && text.charCodeAt(keyEnd - 1) === SPACE) keyEnd--;
      key = text.slice(keyStart, keyEnd);
    }
    let at = keyEnd;
    while (at < end && text.charCodeAt(at) === SPACE) at++;
    if (at >= end || text.charCodeAt(at) !== COLON) return giveUp("a key without `:`");
    at++;
    if (stack.length === 1 && !BERRY_FIELDS.has(key)) {
      skipDeeperThan = indent;
      continue;
    }
    while (at < end && text.charCodeAt(at) === SPACE) at++;
    // The value: nothing (a mapping follows, or an empty string), a double-quoted or a plain scalar.
    let value: string | undefined;
    if (at < end && text.charCodeAt(at) !== HASH) {
      const v = text.charCodeAt(at);
      if (v === QUOTE) {
        const close = text.indexOf('"', at + 1);
        if (close === -1 || close >= end) return giveUp("quoted value not closed on its line");
        value = text.slice(at + 1, close);
        if (value.includes("\\")) return giveUp("escape in a quoted value");
        let rest = close + 1;
        while (rest < end && text.charCodeAt(rest) === SPACE) rest++;
        if (rest < end && text.charCodeAt(rest) !== HASH) return giveUp("text after a quoted value");
      } else {
        if (SPECIAL_START.has(v) && !(v === 45 && text.charCodeAt(at + 1) !== SPACE)) return giveUp("YAML syntax outside Yarn's subset");
        // Comments are rare: the next " #" in the whole text is found once and reused until passed.
        if (nextComment < at) {
          nextComment = text.indexOf(" #", at);
          if (nextComment === -1) nextComment = text.length;
        }
        let stop = nextComment < end ? nextComment : end;
        while (stop > at && text.charCodeAt(stop - 1) === SPACE) stop--;
        value = text.slice(at, stop);
        if (value.includes(": ") || value.endsWith(":")) return giveUp("`: ` inside a plain value");
      }
    }
    // Positions below are characters within the line.
    keyEnd -= lineStart;
    if (indent === 0) {
      if (seenTop.has(key)) {
        const shift = lineNo === 0 ? bom : 0;
        problems.push(duplicate(lineNo, shift, keyEnd + shift, key, false));
        // Read the repeated entry's lines into a throwaway mapping so they are not mistaken for anything else.
        if (value === undefined) pending = { map: new Map(), record: undefined, key, indent: 0 };
        stack.length = 0;
        continue;
      }
      seenTop.add(key);
      const shift = lineNo === 0 ? bom : 0;
      const record: BerryRecord = { key, line: lineNo, keyStart: indent + shift, keyEnd: keyEnd + shift, value: value ?? "" };
      records.push(record);
      stack.length = 0;
      if (value === undefined) pending = { map: undefined, record, key, indent: 0 };
      continue;
    }
    const map = stack[stack.length - 1].map;
    if (map.has(key)) {
      problems.push(duplicate(lineNo, indent, keyEnd, key, true));
      if (value === undefined) pending = { map: new Map(), record: undefined, key, indent };
      continue;
    }
    if (value === undefined) pending = { map, record: undefined, key, indent };
    else map.set(key, value);
  }
  if (pending?.record !== undefined) pending.record.value = "";
  else pending?.map?.set(pending.key, "");
  return records;
}

/** Scalars as strings (Yarn reads every value as a string), mappings as objects; the first of duplicate keys wins. */
function toBerryValue(node: unknown, index: LineIndex, problems: ParseProblem[], fields?: ReadonlySet<string>): BerryValue {
  if (isScalar(node)) return node.value === null || node.value === undefined ? "" : String(node.value);
  if (isMap(node)) {
    const map: BerryMap = new Map();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (fields !== undefined && !fields.has(key)) continue;
      if (map.has(key)) {
        const r = isScalar(pair.key) ? pair.key.range : undefined;
        const range = r ? index.range(r[0], r[1]) : index.range(0, 0);
        problems.push({ range, severity: "warning", code: "duplicate-key", message: `\`${key}\` is written twice in this entry; the first value is used.` });
        continue;
      }
      map.set(key, toBerryValue(pair.value, index, problems));
    }
    return map;
  }
  if (isSeq(node)) return JSON.stringify(node.toJSON());
  return node === null || node === undefined ? "" : String((node as YamlNode).toJSON?.() ?? node);
}

/** The whole file through the `yaml` library: the fallback, and the reference the scanner is tested against. */
export function parseBerryYamlWithLibrary(text: string, index: LineIndex, problems: ParseProblem[]): BerryRecord[] {
  // failsafe: every scalar stays a string, as Yarn reads them (`version: 1.10` is not the number 1.1).
  const doc = parseDocument(text, { schema: "failsafe", uniqueKeys: false, prettyErrors: false });
  for (const error of doc.errors) {
    problems.push({
      range: index.range(error.pos[0], error.pos[1]),
      severity: "error",
      code: "parse-error",
      message: `The lockfile is not valid YAML here (${error.code}); entries after this point may be missing.`,
    });
  }
  const records: BerryRecord[] = [];
  if (!isMap(doc.contents)) return records;
  const seen = new Set<string>();
  const errorAt = doc.errors.map((e) => e.pos[0]);
  const pairs = doc.contents.items;
  for (let p = 0; p < pairs.length; p++) {
    const pair = pairs[p];
    if (!isScalar(pair.key) || pair.key.range === undefined || pair.key.range === null) continue;
    // An entry the library had to repair (a cut-off quote, say) holds guesses, not what Yarn wrote: leave it out.
    const from = pair.key.range[0];
    const nextKey = pairs[p + 1]?.key;
    const to = isScalar(nextKey) && nextKey.range ? nextKey.range[0] : text.length + 1;
    if (errorAt.some((at) => at >= from && at < to)) continue;
    const key = String(pair.key.value);
    const start = index.position(pair.key.range[0]);
    const end = index.position(pair.key.range[1]);
    if (seen.has(key)) {
      problems.push(duplicate(start.line, start.character, end.character, key, false));
      continue;
    }
    seen.add(key);
    records.push({ key, line: start.line, keyStart: start.character, keyEnd: end.character, value: toBerryValue(pair.value, index, problems, BERRY_FIELDS) });
  }
  return records;
}
