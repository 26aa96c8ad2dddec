// Where the keys of an npm lockfile are, without a positioned JSON parse.
//
// Hand-written on purpose: a positioned parse (jsonc-parser's parseTree) of a 50k-line package-lock.json is
// 10-30x slower than JSON.parse, and the language server re-parses on every edit. So JSON.parse gives the
// values and this scanner only records the offsets of the keys we need (entry keys, the lockfileVersion
// value) and the duplicate keys that JSON.parse silently merges. Strings are skipped with indexOf('"'),
// which V8 runs far faster than a per-character loop. It is only run on text JSON.parse accepted; anything
// unexpected returns undefined and the caller falls back to the library parse (jsonFallback.ts).

/** Half-open [start, end) offsets into the text. */
export interface OffsetRange {
  start: number;
  end: number;
  /** When known (a key on one line): its zero-based line and that line's start offset. */
  line?: number;
  lineStart?: number;
}

export interface DuplicateKey {
  /** The key as written (without quotes). */
  key: string;
  /** The key token that was overridden, and the later one whose value is kept (as JSON.parse and npm do). */
  first: OffsetRange;
  second: OffsetRange;
  /** Keys of the enclosing objects, outermost first, for the message. */
  path: string[];
}

export interface NpmKeyLocations {
  /** Range of each `packages` key token (with its quotes), by the key. A key written twice maps to the later one. */
  packages: Map<string, OffsetRange>;
  /**
   * The layout scan's answer instead of `packages` (left empty then): the `packages` keys in JSON.parse's
   * order, and for key i the numbers [start, end, line, lineStart] at offsets[4i..4i+3]. Saves the model
   * builder a map lookup, an Object.keys of a 2,600-key object and an object per key, all measurable against
   * a bare JSON.parse. `fieldLines` is how many entry fields are written; more than the model builder reads
   * means a repeated field (see NpmModel.fieldCount). `open` and `close` are the offsets of the `packages` block's
   * braces, `unit` and `width` its indent (the incremental re-parse, npmIncremental.ts, works within them).
   */
  packageOrder?: { keys: string[]; offsets: Int32Array; fieldLines: number; open: number; close: number; unit: number; width: number };
  /**
   * Range of each key of the v1 `dependencies` tree, by the node_modules path its nesting stands for
   * (`node_modules/a/node_modules/b`). Kept apart from `packages`: v2 files have both, with the same ids.
   */
  v1: Map<string, OffsetRange>;
  /** The value token of the top-level `lockfileVersion`. */
  lockfileVersion?: OffsetRange;
  /**
   * Every key written, counting repeats; JSON.parse keeps one per name, so a larger count means duplicates.
   * -1 when not counted (the layout scan checks duplicates its own way).
   */
  keyCount: number;
  /** Filled only when asked for (`findDuplicates`): finding them needs every key's text, which costs time. */
  duplicates: DuplicateKey[];
}

// What an object is, decided by the key that opens it.
const OTHER = 0;
const TOP = 1;
const PACKAGES = 2; // lockfile v2/v3 `packages`: keys are entry ids
const V1_DEPS = 3; // lockfile v1 `dependencies` map (top level or nested in an entry): keys are package names
const V1_ENTRY = 4; // one entry of a v1 `dependencies` map

export function v1EntryId(parentId: string, name: string): string {
  return parentId === "" ? `node_modules/${name}` : `${parentId}/node_modules/${name}`;
}

/** Decodes a key's raw text; only keys with a backslash need JSON.parse. */
export function decodeKey(raw: string): string {
  if (raw.indexOf("\\") === -1) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch (error) {
    // Not reachable for text JSON.parse accepted as a whole; keep the raw text rather than lose the key.
    void error;
    return raw;
  }
}

function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let k = quote - 1; text.charCodeAt(k) === 92; k--) backslashes++;
  return (backslashes & 1) === 1;
}

/** The value token after a key ending at `from` (skips the colon and whitespace). */
export function valueRange(text: string, from: number): OffsetRange {
  let i = from;
  while (i < text.length && text.charCodeAt(i) !== 58) i++;
  i++;
  while (i < text.length && /\s/.test(text[i])) i++;
  const start = i;
  if (text.charCodeAt(i) === 34) {
    let j = text.indexOf('"', i + 1);
    while (j !== -1 && isEscaped(text, j)) j = text.indexOf('"', j + 1);
    return { start, end: j === -1 ? text.length : j + 1 };
  }
  while (i < text.length && !/[\s,}\]]/.test(text[i])) i++;
  return { start, end: i };
}

/**
 * Scans JSON text that JSON.parse accepted, from `start` (past a byte order mark). Undefined when the text
 * does not look as expected; the caller then uses the library parse. With `findDuplicates` it also lists
 * duplicate keys; without, it only counts keys (see `keyCount`), so the common, duplicate-free case stays fast.
 */
export function scanNpmKeys(text: string, start = 0, findDuplicates = false): NpmKeyLocations | undefined {
  const packages = new Map<string, OffsetRange>();
  const v1 = new Map<string, OffsetRange>();
  const duplicates: DuplicateKey[] = [];
  let lockfileVersion: OffsetRange | undefined;
  let keyCount = 0;

  // One slot per nesting depth, reused between sibling objects so the hot loop allocates almost nothing.
  const kinds: number[] = [];
  const ids: string[] = [];
  const isObject: boolean[] = [];
  const seen: Map<string, number>[] = [];
  const openedBy: string[] = [];

  let depth = -1;
  let expectKey = false;
  let pendingKind = TOP;
  let pendingId = "";
  let lastKeyStart = 0;
  let lastKeyEnd = 0;
  const n = text.length;

  for (let i = start; i < n; i++) {
    const c = text.charCodeAt(i);
    // Whitespace is most of a pretty-printed lockfile: one comparison and on.
    if (c <= 32) continue;
    if (c === 34 /* " */) {
      let j = text.indexOf('"', i + 1);
      while (j !== -1 && text.charCodeAt(j - 1) === 92 && isEscaped(text, j)) j = text.indexOf('"', j + 1);
      if (j === -1) return undefined;
      if (expectKey) {
        expectKey = false;
        keyCount++;
        lastKeyStart = i;
        lastKeyEnd = j + 1;
        if (findDuplicates) {
          const raw = text.slice(i + 1, j);
          const keys = seen[depth];
          const earlier = keys.get(raw);
          if (earlier === undefined) keys.set(raw, i);
          else {
            duplicates.push({
              key: raw,
              first: { start: earlier, end: earlier + raw.length + 2 },
              second: { start: i, end: j + 1 },
              path: openedBy.slice(1, depth + 1),
            });
          }
        }
        pendingKind = OTHER;
        const kind = kinds[depth];
        if (kind === OTHER) {
          // The common case: nothing to record.
        } else if (kind === PACKAGES) {
          packages.set(decodeKey(text.slice(i + 1, j)), { start: i, end: j + 1 });
        } else if (kind === V1_DEPS) {
          const id = v1EntryId(ids[depth], decodeKey(text.slice(i + 1, j)));
          v1.set(id, { start: i, end: j + 1 });
          pendingKind = V1_ENTRY;
          pendingId = id;
        } else if (kind === V1_ENTRY) {
          if (j - i === 13 && text.startsWith("dependencies", i + 1)) {
            pendingKind = V1_DEPS;
            pendingId = ids[depth];
          }
        } else if (kind === TOP) {
          const key = decodeKey(text.slice(i + 1, j));
          if (key === "packages") pendingKind = PACKAGES;
          else if (key === "dependencies") {
            pendingKind = V1_DEPS;
            pendingId = "";
          } else if (key === "lockfileVersion") lockfileVersion = valueRange(text, j + 1);
        }
      } else {
        pendingKind = OTHER;
      }
      i = j;
    } else if (c === 123 /* { */) {
      depth++;
      kinds[depth] = pendingKind;
      ids[depth] = pendingId;
      isObject[depth] = true;
      expectKey = true;
      pendingKind = OTHER;
      if (findDuplicates) {
        openedBy[depth] = text.slice(lastKeyStart + 1, lastKeyEnd - 1);
        const keys = seen[depth];
        if (keys === undefined) seen[depth] = new Map();
        else keys.clear();
      }
    } else if (c === 91 /* [ */) {
      depth++;
      kinds[depth] = OTHER;
      isObject[depth] = false;
      expectKey = false;
      pendingKind = OTHER;
      if (findDuplicates) openedBy[depth] = text.slice(lastKeyStart + 1, lastKeyEnd - 1);
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (depth < 0 || isObject[depth] !== (c === 125)) return undefined;
      depth--;
      expectKey = false;
    } else if (c === 44 /* , */) {
      if (depth < 0) return undefined;
      expectKey = isObject[depth];
      pendingKind = OTHER;
    }
  }
  if (depth !== -1) return undefined;
  return { packages, v1, lockfileVersion, keyCount, duplicates };
}

/** Keys JSON.parse kept, counted the way `scanNpmKeys` counts written ones. */
export function countParsedKeys(value: unknown): number {
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === "object" && item !== null) count += countParsedKeys(item);
    return count;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    count++;
    const child = object[key];
    if (typeof child === "object" && child !== null) count += countParsedKeys(child);
  }
  return count;
}
