// The fastest way to the entry keys of a package-lock.json as npm writes it.
//
// Hand-written on purpose, and hot: npm writes lockfiles with JSON.stringify and one indent unit, so a key at
// nesting depth d is exactly a line break, d indents and a quote. Finding "\n    \"" with indexOf (a native
// substring search) visits only the ~2,600 entry keys of a 50k-line file instead of its ~70,000 strings,
// which is what keeps parsing within 2x of a bare JSON.parse. Nothing is trusted: the keys found must equal,
// in order, the keys JSON.parse produced, or this returns undefined and the caller runs the general scanner
// (jsonKeyScan.ts), which handles any layout.

import type { NpmKeyLocations, OffsetRange } from "./jsonKeyScan";
import { decodeKey, valueRange } from "./jsonKeyScan";

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

/** Keys of one object whose lines start with `marker` ("\n" + indents + '"'), between `from` and `to`. */
function keysAt(text: string, marker: string, from: number, to: number, expected: string[]): Map<string, OffsetRange> | undefined {
  const found = new Map<string, OffsetRange>();
  let count = 0;
  for (let at = text.indexOf(marker, from); at !== -1 && at < to; at = text.indexOf(marker, at + marker.length)) {
    const start = at + marker.length - 1;
    const end = stringEnd(text, start + 1) + 1;
    if (end === 0) return undefined;
    const key = decodeKey(text.slice(start + 1, end - 1));
    // A repeated key, a key out of place or one JSON.parse did not keep: let the general scanner look.
    if (count >= expected.length || expected[count] !== key) return undefined;
    count++;
    found.set(key, { start, end });
  }
  return count === expected.length ? found : undefined;
}

function countMarkers(text: string, marker: string, from: number, to: number): number {
  let count = 0;
  for (let at = text.indexOf(marker, from); at !== -1 && at < to; at = text.indexOf(marker, at + marker.length)) count++;
  return count;
}

/**
 * Key locations of a lockfile v2/v3 in npm's own layout, checked against the parsed value; undefined when the
 * layout is any other (v1, minified, hand-edited, duplicate keys), so the general scanner decides.
 *
 * Duplicate keys: found at the top level, among `packages` keys and among each entry's own fields (the
 * levels that say what is installed). Deeper repeats (a name twice in one entry's `dependencies`) are left
 * to the general scanner only when something else sends the file there.
 */
export function scanNpmKeysByLayout(text: string, start: number, root: Record<string, unknown>): NpmKeyLocations | undefined {
  if (text.charCodeAt(start) !== 123 /* { */) return undefined;
  const firstBreak = text.indexOf("\n", start);
  if (firstBreak === -1) return undefined;
  let k = firstBreak + 1;
  while (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9) k++;
  const indent = text.slice(firstBreak + 1, k);
  if (indent === "" || text.charCodeAt(k) !== 34) return undefined;

  const top = keysAt(text, `\n${indent}"`, start, text.length, Object.keys(root));
  if (top === undefined) return undefined;
  const packagesKey = top.get("packages");
  const packages = root.packages;
  if (packagesKey === undefined || typeof packages !== "object" || packages === null || Array.isArray(packages)) {
    return undefined;
  }
  const blockEnd = text.indexOf(`\n${indent}}`, packagesKey.end);
  if (blockEnd === -1) return undefined;
  const entries = packages as Record<string, unknown>;
  const entryKeys = Object.keys(entries);
  const found = keysAt(text, `\n${indent}${indent}"`, packagesKey.end, blockEnd, entryKeys);
  if (found === undefined) return undefined;

  // Each entry's fields are the lines one indent deeper; fewer kept than written means a repeated field.
  let fields = 0;
  for (const key of entryKeys) {
    const entry = entries[key];
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return undefined;
    fields += Object.keys(entry).length;
  }
  if (countMarkers(text, `\n${indent}${indent}${indent}"`, packagesKey.end, blockEnd) !== fields) return undefined;

  const versionKey = top.get("lockfileVersion");
  return {
    packages: found,
    v1: new Map(),
    lockfileVersion: versionKey === undefined ? undefined : valueRange(text, versionKey.end),
    keyCount: -1,
    duplicates: [],
  };
}
