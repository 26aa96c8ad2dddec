// One small GET client: retries, redirects, ETag revalidation, deadlines, size caps, token scoping.
//
// Hand-written on purpose rather than fetch/undici: the Authorization header must be decided per redirect
// hop from that hop's URL (so a redirect to another host never carries a registry token), bodies need a
// hard size cap (after decompression too), and every attempt needs a deadline and a cancel. fetch gives
// none of these cleanly. The wire is Http1Pool (not node:http, which cost more CPU per request than a
// registry answer takes to verify: see http1Parser.ts). Headers are never logged; messages never hold a token.
import type * as zlibModule from "node:zlib";
import { Cancellation } from "./cancellation";
import { Deadlines } from "./deadlines";
import { Http1Pool, type WireOutcome } from "./http1Pool";
import type { ProxyChoice } from "./proxy";
import { ResponseCache } from "./responseCache";
import { Semaphore } from "./semaphore";
import { redactUrl } from "./redact";
import type { TlsSettings } from "./npmConfig";

export type HttpErrorKind = "timeout" | "network" | "too-large" | "http" | "aborted" | "bad-url";

export interface HttpError {
  kind: HttpErrorKind;
  /** The HTTP status, for kind "http". */
  status?: number;
  /** Plain words for a person; never contains credentials. */
  message: string;
}

export interface HttpResponse {
  status: number;
  /** The final URL, after redirects. */
  url: string;
  /** Lower-case names. */
  headers: Readonly<Record<string, string>>;
  body: Buffer;
  /** True when the body came from the ETag cache after a 304. */
  revalidated: boolean;
}

export type HttpResult = { ok: true; response: HttpResponse } | { ok: false; error: HttpError };

export interface RequestOptions {
  accept?: string;
  /** Deadline of each attempt, from the moment it has a connection slot. Default: the client's. */
  timeoutMs?: number;
  /** Largest body accepted (after decompression). Default: the client's. */
  maxBytes?: number;
  signal?: AbortSignal | Cancellation;
}

export interface HttpClientOptions {
  /** Authorization for one URL (one hop). Usually `npmConfig.authHeaderFor`. */
  authHeaderFor?: (url: URL) => string | undefined;
  /** The proxy for one URL (one hop), usually `npmConfig.proxyFor`; none: every request goes direct. */
  proxyFor?: (url: URL) => ProxyChoice;
  tls?: TlsSettings;
  /** Requests in flight at once (and sockets per protocol). Default 16. */
  maxSockets?: number;
  /** Default 10 000. */
  timeoutMs?: number;
  /** Retries after the first attempt on 429/5xx and connection resets. Default 2. */
  retries?: number;
  /** First backoff step; doubles per retry, with jitter. Default 500. */
  retryBaseMs?: number;
  /** Longest wait a Retry-After header may impose. Default 30 000. */
  maxRetryAfterMs?: number;
  /** Default 50 MiB. */
  maxBytes?: number;
  /** Default 5. */
  maxRedirects?: number;
  /** ETag cache bounds. Default 2 000 entries, 128 MiB. */
  cacheEntries?: number;
  cacheBytes?: number;
  userAgent?: string;
  /** Jitter source; tests may fix it. */
  random?: () => number;
}

export interface HttpStats {
  /** Attempts sent on the wire (retries and redirect hops count). */
  attempts: number;
  retries: number;
  /** 304s answered from the ETag cache. */
  revalidated: number;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRYABLE_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ECONNABORTED", "EAI_AGAIN", "ETIMEDOUT", "ENETUNREACH"]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const MiB = 1024 * 1024;

type Attempt =
  | { type: "response"; status: number; headers: Record<string, string>; body: Buffer }
  | { type: "error"; error: HttpError; retryable: boolean };

export class HttpClient {
  readonly stats: HttpStats = { attempts: 0, retries: 0, revalidated: 0 };
  readonly #o: Required<Omit<HttpClientOptions, "authHeaderFor" | "tls" | "proxyFor">>;
  readonly #auth: (url: URL) => string | undefined;
  readonly #proxyFor: ((url: URL) => ProxyChoice) | undefined;
  readonly #slots: Semaphore;
  readonly #cache: ResponseCache;
  readonly #wire: Http1Pool;
  readonly #deadlines = new Deadlines();

  constructor(options: HttpClientOptions = {}) {
    this.#o = {
      maxSockets: options.maxSockets ?? 16,
      timeoutMs: options.timeoutMs ?? 10_000,
      retries: options.retries ?? 2,
      retryBaseMs: options.retryBaseMs ?? 500,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
      maxBytes: options.maxBytes ?? 50 * MiB,
      maxRedirects: options.maxRedirects ?? 5,
      cacheEntries: options.cacheEntries ?? 2_000,
      cacheBytes: options.cacheBytes ?? 128 * MiB,
      userAgent: options.userAgent ?? `provenance-lens node/${process.version}`,
      random: options.random ?? Math.random,
    };
    this.#auth = options.authHeaderFor ?? (() => undefined);
    this.#proxyFor = options.proxyFor;
    this.#slots = new Semaphore(this.#o.maxSockets);
    this.#cache = new ResponseCache({ maxEntries: this.#o.cacheEntries, maxBytes: this.#o.cacheBytes });
    this.#wire = new Http1Pool({ maxIdle: this.#o.maxSockets, ...(options.tls !== undefined ? { tls: options.tls } : {}) });
  }

  /** GET with retries, redirects, ETag revalidation. Never throws: failures come back as data. */
  async get(url: string | URL, options: RequestOptions = {}): Promise<HttpResult> {
    const accept = options.accept ?? "application/json";
    const timeoutMs = options.timeoutMs ?? this.#o.timeoutMs;
    const maxBytes = options.maxBytes ?? this.#o.maxBytes;
    const signal = Cancellation.of(options.signal);
    let current: URL;
    try {
      current = typeof url === "string" ? new URL(url) : new URL(url.href);
    } catch {
      return fail("bad-url", "Not a valid URL.");
    }
    const startedHttps = current.protocol === "https:";
    let redirects = 0;
    let retry = 0;
    for (;;) {
      if (current.protocol !== "https:" && current.protocol !== "http:") {
        return fail("bad-url", `Only http and https URLs are fetched, not ${current.protocol} (${redactUrl(current)}).`);
      }
      const cacheKey = ResponseCache.key(current.href, accept);
      const cached = this.#cache.get(cacheKey);
      const headers: Record<string, string> = {
        accept,
        "accept-encoding": "gzip, deflate, br",
        "user-agent": this.#o.userAgent,
      };
      if (cached !== undefined) headers["if-none-match"] = cached.etag;
      // Per hop: credentials only for the URL being requested, and never sent in clear after an https start.
      const auth = startedHttps && current.protocol === "http:" ? undefined : this.#auth(current);
      if (auth !== undefined) headers.authorization = auth;

      // A free slot is taken synchronously (the usual case): no promise and no extra turn per request.
      if (!this.#slots.tryAcquire(signal) && !(await this.#slots.acquire(signal))) return fail("aborted", `Cancelled: ${redactUrl(current)}.`);
      let attempt: Attempt;
      try {
        this.stats.attempts++;
        attempt = await this.#attempt(current, headers, timeoutMs, maxBytes, signal);
      } finally {
        this.#slots.release();
      }

      let retryAfterMs: number | undefined;
      if (attempt.type === "response") {
        const { status } = attempt;
        if (status === 304 && cached !== undefined) {
          this.stats.revalidated++;
          return ok({ status: cached.status, url: current.href, headers: cached.headers, body: cached.body, revalidated: true });
        }
        if (REDIRECT_STATUS.has(status) && attempt.headers.location !== undefined) {
          if (++redirects > this.#o.maxRedirects) {
            return fail("http", `Too many redirects (more than ${this.#o.maxRedirects}) from ${redactUrl(url)}.`, status);
          }
          try {
            current = new URL(attempt.headers.location, current);
          } catch {
            return fail("bad-url", `Redirect from ${redactUrl(current)} to an invalid URL.`);
          }
          retry = 0;
          continue;
        }
        if (status >= 200 && status < 300) {
          const etag = attempt.headers.etag;
          if (etag !== undefined) this.#cache.set(cacheKey, { etag, status, headers: attempt.headers, body: attempt.body });
          return ok({ status, url: current.href, headers: attempt.headers, body: attempt.body, revalidated: false });
        }
        if (!RETRYABLE_STATUS.has(status) || retry >= this.#o.retries) {
          return fail("http", `HTTP ${status} from ${redactUrl(current)}${retry > 0 ? ` after ${retry + 1} attempts` : ""}.`, status);
        }
        retryAfterMs = parseRetryAfter(attempt.headers["retry-after"]);
      } else if (!attempt.retryable || retry >= this.#o.retries) {
        return { ok: false, error: attempt.error };
      }
      // Exponential backoff with jitter (half fixed, half random), or the server's Retry-After up to a cap.
      const backoff = this.#o.retryBaseMs * 2 ** retry * (0.5 + this.#o.random() / 2);
      const waitMs = retryAfterMs !== undefined ? Math.min(retryAfterMs, this.#o.maxRetryAfterMs) : backoff;
      retry++;
      this.stats.retries++;
      if (!(await delay(waitMs, signal))) return fail("aborted", `Cancelled: ${redactUrl(current)}.`);
    }
  }

  /** Closes idle keep-alive sockets; in-flight requests finish. */
  close(): void {
    this.#wire.close();
  }

  #attempt(url: URL, headers: Record<string, string>, timeoutMs: number, maxBytes: number, signal?: Cancellation): Promise<Attempt> {
    // Only failures are described: redacting (re-reading) the URL for every successful request was ~2% of a cold check.
    let redacted: string | undefined;
    const where = (): string => (redacted ??= redactUrl(url));
    if (signal?.aborted) return Promise.resolve({ type: "error", error: { kind: "aborted", message: `Cancelled: ${where()}.` }, retryable: false });
    // Per hop, like credentials: a redirect to a host in noproxy goes direct.
    const proxy = this.#proxyFor?.(url);
    if (proxy !== undefined && !(proxy instanceof URL)) return Promise.resolve({ type: "error", error: { kind: "network", message: `Could not reach ${where()}: ${proxy.problem}.` }, retryable: false });
    // The body of a redirect or an error is not needed: up to 1 MiB of it is read (to keep the connection), no more.
    const request = this.#wire.get(url, headers, (status) => (status >= 200 && status < 300 ? maxBytes : MiB), proxy);
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const finish = (result: Attempt): void => {
        if (settled) return;
        settled = true;
        this.#deadlines.clear(deadline);
        signal?.offCancel(onAbort);
        resolve(result);
      };
      const stop = (error: HttpError): void => {
        request.cancel();
        finish({ type: "error", error, retryable: false });
      };
      const onAbort = (): void => stop({ kind: "aborted", message: `Cancelled: ${where()}.` });
      const deadline = this.#deadlines.add(timeoutMs, () => stop({ kind: "timeout", message: `No complete answer from ${where()} within ${timeoutMs} ms.` }));
      signal?.onCancel(onAbort);
      request.done.then(
        (outcome) => {
          if (!settled) this.#answer(outcome, maxBytes, where).then(finish, (error: unknown) => finish(unexpected(error, where)));
        },
        (error: unknown) => finish(unexpected(error, where)),
      );
    });
  }

  /** What the wire brought, as an attempt: the body decoded and capped, failures in plain words. */
  async #answer(outcome: WireOutcome, maxBytes: number, where: () => string): Promise<Attempt> {
    switch (outcome.kind) {
      case "network": {
        // The proxy could not be used (refused, asked for credentials, unreachable): said as such, not retried.
        if (outcome.reason !== undefined) return { type: "error", error: { kind: "network", message: `Could not reach ${where()}: ${outcome.reason}.` }, retryable: false };
        const closed = outcome.code === "ECONNCLOSED";
        const message = outcome.received
          ? closed
            ? `${where()} closed the connection mid-answer.`
            : `Connection to ${where()} failed mid-answer: ${outcome.code}.`
          : closed
            ? `${where()} closed the connection without answering.`
            : `Could not reach ${where()}: ${outcome.code}.`;
        return { type: "error", error: { kind: "network", message }, retryable: closed || RETRYABLE_CODES.has(outcome.code) };
      }
      case "malformed":
        return { type: "error", error: { kind: "network", message: `The answer from ${where()} is not valid HTTP: ${outcome.reason}.` }, retryable: false };
      case "too-large": {
        const { status, headers } = outcome.head;
        if (status >= 200 && status < 300) return { type: "error", error: { kind: "too-large", message: `The answer from ${where()} is larger than ${maxBytes} bytes.` }, retryable: false };
        return { type: "response", status, headers, body: Buffer.alloc(0) };
      }
      case "response": {
        const { status, headers } = outcome.head;
        if (status < 200 || status >= 300) return { type: "response", status, headers, body: Buffer.alloc(0) };
        const encoding = (headers["content-encoding"] ?? "identity").trim().toLowerCase();
        if (encoding === "identity") return { type: "response", status, headers, body: outcome.body };
        // node:zlib is required on the first compressed answer: a check answered from the verdict cache never needs it.
        const zlib = (zlibOnce ??= require("node:zlib") as typeof zlibModule);
        const decode: Decoder | undefined = encoding === "gzip" || encoding === "x-gzip" ? zlib.gunzip : encoding === "br" ? zlib.brotliDecompress : encoding === "deflate" ? zlib.inflate : undefined;
        if (decode === undefined) return { type: "error", error: { kind: "network", message: `Unsupported content-encoding "${encoding}" from ${where()}.` }, retryable: false };
        // On libuv's thread pool, and capped while decoding: a small body that inflates to gigabytes stops at maxBytes.
        return new Promise<Attempt>((resolve) => {
          decode(outcome.body, { maxOutputLength: maxBytes }, (error, body) => {
            if (error === null) resolve({ type: "response", status, headers, body });
            else if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError) {
              resolve({ type: "error", error: { kind: "too-large", message: `The answer from ${where()} is larger than ${maxBytes} bytes.` }, retryable: false });
            } else resolve({ type: "error", error: { kind: "network", message: `Could not decode the ${encoding} answer from ${where()}.` }, retryable: false });
          });
        });
      }
    }
  }
}

let zlibOnce: typeof zlibModule | undefined;

type Decoder = (body: Buffer, options: { maxOutputLength: number }, callback: (error: Error | null, result: Buffer) => void) => void;

/** A bug, not a registry problem: kept as an error attempt (with its message) rather than thrown at the caller. */
function unexpected(error: unknown, where: () => string): Attempt {
  return { type: "error", error: { kind: "network", message: `Request to ${where()} failed: ${error instanceof Error ? error.message : String(error)}.` }, retryable: false };
}

function ok(response: HttpResponse): HttpResult {
  return { ok: true, response };
}

function fail(kind: HttpErrorKind, message: string, status?: number): HttpResult {
  return { ok: false, error: status === undefined ? { kind, message } : { kind, status, message } };
}

/** Retry-After is delta-seconds or an HTTP date (RFC 9110 §10.2.3); unusable values are ignored. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolves true after `ms`, false as soon as `signal` aborts. */
function delay(ms: number, signal?: Cancellation): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.offCancel(onAbort);
      resolve(true);
    }, ms);
    signal?.onCancel(onAbort);
  });
}
