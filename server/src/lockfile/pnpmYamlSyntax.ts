// The scalar and flow-collection syntax of pnpm's YAML subset, for the line scanner in pnpmYaml.ts.
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
