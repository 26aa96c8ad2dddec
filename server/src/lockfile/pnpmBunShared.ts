// Text preparation and graph helpers shared by the pnpm and Bun parsers (both are text formats whose
// bad-input cases - BOM, CRLF, merge conflicts, truncation - are reported the same way).
import { LineIndex, lineRange } from "./lineIndex";
import type { Importer, LockEntry, ParseProblem, ProblemSeverity, Range } from "./model";
import { findConflictMarkers } from "./textChecks";

export function problem(range: Range, severity: ProblemSeverity, code: string, message: string): ParseProblem {
  return { range, severity, code, message };
}

export interface PreparedText {
  /** Same length as the input, offsets unchanged; conflict markers and "their" side blanked to spaces. */
  text: string;
  /** Where content starts (1 after a byte-order mark). */
  start: number;
  /** Built on first use: the scanners count lines themselves, so most parses never need it. */
  index: () => LineIndex;
  problems: ParseProblem[];
}

/**
 * Finds the text-level problems every text lockfile can have, and returns a text the readers can scan. The
 * returned text keeps every offset of the original, so ranges computed on it are ranges in the original.
 */
export function prepareLockText(text: string, tool: string): PreparedText {
  let built: LineIndex | undefined;
  const lazyIndex = (): LineIndex => (built ??= new LineIndex(text));
  const problems: ParseProblem[] = [];
  let start = 0;
  if (text.charCodeAt(0) === 0xfeff) {
    start = 1;
    problems.push(
      problem(lazyIndex().range(0, 1), "warning", "byte-order-mark", `The file starts with a byte-order mark, which ${tool} never writes. It was ignored; save the file as UTF-8 without BOM.`),
    );
  }
  const crlf = text.indexOf("\r\n");
  if (crlf !== -1) {
    problems.push(
      problem(lineRange(lazyIndex(), lazyIndex().position(crlf).line), "information", "crlf-line-endings", `The file has CRLF line endings; ${tool} writes LF (a git autocrlf setting may have converted it). It was read anyway.`),
    );
  }
  const conflicts = mayHaveConflict(text) ? findConflictMarkers(lazyIndex()) : [];
  problems.push(...conflicts);
  if (text.length > start && text.charCodeAt(text.length - 1) !== 10) {
    problems.push(
      problem(lineRange(lazyIndex(), lazyIndex().lineCount - 1), "warning", "truncated", `The file does not end with a newline, which ${tool} always writes: it may be truncated. Entries after this point are missing.`),
    );
  }
  return { text: conflicts.length === 0 ? text : keepOurSide(text), start, index: lazyIndex, problems };
}

/**
 * Cheap pre-check before the line-anchored regex of findConflictMarkers. Every conflict opens with a
 * `<<<<<<<` line; "=======" is not searched for because base64 integrities are full of "=".
 */
function mayHaveConflict(text: string): boolean {
  // "<<<<<<<" alone, then the line start checked: searching "\n<<<<<<<" stops at every line end (0.5 ms on the corpus).
  for (let at = text.indexOf("<<<<<<<"); at !== -1; at = text.indexOf("<<<<<<<", at + 1)) {
    if (at === 0 || text.charCodeAt(at - 1) === 10) return true;
  }
  return false;
}

/**
 * Blanks conflict marker lines and the lines between `=======` and `>>>>>>>` ("theirs"), so the reader sees
 * one consistent side (ours, as git checks it out) instead of every key twice.
 */
function keepOurSide(text: string): string {
  const lines = text.split("\n");
  let theirs = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("<<<<<<<")) lines[i] = " ".repeat(line.length);
    else if (line.startsWith("=======")) {
      theirs = true;
      lines[i] = " ".repeat(line.length);
    } else if (line.startsWith(">>>>>>>")) {
      theirs = false;
      lines[i] = " ".repeat(line.length);
    } else if (theirs) lines[i] = " ".repeat(line.length);
  }
  return lines.join("\n");
}

/**
 * For formats that do not record them (pnpm 9: dev; Bun: dev and optional): an entry is `dev` when only
 * devDependencies reach it, `optional` when only optional edges do (`optionalEdges` given). Entries nothing
 * reaches keep no flag. Index-based breadth-first walks, as this runs on every parse of thousands of entries.
 */
export function markDevAndOptional(entries: LockEntry[], importers: Importer[], optionalEdges?: Map<string, Set<string>>): void {
  // Plain loops, no callback per entry: under tsx every closure created also gets a `__name` property defined.
  const count = entries.length;
  const indexOf = new Map<string, number>();
  for (let i = 0; i < count; i++) indexOf.set(entries[i].id, i);
  const deps: number[][] = new Array<number[]>(count);
  for (let i = 0; i < count; i++) {
    const ids = entries[i].dependencies;
    const edges = new Array<number>(ids.length);
    for (let k = 0; k < ids.length; k++) edges[k] = indexOf.get(ids[k]) ?? -1;
    deps[i] = edges;
  }
  let required = deps;
  if (optionalEdges !== undefined) {
    required = new Array<number[]>(count);
    for (let i = 0; i < count; i++) {
      const skip = optionalEdges.get(entries[i].id);
      if (skip === undefined) {
        required[i] = deps[i];
        continue;
      }
      const ids = entries[i].dependencies;
      const kept: number[] = [];
      for (let k = 0; k < ids.length; k++) if (!skip.has(ids[k])) kept.push(deps[i][k]);
      required[i] = kept;
    }
  }
  const walk = (roots: number[], edges: number[][]): Uint8Array => walkFrom(roots, edges, count);
  const prodRoots: number[] = [];
  const devRoots: number[] = [];
  const requiredRoots: number[] = [];
  for (const importer of importers) {
    for (const dep of importer.dependencies) {
      const i = dep.entryId === undefined ? -1 : indexOf.get(dep.entryId) ?? -1;
      (dep.dev === true ? devRoots : prodRoots).push(i);
      if (dep.optional !== true) requiredRoots.push(i);
    }
  }
  const prod = walk(prodRoots, deps);
  const dev = walk(devRoots, deps);
  const any = optionalEdges === undefined ? undefined : walk([...prodRoots, ...devRoots], deps);
  const needed = optionalEdges === undefined ? undefined : walk(requiredRoots, required);
  for (let i = 0; i < count; i++) {
    const entry = entries[i];
    if (prod[i] === 0 && dev[i] === 1) entry.dev = true;
    if (needed !== undefined && any !== undefined && needed[i] === 0 && any[i] === 1) entry.optional = true;
  }
}

/**
 * pnpm 9's dev flags from a graph already resolved to entry indexes (-1: unresolved): `dev` when only
 * devDependency roots reach an entry. The same rule as markDevAndOptional without optional edges.
 */
export function markDevByIndexes(entries: LockEntry[], edges: number[][], prodRoots: number[], devRoots: number[]): void {
  // One walk carrying two bits (reached from production roots, from dev roots): an entry is queued again only when it
  // gains a bit, so most are visited once instead of once per walk.
  const state = new Uint8Array(entries.length);
  const queue: number[] = [];
  for (let k = 0; k < prodRoots.length; k++) {
    const r = prodRoots[k];
    if (r >= 0 && (state[r] & 1) === 0) (state[r] |= 1), queue.push(r);
  }
  for (let k = 0; k < devRoots.length; k++) {
    const r = devRoots[k];
    if (r >= 0 && (state[r] & 2) === 0) (state[r] |= 2), queue.push(r);
  }
  for (let q = 0; q < queue.length; q++) {
    const bits = state[queue[q]];
    const next = edges[queue[q]];
    for (let k = 0; k < next.length; k++) {
      const n = next[k];
      if (n >= 0 && (bits & ~state[n]) !== 0) (state[n] |= bits), queue.push(n);
    }
  }
  for (let i = 0; i < entries.length; i++) if (state[i] === 2) entries[i].dev = true;
}

/** Breadth-first reachability over entry indexes (-1 edges lead nowhere). */
function walkFrom(roots: number[], edges: number[][], count: number): Uint8Array {
  const seen = new Uint8Array(count);
  const queue: number[] = [];
  for (const r of roots) if (r >= 0 && seen[r] === 0) (seen[r] = 1), queue.push(r);
  for (let q = 0; q < queue.length; q++) {
    const next = edges[queue[q]];
    for (let k = 0; k < next.length; k++) {
      const n = next[k];
      if (n >= 0 && seen[n] === 0) (seen[n] = 1), queue.push(n);
    }
  }
  return seen;
}

/**
 * `a/b/../c` -> `a/c`, relative to a POSIX folder ("." for the root). Walks the segments with indexOf instead of
 * split/join: pnpm calls it for every `link:` reference of every importer (about 900 in the pnpm corpus file).
 */
export function joinPosix(folder: string, relative: string): string {
  // pnpm's usual form: some `../`, then a path without `.` segments or empty ones. The folder loses as many trailing
  // segments and the rest is appended, without walking it: when every segment goes, the result is a slice of the
  // reference (no concatenated string to flatten when it is hashed as a Map key).
  let ups = 0;
  while (relative.charCodeAt(ups * 3) === 46 && relative.charCodeAt(ups * 3 + 1) === 46 && relative.charCodeAt(ups * 3 + 2) === 47) ups++;
  const restStart = ups * 3;
  if (
    restStart < relative.length &&
    relative.charCodeAt(restStart) !== 46 &&
    relative.charCodeAt(restStart) !== 47 &&
    relative.indexOf("/.", restStart) === -1 &&
    relative.indexOf("//", restStart) === -1 &&
    relative.charCodeAt(relative.length - 1) !== 47
  ) {
    let keep = folder === "." ? 0 : folder.length;
    for (let k = 0; k < ups && keep > 0; k++) keep = Math.max(0, folder.lastIndexOf("/", keep - 1));
    const rest = restStart === 0 ? relative : relative.slice(restStart);
    return keep === 0 ? rest : `${folder.slice(0, keep)}/${rest}`;
  }
  let out = folder === "." ? "" : folder;
  for (let from = 0; from <= relative.length; ) {
    let slash = relative.indexOf("/", from);
    if (slash === -1) slash = relative.length;
    const length = slash - from;
    if (length === 2 && relative.charCodeAt(from) === 46 && relative.charCodeAt(from + 1) === 46) {
      out = out.slice(0, Math.max(0, out.lastIndexOf("/")));
    } else if (length > 0 && !(length === 1 && relative.charCodeAt(from) === 46)) {
      const part = relative.slice(from, slash);
      out = out === "" ? part : `${out}/${part}`;
    }
    from = slash + 1;
  }
  return out === "" ? "." : out;
}
