// Small helpers the hand-written YAML scanners (pnpm, Yarn Berry) share.

/**
 * Whether the text from a to aEnd sorts after the text from b to bEnd (`>` on the two strings, UTF-16 order).
 * Compared in the text, not as sliced keys: `<=` on two different slices of a text is a runtime call in V8 (~80 ns),
 * and the sort checks run on every key and dependency (~5% of a Berry parse); this loop reads the flat text directly.
 */
export function spanAfter(text: string, a: number, aEnd: number, b: number, bEnd: number): boolean {
  const n = aEnd - a < bEnd - b ? aEnd - a : bEnd - b;
  for (let k = 0; k < n; k++) {
    const x = text.charCodeAt(a + k);
    const y = text.charCodeAt(b + k);
    if (x !== y) return x > y;
  }
  return aEnd - a > bEnd - b;
}

/** The first n strings of a scratch list, in a list of their own (sized exactly: no growth, no slack). */
export function listOf(scratch: string[], n: number): string[] {
  const list = new Array<string>(n);
  for (let k = 0; k < n; k++) list[k] = scratch[k];
  return list;
}
