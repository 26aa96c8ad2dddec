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
