// A strict HTTP/1.1 response parser (RFC 9112) for one response at a time on a keep-alive connection: bytes in, a
// complete response (head and raw, still content-encoded body) or a reason out.
//
// Hand-written because it is hot: node:http's per-request machinery (ClientRequest, IncomingMessage, streams, the
// agent) cost ~0.25 ms of CPU per request here, about 500 ms of a cold check of 2,000 packuments, more than the
// registry's own work and half of what pnpm's native binary spends in all (issue #7, docs/BENCHMARKS.md). A registry
// client needs only GET with one response at a time per connection, so the parser is small, and strict where a lenient
// one would be a risk: no obsolete line folding, no bare LF, no Transfer-Encoding other than chunked, no
// Content-Length beside Transfer-Encoding, no disagreeing Content-Lengths, bounded head and chunk lines.

export interface ResponseHead {
  status: number;
  /** Lower-case names; repeated fields joined with ", " (as node:http does for most). */
  headers: Record<string, string>;
}

export type ParseOutcome =
  /** `reusable`: the connection may carry another request (keep-alive, framed body, nothing extra received). */
  | { kind: "response"; head: ResponseHead; body: Buffer; reusable: boolean }
  /** The body is larger than the limit for its status; the connection must be closed. */
  | { kind: "too-large"; head: ResponseHead; limit: number }
  /** Not HTTP/1.x as this client accepts it; the connection must be closed. */
  | { kind: "malformed"; reason: string }
  /** The connection ended before the response was complete. `received`: any byte of it had arrived. */
  | { kind: "closed"; received: boolean };

export interface ParserLimits {
  /** Largest status line plus header fields, in bytes. */
  maxHeadBytes: number;
  /** Largest body (as sent, before content decoding) for a response with this status. */
  bodyLimit: (status: number) => number;
}

type State = "head" | "length" | "chunk-size" | "chunk-data" | "chunk-end" | "trailers" | "until-close" | "done";

const MAX_CHUNK_LINE = 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/;
const HEX = /^[0-9A-Fa-f]{1,12}$/;
const CONTROL = /[\r\n\0]/;
const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");

export class ResponseParser {
  #state: State = "head";
  /** Bytes received and not yet consumed. */
  #buffer: Buffer | undefined;
  #received = false;
  #head: ResponseHead | undefined;
  #keepAlive = false;
  #remaining = 0;
  #limit = 0;
  #size = 0;
  readonly #chunks: Buffer[] = [];
  #outcome: ParseOutcome | undefined;

  constructor(private readonly limits: ParserLimits) {}

  /** Whether any byte of the response has arrived (a connection that fails before that may be retried elsewhere). */
  get received(): boolean {
    return this.#received;
  }

  /** Feeds bytes; returns the outcome once the response is complete or failed, then ignores further input. */
  feed(chunk: Buffer): ParseOutcome | undefined {
    if (this.#outcome !== undefined) return this.#outcome;
    if (chunk.length === 0) return undefined;
    this.#received = true;
    this.#buffer = this.#buffer === undefined || this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    return (this.#outcome = this.#run());
  }

  /** The peer closed the connection: completes a body framed by the close, else reports a cut-off response. */
  end(): ParseOutcome {
    if (this.#outcome !== undefined) return this.#outcome;
    if (this.#state === "until-close" && this.#head !== undefined) {
      return (this.#outcome = { kind: "response", head: this.#head, body: this.#body(), reusable: false });
    }
    return (this.#outcome = { kind: "closed", received: this.#received });
  }

  #run(): ParseOutcome | undefined {
    for (;;) {
      const buffer = this.#buffer!;
      switch (this.#state) {
        case "head": {
          const end = buffer.indexOf(HEAD_END);
          if (end === -1) return buffer.length > this.limits.maxHeadBytes ? malformed(`the response head is larger than ${this.limits.maxHeadBytes} bytes`) : undefined;
          if (end > this.limits.maxHeadBytes) return malformed(`the response head is larger than ${this.limits.maxHeadBytes} bytes`);
          this.#buffer = buffer.subarray(end + 4);
          const started = this.#startHead(buffer.toString("latin1", 0, end));
          if (started !== undefined) return started;
          break;
        }
        case "length":
          return this.#takeRemaining(buffer) ? this.#finish() : undefined;
        case "until-close": {
          if (buffer.length === 0) return undefined;
          if (this.#size + buffer.length > this.#limit) return { kind: "too-large", head: this.#head!, limit: this.#limit };
          this.#take(buffer, buffer.length);
          return undefined;
        }
        case "chunk-size": {
          const end = buffer.indexOf(CRLF);
          if (end === -1) return buffer.length > MAX_CHUNK_LINE ? malformed("a chunk-size line is too long") : undefined;
          const line = buffer.toString("latin1", 0, end);
          this.#buffer = buffer.subarray(end + 2);
          const semicolon = line.indexOf(";"); // chunk extensions are allowed and ignored
          const hex = (semicolon === -1 ? line : line.slice(0, semicolon)).trim();
          if (!HEX.test(hex)) return malformed(`a chunk size is not hexadecimal ("${printable(hex)}")`);
          const size = parseInt(hex, 16);
          if (size === 0) {
            this.#state = "trailers";
            break;
          }
          if (this.#size + size > this.#limit) return { kind: "too-large", head: this.#head!, limit: this.#limit };
          this.#remaining = size;
          this.#state = "chunk-data";
          break;
        }
        case "chunk-data":
          if (!this.#takeRemaining(buffer)) return undefined;
          this.#state = "chunk-end";
          break;
        case "chunk-end": {
          if (buffer.length < 2) return undefined;
          if (buffer[0] !== 0x0d || buffer[1] !== 0x0a) return malformed("a chunk is not followed by CRLF");
          this.#buffer = buffer.subarray(2);
          this.#state = "chunk-size";
          break;
        }
        case "trailers": {
          // Trailer fields are read and dropped: nothing here needs them, and they may not change the head.
          const end = buffer.indexOf(CRLF);
          if (end === -1) return buffer.length > this.limits.maxHeadBytes ? malformed("the trailer section is too large") : undefined;
          this.#buffer = buffer.subarray(end + 2);
          if (end === 0) return this.#finish();
          break;
        }
        case "done":
          return undefined;
      }
    }
  }

  /** Reads a status line and fields; sets the body framing. An outcome when the head decides the response alone. */
  #startHead(text: string): ParseOutcome | undefined {
    // Walked with indexOf rather than split into lines: this runs once per response, thousands of times a check.
    let end = text.indexOf("\r\n");
    if (end === -1) end = text.length;
    const statusLine = text.slice(0, end);
    const status = STATUS_LINE.exec(statusLine);
    if (status === null) return malformed(`not an HTTP/1.x status line ("${printable(statusLine.slice(0, 40))}")`);
    const headers: Record<string, string> = {};
    for (let start = end + 2; start < text.length; start = end + 2) {
      end = text.indexOf("\r\n", start);
      if (end === -1) end = text.length;
      const colon = text.indexOf(":", start);
      if (colon <= start || colon >= end) {
        const line = text.slice(start, end);
        return malformed(line.startsWith(" ") || line.startsWith("\t") ? "obsolete line folding in a header field" : `a header line has no name ("${printable(line.slice(0, 40))}")`);
      }
      const name = text.slice(start, colon);
      if (!TOKEN.test(name)) return malformed(`a header name is not a token ("${printable(name.slice(0, 40))}")`);
      const value = text.slice(colon + 1, end).trim();
      if (CONTROL.test(value)) return malformed(`header ${name} holds a control character`);
      const key = name.toLowerCase();
      const previous = headers[key];
      if (previous === undefined) headers[key] = value;
      else if (key === "content-length") {
        if (previous !== value) return malformed("two different Content-Length values");
      } else headers[key] = `${previous}, ${value}`;
    }
    const code = Number(status[2]);
    if (code >= 100 && code < 200) {
      // 100 Continue, 103 Early Hints: informational, the real response follows. 101 would switch protocols.
      if (code === 101) return malformed("the server switched protocols");
      return undefined;
    }
    const head: ResponseHead = { status: code, headers };
    this.#head = head;
    const connection = (headers.connection ?? "").toLowerCase();
    this.#keepAlive = status[1] === "1" ? !/(?:^|,)\s*close\s*(?:,|$)/.test(connection) : /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(connection);
    this.#limit = this.limits.bodyLimit(code);
    const te = headers["transfer-encoding"];
    const length = headers["content-length"];
    if (code === 204 || code === 304) {
      this.#state = "length";
      this.#remaining = 0;
    } else if (te !== undefined) {
      if (length !== undefined) return malformed("both Transfer-Encoding and Content-Length");
      if (te.toLowerCase() !== "chunked") return malformed(`unsupported Transfer-Encoding "${printable(te.slice(0, 40))}"`);
      this.#state = "chunk-size";
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length)) return malformed(`Content-Length is not a number ("${printable(length.slice(0, 40))}")`);
      this.#remaining = Number(length);
      if (this.#remaining > this.#limit) return { kind: "too-large", head, limit: this.#limit };
      this.#state = "length";
    } else {
      this.#state = "until-close";
      this.#keepAlive = false;
    }
    return undefined;
  }

  /** Takes up to the bytes still expected of a body or a chunk; true once they have all arrived. */
  #takeRemaining(buffer: Buffer): boolean {
    const take = Math.min(this.#remaining, buffer.length);
    if (take > 0) this.#take(buffer, take);
    this.#remaining -= take;
    return this.#remaining === 0;
  }

  #take(buffer: Buffer, count: number): void {
    this.#chunks.push(count === buffer.length ? buffer : buffer.subarray(0, count));
    this.#size += count;
    this.#buffer = buffer.subarray(count);
  }

  #body(): Buffer {
    // Most answers arrive in one piece: used as it is rather than copied by concat.
    return this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#size);
  }

  #finish(): ParseOutcome {
    this.#state = "done";
    // Bytes after the response, when no other request was sent: the connection is out of step, not reusable.
    const extra = this.#buffer !== undefined && this.#buffer.length > 0;
    return { kind: "response", head: this.#head!, body: this.#body(), reusable: this.#keepAlive && !extra };
  }
}

function malformed(reason: string): ParseOutcome {
  return { kind: "malformed", reason };
}

/** Text from the wire, safe to put in a message (no control characters). */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}
