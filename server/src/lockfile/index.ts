import type { LockfileFormat, ParsedLockfile, Position } from "./model";
import { LineIndex } from "./lineIndex";
import { parseNpmLockfile } from "./npm";
import { reparseNpmLockfile } from "./npmIncremental";
import { parseYarnLockfile } from "./yarn";
import { parsePnpmLockfile } from "./pnpm";
import { parseBunLockfile, binaryBunLockfile } from "./bun";

export * from "./model";

/** A workspace package's declared dependencies, from its package.json (for formats without importers). */
export interface WorkspaceManifest {
  /** Folder relative to the lockfile, "." for the root, POSIX separators. */
  path: string;
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export interface ParseOptions {
  /** package.json of the root and of each workspace, when known. Formats without importers need them. */
  manifests?: WorkspaceManifest[];
}

/** File names the product reads, in the order a folder's lockfiles are preferred. */
export const LOCKFILE_NAMES = [
  "package-lock.json",
  "npm-shrinkwrap.json",
  "yarn.lock",
  "pnpm-lock.yaml",
  "bun.lock",
  "bun.lockb",
] as const;

export function isLockfileName(fileName: string): boolean {
  const base = fileName.replace(/^.*[\\/]/, "");
  return (LOCKFILE_NAMES as readonly string[]).includes(base);
}

/** The format a lockfile name implies; Yarn classic and Berry share a name and are told apart by content. */
export function formatOfName(fileName: string): LockfileFormat | undefined {
  const base = fileName.replace(/^.*[\\/]/, "");
  switch (base) {
    case "package-lock.json":
    case "npm-shrinkwrap.json":
      return "npm";
    case "yarn.lock":
      return "yarn-classic";
    case "pnpm-lock.yaml":
      return "pnpm";
    case "bun.lock":
    case "bun.lockb":
      return "bun";
    default:
      return undefined;
  }
}

/**
 * Parses any supported lockfile. Never throws on bad input: problems come back in `problems`, with as many
 * entries as could be read.
 */
export function parseLockfile(fileName: string, text: string, options: ParseOptions = {}): ParsedLockfile {
  const base = fileName.replace(/^.*[\\/]/, "");
  if (base === "bun.lockb") return binaryBunLockfile();
  // A lone CR ends a line for LSP, VS Code and YAML alike. Turned into LF (same length, so every offset and
  // character stays where it was), the parsers count lines the way the editor shows them.
  const lines = text.includes("\r") ? text.replace(LONE_CR, "\n") : text;
  try {
    const parsed = parseByFormat(base, lines, options);
    if (parsed.problems.length > 0) clampProblems(parsed, lines);
    return parsed;
  } catch (error) {
    // Recursive fallbacks (jsonc-parser, yaml) overflow the stack on absurd nesting; no real lockfile nests so deep.
    if (!(error instanceof RangeError)) throw error;
    const format = formatOfName(base) ?? "npm";
    const at = deepNestingOffset(lines);
    const position = positionOfOffset(lines, at);
    return {
      format: format === "yarn-classic" && lines.includes("__metadata:") ? "yarn-berry" : format,
      lockfileVersion: undefined,
      entries: [],
      importers: [],
      problems: [{
        range: { start: position, end: position },
        severity: "error",
        code: "too-deeply-nested",
        message: "The lockfile nests values far more deeply than any lockfile does, so it could not be read: it is corrupt, or made to crash tools.",
      }],
    };
  }
}

/**
 * The parse of `text` when `previous` is the parse of an earlier text of the same file (the editor's last checked
 * version): the same result as parseLockfile, made from the previous one where an edit allows it (npm lockfiles,
 * npmIncremental.ts; issue #7), else by parsing it all.
 */
export function reparseLockfile(fileName: string, text: string, previous: { text: string; parsed: ParsedLockfile } | undefined, options: ParseOptions = {}): ParsedLockfile {
  // A text with CRs is read with lone CRs turned into LFs (below): line numbers the re-parse does not keep track of.
  const incremental = previous !== undefined && previous.parsed.format === "npm" && formatOfName(fileName) === "npm" && !text.includes("\r") ? reparseNpmLockfile(previous, text) : undefined;
  return incremental ?? parseLockfile(fileName, text, options);
}

const LONE_CR = /\r(?!\n)/g;

/**
 * Library parsers (yaml, jsonc-parser) may end an error's range one character past the end of its line or of the
 * text; an editor rejects or misplaces such a range. Problems are few, so each is checked.
 */
function clampProblems(parsed: ParsedLockfile, text: string): void {
  const index = new LineIndex(text);
  const lastLine = index.lineCount - 1;
  const clamp = (p: Position): Position => {
    const line = Math.min(Math.max(p.line, 0), lastLine);
    const start = index.lineStart(line);
    let end = line === lastLine ? text.length : index.lineStart(line + 1) - 1;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    return { line, character: Math.min(Math.max(line === p.line ? p.character : 0, 0), end - start) };
  };
  for (const problem of parsed.problems) problem.range = { start: clamp(problem.range.start), end: clamp(problem.range.end) };
}
const MAX_SANE_DEPTH = 256;

/** Where brackets first nest deeper than any real lockfile (strings skipped); 0 when they never do. */
function deepNestingOffset(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_SANE_DEPTH) return i;
    } else if (c === 93 || c === 125) depth--;
  }
  return 0;
}

function positionOfOffset(text: string, offset: number): { line: number; character: number } {
  let line = 0;
  let start = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, character: offset - start };
}

function parseByFormat(base: string, text: string, options: ParseOptions): ParsedLockfile {
  switch (formatOfName(base)) {
    case "npm":
      return parseNpmLockfile(text, options);
    case "yarn-classic":
    case "yarn-berry":
      return parseYarnLockfile(text, options);
    case "pnpm":
      return parsePnpmLockfile(text, options);
    case "bun":
      return parseBunLockfile(text, options);
    default:
      throw new Error(`Not a supported lockfile name: ${base}`);
  }
}
