// Keep-alive connections for GET requests, one request at a time per connection, over node:net and node:tls, with the
// response read by ResponseParser. Why not node:http: see http1Parser.ts. What node:http's agent gave and this keeps:
// reuse of idle connections per origin (most recently used first), idle connections that never keep the process alive
// and close after a while, TLS with the configured CA and strict-ssl and session resumption, and a request on a reused
// connection that the server had closed meanwhile sent again once on a new connection (GET is idempotent).
import type * as netModule from "node:net";
import type * as tlsModule from "node:tls";
import { ResponseParser, type ParseOutcome, type ResponseHead } from "./http1Parser";
import type { TlsSettings } from "./npmConfig";

export type WireOutcome =
  | { kind: "response"; head: ResponseHead; body: Buffer }
  | { kind: "too-large"; head: ResponseHead; limit: number }
  | { kind: "malformed"; reason: string }
  /** A socket error (code: ECONNRESET, ECONNREFUSED, ...), or ECONNCLOSED: the peer closed the connection before the
   * response was complete. `received`: some of the response had arrived. */
  | { kind: "network"; code: string; received: boolean };

export interface WireRequest {
  /** Settles once; after `cancel()` it never settles. */
  readonly done: Promise<WireOutcome>;
  /** Stops the request and closes its connection (a half-read connection cannot be reused). */
  cancel(): void;
}

export interface Http1PoolOptions {
  tls?: TlsSettings;
  /** Idle connections kept per origin. */
  maxIdle: number;
  /** An idle connection is closed after this long (below common server keep-alive timeouts of 5 s). */
  idleMs?: number;
  maxHeadBytes?: number;
}

interface Connection {
  socket: netModule.Socket;
  origin: string;
  /** Set while a request owns the connection. */
  onData?: (chunk: Buffer) => void;
  onEnd?: (error?: NodeJS.ErrnoException) => void;
  /** performance.now() when it was last released; undefined while a request owns it. */
  idleSince?: number;
  /** Whether the socket is unref'd (idle connections never keep the process alive). */
  unrefd: boolean;
  /** A request waiting for the pool's next write flush (see #write). */
  outgoing?: Buffer;
  closed: boolean;
}

// Both required on the first connection: a check answered from the verdict cache opens none, and loading them was
// ~5 ms each of every start (issue #7: a warm check is mostly start-up).
let netOnce: typeof netModule | undefined;
let tlsOnce: typeof tlsModule | undefined;

const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export class Http1Pool {
  readonly #idle = new Map<string, Connection[]>();
  readonly #sessions = new Map<string, Buffer>();
  readonly #idleMs: number;
  readonly #maxHeadBytes: number;
  #closed = false;
  /** Closes connections idle for idleMs; one timer for the pool, not one per connection (see deadlines.ts). */
  #sweep: NodeJS.Timeout | undefined;
  /** Released connections whose socket is unref'd once the current I/O callbacks are done (see #release). */
  #toUnref: Connection[] = [];
  #unrefScheduled: NodeJS.Immediate | undefined;
  /** Connections with a request to write at the end of the current I/O callbacks. */
  #writes: Connection[] = [];
  #writeScheduled: NodeJS.Immediate | undefined;

  constructor(private readonly options: Http1PoolOptions) {
    this.#idleMs = options.idleMs ?? 4_000;
    this.#maxHeadBytes = options.maxHeadBytes ?? 64 * 1024;
  }

  /** Sends `GET url` with these headers (Host is added). `bodyLimit` bounds the body by status. */
  get(url: URL, headers: Readonly<Record<string, string>>, bodyLimit: (status: number) => number): WireRequest {
    let text = `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    for (const name in headers) {
      const value = headers[name];
      // A header value from config (a token) with CR or LF would inject header lines: refused, never sent.
      if (!HEADER_VALUE.test(value)) return settled({ kind: "malformed", reason: `the ${name === "authorization" ? "credential" : `${name} header`} holds a control character and was not sent` });
      text += `${name}: ${value}\r\n`;
    }
    const request = Buffer.from(`${text}\r\n`, "latin1");
    const origin = `${url.protocol}//${url.host}`;
    let cancelled = false;
    let current: Connection | undefined;
    const done = new Promise<WireOutcome>((resolve) => {
      const attempt = (connection: Connection, mayResend: boolean): void => {
        current = connection;
        const parser = new ResponseParser({ maxHeadBytes: this.#maxHeadBytes, bodyLimit });
        const fail = (code: string, received: boolean, resendable: boolean): void => {
          // A reused connection the server closed while it was idle: nothing was answered, send it again once.
          if (mayResend && !received && resendable) return attempt(this.#connect(url, origin), false);
          resolve({ kind: "network", code, received });
        };
        const finish = (outcome: ParseOutcome): void => {
          connection.onData = connection.onEnd = undefined;
          if (cancelled) return;
          if (outcome.kind === "response") {
            if (outcome.reusable) this.#release(connection);
            else this.#destroy(connection);
            resolve({ kind: "response", head: outcome.head, body: outcome.body });
            return;
          }
          this.#destroy(connection);
          if (outcome.kind === "closed") fail("ECONNCLOSED", outcome.received, true);
          else resolve(outcome);
        };
        connection.onData = (chunk) => {
          const outcome = parser.feed(chunk);
          if (outcome !== undefined) finish(outcome);
        };
        connection.onEnd = (error) => {
          if (error === undefined) return finish(parser.end());
          connection.onData = connection.onEnd = undefined;
          this.#destroy(connection);
          if (!cancelled) fail(error.code ?? error.message, parser.received, error.code === "ECONNRESET" || error.code === "EPIPE");
        };
        this.#write(connection, request);
      };
      const reused = this.#takeIdle(origin);
      attempt(reused ?? this.#connect(url, origin), reused !== undefined);
    });
    return {
      done,
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        if (current !== undefined) {
          current.onData = current.onEnd = undefined;
          this.#destroy(current);
        }
      },
    };
  }

  /** Closes idle connections and refuses none: requests in flight finish on theirs, which then close. */
  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const connection of list) this.#destroy(connection);
    this.#idle.clear();
    clearTimeout(this.#sweep);
    clearImmediate(this.#unrefScheduled);
    this.#sweep = this.#unrefScheduled = undefined;
    this.#toUnref = [];
  }

  #takeIdle(origin: string): Connection | undefined {
    const list = this.#idle.get(origin);
    while (list !== undefined && list.length > 0) {
      const connection = list.pop()!;
      connection.idleSince = undefined;
      if (connection.closed || connection.socket.destroyed) continue;
      if (connection.unrefd) {
        connection.unrefd = false;
        connection.socket.ref();
      }
      return connection;
    }
    return undefined;
  }

  #release(connection: Connection): void {
    const list = this.#idle.get(connection.origin) ?? [];
    if (this.#closed || connection.closed || list.length >= this.options.maxIdle) return this.#destroy(connection);
    connection.idleSince = performance.now();
    list.push(connection);
    this.#idle.set(connection.origin, list);
    // In a busy check the next request takes the connection before the current I/O callbacks end: its socket stays
    // ref'd, rather than being unref'd and ref'd again for each of ~2,000 requests.
    this.#toUnref.push(connection);
    this.#unrefScheduled ??= setImmediate(() => this.#unrefIdle());
    if (this.#sweep === undefined) this.#armSweep(this.#idleMs);
  }

  /**
   * Requests are written together once the current I/O callbacks are done, not one by one as each is made. Issue #7:
   * in a cold check the answers to several connections arrive in one turn of the event loop and each makes the next
   * request; written one at a time, each write woke a local registry (or proxy) for that one request, and on a 2-core
   * machine that wake-up often took this thread's core. Written together, the server reads them in one wake-up: over
   * 2,000 requests, ~5% less CPU here and ~25% less in the registry. Still one request per connection (no
   * pipelining); the delay is the rest of the current turn of the event loop.
   */
  #write(connection: Connection, request: Buffer): void {
    connection.outgoing = request;
    this.#writes.push(connection);
    this.#writeScheduled ??= setImmediate(() => {
      this.#writeScheduled = undefined;
      const writes = this.#writes;
      this.#writes = [];
      for (const pending of writes) {
        const bytes = pending.outgoing;
        pending.outgoing = undefined;
        // Cancelled (and so destroyed) meanwhile: nothing to send.
        if (bytes !== undefined && !pending.closed && !pending.socket.destroyed) pending.socket.write(bytes);
      }
    });
  }

  #unrefIdle(): void {
    this.#unrefScheduled = undefined;
    const released = this.#toUnref;
    this.#toUnref = [];
    for (const connection of released) {
      if (connection.idleSince === undefined || connection.closed || connection.unrefd) continue;
      connection.unrefd = true;
      connection.socket.unref();
    }
  }

  #armSweep(ms: number): void {
    this.#sweep = setTimeout(() => this.#sweepIdle(), Math.max(1, Math.ceil(ms)));
    this.#sweep.unref();
  }

  /** Closes the connections idle for idleMs or more; re-armed while any are left idle. */
  #sweepIdle(): void {
    this.#sweep = undefined;
    const now = performance.now();
    let next = Infinity;
    for (const list of this.#idle.values()) {
      for (const connection of [...list]) {
        const since = connection.idleSince;
        if (since === undefined) continue;
        if (now - since >= this.#idleMs) this.#drop(connection);
        else next = Math.min(next, since + this.#idleMs);
      }
    }
    if (next !== Infinity) this.#armSweep(next - now);
  }

  /** An idle connection that timed out or that the server closed. */
  #drop(connection: Connection): void {
    const list = this.#idle.get(connection.origin);
    const index = list?.indexOf(connection) ?? -1;
    if (index !== -1) list!.splice(index, 1);
    this.#destroy(connection);
  }

  #destroy(connection: Connection): void {
    connection.idleSince = undefined;
    connection.outgoing = undefined;
    connection.closed = true;
    connection.socket.destroy();
  }

  #connect(url: URL, origin: string): Connection {
    const net = (netOnce ??= require("node:net") as typeof netModule);
    // URL.hostname keeps the brackets of an IPv6 literal; sockets want the bare address.
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
    let socket: netModule.Socket;
    if (url.protocol === "https:") {
      const session = this.#sessions.get(origin);
      const tls = (tlsOnce ??= require("node:tls") as typeof tlsModule);
      const secure = tls.connect({
        host,
        port,
        servername: net.isIP(host) === 0 ? host : undefined,
        rejectUnauthorized: this.options.tls?.strictSSL ?? true,
        ...(this.options.tls?.ca !== undefined ? { ca: this.options.tls.ca } : {}),
        ALPNProtocols: ["http/1.1"],
        ...(session !== undefined ? { session } : {}),
      });
      // TLS session resumption spares later connections to the same origin a full handshake.
      secure.on("session", (ticket: Buffer) => this.#sessions.set(origin, ticket));
      socket = secure;
    } else {
      socket = net.connect({ host, port });
    }
    socket.setNoDelay(true);
    const connection: Connection = { socket, origin, unrefd: false, closed: false };
    socket.on("data", (chunk: Buffer) => {
      if (connection.onData !== undefined) connection.onData(chunk);
      else this.#drop(connection); // bytes nobody asked for: the connection is out of step
    });
    socket.on("end", () => {
      if (connection.onEnd !== undefined) connection.onEnd();
      else this.#drop(connection);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (connection.onEnd !== undefined) connection.onEnd(error);
      else this.#drop(connection);
    });
    socket.on("close", () => {
      connection.closed = true;
      if (connection.onEnd !== undefined) connection.onEnd();
    });
    return connection;
  }
}

function settled(outcome: WireOutcome): WireRequest {
  return { done: Promise.resolve(outcome), cancel: () => undefined };
}
