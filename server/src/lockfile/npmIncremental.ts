// Re-parsing a package-lock.json after a small edit without parsing it all again (issue #7: the language server
// re-parses the lockfile on every edit, and a full parse of a 52,771-line file is 30-45 ms plus ~20 MB of garbage).
//
// Only for files the full parse read through npm's own layout (npm.ts's fast path, jsonLayoutScan.ts) with no
// problem at all; the last parse of such a file leaves its layout here. Two kinds of edit are done incrementally:
//   - an edit strictly inside one `packages` entry's braces (a version, integrity or resolved string, a field line
//     added or removed): that entry's object is parsed again on its own and later entries move by the line delta;
//   - an edit inside one string value outside `packages` (the root "name", the v2 legacy `dependencies` tree): the
//     JSON structure and the lines stay the same, and nothing but the root's name can change in the model.
// Anything else (keys, braces, commas, links, workspaces, the root entry, a layout the full scan would read
// differently) returns undefined and the caller parses the whole text. The tests compare both for generated edits.

import type { ParsedLockfile, LockEntry, Range } from "./model";
import type { Json } from "./npmModel";
import { readPackageEntry, type EntryContext } from "./npmModel";
import { installedNameStart, type NodeModulesTree } from "./npmTree";

/** What the last parse of a healthy npm lockfile knows about its text's layout. */
export interface NpmLayout {
  /** `packages` keys in written order; for key i the numbers [start, end, line, lineStart] at offsets[4i..4i+3]. */
  keys: readonly string[];
  offsets: Int32Array;
  /** Offsets of the `packages` block's braces. */
  open: number;
  close: number;
  /** Indent character code and how many make one level. */
  unit: number;
  width: number;
  /** Index in `entries` of key i; -1 for the root key "". */
  entryAt: Int32Array;
  tree: NodeModulesTree;
  /** Entries some link resolves to: their name and version are the link's too. */
  linkTargets: ReadonlySet<string>;
  /** The root importer's name is the top-level "name" (the root entry has none of its own). */
  rootNameFromTop: boolean;
}

const layouts = new WeakMap<ParsedLockfile, NpmLayout>();

/** Called by the full parse (npm.ts) for a file it read through the layout scan with no problem. */
export function rememberLayout(parsed: ParsedLockfile, layout: Omit<NpmLayout, "entryAt">): void {
  const entryAt = new Int32Array(layout.keys.length);
  let j = 0;
  for (let i = 0; i < layout.keys.length; i++) entryAt[i] = layout.keys[i] === "" ? -1 : j++;
  if (j !== parsed.entries.length) return; // Some key gave no entry: not the healthy file this is for.
  layouts.set(parsed, { ...layout, entryAt });
}

/** Whether `parsed` can be the base of an incremental re-parse. */
export function hasLayout(parsed: ParsedLockfile): boolean {
  return layouts.has(parsed);
}

/** The parse of `text`, made from the parse of `previous.text`; undefined when only a full parse can say. */
export function reparseNpmLockfile(previous: { text: string; parsed: ParsedLockfile }, text: string): ParsedLockfile | undefined {
  const layout = layouts.get(previous.parsed);
  if (layout === undefined) return undefined;
  const old = previous.text;
  const start = commonPrefix(old, text);
  if (start === old.length && start === text.length) return remember({ ...previous.parsed }, layout);
  const suffix = commonSuffix(old, text, start);
  const edit: Edit = { start, oldEnd: old.length - suffix, newEnd: text.length - suffix, delta: text.length - old.length };
  // A line break the full parse would read as CRLF (a problem) or turn from a lone CR into LF (index.ts).
  if (text.slice(edit.start, edit.newEnd).includes("\r")) return undefined;
  if (edit.start > layout.open && edit.oldEnd <= layout.close) return entryEdit(previous.parsed, layout, old, text, edit);
  return stringEdit(previous.parsed, layout, old, text, edit);
}

interface Edit {
  /** Where old and new text first differ; oldEnd and newEnd are where the common tail starts in each. */
  start: number;
  oldEnd: number;
  newEnd: number;
  delta: number;
}

function remember(parsed: ParsedLockfile, layout: NpmLayout): ParsedLockfile {
  layouts.set(parsed, layout);
  return parsed;
}

// Slices compared with === run as native memory compares; a character loop over 2 MB costs milliseconds.
const CHUNK = 1 << 14;

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let at = 0;
  while (at + CHUNK <= n && a.slice(at, at + CHUNK) === b.slice(at, at + CHUNK)) at += CHUNK;
  while (at < n && a.charCodeAt(at) === b.charCodeAt(at)) at++;
  return at;
}

/** Length of the common tail, not reaching back over `prefix`. */
function commonSuffix(a: string, b: string, prefix: number): number {
  const n = Math.min(a.length, b.length) - prefix;
  let length = 0;
  while (length + CHUNK <= n && a.slice(a.length - length - CHUNK, a.length - length) === b.slice(b.length - length - CHUNK, b.length - length)) length += CHUNK;
  while (length < n && a.charCodeAt(a.length - length - 1) === b.charCodeAt(b.length - length - 1)) length++;
  return length;
}

function lineBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = text.indexOf("\n", from); at !== -1 && at < to; at = text.indexOf("\n", at + 1)) count++;
  return count;
}

/** The edit is inside the `packages` block: done here when it is strictly inside one ordinary entry's braces. */
function entryEdit(parsed: ParsedLockfile, layout: NpmLayout, old: string, text: string, edit: Edit): ParsedLockfile | undefined {
  const { keys, offsets } = layout;
  const i = keyBefore(offsets, keys.length, edit.start);
  if (i < 0) return undefined;
  const key = keys[i];
  const nameStart = installedNameStart(key);
  const j = layout.entryAt[i];
  // The root and workspace folders are importers too; links and their targets give values to each other.
  if (key === "" || nameStart === -1 || j < 0 || layout.linkTargets.has(key)) return undefined;
  const before = parsed.entries[j];
  if (before.source === "link") return undefined;
  const keyEnd = offsets[4 * i + 1];
  const open = old.indexOf("{", keyEnd);
  if (open === -1 || old.slice(keyEnd, open).trim() !== ":") return undefined;
  const next = i + 1 < keys.length ? offsets[4 * (i + 1)] : layout.close;
  const close = old.lastIndexOf("}", next - 1);
  if (!(edit.start > open && edit.oldEnd <= close)) return undefined;
  // Text outside [open, close] is unchanged, so a valid object there makes the whole text valid JSON again.
  const newClose = close + edit.delta;
  const raw = parseObject(text.slice(open, newClose + 1));
  const was = parseObject(old.slice(open, close + 1));
  if (raw === undefined || was === undefined || raw.link === true) return undefined;
  // The full parse's layout scan must read the entry's lines the same way: no line it would take for an entry key
  // or the end of `packages`, and one field line per field (more would be a repeated field, which it reports).
  const fieldLines = entryFieldLines(text, open, newClose, layout);
  if (fieldLines < 0 || fieldLines !== keyCount(raw) || entryFieldLines(old, open, close, layout) !== keyCount(was)) return undefined;
  const context: EntryContext = { tree: layout.tree, packages: {}, linkTarget: new Map(), fields: 0 };
  const entry = readPackageEntry(key, raw, nameStart, key.slice(nameStart), layout.tree.folder(key), before.range, context);

  const lines = lineBreaks(text, edit.start, edit.newEnd) - lineBreaks(old, edit.start, edit.oldEnd);
  const entries = parsed.entries.slice();
  entries[j] = entry;
  if (lines !== 0) for (let k = j + 1; k < entries.length; k++) entries[k] = moved(entries[k], lines);
  const shifted = shiftOffsets(offsets, i + 1, edit.delta, lines);
  const result: ParsedLockfile = { ...parsed, entries, problems: [] };
  return remember(result, { ...layout, offsets: shifted, close: layout.close + edit.delta });
}

/** The last key starting at or before `offset`; -1 when none does. */
function keyBefore(offsets: Int32Array, count: number, offset: number): number {
  let lo = 0;
  let hi = count - 1;
  if (count === 0 || offsets[0] > offset) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[4 * mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function parseObject(json: string): Json | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    // Expected while someone types: the full parse that follows says where and why.
    void error;
    return undefined;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function keyCount(object: Json): number {
  let count = 0;
  for (const key in object) if (Object.hasOwn(object, key)) count++;
  return count;
}

/**
 * The lines after an entry's key line up to its closing brace, read as jsonLayoutScan.ts reads lines inside
 * `packages` (the same characters at the same indents): the number of field lines, or -1 when a line would be read
 * as an entry key or as the end of `packages`.
 */
function entryFieldLines(text: string, open: number, close: number, layout: NpmLayout): number {
  const { unit, width } = layout;
  const depth2 = 2 * width;
  const depth3 = 3 * width;
  let fields = 0;
  for (let ls = text.indexOf("\n", open) + 1; ls > 0 && ls <= close; ls = text.indexOf("\n", ls) + 1) {
    const c2 = text.charCodeAt(ls + depth2);
    if (c2 === unit) {
      if (text.charCodeAt(ls + depth3) === 34 && text.charCodeAt(ls + depth3 - 1) === unit) fields++;
    } else if (c2 === 34) return -1;
    else if (text.charCodeAt(ls + width) === 125 && text.charCodeAt(ls + width - 1) === unit) return -1;
  }
  return fields;
}

function moved(entry: LockEntry, lines: number): LockEntry {
  const { start, end } = entry.range;
  const range: Range = { start: { line: start.line + lines, character: start.character }, end: { line: end.line + lines, character: end.character } };
  return { ...entry, range };
}

function shiftOffsets(offsets: Int32Array, from: number, delta: number, lines: number): Int32Array {
  const shifted = offsets.slice();
  for (let at = 4 * from; at < shifted.length; at += 4) {
    shifted[at] += delta;
    shifted[at + 1] += delta;
    shifted[at + 2] += lines;
    shifted[at + 3] += delta;
  }
  return shifted;
}

/**
 * The edit is outside every entry: done here when it only changes the characters inside one string value (no
 * quote, backslash or control character taken out or put in, and none in that string), so every token and line
 * stays where it was.
 */
function stringEdit(parsed: ParsedLockfile, layout: NpmLayout, old: string, text: string, edit: Edit): ParsedLockfile | undefined {
  if (!plainChars(old, edit.start, edit.oldEnd) || !plainChars(text, edit.start, edit.newEnd)) return undefined;
  if (edit.start >= layout.open && edit.start <= layout.close) return undefined;
  const lineStart = old.lastIndexOf("\n", edit.start - 1) + 1;
  const token = valueStringAt(old, lineStart, edit);
  if (token === undefined) return undefined;
  let importers = parsed.importers;
  if (layout.rootNameFromTop && isTopLevelKey(old, lineStart, layout, "name")) {
    // The string is the top-level "name": the root importer's name when the root entry has none.
    if (edit.start > layout.open) return undefined; // After `packages`: not where npm writes it; let the full parse decide.
    const name = text.slice(token.open + 1, token.close + edit.delta);
    importers = importers.map((importer) => (importer.path === "." ? { ...importer, name } : importer));
  }
  const before = edit.start < layout.open;
  const offsets = before ? shiftOffsets(layout.offsets, 0, edit.delta, 0) : layout.offsets;
  const result: ParsedLockfile = { ...parsed, importers, problems: [] };
  return remember(result, { ...layout, offsets, open: layout.open + (before ? edit.delta : 0), close: layout.close + (before ? edit.delta : 0) });
}

/** No quote, backslash or control character (line breaks included) in text[from, to). */
function plainChars(text: string, from: number, to: number): boolean {
  for (let at = from; at < to; at++) {
    const c = text.charCodeAt(at);
    if (c === 34 || c === 92 || c < 32) return false;
  }
  return true;
}

/** The string token on the line from `lineStart` whose content holds the edit, when it is a value without escapes. */
function valueStringAt(text: string, lineStart: number, edit: Edit): { open: number; close: number } | undefined {
  // A line of valid JSON starts outside any string (strings cannot hold line breaks), so the line alone is enough.
  const lineEnd = text.indexOf("\n", lineStart);
  const end = lineEnd === -1 ? text.length : lineEnd;
  for (let at = lineStart; at < end; at++) {
    if (text.charCodeAt(at) !== 34) continue;
    let close = at + 1;
    let escaped = false;
    while (close < end && text.charCodeAt(close) !== 34) {
      if (text.charCodeAt(close) === 92) {
        escaped = true;
        close++;
      }
      close++;
    }
    if (close >= end) return undefined;
    if (edit.start > at && edit.oldEnd <= close) {
      let after = close + 1;
      while (text.charCodeAt(after) === 32 || text.charCodeAt(after) === 9) after++;
      return escaped || text.charCodeAt(after) === 58 /* : a key */ ? undefined : { open: at, close };
    }
    at = close;
  }
  return undefined;
}

/** The line is a top-level key `name` as npm writes it (one indent unit deep). */
function isTopLevelKey(text: string, lineStart: number, layout: NpmLayout, name: string): boolean {
  for (let at = lineStart; at < lineStart + layout.width; at++) if (text.charCodeAt(at) !== layout.unit) return false;
  return text.startsWith(`"${name}"`, lineStart + layout.width);
}
