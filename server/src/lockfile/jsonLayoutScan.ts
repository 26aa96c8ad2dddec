// The fastest way to the entry keys of a package-lock.json as npm writes it.
//
// Hand-written on purpose, and hot: npm writes lockfiles with JSON.stringify and one indent unit, so a key at
// nesting depth d is a line that starts with d indents and a quote. Jumping from line to line with
// indexOf("\n") and looking at one or two characters of each visits far less than the ~70,000 strings the
// general scanner has to step over; that is what keeps parsing within 2x of a bare JSON.parse.
// Nothing is trusted: the keys found must equal, in order, the keys JSON.parse produced, or this returns
// undefined and the caller runs the general scanner (jsonKeyScan.ts), which handles any layout.

import type { NpmKeyLocations, OffsetRange } from "./jsonKeyScan";
import { decodeKey, valueRange } from "./jsonKeyScan";
import { jsonLayoutIndent } from "./lineIndex";

function stringEnd(text: string, from: number): number {
  let j = text.indexOf('"', from);
  while (j !== -1 && text.charCodeAt(j - 1) === 92) {
    let backslashes = 0;
    for (let k = j - 1; text.charCodeAt(k) === 92; k--) backslashes++;
    if ((backslashes & 1) === 0) break;
    j = text.indexOf('"', j + 1);
  }
  return j;
}

/**
 * Key locations of a lockfile v2/v3 in npm's own layout, checked against the parsed value; undefined when the
 * layout is any other (v1, minified, hand-edited, duplicate keys), so the general scanner decides.
 *
 * One pass over the lines: a line's indent is its depth. Depth 1 lines are top-level keys, depth 2 lines in
 * `packages` are entry keys (their line is recorded, so no line index is needed for them), depth 3 lines are
 * the entries' fields, only counted. Deeper lines are skipped after two character tests.
 *
 * Duplicate keys: caught at the top level and among `packages` keys (the order would not match what JSON.parse
 * kept), and among each entry's own fields: `fieldLines` counts them as written, the model builder counts the
 * fields JSON.parse kept while it reads them, and npm.ts compares the two.
 */
export function scanNpmKeysByLayout(text: string, start: number, root: Record<string, unknown>): NpmKeyLocations | undefined {
  const indent = jsonLayoutIndent(text, start);
  if (indent === undefined) return undefined;
  const { unit, width, firstBreak } = indent;
  const depth2 = 2 * width;
  const depth3 = 3 * width;

  const topKeys = Object.keys(root);
  let topCount = 0;
  const packages = root.packages;
  if (typeof packages !== "object" || packages === null || Array.isArray(packages)) return undefined;
  const entries = packages as Record<string, unknown>;
  const entryKeys = Object.keys(entries);
  // Integer-like keys are the one case where JSON.parse reorders keys; npm never writes them (keys are paths).
  if (entryKeys.length > 0 && /^\d+$/.test(entryKeys[0])) return undefined;
  let entryCount = 0;
  let fieldLines = 0;
  let inPackages = false;
  let seenPackages = false;
  const offsets = new Int32Array(entryKeys.length * 4);
  let lockfileVersion: OffsetRange | undefined;
  let open = -1;
  let close = -1;

  const n = text.length;
  let line = 1;
  for (let ls = firstBreak + 1; ls < n; line++) {
    if (inPackages) {
      // Two or three character tests per line, no loop: in npm's layout the character at depth 2 decides.
      const c2 = text.charCodeAt(ls + depth2);
      if (c2 === unit) {
        // Depth 3: an entry's own field. Deeper lines (dependency maps, engines, bin...) hold nothing to record.
        if (text.charCodeAt(ls + depth3) === 34 && text.charCodeAt(ls + depth3 - 1) === unit) fieldLines++;
      } else if (c2 === 34) {
        if (text.charCodeAt(ls + depth2 - 1) !== unit || text.charCodeAt(ls) !== unit) return undefined;
        const p = ls + depth2;
        if (entryCount >= entryKeys.length) return undefined;
        const expected = entryKeys[entryCount];
        let end = p + expected.length + 2;
        // JSON.parse keeps keys in written order (no integer-like keys here, checked below), less repeats; the
        // counts catch repeats. So the key written here is `expected` when its closing quote and last character
        // are where they should be. A full comparison per key cost a measurable share of the time budget; keys
        // written with escapes have a different length and are decoded and compared in full.
        if (text.charCodeAt(end - 1) !== 34 || text.charCodeAt(end - 2) !== expected.charCodeAt(expected.length - 1) || text.charCodeAt(p + 1) !== expected.charCodeAt(0)) {
          end = stringEnd(text, p + 1) + 1;
          if (end === 0 || decodeKey(text.slice(p + 1, end - 1)) !== expected) return undefined;
        }
        const at = entryCount * 4;
        offsets[at] = p;
        offsets[at + 1] = end;
        offsets[at + 2] = line;
        offsets[at + 3] = ls;
        entryCount++;
      } else if (text.charCodeAt(ls + width) === 125 /* } */ && text.charCodeAt(ls + width - 1) === unit) {
        inPackages = false;
        close = ls + width;
      }
    } else if (text.charCodeAt(ls + width) === 34 && text.charCodeAt(ls + width - 1) === unit && text.charCodeAt(ls) === unit) {
      // A top-level key (deeper lines have an indent character where this one has its quote).
      const p = ls + width;
      const end = stringEnd(text, p + 1) + 1;
      if (end === 0) return undefined;
      const key = decodeKey(text.slice(p + 1, end - 1));
      if (topCount >= topKeys.length || topKeys[topCount] !== key) return undefined;
      topCount++;
      if (key === "packages") {
        const next = text.indexOf("\n", end);
        // `"packages": {` opens a block; `"packages": {}` on one line leaves nothing to find.
        if (next !== -1 && text.slice(end, next).trimEnd().endsWith("{")) {
          inPackages = true;
          open = text.lastIndexOf("{", next);
        }
        seenPackages = true;
      } else if (key === "lockfileVersion") lockfileVersion = valueRange(text, end);
      else if (seenPackages && !inPackages) {
        // Past `packages` only top-level keys matter: jump over a block (v2's legacy `dependencies` tree is
        // half the file) with one native search for its closing line. Line numbers are not needed any more.
        const next = text.indexOf("\n", end);
        const opener = next === -1 ? "" : text.slice(end, next).trimEnd();
        const close = opener.endsWith("{") ? "}" : opener.endsWith("[") ? "]" : "";
        if (close !== "") {
          const closing = text.indexOf(`\n${text.slice(ls, p)}${close}`, next);
          if (closing === -1) return undefined;
          ls = closing + 1;
          continue;
        }
      }
    }
    const next = text.indexOf("\n", ls);
    if (next === -1) break;
    ls = next + 1;
  }
  if (!seenPackages || inPackages || topCount !== topKeys.length || entryCount !== entryKeys.length) return undefined;
  return { packages: new Map(), packageOrder: { keys: entryKeys, offsets, fieldLines, open, close, unit, width }, v1: new Map(), lockfileVersion, keyCount: -1, duplicates: [] };
}
