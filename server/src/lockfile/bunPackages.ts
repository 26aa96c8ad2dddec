// bun.lock's `packages` as a table of the few fields the model reads, from parsed JSON or straight from the text.
//
// Why a hand-written reader (issue #2 "Speed", target 2x JSON.parse): `packages` is 95% of a bun.lock, and
// JSON.parse builds a tuple, an info object and dependency maps per package, which the model then walks while the
// whole tree is alive (measured on the 2,820-package corpus file: JSON.parse alone 1.1x the baseline, walking it
// another 1x, GC included). Bun writes each package as a one-line tuple, so this reader validates each line as JSON
// and keeps only the id, the registry, the integrity and the dependency names.
//
// It is strict: any backslash, tab, carriage return or control character in the block, any line not laid out as
// Bun writes it, any repeated info field, any integer-like dependency name (JSON.parse would reorder those) makes it
// return undefined, and the caller reads the file with JSON.parse instead. What it accepts is valid JSONC, read to
// the same values.

import type { KeyOffsets } from "./bunLayoutScan";

/** Dependency kinds, in the order the model reads the groups. */
export const REGULAR = 0;
export const OPTIONAL = 1;
export const PEER = 2;
export const OPTIONAL_PEER = 3;

export interface PackageTable {
  keys: string[];
  /** tuple[0] when the value is a tuple that starts with a string; undefined otherwise (reported, skipped). */
  ids: (string | undefined)[];
  /** tuple[1] and tuple[3] when they are strings (the registry and the integrity of npm tuples). */
  seconds: (string | undefined)[];
  fourths: (string | undefined)[];
  /** Key i's dependency names are depNames[depStarts[i] .. depStarts[i + 1]), dependencies first, then optional, then peers. */
  depStarts: Int32Array;
  depNames: string[];
  depKinds: number[];
  /** Key -> number, when the reader built it anyway (saves the install tree a second map). */
  indexOf?: Map<string, number>;
}

const GROUPS = ["dependencies", "optionalDependencies", "peerDependencies"] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The table of JSON.parse's (or jsonc-parser's) value of `packages`. */
export function tableFromJson(packages: Record<string, unknown>, keys: string[]): PackageTable {
  const n = keys.length;
  const table: PackageTable = { keys, ids: new Array(n), seconds: new Array(n), fourths: new Array(n), depStarts: new Int32Array(n + 1), depNames: [], depKinds: [] };
  const tuples = Object.values(packages);
  for (let i = 0; i < n; i++) {
    table.depStarts[i] = table.depNames.length;
    const tuple = tuples[i];
    if (!Array.isArray(tuple) || typeof tuple[0] !== "string") continue;
    table.ids[i] = tuple[0];
    if (typeof tuple[1] === "string") table.seconds[i] = tuple[1];
    if (typeof tuple[3] === "string") table.fourths[i] = tuple[3];
    // INFO is the first object after the id (npm tuples have the registry string before it).
    let info: Record<string, unknown> | undefined;
    for (let t = 1; t < tuple.length && info === undefined; t++) if (isObject(tuple[t])) info = tuple[t] as Record<string, unknown>;
    if (info === undefined) continue;
    const optionalPeers = Array.isArray(info.optionalPeers) ? (info.optionalPeers as unknown[]) : [];
    for (let g = 0; g < GROUPS.length; g++) {
      const deps = info[GROUPS[g]];
      if (!isObject(deps)) continue;
      for (const name in deps) {
        table.depNames.push(name);
        table.depKinds.push(g === 2 && optionalPeers.includes(name) ? OPTIONAL_PEER : g);
      }
    }
  }
  table.depStarts[n] = table.depNames.length;
  return table;
}

/** Reads one line's JSON values; every method returns the offset after what it read, or -1 when it cannot. */
class LineReader {
  // Scratch lists for one info object, reused per package: dependency names by group, then optional peers (list 3).
  // Counted instead of truncated: setting an array's length is a runtime call, 4% of a parse.
  readonly lists: string[][] = [[], [], [], []];
  readonly counts = new Int32Array(4);

  constructor(private readonly text: string) {}

  spaces(i: number): number {
    while (this.text.charCodeAt(i) === 32) i++;
    return i;
  }

  /** Past the closing quote; the block has no backslash, so the next quote closes. */
  string(i: number, lineEnd: number): number {
    const q = this.text.indexOf('"', i + 1);
    return q === -1 || q >= lineEnd ? -1 : q + 1;
  }

  value(i: number, lineEnd: number): number {
    const text = this.text;
    const c = text.charCodeAt(i);
    if (c === 34) return this.string(i, lineEnd);
    if (c === 123 || c === 91) {
      const close = c === 123 ? 125 : 93;
      i = this.spaces(i + 1);
      if (text.charCodeAt(i) === close) return i + 1;
      for (;;) {
        if (c === 123) {
          if (text.charCodeAt(i) !== 34) return -1;
          i = this.colon(this.string(i, lineEnd));
          if (i === -1) return -1;
        }
        i = this.value(i, lineEnd);
        if (i === -1) return -1;
        i = this.after(i, close);
        if (i <= 0) return i === 0 ? -1 : -i;
      }
    }
    NUMBER.lastIndex = i;
    if (NUMBER.test(text)) return NUMBER.lastIndex;
    for (const literal of LITERALS) if (text.startsWith(literal, i)) return i + literal.length;
    return -1;
  }

  /** After a key: spaces, ":", spaces; the value's offset. */
  colon(i: number): number {
    if (i === -1) return -1;
    i = this.spaces(i);
    return this.text.charCodeAt(i) === 58 ? this.spaces(i + 1) : -1;
  }

  /**
   * After a member: the next member's offset (positive), or minus the offset past `close` (trailing commas allowed,
   * as jsonc-parser reads bun.lock), or 0 when neither follows.
   */
  after(i: number, close: number): number {
    i = this.spaces(i);
    let c = this.text.charCodeAt(i);
    if (c === 44) {
      i = this.spaces(i + 1);
      c = this.text.charCodeAt(i);
      return c === close ? -(i + 1) : i;
    }
    return c === close ? -(i + 1) : 0;
  }

  /** An info object: dependency names into `groups`, optional peers into `optionalPeers`. */
  info(i: number, lineEnd: number): number {
    const text = this.text;
    i = this.spaces(i + 1);
    if (text.charCodeAt(i) === 125) return i + 1;
    let seen = 0;
    for (;;) {
      if (text.charCodeAt(i) !== 34) return -1;
      const keyEnd = this.string(i, lineEnd);
      if (keyEnd === -1) return -1;
      const length = keyEnd - i - 2;
      // Told apart by length first: one comparison in place per key, no string made.
      const g = length === 12 ? 0 : length === 20 ? 1 : length === 16 ? 2 : -1;
      const groupKey = g !== -1 && text.startsWith(GROUPS[g], i + 1);
      const peers = length === 13 && text.startsWith("optionalPeers", i + 1);
      const bit = peers ? 8 : 1 << g;
      if (groupKey || peers) {
        // JSON.parse keeps the last of repeated keys; this reader does not try.
        if ((seen & bit) !== 0) return -1;
        seen |= bit;
      }
      i = this.colon(keyEnd);
      if (i === -1) return -1;
      if (groupKey && text.charCodeAt(i) === 123) i = this.names(i, lineEnd, g);
      else if (peers && text.charCodeAt(i) === 91) i = this.peerList(i, lineEnd);
      else i = this.value(i, lineEnd);
      if (i === -1) return -1;
      i = this.after(i, 125);
      if (i <= 0) return i === 0 ? -1 : -i;
    }
  }

  /** A dependency map: its keys into list `g`. */
  private names(i: number, lineEnd: number, g: number): number {
    const into = this.lists[g];
    const text = this.text;
    i = this.spaces(i + 1);
    if (text.charCodeAt(i) === 125) return i + 1;
    for (;;) {
      if (text.charCodeAt(i) !== 34) return -1;
      const end = this.string(i, lineEnd);
      if (end === -1) return -1;
      const first = text.charCodeAt(i + 1);
      // An integer-like name would come first in JSON.parse's key order.
      if (first >= 48 && first <= 57 && /^\d+$/.test(text.slice(i + 1, end - 1))) return -1;
      // JSON.parse keeps one of a repeated name (the unresolved count would differ otherwise).
      const name = text.slice(i + 1, end - 1);
      const count = this.counts[g];
      let repeated = false;
      for (let k = 0; k < count && !repeated; k++) repeated = into[k] === name;
      if (!repeated) {
        into[count] = name;
        this.counts[g] = count + 1;
      }
      i = this.colon(end);
      if (i === -1) return -1;
      i = this.value(i, lineEnd);
      if (i === -1) return -1;
      i = this.after(i, 125);
      if (i <= 0) return i === 0 ? -1 : -i;
    }
  }

  private peerList(i: number, lineEnd: number): number {
    const text = this.text;
    i = this.spaces(i + 1);
    if (text.charCodeAt(i) === 93) return i + 1;
    for (;;) {
      const start = i;
      i = this.value(i, lineEnd);
      if (i === -1) return -1;
      if (text.charCodeAt(start) === 34) this.lists[3][this.counts[3]++] = text.slice(start + 1, i - 1);
      i = this.after(i, 93);
      if (i <= 0) return i === 0 ? -1 : -i;
    }
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ["true", "false", "null"] as const;
/**
 * Whether [from, to) holds a backslash or a control character other than a line break (JSON.parse rejects raw ones
 * in strings, and this reader skips strings unread). One native search per character: 31 of them measured 0.08x
 * JSON.parse on the corpus file, a regular expression or a loop over the characters 0.4x.
 */
function hasUnusualCharacter(text: string, from: number, to: number): boolean {
  for (const c of UNUSUAL) {
    const at = text.indexOf(c, from);
    if (at !== -1 && at < to) return true;
  }
  return false;
}

const UNUSUAL = ["\\", ...Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).filter((c) => c !== "\n")];

/**
 * The table of a `packages` block written as Bun writes it, from the text: `offsets` are the key lines the layout
 * scan found between `open` (the block's "{") and `close` (its "}"). Undefined when anything is unusual.
 */
export function readPackagesBlock(text: string, open: number, close: number, offsets: KeyOffsets): PackageTable | undefined {
  const n = offsets.length / 4;
  if (hasUnusualCharacter(text, open, close)) return undefined;
  const reader = new LineReader(text);
  const table: PackageTable = { keys: new Array(n), ids: new Array(n), seconds: new Array(n), fourths: new Array(n), depStarts: new Int32Array(n + 1), depNames: [], depKinds: [] };
  const { lists, counts } = reader;
  const indexOf = new Map<string, number>();
  table.indexOf = indexOf;
  // Between the block's "{" and the first key, and between entries, only spaces and line breaks.
  let at = open + 1;
  for (let k = 0; k < n; k++) {
    const keyStart = offsets[4 * k];
    const keyEnd = offsets[4 * k + 1];
    while (at < keyStart && (text.charCodeAt(at) === 10 || text.charCodeAt(at) === 32)) at++;
    if (at !== keyStart) return undefined;
    let lineEnd = text.indexOf("\n", keyEnd);
    if (lineEnd === -1) lineEnd = text.length;
    const key = text.slice(keyStart + 1, keyEnd - 1);
    const first = key.charCodeAt(0);
    if (first >= 48 && first <= 57 && /^\d+$/.test(key)) return undefined;
    // A repeated key: JSON.parse would keep the last value; the JSON path reports it.
    indexOf.set(key, k);
    if (indexOf.size === k) return undefined;
    table.keys[k] = key;
    table.depStarts[k] = table.depNames.length;
    let i = reader.colon(keyEnd);
    // A tuple that starts with a string; anything else is left to the JSON path, which reports it.
    if (i === -1 || text.charCodeAt(i) !== 91) return undefined;
    i = reader.spaces(i + 1);
    if (text.charCodeAt(i) !== 34) return undefined;
    let end = reader.string(i, lineEnd);
    if (end === -1) return undefined;
    table.ids[k] = text.slice(i + 1, end - 1);
    let info = false;
    for (let element = 1; ; element++) {
      i = reader.after(end, 93);
      if (i === 0) return undefined;
      if (i < 0) {
        i = -i;
        break;
      }
      const c = text.charCodeAt(i);
      if (c === 123 && !info) {
        info = true;
        end = reader.info(i, lineEnd);
      } else {
        end = reader.value(i, lineEnd);
        if (c === 34 && end !== -1 && (element === 1 || element === 3)) (element === 1 ? table.seconds : table.fourths)[k] = text.slice(i + 1, end - 1);
      }
      if (end === -1) return undefined;
    }
    // The entry ends its line: a comma (optional after the last entry: a trailing one is JSONC) and spaces.
    i = reader.spaces(i);
    if (text.charCodeAt(i) === 44) i = reader.spaces(i + 1);
    else if (k < n - 1) return undefined;
    if (i !== lineEnd) return undefined;
    at = lineEnd;
    const peers = lists[3];
    for (let g = 0; g < 3; g++) {
      const names = lists[g];
      for (let d = 0; d < counts[g]; d++) {
        const name = names[d];
        let kind = g;
        if (g === PEER) for (let p = 0; p < counts[3] && kind === PEER; p++) if (peers[p] === name) kind = OPTIONAL_PEER;
        table.depNames.push(name);
        table.depKinds.push(kind);
      }
    }
    counts[0] = counts[1] = counts[2] = counts[3] = 0;
  }
  while (at < close && (text.charCodeAt(at) === 10 || text.charCodeAt(at) === 32)) at++;
  if (at !== close) return undefined;
  table.depStarts[n] = table.depNames.length;
  return table;
}
