// Keep-alive connections for GET requests, one request at a time per connection, over node:net and node:tls, with the
// response read by ResponseParser. Why not node:http: see http1Parser.ts. What node:http's agent gave and this keeps:
// reuse of idle connections per origin (most recently used first), idle connections that never keep the process alive
// and close after a while, TLS with the configured CA and strict-ssl and session resumption, and a request on a reused
// connection that the server had closed meanwhile sent again once on a new connection (GET is idempotent).
import type * as netModule from "node:net";
import type * as tlsModule from "node:tls";
import { ResponseParser, type ParseOutcome, type ResponseHead } from "./http1Parser";
import type { TlsSettings } from "./npmConfig";
import { proxyAuthorization } from "./proxy";
import { redactUrl } from "./redact";

export type WireOutcome =
  | { kind: "response"; head: ResponseHead; body: Buffer }
  | { kind: "too-large"; head: ResponseHead; limit: number }
  | { kind: "malformed"; reason: string }
  /** A socket error (code: ECONNRESET, ECONNREFUSED, ...), or ECONNCLOSED: the peer closed the connection before the
   * response was complete. `received`: some of the response had arrived. EPROXY: the proxy could not be used, and
   * `reason` says why in words. */
  | { kind: "network"; code: string; received: boolean; reason?: string };

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
  /** To the origin, or to the proxy (http: through a proxy), or the TLS socket inside a CONNECT tunnel. */
  socket: netModule.Socket;
  /** The idle list it belongs to: the origin, plus the proxy when it goes through one. */
  origin: string;
  /** The CONNECT tunnel is not up yet: requests wait in `outgoing`. */
  tunnelling?: boolean;
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

  /**
   * Sends `GET url` with these headers (Host is added). `bodyLimit` bounds the body by status. With `proxy`: an http
   * URL is asked of the proxy (absolute form, with Proxy-Authorization from the proxy URL's userinfo); an https URL
   * goes through a CONNECT tunnel, so the proxy sees only the host and port, never the request or its Authorization.
   */
  get(url: URL, headers: Readonly<Record<string, string>>, bodyLimit: (status: number) => number, proxy?: URL): WireRequest {
    const viaProxy = proxy !== undefined && url.protocol === "http:";
    let text = `GET ${viaProxy ? `${url.protocol}//${url.host}` : ""}${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    if (viaProxy) {
      const auth = proxyAuthorization(proxy);
      if (auth !== undefined) text += `proxy-authorization: ${auth}\r\n`;
    }
    for (const name in headers) {
      const value = headers[name];
      // A header value from config (a token) with CR or LF would inject header lines: refused, never sent.
      if (!HEADER_VALUE.test(value)) return settled({ kind: "malformed", reason: `the ${name === "authorization" ? "credential" : `${name} header`} holds a control character and was not sent` });
      text += `${name}: ${value}\r\n`;
    }
    const request = Buffer.from(`${text}\r\n`, "latin1");
    // The proxy's href (credentials included) only keys an in-memory map: it is never shown.
    const origin = proxy === undefined ? `${url.protocol}//${url.host}` : `${url.protocol}//${url.host} via ${proxy.href}`;
    let cancelled = false;
    let current: Connection | undefined;
    const done = new Promise<WireOutcome>((resolve) => {
      const attempt = (connection: Connection, mayResend: boolean): void => {
        current = connection;
        const parser = new ResponseParser({ maxHeadBytes: this.#maxHeadBytes, bodyLimit });
        const fail = (code: string, received: boolean, resendable: boolean, reason?: string): void => {
          // A reused connection the server closed while it was idle: nothing was answered, send it again once.
          if (mayResend && !received && resendable) return attempt(this.#connect(url, origin, proxy), false);
          resolve({ kind: "network", code, received, ...(reason === undefined ? {} : { reason }) });
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
          if (!cancelled) fail(error.code ?? error.message, parser.received, error.code === "ECONNRESET" || error.code === "EPIPE", error.code === "EPROXY" ? error.message : undefined);
        };
        this.#write(connection, request);
      };
      const reused = this.#takeIdle(origin);
      attempt(reused ?? this.#connect(url, origin, proxy), reused !== undefined);
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
        // Cancelled (and so destroyed) meanwhile: nothing to send. A tunnel still being set up sends it once it is up.
        if (pending.tunnelling === true) pending.outgoing = bytes;
        else if (bytes !== undefined && !pending.closed && !pending.socket.destroyed) pending.socket.write(bytes);
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

  #connect(url: URL, origin: string, proxy?: URL): Connection {
    const [host, port] = hostAndPort(url);
    if (proxy === undefined) return this.#ready({ socket: this.#open(url, host, port), origin, unrefd: false, closed: false });
    const toProxy = this.#open(proxy, ...hostAndPort(proxy));
    const connection: Connection = { socket: toProxy, origin, unrefd: false, closed: false };
    const where = redactUrl(proxy);
    let connected = false;
    toProxy.once(proxy.protocol === "https:" ? "secureConnect" : "connect", () => (connected = true));
    const proxyError = (message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code: "EPROXY" });
    if (url.protocol === "http:") {
      // Requests go to the proxy itself; a failure to reach it is said as such, not as the registry's.
      this.#ready(connection, (error) => (connected ? error : proxyError(`could not connect to the proxy ${where} (${error.code ?? error.message})`)));
      return connection;
    }
    // https: CONNECT host:port, then TLS with the origin inside the tunnel (its certificate checked as without a proxy).
    connection.tunnelling = true;
    const auth = proxyAuthorization(proxy);
    toProxy.write(`CONNECT ${url.hostname}:${port} HTTP/1.1\r\nhost: ${url.hostname}:${port}\r\n${auth === undefined ? "" : `proxy-authorization: ${auth}\r\n`}\r\n`, "latin1");
    let head = Buffer.alloc(0);
    const failTunnel = (error: NodeJS.ErrnoException): void => {
      cleanup();
      connection.closed = true;
      toProxy.destroy();
      connection.onEnd?.(error);
    };
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) {
        if (head.length > this.#maxHeadBytes) failTunnel(proxyError(`the proxy ${where} sent an answer to CONNECT larger than ${this.#maxHeadBytes} bytes`));
        return;
      }
      const statusLine = head.toString("latin1", 0, Math.min(end, head.indexOf("\r\n")));
      const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
      if (status === null) return failTunnel(proxyError(`the proxy ${where} did not answer CONNECT with HTTP`));
      const code = Number(status[1]);
      if (code < 200 || code >= 300) {
        const phrase = (status[2] ?? "").replace(/[^\x20-\x7e]/g, "?").slice(0, 60);
        const hint = code === 407 ? (auth === undefined ? ": it wants credentials, which go in the proxy URL (http://user:password@host:port)" : ": it refused the credentials in the proxy URL") : "";
        return failTunnel(proxyError(`the proxy ${where} answered ${code}${phrase === "" ? "" : ` ${phrase}`} to CONNECT ${url.hostname}:${port}${hint}`));
      }
      // A proxy must not speak before the TLS handshake: bytes after its answer mean the tunnel is out of step.
      if (head.length > end + 4) return failTunnel(proxyError(`the proxy ${where} sent bytes after its answer to CONNECT`));
      cleanup();
      // `host` too: with a socket given, it is what the certificate is checked against (an IP literal has no SNI).
      connection.socket = this.#tls(url, host, { socket: toProxy, host });
      connection.tunnelling = false;
      this.#ready(connection);
      if (connection.outgoing !== undefined && !connection.closed) {
        const bytes = connection.outgoing;
        connection.outgoing = undefined;
        connection.socket.write(bytes);
      }
    };
    const onError = (error: NodeJS.ErrnoException): void => failTunnel(proxyError(connected ? `the connection to the proxy ${where} failed (${error.code ?? error.message})` : `could not connect to the proxy ${where} (${error.code ?? error.message})`));
    const onClose = (): void => failTunnel(proxyError(`the proxy ${where} closed the connection before answering CONNECT`));
    const cleanup = (): void => {
      toProxy.off("data", onData);
      toProxy.off("error", onError);
      toProxy.off("end", onClose);
      toProxy.off("close", onClose);
    };
    toProxy.on("data", onData);
    toProxy.on("error", onError);
    toProxy.on("end", onClose);
    toProxy.on("close", onClose);
    return connection;
  }

  /** A plain or TLS connection to `url`'s origin (or to a proxy given as `url`). */
  #open(url: URL, host: string, port: number): netModule.Socket {
    const net = (netOnce ??= require("node:net") as typeof netModule);
    const socket = url.protocol === "https:" ? this.#tls(url, host, { host, port }) : net.connect({ host, port });
    socket.setNoDelay(true);
    return socket;
  }

  /** TLS to `url`'s host, checked with the configured CA and strict-ssl, directly or over `socket` (a tunnel). */
  #tls(url: URL, host: string, target: { host: string; port: number } | { socket: netModule.Socket; host: string }): tlsModule.TLSSocket {
    const net = (netOnce ??= require("node:net") as typeof netModule);
    const tls = (tlsOnce ??= require("node:tls") as typeof tlsModule);
    const origin = `${url.protocol}//${url.host}`;
    const session = this.#sessions.get(origin);
    const secure = tls.connect({
      ...target,
      servername: net.isIP(host) === 0 ? host : undefined,
      rejectUnauthorized: this.options.tls?.strictSSL ?? true,
      ...(this.options.tls?.ca !== undefined ? { ca: this.options.tls.ca } : {}),
      ALPNProtocols: ["http/1.1"],
      ...(session !== undefined ? { session } : {}),
    });
    // TLS session resumption spares later connections to the same origin a full handshake.
    secure.on("session", (ticket: Buffer) => this.#sessions.set(origin, ticket));
    return secure;
  }

  /** Wires a connection's socket to whichever request owns it. `describe` may reword a socket error. */
  #ready(connection: Connection, describe?: (error: NodeJS.ErrnoException) => NodeJS.ErrnoException): Connection {
    const socket = connection.socket;
    socket.on("data", (chunk: Buffer) => {
      if (connection.onData !== undefined) connection.onData(chunk);
      else this.#drop(connection); // bytes nobody asked for: the connection is out of step
    });
    socket.on("end", () => {
      if (connection.onEnd !== undefined) connection.onEnd();
      else this.#drop(connection);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (connection.onEnd !== undefined) connection.onEnd(describe === undefined ? error : describe(error));
      else this.#drop(connection);
    });
    socket.on("close", () => {
      connection.closed = true;
      if (connection.onEnd !== undefined) connection.onEnd();
    });
    return connection;
  }
}

/** The address and port to connect to (URL.hostname keeps the brackets of an IPv6 literal; sockets want it bare). */
function hostAndPort(url: URL): [string, number] {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return [host, Number(url.port) || (url.protocol === "https:" ? 443 : 80)];
}

function settled(outcome: WireOutcome): WireRequest {
  return { done: Promise.resolve(outcome), cancel: () => undefined };
}
