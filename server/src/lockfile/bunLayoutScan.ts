// The fast way to read bun.lock as Bun writes it: trailing commas blanked and key positions found line by line.
//
// Hand-written on purpose, and hot (issue #2 "Speed", issue #7): the budget is 2x a bare JSON.parse of the same
// text, and the general scanner (bunJson.ts) steps through every character outside strings, which alone cost
// about 0.4x JSON.parse on the 6,500-line corpus file. Bun writes one key per line, indented one unit per depth,
// and each package as a one-line tuple, so jumping from line to line with indexOf("\n") and looking at the first
// and last characters of each line finds every top-level key, every second-level key (workspaces, packages...)
// and every trailing comma: a line-final "," whose next non-blank line starts with "}" or "]", or one written
// inline before a "]" (Bun's one-line "os"/"cpu" arrays), found with a native search. Strings cannot hold a raw line
// break, so a line start is outside any string of valid JSON and counting quotes from there tells whether an
// inline match is in a string. Only commas become spaces, so quotes (and which text is string) stay where they
// were: when JSON.parse accepts the result, every blanked comma was a trailing comma outside strings, and the value
// is the one a JSONC reader gets from the original.
//
// Nothing is trusted: JSON.parse must accept the result, and the keys found must equal, in order and number, the
// keys JSON.parse kept (so there are no repeats to report either); otherwise the caller runs the general scanner.

import type { Range } from "./model";
import { jsonLayoutIndent } from "./lineIndex";
import { readPackagesBlock, tableFromJson, type PackageTable } from "./bunPackages";

/** [start, end, line, lineStart] per key, flattened: `end` is past the closing quote, `line` zero-based. */
export type KeyOffsets = number[];

export interface BunLayoutRead {
  value: Record<string, unknown>;
  /** Ranges of the top-level keys. */
  topSpans: Map<string, Range>;
  /** What the model reads of `packages` (the parsed `value.packages` is empty when it was read from the text). */
  packages: PackageTable;
  /** Offsets of the `packages` keys, 4 numbers per key as KeyOffsets, in table order. */
  packageOffsets: KeyOffsets;
}

export function rangeAt(offsets: KeyOffsets, i: number): Range {
  const at = 4 * i;
  const line = offsets[at + 2];
  const lineStart = offsets[at + 3];
  return { start: { line, character: offsets[at] - lineStart }, end: { line, character: offsets[at + 1] - lineStart } };
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

/** Offset of the quote closing the string opened at `open`, or -1 when it is not on the same line. */
function closingQuote(text: string, open: number, lineEnd: number): number {
  let q = text.indexOf('"', open + 1);
  while (q !== -1 && q < lineEnd && text.charCodeAt(q - 1) === 92) {
    let backslashes = 1;
    while (text.charCodeAt(q - 1 - backslashes) === 92) backslashes++;
    if ((backslashes & 1) === 0) break;
    q = text.indexOf('"', q + 1);
  }
  return q === -1 || q >= lineEnd ? -1 : q;
}

/** Whether the key token at [start, end) is `key`. Escapes make a token longer than its value, hence the fast test. */
function keyIs(text: string, start: number, end: number, key: string): boolean {
  if (end - start - 2 === key.length) return text.startsWith(key, start + 1);
  try {
    return JSON.parse(text.slice(start, end)) === key;
  } catch (error) {
    // Not a valid string token: the layout guess was wrong, which the caller handles by scanning in full.
    void error;
    return false;
  }
}

/** Whether offset `at` is inside a string, counting unescaped quotes from the start of its line. */
function insideString(text: string, at: number): boolean {
  let inside = false;
  for (let q = text.indexOf('"', text.lastIndexOf("\n", at) + 1); q !== -1 && q < at; q = text.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 92) backslashes++;
    if ((backslashes & 1) === 0) inside = !inside;
  }
  return inside;
}

/**
 * Offsets of inline trailing commas (", ]") outside strings, merged into the sorted `blanks`. Searched from each
 * "]" (a one-character native search, few hits) rather than for ", ]", whose common first character made the
 * multi-character search cost 6% of a parse. Bun writes inline objects without trailing commas; if it did, JSON.parse
 * would refuse the text and the general scanner would read it.
 */
function addInlineTrailingCommas(text: string, from: number, to: number, blanks: number[]): number[] {
  let inline: number[] | undefined;
  for (let at = text.indexOf("]", from); at !== -1 && at < to; at = text.indexOf("]", at + 1)) {
    let c = at - 1;
    while (text.charCodeAt(c) === 32) c--;
    if (text.charCodeAt(c) === 44 && !insideString(text, c)) (inline ??= []).push(c);
  }
  return inline === undefined ? blanks : [...blanks, ...inline].sort((a, b) => a - b);
}

function keysMatch(text: string, offsets: KeyOffsets, keys: string[]): boolean {
  if (offsets.length !== 4 * keys.length) return false;
  for (let i = 0; i < keys.length; i++) if (!keyIs(text, offsets[4 * i], offsets[4 * i + 1], keys[i])) return false;
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The text JSON.parse reads over [from, to): trailing commas (sorted offsets) turned into spaces. */
function withoutCommas(text: string, from: number, to: number, blanks: number[]): string {
  // Concatenation, which JSON.parse flattens in one copy: Array.join measured 0.05x JSON.parse slower.
  let json = "";
  let copied = from;
  for (const at of blanks) {
    if (at < from || at >= to) continue;
    json += text.slice(copied, at) + " ";
    copied = at + 1;
  }
  return json + text.slice(copied, to);
}

/** Reads `text` from `start` (1 past a byte-order mark) when it has Bun's layout; undefined otherwise. */
export function readBunLayout(text: string, start: number): BunLayoutRead | undefined {
  const indent = jsonLayoutIndent(text, start);
  if (indent === undefined) return undefined;
  const { unit, width, firstBreak } = indent;
  const width2 = 2 * width;

  // Offsets of the trailing commas to blank.
  const blanks: number[] = [];
  const top: KeyOffsets = [];
  // Second-level keys of each top-level object written over several lines, by top-level key number.
  const groups: (KeyOffsets | undefined)[] = [];
  let group: KeyOffsets | undefined;
  // The `packages` block: its keys, and the offsets of its "{" and "}".
  let packageKeys: KeyOffsets | undefined;
  let open = -1;
  let close = -1;
  // The last non-blank character before the current line: a comma there is trailing when this line closes.
  let previousEnd = start;
  const n = text.length;
  let line = 1;
  for (let ls = firstBreak + 1; ls < n; line++) {
    let lineEnd = text.indexOf("\n", ls);
    if (lineEnd === -1) lineEnd = n;
    let p = ls;
    while (p < lineEnd && isBlank(text.charCodeAt(p))) p++;
    if (p < lineEnd) {
      let e = lineEnd - 1;
      while (isBlank(text.charCodeAt(e))) e--;
      const c = text.charCodeAt(p);
      const indent = p - ls;
      if (c === 125 /* } */ || c === 93 /* ] */) {
        if (text.charCodeAt(previousEnd) === 44 /* , */) blanks.push(previousEnd);
        if (indent <= width) {
          if (group !== undefined && group === packageKeys && close === -1) close = p;
          group = undefined;
        }
      } else if (c === 34 /* " */ && (indent === width || (indent === width2 && group !== undefined))) {
        const q = closingQuote(text, p, lineEnd);
        if (q === -1) return undefined;
        if (indent === width) {
          top.push(p, q + 1, line, ls);
          group = text.charCodeAt(e) === 123 /* { */ ? [] : undefined;
          groups.push(group);
          if (group !== undefined && packageKeys === undefined && q === p + 9 && text.startsWith("packages", p + 1)) {
            packageKeys = group;
            open = e;
          }
        } else (group as KeyOffsets).push(p, q + 1, line, ls);
      }
      previousEnd = e;
    }
    ls = lineEnd + 1;
  }

  // Bun's `packages` block is read from the text, and JSON.parse reads the rest with the block left empty.
  const table = packageKeys !== undefined && close !== -1 ? readPackagesBlock(text, open, close, packageKeys) : undefined;
  let json: string;
  if (table !== undefined) {
    const commas = addInlineTrailingCommas(text, close, n, addInlineTrailingCommas(text, start, open, blanks));
    json = withoutCommas(text, start, open + 1, commas) + withoutCommas(text, close, n, commas);
  } else json = withoutCommas(text, start, n, addInlineTrailingCommas(text, start, n, blanks));

  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    // Expected for broken or unusual files: the general scanner, then the tolerant reader, take over.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (!isObject(value)) return undefined;
  const topKeys = Object.keys(value);
  if (!keysMatch(text, top, topKeys)) return undefined;
  const topSpans = new Map<string, Range>();
  let packages: PackageTable | undefined;
  let packageOffsets: KeyOffsets = [];
  for (let t = 0; t < topKeys.length; t++) {
    topSpans.set(topKeys[t], rangeAt(top, t));
    const child = value[topKeys[t]];
    const written = groups[t];
    if (!isObject(child)) {
      if (written !== undefined) return undefined;
      continue;
    }
    if (written !== undefined && written === packageKeys && table !== undefined) {
      packages = table;
      packageOffsets = written;
      continue;
    }
    // An object on one line (or laid out otherwise) is only accepted empty: its keys could repeat unseen.
    const keys = Object.keys(child);
    if (written === undefined ? keys.length !== 0 : !keysMatch(text, written, keys)) return undefined;
    if (topKeys[t] === "packages" && written !== undefined) {
      packages = tableFromJson(child, keys);
      packageOffsets = written;
    }
  }
  return { value, topSpans, packages: packages ?? tableFromJson({}, []), packageOffsets };
}
