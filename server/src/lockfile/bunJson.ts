// Reads bun.lock (JSONC with trailing commas) into plain data plus the offsets of second-level keys.
//
// Three readers, fastest first. Bun's own layout is read line by line (bunLayoutScan.ts). Any other valid layout
// goes through the general scanner here: JSON.parse is the fastest reader there is, but it rejects trailing commas
// and does not tell where keys are, so one pass over the text blanks trailing commas to spaces, keeping every
// offset, and records where each second-level key ("packages" > "name") starts; then JSON.parse reads it.
// Strings are skipped with indexOf. When JSON.parse still fails (a broken file), jsonc-parser reads it
// tolerantly and says what is wrong where.
import { parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import type { LineIndex } from "./lineIndex";
import type { ParseProblem, Range } from "./model";
import { problem } from "./pnpmBunShared";
import { readBunLayout, type KeyOffsets } from "./bunLayoutScan";
import type { PackageTable } from "./bunPackages";

export interface JsonRead {
  value: unknown;
  /** Range of each quoted second-level key, by top-level key then key (top-level keys under ""). */
  spans: Map<string, Map<string, Range>>;
  problems: ParseProblem[];
  reader: "scanner" | "library";
  /**
   * From the layout reader only (then `spans` holds the top level alone, and `value.packages` may be empty): what
   * the model reads of `packages`, and the offsets of its keys, which saves a Map and a Range per key.
   */
  packages?: { table: PackageTable; offsets: KeyOffsets };
}

export function readBunJson(text: string, start: number, index: () => LineIndex, reader: "scanner" | "library"): JsonRead {
  if (reader === "scanner") {
    const layout = readBunLayout(text, start);
    if (layout !== undefined) {
      const packages = { table: layout.packages, offsets: layout.packageOffsets };
      return { value: layout.value, spans: new Map([["", layout.topSpans]]), problems: [], reader: "scanner", packages };
    }
    const scanned = scanJson(text, start, index);
    if (scanned !== undefined) return { ...scanned, reader: "scanner" };
  }
  return { ...readWithLibrary(text, start, index), reader: "library" };
}

function duplicate(index: LineIndex, from: number, to: number, key: string): ParseProblem {
  return problem(index.range(from, to), "error", "duplicate-key", `Duplicate key ${key}: only the last one counts. The lockfile was probably merged by hand; re-run bun install.`);
}

function scanJson(text: string, start: number, index: () => LineIndex): Omit<JsonRead, "reader"> | undefined {
  const spans = new Map<string, Map<string, Range>>();
  const topSpans = new Map<string, Range>();
  spans.set("", topSpans);
  let keySpans = topSpans;
  const problems: ParseProblem[] = [];
  const pieces: string[] = start === 0 ? [] : [" "];
  let copied = start;
  let depth = 0;
  // JSON strings cannot hold raw newlines, so counting them outside strings gives every key's line.
  let line = 0;
  let lineStart = 0;
  const n = text.length;
  let i = start;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      let close = text.indexOf('"', i + 1);
      while (close !== -1 && text.charCodeAt(close - 1) === 92) {
        let backslashes = 1;
        while (text.charCodeAt(close - 1 - backslashes) === 92) backslashes++;
        if (backslashes % 2 === 0) break;
        close = text.indexOf('"', close + 1);
      }
      if (close === -1) return undefined;
      if (depth === 1 || depth === 2) {
        let k = close + 1;
        while (k < n && isSpace(text.charCodeAt(k))) k++;
        if (text.charCodeAt(k) === 58 /* : */) {
          const raw = text.slice(i + 1, close);
          const key = raw.indexOf("\\") === -1 ? raw : (JSON.parse(`"${raw}"`) as string);
          const map = depth === 1 ? topSpans : keySpans;
          if (map.has(key)) problems.push(duplicate(index(), i, close + 1, text.slice(i, close + 1)));
          map.set(key, { start: { line, character: i - lineStart }, end: { line, character: close + 1 - lineStart } });
          if (depth === 1) {
            keySpans = new Map();
            spans.set(key, keySpans);
          }
        }
      }
      i = close + 1;
      continue;
    }
    if (c === 10) {
      line++;
      lineStart = i + 1;
    } else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
    else if (c === 44 /* , */) {
      let k = i + 1;
      while (k < n && isSpace(text.charCodeAt(k))) {
        if (text.charCodeAt(k) === 10) {
          line++;
          lineStart = k + 1;
        }
        k++;
      }
      const next = text.charCodeAt(k);
      if (next === 125 || next === 93) {
        pieces.push(text.slice(copied, i), " ");
        copied = i + 1;
      }
      i = k;
      continue;
    } else if (c === 47 /* / */) {
      // Comments (JSONC) are left to the tolerant reader: Bun never writes them.
      return undefined;
    }
    i++;
  }
  pieces.push(text.slice(copied));
  try {
    return { value: JSON.parse(pieces.join("")), spans, problems };
  } catch (error) {
    // Expected for broken files: the tolerant reader reports where and why.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** The reference reader: jsonc-parser, tolerant of broken files. */
function readWithLibrary(text: string, start: number, lazyIndex: () => LineIndex): Omit<JsonRead, "reader"> {
  const index = lazyIndex();
  const source = start === 0 ? text : " " + text.slice(start);
  const errors: ParseError[] = [];
  const tree = parseTree(source, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
  const problems: ParseProblem[] = errors.map((e) =>
    problem(index.range(e.offset, e.offset + e.length), "error", "parse-error", `bun.lock is not valid JSONC here: ${printParseErrorCode(e.error)}.`),
  );
  const spans = new Map<string, Map<string, Range>>([["", new Map()]]);
  const value = tree === undefined ? undefined : toValue(tree, 0, "", (depth, top, keyNode) => {
    const key = String(keyNode.value);
    const [from, to] = [keyNode.offset, keyNode.offset + keyNode.length];
    const group = depth === 1 ? "" : top;
    let map = spans.get(group);
    if (map === undefined) spans.set(group, (map = new Map()));
    if (map.has(key)) problems.push(duplicate(index, from, to, source.slice(from, to)));
    map.set(key, index.range(from, to));
  });
  return { value, spans, problems };
}

function toValue(node: Node, depth: number, top: string, onKey: (depth: number, top: string, key: Node) => void): unknown {
  switch (node.type) {
    case "object": {
      const object: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [keyNode, valueNode] = property.children ?? [];
        if (keyNode === undefined) continue;
        const key = String(keyNode.value);
        if (depth <= 1) onKey(depth + 1, top, keyNode);
        object[key] = valueNode === undefined ? null : toValue(valueNode, depth + 1, depth === 0 ? key : top, onKey);
      }
      return object;
    }
    case "array":
      return (node.children ?? []).map((child) => toValue(child, depth + 1, top, onKey));
    default:
      return node.value;
  }
}
