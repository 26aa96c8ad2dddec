// What every parser must hold on any input (issue #8): nothing escapes, every problem is a diagnostic with a real
// position and a message, every entry sits inside the text. Pure, so it runs in the fuzz worker and in unit tests.
import { parseLockfile, type ParsedLockfile, type Range } from "../../server/src/lockfile/index";

/** Line lengths as the Language Server Protocol counts them: CRLF, CR and LF all end a line. */
export function lineLengths(text: string): number[] {
  const lengths: number[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      lengths.push(i - start);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
  }
  lengths.push(text.length - start);
  return lengths;
}

function positionProblem(where: string, range: unknown, lengths: number[]): string | undefined {
  if (typeof range !== "object" || range === null) return `${where}: no range`;
  const { start, end } = range as Partial<Range>;
  for (const [label, p] of [["start", start], ["end", end]] as const) {
    if (p === undefined || !Number.isInteger(p.line) || !Number.isInteger(p.character)) return `${where}: ${label} is not a position (${JSON.stringify(p)})`;
    if (p.line < 0 || p.line >= lengths.length) return `${where}: ${label} line ${p.line} is outside the text (${lengths.length} lines)`;
    if (p.character < 0 || p.character > lengths[p.line]) {
      return `${where}: ${label} character ${p.character} is outside line ${p.line} (length ${lengths[p.line]})`;
    }
  }
  if (start!.line > end!.line || (start!.line === end!.line && start!.character > end!.character)) {
    return `${where}: start ${JSON.stringify(start)} is after end ${JSON.stringify(end)}`;
  }
  return undefined;
}

/** Every broken invariant of one parse result, in words; empty when the result is sound. */
export function invariantFailures(text: string, parsed: ParsedLockfile): string[] {
  const failures: string[] = [];
  const lengths = lineLengths(text);
  if (!Array.isArray(parsed.problems) || !Array.isArray(parsed.entries)) return ["the result has no problems or entries array"];
  for (const [i, problem] of parsed.problems.entries()) {
    const where = `problem ${i} (${problem.code}: ${String(problem.message).slice(0, 80)})`;
    const bad = positionProblem(where, problem.range, lengths);
    if (bad !== undefined) failures.push(bad);
    if (typeof problem.message !== "string" || problem.message.trim() === "") failures.push(`${where}: empty message`);
    if (typeof problem.code !== "string" || problem.code === "") failures.push(`${where}: empty code`);
    if (!["error", "warning", "information"].includes(problem.severity)) failures.push(`${where}: severity ${String(problem.severity)}`);
  }
  for (const [i, entry] of parsed.entries.entries()) {
    const bad = positionProblem(`entry ${i} (${entry.id})`, entry.range, lengths);
    if (bad !== undefined) failures.push(bad);
    if (typeof entry.name !== "string" || typeof entry.version !== "string") failures.push(`entry ${i} (${entry.id}): name or version is not a string`);
  }
  return failures.slice(0, 5);
}

/** Parses and checks; an exception is a failure like any other, with its stack top. */
export function checkParse(fileName: string, text: string): { failures: string[]; entries: number; problems: number } {
  let parsed: ParsedLockfile;
  try {
    parsed = parseLockfile(fileName, text);
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}\n${(error.stack ?? "").split("\n").slice(1, 4).join("\n")}` : String(error);
    return { failures: [`threw ${detail}`], entries: 0, problems: 0 };
  }
  return { failures: invariantFailures(text, parsed), entries: parsed.entries?.length ?? 0, problems: parsed.problems?.length ?? 0 };
}
