// package-lock.json (v1, v2, v3) and npm-shrinkwrap.json (same format).
// https://docs.npmjs.com/cli/configuring-npm/package-lock-json
//
// Fast path: JSON.parse for the values, then the layout scan (jsonLayoutScan.ts) or the general key scanner
// (jsonKeyScan.ts) for positions. Slow path, for broken text: jsonc-parser (jsonFallback.ts), which also
// locates syntax errors and keeps whatever is readable.

import type { ParsedLockfile, ParseProblem, Range } from "./model";
import type { ParseOptions } from "./index";
import { LineIndex, lineRange } from "./lineIndex";
import { findConflictMarkers } from "./textChecks";
import type { DuplicateKey, NpmKeyLocations, OffsetRange } from "./jsonKeyScan";
import { countParsedKeys, scanNpmKeys } from "./jsonKeyScan";
import { scanNpmKeysByLayout } from "./jsonLayoutScan";
import { parseJsonWithLibrary } from "./jsonFallback";
import type { OffsetProblem } from "./npmModel";
import { buildFromPackages, buildFromV1Tree } from "./npmModel";
import { rememberLayout } from "./npmIncremental";

const KNOWN_VERSIONS = new Set([1, 2, 3]);
const MAX_SYNTAX_PROBLEMS = 20;

export function parseNpmLockfile(text: string, options: ParseOptions): ParsedLockfile {
  return parseNpm(text, options, false);
}

/** The same parse through jsonc-parser only: the reference the fast path is tested against. */
export function parseNpmLockfileWithLibrary(text: string, options: ParseOptions): ParsedLockfile {
  return parseNpm(text, options, true);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The text with only the "ours" side of each merge conflict, same length and line breaks as the original so
 * every offset still points at the same place. npm itself resolves lockfile conflicts by reading both sides;
 * we show the side the person is on and say so.
 */
export function oursSide(text: string): string {
  const lines = text.split("\n");
  let state: "outside" | "ours" | "base" | "theirs" = "outside";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let blank = state === "base" || state === "theirs";
    if (line.startsWith("<<<<<<<")) {
      state = "ours";
      blank = true;
    } else if (state !== "outside" && line.startsWith("|||||||")) {
      state = "base";
      blank = true;
    } else if (state !== "outside" && line.startsWith("=======")) {
      state = "theirs";
      blank = true;
    } else if (state !== "outside" && line.startsWith(">>>>>>>")) {
      state = "outside";
      blank = true;
    }
    if (blank) lines[i] = line.replace(/[^\r]/g, " ");
  }
  return lines.join("\n");
}

// '<' and '>' are rare in lockfiles, so these searches are quick; "\n<<<<<<<" would stop at every line break.
function mayHaveConflict(text: string): boolean {
  for (let at = text.indexOf("<"); at !== -1; at = text.indexOf("<", at + 1)) if (text.startsWith("<<<<<<<", at)) return true;
  return false;
}

/** Fast path: values from JSON.parse, positions from a scanner. Undefined when the library must do it. */
function parseFast(body: string, start: number): { root: unknown; locations: NpmKeyLocations } | undefined {
  let root: unknown;
  try {
    root = JSON.parse(body);
  } catch (error) {
    // Expected for broken files: the library parse that follows reports where and why.
    void error;
    return undefined;
  }
  if (!isPlainObject(root)) return { root, locations: { packages: new Map(), v1: new Map(), keyCount: 0, duplicates: [] } };
  const byLayout = scanNpmKeysByLayout(body, start, root);
  if (byLayout !== undefined) return { root, locations: byLayout };
  const scanned = scanNpmKeys(body, start, false);
  if (scanned === undefined) return undefined;
  // More keys written than JSON.parse kept: some are repeated. Scan again, this time naming them.
  if (scanned.keyCount !== countParsedKeys(root)) {
    const named = scanNpmKeys(body, start, true);
    return named === undefined ? undefined : { root, locations: named };
  }
  return { root, locations: scanned };
}

function parseNpm(text: string, options: ParseOptions, libraryOnly: boolean): ParsedLockfile {
  let index: LineIndex | undefined;
  const lines = (): LineIndex => (index ??= new LineIndex(text));
  // Entry keys found by the layout scan know their line: no line index is built for a healthy file.
  const toRange = ({ start, end, line, lineStart }: OffsetRange): Range =>
    line !== undefined && lineStart !== undefined
      ? { start: { line, character: start - lineStart }, end: { line, character: end - lineStart } }
      : lines().range(start, end);
  const problems: ParseProblem[] = [];
  const located = (p: OffsetProblem): ParseProblem => ({ range: toRange(p), severity: p.severity, code: p.code, message: p.message });

  let body = text;
  let start = 0;
  if (text.charCodeAt(0) === 0xfeff) {
    problems.push(
      located({ start: 0, end: 1, severity: "information", code: "byte-order-mark", message: "The file starts with a UTF-8 byte order mark. It was skipped, as npm does; some other tools reject it." }),
    );
    // Same length, so offsets into `body` are offsets into `text`.
    body = ` ${text.slice(1)}`;
    start = 1;
  }
  const crlf = text.indexOf("\r\n");
  if (crlf !== -1) {
    problems.push({
      range: lineRange(lines(), lines().position(crlf).line),
      severity: "information",
      code: "crlf-line-endings",
      message: "Lines end with CRLF (first here). Read as usual; npm keeps a file's line endings, so this is a note, not an error.",
    });
  }

  let root: unknown;
  let locations: NpmKeyLocations;
  let damaged: ReadonlySet<string> = new Set();
  let fast = libraryOnly ? undefined : parseFast(body, start);
  // Text JSON.parse accepts cannot hold a conflict marker line, so markers are only looked for after a failure.
  if (fast === undefined && mayHaveConflict(text)) {
    const markers = findConflictMarkers(lines());
    if (markers.length > 0) {
      problems.push(...markers);
      problems.push({
        range: markers[0].range,
        severity: "information",
        code: "merge-conflict-side",
        message: "Until the conflict is resolved, the entries shown are those of the current side (between <<<<<<< and =======).",
      });
      body = oursSide(body);
      if (!libraryOnly) fast = parseFast(body, start);
    }
  }
  if (fast !== undefined) {
    root = fast.root;
    locations = fast.locations;
  } else {
    const library = parseJsonWithLibrary(body);
    root = library.value;
    locations = library.locations;
    damaged = library.damaged;
    for (const error of library.errors.slice(0, MAX_SYNTAX_PROBLEMS)) {
      problems.push(located({ ...error, severity: "error", code: "parse-error" }));
    }
    if (library.errors.length > MAX_SYNTAX_PROBLEMS) {
      const last = library.errors[MAX_SYNTAX_PROBLEMS];
      problems.push(located({ ...last, severity: "error", code: "parse-error", message: `${library.errors.length - MAX_SYNTAX_PROBLEMS} more syntax errors not listed.` }));
    }
  }

  const duplicateProblem = (duplicate: DuplicateKey): ParseProblem => {
    const where = duplicate.path.length === 0 ? "at the top level" : `in ${duplicate.path.map((k) => `"${k}"`).join(" > ")}`;
    const firstLine = lines().position(duplicate.first.start).line + 1;
    return located({
      ...duplicate.second,
      severity: "warning",
      code: "duplicate-key",
      message: `The key "${duplicate.key}" is written twice ${where}. This later one wins (as in npm and JSON.parse); the one on line ${firstLine} is ignored.`,
    });
  };
  for (const duplicate of locations.duplicates) problems.push(duplicateProblem(duplicate));

  const result: ParsedLockfile = { format: "npm", lockfileVersion: undefined, entries: [], importers: [], problems };
  if (!isPlainObject(root)) {
    if (fast !== undefined || root !== undefined) {
      problems.push(located({ start, end: text.length, severity: "error", code: "not-an-object", message: "A package-lock.json must be one JSON object; this is not." }));
    } else if (!problems.some((p) => p.code === "parse-error")) {
      problems.push(located({ start, end: text.length, severity: "error", code: "parse-error", message: "Not JSON: nothing could be read." }));
    }
    return result;
  }

  const version = root.lockfileVersion;
  result.lockfileVersion = typeof version === "number" || typeof version === "string" ? version : undefined;
  if (typeof version !== "number" || !KNOWN_VERSIONS.has(version)) {
    const at = locations.lockfileVersion ?? { start, end: Math.min(start + 1, text.length) };
    const said = version === undefined ? "There is no lockfileVersion" : `lockfileVersion ${JSON.stringify(version)} is not one this reader knows (1, 2 or 3)`;
    problems.push(located({ ...at, severity: "warning", code: "unknown-lockfile-version", message: `${said}; what looks readable was read anyway.` }));
  }

  const input = { root, locations, damaged, manifests: options.manifests, toRange };
  // v2 carries both `packages` and the legacy `dependencies` tree for old npm versions: `packages` is the truth.
  let model = isPlainObject(root.packages)
    ? buildFromPackages(root.packages, input)
    : isPlainObject(root.dependencies)
      ? buildFromV1Tree(root.dependencies, input)
      : undefined;
  const order = locations.packageOrder;
  const sameLayout = order !== undefined && model !== undefined && model.fieldCount === order.fieldLines;
  if (model !== undefined && order !== undefined && isPlainObject(root.packages) && model.fieldCount !== order.fieldLines) {
    // More entry fields written than JSON.parse kept: one is repeated. The general scanner names it.
    const named = scanNpmKeys(body, start, true);
    if (named !== undefined) {
      for (const duplicate of named.duplicates) problems.push(duplicateProblem(duplicate));
      model = buildFromPackages(root.packages, { ...input, locations: named });
    }
  }
  if (model === undefined) {
    problems.push(located({ start, end: Math.min(start + 1, text.length), severity: "warning", code: "no-packages", message: "Neither `packages` nor `dependencies` is here: no locked packages to show." }));
    return result;
  }
  result.entries = model.entries;
  result.importers = model.importers;
  for (const p of model.problems) problems.push(located(p));
  if (sameLayout && order !== undefined && model.tree !== undefined && model.linkTargets !== undefined && problems.length === 0 && order.close > order.open) {
    // The next edit of this text can re-parse only what it touched (npmIncremental.ts).
    const rootEntry = (root.packages as Record<string, unknown>)[""];
    const rootNameFromTop = isPlainObject(rootEntry) && typeof rootEntry.name !== "string";
    rememberLayout(result, { keys: order.keys, offsets: order.offsets, open: order.open, close: order.close, unit: order.unit, width: order.width, tree: model.tree, linkTargets: model.linkTargets, rootNameFromTop });
  }
  return result;
}
