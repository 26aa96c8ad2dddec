// Seeded mutations of lockfile text for the parser fuzz test. Pure: the same seed and input give the same output,
// so any failing case can be rebuilt from the seed and its index alone.

/** sfc32: small, fast and good enough for fuzzing; Math.random cannot be seeded. */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
  let c = 0xb7e15162 ^ Math.imul(seed, 0xc2b2ae35);
  let d = 1;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const out = (t + d) | 0;
    c = (c + out) | 0;
    return (out >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // let weak seeds mix before use
  return next;
}

/** A per-case seed: case i of run `seed` is the same whatever ran before it. */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export type Random = () => number;
const int = (rnd: Random, max: number): number => Math.floor(rnd() * max);
const pick = <T>(rnd: Random, list: readonly T[]): T => list[int(rnd, list.length)];

export type MutationName =
  | "byte-flip"
  | "truncate"
  | "duplicate-lines"
  | "delete-lines"
  | "crlf"
  | "bom"
  | "conflict-markers"
  | "huge-value"
  | "deep-nesting"
  | "random-unicode"
  | "swap-lines"
  | "lone-cr";

type Mutator = (text: string, rnd: Random) => string;

function lines(text: string): string[] {
  return text.split("\n");
}

// Flips bits in the UTF-8 bytes, then decodes as an editor would (invalid sequences become U+FFFD).
const byteFlip: Mutator = (text, rnd) => {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length === 0) return text;
  const flips = 1 + int(rnd, 8);
  for (let i = 0; i < flips; i++) bytes[int(rnd, bytes.length)] ^= 1 << int(rnd, 8);
  return bytes.toString("utf8");
};

const truncate: Mutator = (text, rnd) => text.slice(0, int(rnd, text.length + 1));

const duplicateLines: Mutator = (text, rnd) => {
  const all = lines(text);
  const at = int(rnd, all.length);
  const count = 1 + int(rnd, 12);
  const block = all.slice(at, at + count);
  all.splice(int(rnd, all.length + 1), 0, ...block);
  return all.join("\n");
};

const deleteLines: Mutator = (text, rnd) => {
  const all = lines(text);
  all.splice(int(rnd, all.length), 1 + int(rnd, 12));
  return all.join("\n");
};

const crlf: Mutator = (text, rnd) => (rnd() < 0.7 ? text.replace(/\r?\n/g, "\r\n") : text.replace(/\n/g, () => (rnd() < 0.5 ? "\r\n" : "\n")));

// A BOM as Windows editors write it (twice is a case too: the second one is content).
const bom: Mutator = (text) => `\uFEFF${text}`;

// Git's markers around a region, with "theirs" a mutated copy of "ours" (what a bad merge leaves behind).
const conflictMarkers: Mutator = (text, rnd) => {
  const all = lines(text);
  const at = int(rnd, all.length);
  const ours = all.slice(at, at + 1 + int(rnd, 10));
  const theirs = ours.map((l) => (rnd() < 0.5 ? l.replace(/\d/g, (d) => String((Number(d) + 1) % 10)) : l));
  const diff3 = rnd() < 0.3 ? ["||||||| merged common ancestors", ...ours] : [];
  all.splice(at, ours.length, "<<<<<<< HEAD", ...ours, ...diff3, "=======", ...theirs, ">>>>>>> feature/branch");
  return all.join("\n");
};

// A very long value on a random line: in a quoted string, a number, or bare.
const hugeValue: Mutator = (text, rnd) => {
  const all = lines(text);
  const at = int(rnd, all.length);
  const size = pick(rnd, [10_000, 100_000, 1_000_000]);
  const huge = pick(rnd, [
    () => `"${"a".repeat(size)}"`,
    () => "9".repeat(size),
    () => `sha512-${"A".repeat(size)}==`,
    () => "x".repeat(size),
  ])();
  const line = all[at];
  const cut = int(rnd, line.length + 1);
  all[at] = line.slice(0, cut) + huge + line.slice(cut);
  return all.join("\n");
};

// Nesting deep enough to break a recursive parser: JSON arrays/objects, YAML flow and block forms.
const deepNesting: Mutator = (text, rnd) => {
  const depth = pick(rnd, [100, 1_000, 10_000, 50_000]);
  const all = lines(text);
  const at = int(rnd, all.length + 1);
  const nest = pick(rnd, [
    () => "[".repeat(depth) + "]".repeat(depth),
    () => '{"a":'.repeat(depth) + "1" + "}".repeat(depth),
    () => "[".repeat(depth),
    () => `x: ${"{a: ".repeat(depth)}1${"}".repeat(depth)}`,
    () => Array.from({ length: Math.min(depth, 2_000) }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n"),
  ])();
  all.splice(at, 0, nest);
  return all.join("\n");
};

const UNICODE = ["\u0000", "\u200B", "\u202E", "\uD800", "\uDC00", "\uFFFD", "\uFEFF", "😀", "\u2028", "\u2029", "é", "\u0085", "\t", "\u000B", "\u000C"];

const randomUnicode: Mutator = (text, rnd) => {
  const chars = Array.from({ length: 1 + int(rnd, 16) }, () =>
    rnd() < 0.6 ? pick(rnd, UNICODE) : String.fromCodePoint(int(rnd, 0x110000)),
  );
  let out = text;
  for (const c of chars) {
    const at = int(rnd, out.length + 1);
    out = rnd() < 0.5 ? out.slice(0, at) + c + out.slice(at) : out.slice(0, at) + c + out.slice(at + 1);
  }
  return out;
};

const swapLines: Mutator = (text, rnd) => {
  const all = lines(text);
  const i = int(rnd, all.length);
  const j = int(rnd, all.length);
  [all[i], all[j]] = [all[j], all[i]];
  return all.join("\n");
};

// Old Mac line ends: the Language Server Protocol counts a lone CR as a line break.
const loneCr: Mutator = (text, rnd) => text.replace(/\n/g, () => (rnd() < 0.2 ? "\r" : "\n"));

export const MUTATIONS: Record<MutationName, Mutator> = {
  "byte-flip": byteFlip,
  truncate,
  "duplicate-lines": duplicateLines,
  "delete-lines": deleteLines,
  crlf,
  bom,
  "conflict-markers": conflictMarkers,
  "huge-value": hugeValue,
  "deep-nesting": deepNesting,
  "random-unicode": randomUnicode,
  "swap-lines": swapLines,
  "lone-cr": loneCr,
};

// The expensive ones (deep nesting and huge values send the YAML parsers to their slow paths) are drawn a third
// as often, so a time-bounded run still gets many cases.
const NAMES = (Object.keys(MUTATIONS) as MutationName[]).flatMap((name) => (name === "deep-nesting" || name === "huge-value" ? [name] : [name, name, name]));

/** One to three mutations, chosen and applied from `rnd`. */
export function mutate(text: string, rnd: Random): { text: string; applied: MutationName[] } {
  const applied: MutationName[] = [];
  let out = text;
  const count = 1 + int(rnd, 3);
  for (let i = 0; i < count; i++) {
    const name = pick(rnd, NAMES);
    applied.push(name);
    out = MUTATIONS[name](out, rnd);
  }
  return { text: out, applied };
}

export { int as randomInt, pick as randomPick };
