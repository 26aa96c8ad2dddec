// The scalar and flow-collection syntax of pnpm's YAML subset: the values the line scanner (pnpmScan.ts) reads on one
// line, plain, quoted or flow, resolved as YAML's core schema resolves them.
// The scanner takes the text helpers it shares with Berry's from here too, with the rest of its syntax.
export { listOf, spanAfter } from "./scanText";

/** A flow map as read (string keys). */
type YamlMap = Map<string, unknown>;

/** The scanner met YAML outside pnpm's subset: the caller falls back to the `yaml` library. */
export class Unexpected extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

export function quoted(text: string, i: number, end: number): { value: string; end: number } {
  if (text.charCodeAt(i) === 39) {
    let value = "";
    let from = i + 1;
    for (;;) {
      const close = text.indexOf("'", from);
      if (close === -1 || close >= end) throw new Unexpected(i, "single-quoted scalar spans lines");
      value += text.slice(from, close);
      if (text.charCodeAt(close + 1) === 39) {
        value += "'";
        from = close + 2;
        continue;
      }
      return { value, end: close + 1 };
    }
  }
  let close = i + 1;
  for (;;) {
    close = text.indexOf('"', close);
    if (close === -1 || close >= end) throw new Unexpected(i, "double-quoted scalar spans lines");
    let backslashes = 0;
    while (text.charCodeAt(close - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) break;
    close++;
  }
  const raw = text.slice(i, close + 1);
  if (raw.indexOf("\\") === -1) return { value: raw.slice(1, -1), end: close + 1 };
  try {
    // JSON escapes are a subset of YAML's double-quoted escapes; the rest goes to the library.
    return { value: JSON.parse(raw) as string, end: close + 1 };
  } catch (error) {
    throw new Unexpected(i, `YAML-only escape in double-quoted scalar (${String(error)})`);
  }
}

const NUMBER = /^[-+]?(?:[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$/;

/** YAML 1.2 core schema resolution of a plain scalar (what the `yaml` library does by default). */
export function resolvePlain(raw: string): unknown {
  const c = raw.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
    if (NUMBER.test(raw)) {
      if (raw.startsWith("0o")) return parseInt(raw.slice(2), 8);
      return Number(raw);
    }
    if (raw === ".inf" || raw === "+.inf" || raw === ".Inf" || raw === ".INF") return Infinity;
    if (raw === "-.inf" || raw === "-.Inf" || raw === "-.INF") return -Infinity;
    if (raw === ".nan" || raw === ".NaN" || raw === ".NAN") return NaN;
    return raw;
  }
  switch (raw) {
    case "true":
    case "True":
    case "TRUE":
      return true;
    case "false":
    case "False":
    case "FALSE":
      return false;
    case "null":
    case "Null":
    case "NULL":
    case "~":
    case "":
      return null;
    default:
      return raw;
  }
}

/**
 * One-line flow collections: `{integrity: sha512-..., tarball: https://...}`, `[x64]`, `{}`. Inside them a ':' is
 * part of a plain scalar only before a character that is neither a space nor a flow indicator (`{a: x:}` is not "x:").
 */
const PLAIN_RUN = /(?:[^,[\]{}:\n\r]|:(?=[^ \n\r,[\]{}]))*/y;

export class FlowReader {
  constructor(private readonly text: string, private i: number, private readonly end: number) {}

  private skip(): void {
    while (this.i < this.end && this.text.charCodeAt(this.i) === 32) this.i++;
  }

  expectEnd(): void {
    this.skip();
    if (this.i < this.end && this.text.charCodeAt(this.i) !== 35) throw new Unexpected(this.i, "text after a flow collection");
  }

  value(): unknown {
    this.skip();
    if (this.i >= this.end) throw new Unexpected(this.i, "flow collection spans lines");
    const c = this.text.charCodeAt(this.i);
    if (c === 123) return this.collection(125, true);
    if (c === 91) return this.collection(93, false);
    if (c === 39 || c === 34) {
      const q = quoted(this.text, this.i, this.end);
      this.i = q.end;
      return q.value;
    }
    return resolvePlain(this.plain());
  }

  private plain(): string {
    // A sticky regex skips the run of ordinary characters natively (integrity strings are ~90 characters);
    // it stops at flow indicators, line ends and ": ".
    PLAIN_RUN.lastIndex = this.i;
    PLAIN_RUN.exec(this.text);
    const from = this.i;
    this.i = Math.min(PLAIN_RUN.lastIndex, this.end);
    const c = this.text.charCodeAt(this.i);
    if (this.i < this.end && (c === 123 || c === 91)) throw new Unexpected(this.i, "flow indicator inside a plain scalar");
    return this.text.slice(from, this.i).trimEnd();
  }

  private collection(close: number, isMap: boolean): unknown {
    this.i++;
    const map: YamlMap | undefined = isMap ? new Map() : undefined;
    const seq: unknown[] = [];
    for (;;) {
      this.skip();
      if (this.i >= this.end) throw new Unexpected(this.i, "flow collection spans lines");
      if (this.text.charCodeAt(this.i) === close) {
        this.i++;
        return map ?? seq;
      }
      if (map) {
        const key = this.value();
        this.skip();
        if (this.text.charCodeAt(this.i) !== 58) throw new Unexpected(this.i, "flow map entry without ':'");
        this.i++;
        map.set(String(key), this.value());
      } else seq.push(this.value());
      this.skip();
      const c = this.text.charCodeAt(this.i);
      if (c === 44) this.i++;
      else if (c !== close) throw new Unexpected(this.i, "malformed flow collection");
    }
  }
}

/** A scalar as the model reads it: strings and numbers as text, anything else absent. */
export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

/** Scalar text as the reader sees it: str(resolvePlain(raw)), without the number regex for dotted versions. */
export function plainText(raw: string): string | undefined {
  const c = raw.charCodeAt(0);
  const numeric = (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46;
  if (numeric) {
    const dot = raw.indexOf(".");
    // `1.2.3` (two dots) is never a number: the usual version string skips the regex.
    if (dot !== -1 && raw.indexOf(".", dot + 1) !== -1) return raw;
    return str(resolvePlain(raw));
  }
  if (raw.length > 5 || raw.length === 0) return raw.length === 0 ? undefined : raw;
  return str(resolvePlain(raw));
}

export function restIsEmpty(text: string, i: number, end: number): boolean {
  while (i < end && text.charCodeAt(i) === 32) i++;
  return i === end || text.charCodeAt(i) === 35;
}

/** A scalar value filling the rest of the line, as the reader sees it (text, or undefined for true/null...). */
export function inlineScalar(text: string, i: number, end: number): string | undefined {
  const c = text.charCodeAt(i);
  if (c === 39 || c === 34) {
    const q = quoted(text, i, end);
    if (!restIsEmpty(text, q.end, end)) throw new Unexpected(q.end, "text after a quoted scalar");
    return q.value;
  }
  return plainText(plainRaw(text, i, end));
}

/** Any one-line value (flow collections included), resolved as YAML's core schema does. */
export function inlineValue(text: string, i: number, end: number): unknown {
  const c = text.charCodeAt(i);
  if (c === 123 || c === 91) {
    const flow = new FlowReader(text, i, end);
    const value = flow.value();
    flow.expectEnd();
    return value;
  }
  if (c === 39 || c === 34) return inlineScalar(text, i, end);
  return resolvePlain(plainRaw(text, i, end));
}

function plainRaw(text: string, i: number, end: number): string {
  const c = text.charCodeAt(i);
  if (!plainStart(c) && c !== 63) throw new Unexpected(i, "unsupported value syntax");
  // Comments are rare: the next " #" in the whole text is found once and reused until passed.
  // '#' is searched, not " #": spaces are everywhere in YAML and each one was a candidate match (7% of a scan).
  if (commentScan.next < i) {
    let hash = text.indexOf("#", i + 1);
    while (hash !== -1 && text.charCodeAt(hash - 1) !== 32) hash = text.indexOf("#", hash + 1);
    commentScan.next = hash === -1 ? text.length : hash - 1;
  }
  let stop = commentScan.next < end ? commentScan.next : end;
  while (stop > i && text.charCodeAt(stop - 1) === 32) stop--;
  const raw = text.slice(i, stop);
  if (raw.indexOf(": ") !== -1 || raw.charCodeAt(raw.length - 1) === 58) throw new Unexpected(i, "a map inside a value");
  return raw;
}

/** Where the next " #" is in the text being scanned (reset by the scanner at the start of each text). */
export const commentScan = { next: -1 };

/** Indicators that cannot start a plain scalar, or start YAML features outside pnpm's subset. */
export function plainStart(c: number): boolean {
  return !(c === 38 || c === 42 || c === 33 || c === 124 || c === 62 || c === 37 || c === 64 || c === 96 || c === 123 || c === 91 || c === 93 || c === 125 || c === 44 || c === 63);
}

/**
 * Whether a plain scalar (starting with a letter) inside a one-line flow map, up to its closing brace, is read by
 * YAML as exactly its text: no whitespace (trimmed, or a comment after it), no flow indicator, no final ':'.
 * Native indexOf calls on the short slice: per-character JavaScript (or a regex over an SRI alphabet) costs ~7 ns a
 * character on this machine and was 5-12% of a scan; these searches take a quarter of that.
 */
export function readsAsItself(value: string): boolean {
  return (
    value.indexOf(" ") === -1 &&
    value.indexOf(",") === -1 &&
    value.indexOf("[") === -1 &&
    value.indexOf("]") === -1 &&
    value.indexOf("{") === -1 &&
    value.indexOf("\t") === -1 &&
    value.charCodeAt(value.length - 1) !== 58
  );
}
