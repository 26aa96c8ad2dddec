import type { ParsedLockfile, ParseProblem } from "./model";
import type { ParseOptions } from "./index";
import { LineIndex } from "./lineIndex";
import { parseYarnClassic } from "./yarnClassic";
import { parseYarnBerry } from "./yarnBerry";
import { maskConflicts } from "./yarnShared";

// Berry's file always opens with a `__metadata:` mapping at the top level; classic never has one.
const BERRY_METADATA = /^\uFEFF?__metadata:/m;

/** Whether a yarn.lock is Berry's YAML (Yarn 2+) rather than classic v1. */
export function isYarnBerry(text: string): boolean {
  return BERRY_METADATA.test(text);
}

/**
 * Parses a yarn.lock of either generation, told apart by content. Never throws: problems (conflict markers,
 * duplicate keys, cut-off entries, unknown versions) come back with positions, with every entry that could be
 * read. Git conflicts are read as git's "ours" side.
 */
export function parseYarnLockfile(text: string, options: ParseOptions): ParsedLockfile {
  // Positions are computed while scanning; the line table is only built when a problem or the fallback needs it.
  let index: LineIndex | undefined;
  const lines = (): LineIndex => (index ??= new LineIndex(text));
  const masked = maskConflicts(text, lines);
  const problems: ParseProblem[] = [...masked.problems];
  if (text.charCodeAt(0) === 0xfeff) {
    problems.push({
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
      severity: "information",
      code: "byte-order-mark",
      message: "The file starts with a byte-order mark; Yarn does not write one. It is ignored.",
    });
  }
  try {
    return isYarnBerry(masked.text)
      ? parseYarnBerry(masked.text, lines, options, problems)
      : parseYarnClassic(masked.text, lines, options, problems);
  } catch (error) {
    // Not expected (the parsers report bad input as problems), but a lockfile must never take the server down.
    problems.push({
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: "error",
      code: "parse-error",
      message: `The lockfile could not be read: ${error instanceof Error ? error.message : String(error)}`,
    });
    const format = isYarnBerry(masked.text) ? "yarn-berry" : "yarn-classic";
    return { format, lockfileVersion: undefined, entries: [], importers: [], problems };
  }
}
