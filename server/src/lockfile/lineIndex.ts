import type { Position, Range } from "./model";

/**
 * Offset -> line/character for one text. Line starts are found with indexOf, which is much faster than a
 * per-character loop on multi-megabyte lockfiles; lookups are a binary search.
 */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) this.starts.push(i + 1);
  }

  get lineCount(): number {
    return this.starts.length;
  }

  position(offset: number): Position {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - starts[lo] };
  }

  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(end) };
  }

  /** Offset of the first character of a zero-based line (the text length past the last line). */
  lineStart(line: number): number {
    return line < this.starts.length ? this.starts[line] : this.text.length;
  }
}

/** A zero-width or whole-line range at a line, for problems that are about a line. */
export function lineRange(index: LineIndex, line: number): Range {
  const start = index.lineStart(line);
  let end = index.lineStart(line + 1);
  if (end > start && index.text.charCodeAt(end - 1) === 10) end--;
  if (end > start && index.text.charCodeAt(end - 1) === 13) end--;
  return index.range(start, end);
}

/**
 * The indentation of a JSON document written with JSON.stringify-style layout (npm's and Bun's lockfiles): the
 * character (space or tab) and how many of it make one level, read from the line after the opening `{` at `start`.
 * `firstBreak` is the offset of the first line break. undefined when the text is not laid out that way (the layout scanners then hand over to a general one).
 */
export function jsonLayoutIndent(text: string, start: number): { unit: number; width: number; firstBreak: number } | undefined {
  if (text.charCodeAt(start) !== 123 /* { */) return undefined;
  const firstBreak = text.indexOf("\n", start);
  if (firstBreak === -1) return undefined;
  const unit = text.charCodeAt(firstBreak + 1);
  if (unit !== 32 && unit !== 9) return undefined;
  let width = 1;
  while (text.charCodeAt(firstBreak + 1 + width) === unit) width++;
  return { unit, width, firstBreak };
}
