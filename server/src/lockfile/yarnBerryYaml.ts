// The YAML subset Yarn Berry writes (its `syml` stringifier): block mappings only, two-space indentation,
// plain or double-quoted scalars, comments at the top. Hand-scanned because yarn.lock files run to 20k lines,
// are re-parsed on every edit, and a general YAML parser is several times slower on them. Anything outside
// the subset (flow collections, anchors, multi-line scalars, odd indentation, a cut-off quote) makes the
// scanner give up, and the `yaml` library parses the whole file instead, with its own error positions.
//
// The scanner writes straight into one flat record per entry (the fields the model reads, dependencies as a flat
// name/range list), with no Map per entry or per dependency block: issue #2 "Speed". Earlier rounds: the comment
// search looks for '#' then the space before it, no Set of top-level keys while they come sorted, a character table
// for special starts (0.42-0.51x of js-yaml `load` -> 0.25-0.28x). This round (issue #2's last target): fields the
// model does not read are skipped by first letter and length before any slice; yarnBerry.ts compares a single
// descriptor's range instead of hashing it and walks the graph without closures. Tried and not kept: one search
// for CR per text instead of a check per line (TurboFan's code for this loop came out 60x slower). Profile now:
// this scan ~33% self, name lookups ~10% (V8 hashing each freshly sliced name: ~40 ns + ~3 ns a character, a floor
// without interning, which costs more in JavaScript here), GC ~5%. Fourth round: sort checks compare keys in the text
// (operators on two slices are V8 runtime calls), dependencies go to an exact-size list. Fallback: yarnBerryLibrary.ts.
import type { ParseProblem } from "./model";
import { listOf, spanAfter } from "./scanText";

/** A top-level key with the entry fields the model reads, and the key's position (quotes included). */
export interface BerryRecord {
  key: string;
  line: number;
  keyStart: number;
  keyEnd: number;
  /** Whether the key holds a mapping; a scalar there (`"a@npm:1":` cut short) has no fields. */
  fields: boolean;
  /** Scalar fields; undefined when absent or not a scalar. */
  version: string | undefined;
  resolution: string | undefined;
  checksum: string | undefined;
  /** `dependencies` as written, flat: name, range, name, range... (string values only, first of duplicates). */
  dependencies: string[];
  /** Names whose `dependenciesMeta` entry says `optional: true`. */
  optional: string[];
}

/** Why the scanner handed over to the library: a line and a reason, for tests and logs. */
export interface Unsupported {
  unsupported: true;
  line: number;
  reason: string;
}

/** The text has git conflict markers: the caller masks them and scans again (found here so clean files pay nothing). */
export interface Conflicted {
  conflicted: true;
}

const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COLON = 58;
// Characters that start YAML syntax the subset does not use (flow collections, anchors, tags, block scalars...).
// A table by character code, not a Set: it is asked on every line and every value.
const SPECIAL_START = new Uint8Array(128);
for (const c of "[]{}&*!|>%@`'?-,") SPECIAL_START[c.charCodeAt(0)] = 1;
function isSpecialStart(c: number): boolean {
  return c < 128 && SPECIAL_START[c] === 1;
}
const CONFLICT_MARKERS = ["<<<<<<<", "=======", ">>>>>>>", "|||||||"];

/**
 * The entry fields the lockfile model reads. The scanner skips every other field (languageName, linkType,
 * peerDependencies, bin, conditions...: about a third of the lines of the babel corpus file) by indentation, without
 * slicing it; the library reader drops the same fields, so both readers keep returning the same records.
 */
export const BERRY_FIELDS: ReadonlySet<string> = new Set(["version", "resolution", "checksum", "dependencies", "dependenciesMeta"]);

export function duplicate(line: number, start: number, end: number, key: string, nested: boolean): ParseProblem {
  return {
    range: { start: { line, character: start }, end: { line, character: end } },
    severity: "warning",
    code: "duplicate-key",
    message: nested
      ? `\`${key}\` is written twice in this entry; the first value is used.`
      : `\`${key}\` is written twice in the lockfile; the first entry is used.`,
  };
}

/** Every record is built here, so both readers give objects of one shape (deepEqual sees absent vs undefined). */
export function newRecord(key: string, line: number, keyStart: number, keyEnd: number, empty?: string[]): BerryRecord {
  return { key, line, keyStart, keyEnd, fields: false, version: undefined, resolution: undefined, checksum: undefined, dependencies: empty ?? [], optional: empty ?? [] };
}

/**
 * The scanner's records start with this one frozen empty list (most have no optional names, some no dependencies) and
 * get lists of their final size: two arrays per record, grown by push, were a tenth of what a Berry parse allocates,
 * and what a parse allocates decides how often a scavenge lands inside it (and copies the records built so far).
 */
const NO_STRINGS = Object.freeze([]) as unknown as string[];

// What a `key:` with nothing after it opens, decided by the next line (deeper: a mapping; else an empty string).
const NONE = 0;
const RECORD = 1;
const DEPS = 2;
const META = 3;
const META_ITEM = 4;
const SCALAR_FIELD = 5;
/** Whether a plain key with this first character and length can be one of fieldBit's fields. */
function mayBeField(first: number, length: number): boolean {
  switch (first) {
    case 118 /* v */:
      return length === 7;
    case 114 /* r */:
      return length === 10;
    case 99 /* c */:
      return length === 8;
    case 100 /* d */:
      return length === 12 || length === 16;
    default:
      return false;
  }
}

/** A bit per entry field the model reads (0 for the others), to see duplicates: the first of them wins. */
function fieldBit(key: string): number {
  switch (key) {
    case "version":
      return 1;
    case "resolution":
      return 2;
    case "checksum":
      return 4;
    case "dependencies":
      return 8;
    case "dependenciesMeta":
      return 16;
    default:
      return 0;
  }
}

/** Whether `name` is among the names (even places) of the first n strings of a name, range... list. */
function namedAt(list: string[], n: number, name: string): boolean {
  for (let k = 0; k < n; k += 2) if (list[k] === name) return true;
  return false;
}

/** Offset of the next backslash from `from`, or the text's length when there is none. */
function backslashFrom(text: string, from: number): number {
  const at = text.indexOf("\\", from);
  return at === -1 ? text.length : at;
}

/** Scans Berry's YAML subset into records. Conflict markers are not masked here: they make it return `conflicted`. */
export function scanBerryYaml(text: string, problems: ParseProblem[]): BerryRecord[] | Unsupported | Conflicted {
  const records: BerryRecord[] = [];
  // Top-level keys already read. Yarn writes them sorted after `__metadata`, so while each key is greater than the
  // last (the first record aside) none can repeat and no Set is needed: hashing every long key was 4% of a scan.
  // The first key out of order builds the Set from the records, and it is kept from then on.
  let seenTop: Set<string> | undefined;
  // The last top-level key and dependency name, as offsets of their text (both empty at first).
  let lastTopFrom = 0;
  let lastTopTo = 0;
  const length = text.length;
  let lineNo = -1;
  let record: BerryRecord | undefined;
  let seenFields = 0;
  /** The open block at indent 2 (DEPS or META) and, in META, the open item at indent 4. */
  let field = NONE;
  let metaName: string | undefined;
  let metaKeys: string[] = [];
  let lastDepFrom = 0;
  let lastDepTo = 0;
  let lastMeta = "";
  let pending = NONE;
  let pendingIndent = 0;
  // Lines indented deeper than this belong to a skipped field (-1: none).
  let skipDeeperThan = -1;
  let nextComment = -1;
  // Escapes are rarer still (Yarn writes none): the next backslash is found once and reused, instead of searching
  // every quoted key and value for one.
  let nextBackslash = -1;
  // The open record's dependencies (name, range, name, range...), copied into a list of their size when it closes.
  const depScratch: string[] = [];
  let depCount = 0;
  const giveUp = (reason: string): Unsupported => ({ unsupported: true, line: lineNo, reason });
  // A byte-order mark is skipped; positions on line 0 still count it, as the editor's text does.
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let start = bom; start < length; ) {
    lineNo++;
    let end = text.indexOf("\n", start);
    if (end === -1) end = length;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    const lineStart = start;
    start = next;
    let i = lineStart;
    while (i < end && text.charCodeAt(i) === SPACE) i++;
    if (i === end) continue;
    const c = text.charCodeAt(i);
    if (c === HASH) continue;
    const indent = i - lineStart;
    if (c === 9) return giveUp("tab in indentation");
    if (skipDeeperThan >= 0) {
      if (indent > skipDeeperThan) continue;
      skipDeeperThan = -1;
    }
    if (pending !== NONE) {
      if (indent > pendingIndent) {
        if (indent !== pendingIndent + 2) return giveUp("indentation other than two spaces");
        if (pending === RECORD) record!.fields = true;
        else if (pending === DEPS || pending === META) field = pending;
        else if (pending !== META_ITEM) return giveUp("a mapping where a scalar was expected");
      } else if (pending === META_ITEM) metaName = undefined;
      pending = NONE;
    }
    // Close the blocks this line is not inside.
    if (indent <= 4) metaName = undefined;
    if (indent <= 2) field = NONE;
    if (indent === 0) {
      if (depCount > 0) (record!.dependencies = listOf(depScratch, depCount)), (depCount = 0);
      record = undefined;
    }
    if (indent === 2 ? record === undefined || !record.fields : indent === 4 ? field === NONE : indent === 6 ? metaName === undefined : indent !== 0) {
      return giveUp("indentation that does not match an open mapping");
    }
    if (indent === 0 && (c === 60 || c === 61 || c === 62 || c === 124) && CONFLICT_MARKERS.some((m) => text.startsWith(m, i))) {
      return { conflicted: true };
    }
    // Searches run on the whole text, bounded by `end`, instead of on a slice of the line: one string less per
    // line. Each search stops at the line's end or soon after it (the next quote or colon is on the next line).
    let key: string;
    let keyEnd: number;
    // Where the key's text is (quotes excluded): the sort checks compare it in the text.
    let keyFrom = i + 1;
    if (c === QUOTE) {
      const close = text.indexOf('"', i + 1);
      if (close === -1 || close >= end) return giveUp("quoted key not closed on its line");
      keyEnd = close + 1;
      if (nextBackslash < i) nextBackslash = backslashFrom(text, i);
      if (nextBackslash < close) return giveUp("escape in a quoted key");
      key = text.slice(i + 1, close);
    } else {
      if (isSpecialStart(c) || (indent === 0 && (text.startsWith("---", lineStart) || text.startsWith("...", lineStart)))) {
        return giveUp("YAML syntax outside Yarn's subset");
      }
      let j = text.indexOf(":", i);
      while (j !== -1 && j + 1 < end && text.charCodeAt(j + 1) !== SPACE) j = text.indexOf(":", j + 1);
      if (j === -1 || j >= end) return giveUp("a line without `key:`");
      keyEnd = j;
      while (keyEnd > i && text.charCodeAt(keyEnd - 1) === SPACE) keyEnd--;
      if (indent === 2 && !mayBeField(c, keyEnd - i)) {
        // A field the model does not read (languageName, linkType, peerDependencies, bin...: a third of the lines),
        // told by its first letter and length: passed over with its children, unsliced.
        skipDeeperThan = 2;
        continue;
      }
      key = text.slice(i, keyEnd);
      keyFrom = i;
    }
    const keyTo = keyFrom + key.length;
    let at = keyEnd;
    while (at < end && text.charCodeAt(at) === SPACE) at++;
    if (at >= end || text.charCodeAt(at) !== COLON) return giveUp("a key without `:`");
    at++;
    const bit = indent === 2 ? fieldBit(key) : 0;
    if (indent === 2 && bit === 0) {
      skipDeeperThan = 2;
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
        if (nextBackslash < at) nextBackslash = backslashFrom(text, at);
        if (nextBackslash < close) return giveUp("escape in a quoted value");
        value = text.slice(at + 1, close);
        let rest = close + 1;
        while (rest < end && text.charCodeAt(rest) === SPACE) rest++;
        if (rest < end && text.charCodeAt(rest) !== HASH) return giveUp("text after a quoted value");
      } else {
        if (isSpecialStart(v) && !(v === 45 && text.charCodeAt(at + 1) !== SPACE)) return giveUp("YAML syntax outside Yarn's subset");
        // Comments are rare: the next " #" in the whole text is found once and reused until passed. The search is
        // for '#' (then the space before it checked): searching " #" stopped at every space, 6% of a scan.
        if (nextComment < at) {
          let hash = text.indexOf("#", at + 1);
          while (hash !== -1 && text.charCodeAt(hash - 1) !== SPACE) hash = text.indexOf("#", hash + 1);
          nextComment = hash === -1 ? length : hash - 1;
        }
        let stop = nextComment < end ? nextComment : end;
        while (stop > at && text.charCodeAt(stop - 1) === SPACE) stop--;
        value = text.slice(at, stop);
        if (text.charCodeAt(stop - 1) === COLON || value.includes(": ")) return giveUp("`: ` inside a plain value");
      }
    }
    // Positions below are characters within the line.
    keyEnd -= lineStart;
    if (indent === 0) {
      const shift = lineNo === 0 ? bom : 0;
      if (seenTop === undefined && records.length > 0 && (!spanAfter(text, keyFrom, keyTo, lastTopFrom, lastTopTo) || (key.length === records[0].key.length && key === records[0].key))) {
        seenTop = new Set<string>();
        for (const r of records) seenTop.add(r.key);
      }
      if (seenTop !== undefined && seenTop.has(key)) {
        problems.push(duplicate(lineNo, shift, keyEnd + shift, key, false));
        // The repeated entry's lines are skipped, as the library reader leaves the whole entry out.
        if (value === undefined) skipDeeperThan = 0;
        continue;
      }
      if (seenTop !== undefined) seenTop.add(key);
      else if (records.length > 0) (lastTopFrom = keyFrom), (lastTopTo = keyTo);
      record = newRecord(key, lineNo, shift, keyEnd + shift, NO_STRINGS);
      records.push(record);
      seenFields = 0;
      lastDepTo = lastDepFrom;
      lastMeta = "";
      if (value === undefined) {
        pending = RECORD;
        pendingIndent = 0;
      }
      continue;
    }
    if (indent === 2) {
      if ((seenFields & bit) !== 0) {
        problems.push(duplicate(lineNo, indent, keyEnd, key, true));
        if (value === undefined) skipDeeperThan = 2;
        continue;
      }
      seenFields |= bit;
      pendingIndent = 2;
      if (bit === 8 || bit === 16) {
        if (value === undefined) pending = bit === 8 ? DEPS : META;
      } else {
        // `version:` alone is an empty string, unless a mapping follows (then it is no scalar: the library reads it).
        if (value === undefined) pending = SCALAR_FIELD;
        if (bit === 1) record!.version = value ?? "";
        else if (bit === 2) record!.resolution = value ?? "";
        else record!.checksum = value ?? "";
      }
      continue;
    }
    if (indent === 4) {
      if (field === DEPS) {
        if (value === undefined) return giveUp("a dependency without a range");
        // Yarn writes keys sorted, so a duplicate can only follow a key that is not smaller: search only then.
        // A larger first character settles the order without comparing the rest of the names (no charCodeAt on an
        // empty name: NaN there deoptimized the scan at the first dependency of every entry).
        if (!spanAfter(text, keyFrom, keyTo, lastDepFrom, lastDepTo) && namedAt(depScratch, depCount, key)) {
          problems.push(duplicate(lineNo, indent, keyEnd, key, true));
          continue;
        }
        lastDepFrom = keyFrom;
        lastDepTo = keyTo;
        depScratch[depCount++] = key;
        depScratch[depCount++] = value;
        continue;
      }
      // dependenciesMeta: each name opens a mapping of flags.
      if (key <= lastMeta) return giveUp("dependenciesMeta out of order");
      lastMeta = key;
      if (value === undefined) {
        pending = META_ITEM;
        pendingIndent = 4;
        metaName = key;
        metaKeys = [];
      }
      continue;
    }
    // indent 6: a flag of a dependenciesMeta item.
    if (value === undefined) return giveUp("a mapping inside dependenciesMeta flags");
    if (metaKeys.includes(key)) return giveUp("a repeated dependenciesMeta flag");
    metaKeys.push(key);
    if (key === "optional" && value === "true") {
      if (record!.optional === NO_STRINGS) record!.optional = [metaName!];
      else record!.optional.push(metaName!);
    }
  }
  if (depCount > 0) record!.dependencies = listOf(depScratch, depCount);
  return records;
}
