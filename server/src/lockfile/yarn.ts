import type { ParsedLockfile, ParseProblem } from "./model";
import type { ParseOptions } from "./index";
import { LineIndex } from "./lineIndex";
import { parseYarnClassic } from "./yarnClassic";
import { parseYarnBerry } from "./yarnBerry";
import { maskConflicts } from "./yarnShared";
import { scanBerryYaml } from "./yarnBerryYaml";

// Berry's file always opens with a `__metadata:` mapping at the top level; classic never has one.
const BERRY_METADATA = /^\uFEFF?__metadata:/m;

/** Whether a yarn.lock is Berry's YAML (Yarn 2+) rather than classic v1. */
export function isYarnBerry(text: string): boolean {
  return BERRY_METADATA.test(text);
}

/**
 * A lone CR ends a line for the editor (and in YAML), but the scanners and the line table count LF. The same-length
 * swap keeps every offset, so positions come out as the editor counts them. CRLF stays as it is.
 */
export function loneCrAsLf(text: string): string {
  return text.indexOf("\r") === -1 ? text : text.replace(/\r(?!\n)/g, "\n");
}

/**
 * Parses a yarn.lock of either generation, told apart by content. Never throws: problems (conflict markers,
 * duplicate keys, cut-off entries, unknown versions) come back with positions, with every entry that could be
 * read. Git conflicts are read as git's "ours" side.
 */
export function parseYarnLockfile(original: string, options: ParseOptions): ParsedLockfile {
  const text = loneCrAsLf(original);
  // Positions are computed while scanning; the line table is only built when a problem or the fallback needs it.
  let index: LineIndex | undefined;
  const lines = (): LineIndex => (index ??= new LineIndex(text));
  const bom: ParseProblem[] =
    text.charCodeAt(0) === 0xfeff
      ? [
          {
            range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
            severity: "information",
            code: "byte-order-mark",
            message: "The file starts with a byte-order mark; Yarn does not write one. It is ignored.",
          },
        ]
      : [];
  // Berry is scanned before any conflict check: the scanner meets every marker line anyway, so a clean file (the
  // usual case) is read in one pass; four whole-text searches for markers measured 10% of a Berry parse.
  if (isYarnBerry(text)) {
    const scanProblems: ParseProblem[] = [];
    const records = scanBerryYaml(text, scanProblems);
    if (!("conflicted" in records)) return guarded(text, "yarn-berry", bom, (problems) => parseYarnBerry(text, lines, options, problems, { records, problems: scanProblems }));
  }
  const masked = maskConflicts(text, lines);
  const problems: ParseProblem[] = [...masked.problems, ...bom];
  const berry = isYarnBerry(masked.text);
  return guarded(masked.text, berry ? "yarn-berry" : "yarn-classic", problems, (all) =>
    berry ? parseYarnBerry(masked.text, lines, options, all) : parseYarnClassic(masked.text, lines, options, all),
  );
}

function guarded(text: string, format: "yarn-berry" | "yarn-classic", problems: ParseProblem[], parse: (problems: ParseProblem[]) => ParsedLockfile): ParsedLockfile {
  try {
    return parse(problems);
  } catch (error) {
    // Not expected (the parsers report bad input as problems), but a lockfile must never take the server down.
    problems.push({
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: "error",
      code: "parse-error",
      message: `The lockfile could not be read (${text.length} characters): ${error instanceof Error ? error.message : String(error)}`,
    });
    return { format, lockfileVersion: undefined, entries: [], importers: [], problems };
  }
}
