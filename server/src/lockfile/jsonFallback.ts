// The slow, forgiving path: a full positioned parse with jsonc-parser. Used when JSON.parse rejects the text
// (truncated, conflicted, not JSON) or the fast scanners meet something unexpected, and by the tests as the
// reference the fast path must agree with. It reads values the way JSON.parse does (the last of a repeated
// key wins) and records the same key locations, so the model builder cannot tell the paths apart.

import { parseTree, printParseErrorCode } from "jsonc-parser";
import type { Node, ParseError } from "jsonc-parser";
import type { DuplicateKey, NpmKeyLocations, OffsetRange } from "./jsonKeyScan";
import { v1EntryId } from "./jsonKeyScan";

export interface JsonSyntaxError extends OffsetRange {
  message: string;
}

export interface LibraryParse {
  /** Undefined when nothing could be read. */
  value: unknown;
  locations: NpmKeyLocations;
  errors: JsonSyntaxError[];
  /** Entry ids (packages keys and v1 ids) whose text holds a syntax error: their values may be cut short. */
  damaged: Set<string>;
}

type Kind = "other" | "top" | "packages" | "v1-deps" | "v1-entry";

const READABLE_ERRORS: Record<string, string> = {
  InvalidSymbol: "unexpected character",
  InvalidNumberFormat: "malformed number",
  PropertyNameExpected: "a quoted key was expected",
  ValueExpected: "a value was expected",
  ColonExpected: "a ':' was expected",
  CommaExpected: "a ',' was expected",
  CloseBraceExpected: "a closing '}' was expected (is the file cut short?)",
  CloseBracketExpected: "a closing ']' was expected (is the file cut short?)",
  EndOfFileExpected: "text after the end of the JSON document",
  UnexpectedEndOfString: "a string is not closed (is the file cut short?)",
  UnexpectedEndOfNumber: "a number is cut short",
  InvalidUnicode: "invalid \\u escape",
  InvalidEscapeCharacter: "invalid escape in a string",
  InvalidCharacter: "a control character inside a string",
};

export function parseJsonWithLibrary(text: string): LibraryParse {
  const rawErrors: ParseError[] = [];
  const root = parseTree(text, rawErrors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const errors: JsonSyntaxError[] = [];
  for (const e of rawErrors) {
    const code = printParseErrorCode(e.error);
    const message = `Not valid JSON here: ${READABLE_ERRORS[code] ?? code}.`;
    // A cut-off file misses one brace per open object, all at the end: one problem says it.
    const last = errors[errors.length - 1];
    if (last !== undefined && last.start === e.offset && last.message === message) continue;
    errors.push({ start: e.offset, end: e.offset + e.length, message });
  }
  const errorOffsets = errors.map((e) => e.start).sort((a, b) => a - b);
  const hasErrorWithin = (start: number, end: number): boolean => {
    let lo = 0;
    let hi = errorOffsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (errorOffsets[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    return lo < errorOffsets.length && errorOffsets[lo] <= end;
  };

  const locations: NpmKeyLocations = { packages: new Map(), v1: new Map(), keyCount: 0, duplicates: [] };
  const damaged = new Set<string>();

  const walk = (node: Node, kind: Kind, id: string, path: string[]): unknown => {
    if (node.type === "array") return (node.children ?? []).map((child) => walk(child, "other", "", path));
    if (node.type !== "object") return node.value;
    const object: Record<string, unknown> = {};
    const seen = new Map<string, OffsetRange>();
    for (const property of node.children ?? []) {
      const [keyNode, valueNode] = property.children ?? [];
      if (keyNode === undefined || typeof keyNode.value !== "string") continue;
      const key: string = keyNode.value;
      const keyRange = { start: keyNode.offset, end: keyNode.offset + keyNode.length };
      locations.keyCount++;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        const duplicate: DuplicateKey = { key: text.slice(keyRange.start + 1, keyRange.end - 1), first: earlier, second: keyRange, path };
        locations.duplicates.push(duplicate);
      }
      seen.set(key, keyRange);
      let childKind: Kind = "other";
      let childId = "";
      if (kind === "top") {
        if (key === "packages") childKind = "packages";
        else if (key === "dependencies") childKind = "v1-deps";
        else if (key === "lockfileVersion" && valueNode !== undefined) {
          locations.lockfileVersion = { start: valueNode.offset, end: valueNode.offset + valueNode.length };
        }
      } else if (kind === "packages" || kind === "v1-deps") {
        const entryId = kind === "packages" ? key : v1EntryId(id, key);
        (kind === "packages" ? locations.packages : locations.v1).set(entryId, keyRange);
        if (hasErrorWithin(property.offset, property.offset + property.length)) damaged.add(entryId);
        if (kind === "v1-deps") {
          childKind = "v1-entry";
          childId = entryId;
        }
      } else if (kind === "v1-entry" && key === "dependencies") {
        childKind = "v1-deps";
        childId = id;
      }
      if (valueNode === undefined) continue;
      const value = walk(valueNode, childKind, childId, [...path, key]);
      // Plain assignment would turn a "__proto__" key into a prototype change; JSON.parse makes it a property.
      if (key === "__proto__") Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      else object[key] = value;
    }
    return object;
  };

  return { value: root === undefined ? undefined : walk(root, "top", "", []), locations, errors, damaged };
}
