// One small GET client on node:http/https.
//
// Hand-written on purpose rather than fetch/undici: the Authorization header must be decided per redirect
// hop from that hop's URL (so a redirect to another host never carries a registry token), bodies need a
// hard size cap enforced while streaming (after decompression too), and every attempt needs a deadline
// and a cancel. fetch gives none of these cleanly. Headers are never logged; messages never hold a token.
import * as http from "node:http";
import * as https from "node:https";
import * as zlib from "node:zlib";
import type { Readable } from "node:stream";
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
  signal?: AbortSignal;
}

export interface HttpClientOptions {
  /** Authorization for one URL (one hop). Usually `npmConfig.authHeaderFor`. */
  authHeaderFor?: (url: URL) => string | undefined;
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
  readonly #o: Required<Omit<HttpClientOptions, "authHeaderFor" | "tls">>;
  readonly #auth: (url: URL) => string | undefined;
  readonly #slots: Semaphore;
  readonly #cache: ResponseCache;
  readonly #httpAgent: http.Agent;
  readonly #httpsAgent: https.Agent;

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
    this.#slots = new Semaphore(this.#o.maxSockets);
    this.#cache = new ResponseCache({ maxEntries: this.#o.cacheEntries, maxBytes: this.#o.cacheBytes });
    const agentOptions = { keepAlive: true, maxSockets: this.#o.maxSockets };
    this.#httpAgent = new http.Agent(agentOptions);
    this.#httpsAgent = new https.Agent({
      ...agentOptions,
      rejectUnauthorized: options.tls?.strictSSL ?? true,
      ...(options.tls?.ca !== undefined ? { ca: options.tls.ca } : {}),
    });
  }

  /** GET with retries, redirects, ETag revalidation. Never throws: failures come back as data. */
  async get(url: string | URL, options: RequestOptions = {}): Promise<HttpResult> {
    const accept = options.accept ?? "application/json";
    const timeoutMs = options.timeoutMs ?? this.#o.timeoutMs;
    const maxBytes = options.maxBytes ?? this.#o.maxBytes;
    const signal = options.signal;
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
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  #attempt(url: URL, headers: Record<string, string>, timeoutMs: number, maxBytes: number, signal?: AbortSignal): Promise<Attempt> {
    // Only failures are described: redacting (re-reading) the URL for every successful request was ~2% of a cold check.
    let redacted: string | undefined;
    const where = (): string => (redacted ??= redactUrl(url));
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      let request: http.ClientRequest | undefined;
      const finish = (result: Attempt): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(result);
      };
      const stop = (error: HttpError, retryable = false): void => {
        if (settled) return; // a late event after the answer is complete must not kill a reusable socket
        finish({ type: "error", error, retryable });
        request?.destroy();
      };
      const onAbort = (): void => stop({ kind: "aborted", message: `Cancelled: ${where()}.` });
      const timer = setTimeout(() => stop({ kind: "timeout", message: `No complete answer from ${where()} within ${timeoutMs} ms.` }), timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });

      const transport = url.protocol === "https:" ? https : http;
      const agent = url.protocol === "https:" ? this.#httpsAgent : this.#httpAgent;
      request = transport.request(url, { method: "GET", headers, agent });
      request.on("error", (error: NodeJS.ErrnoException) => {
        const code = error.code ?? "";
        stop({ kind: "network", message: `Could not reach ${where()}: ${code || error.message}.` }, RETRYABLE_CODES.has(code));
      });
      request.on("response", (res) => {
        const status = res.statusCode ?? 0;
        const resHeaders = flattenHeaders(res.headers);
        if (status < 200 || status >= 300) {
          // The body of a redirect or an error is not needed; drop it (and the socket, if it is large).
          const done = (): void => finish({ type: "response", status, headers: resHeaders, body: Buffer.alloc(0) });
          if (Number(resHeaders["content-length"] ?? 0) > MiB) {
            done();
            request?.destroy();
            return;
          }
          res.on("end", done);
          res.on("error", done);
          res.resume();
          return;
        }
        const tooLarge = (): void => stop({ kind: "too-large", message: `The answer from ${where()} is larger than ${maxBytes} bytes.` });
        const declared = Number(resHeaders["content-length"]);
        if (Number.isFinite(declared) && declared > maxBytes) return tooLarge();
        let stream: Readable = res;
        const encoding = (resHeaders["content-encoding"] ?? "identity").trim().toLowerCase();
        if (encoding === "gzip" || encoding === "x-gzip") stream = res.pipe(zlib.createGunzip());
        else if (encoding === "br") stream = res.pipe(zlib.createBrotliDecompress());
        else if (encoding === "deflate") stream = res.pipe(zlib.createInflate());
        else if (encoding !== "identity") return stop({ kind: "network", message: `Unsupported content-encoding "${encoding}" from ${where()}.` });
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            tooLarge();
            if (stream !== res) stream.destroy();
            return;
          }
          chunks.push(chunk);
        });
        // Most answers arrive in one chunk: used as it is rather than copied by concat.
        stream.on("end", () => finish({ type: "response", status, headers: resHeaders, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) }));
        stream.on("error", (error: NodeJS.ErrnoException) => {
          const decoding = stream !== res && error.code?.startsWith("Z_") === true;
          stop(
            { kind: "network", message: decoding ? `Could not decode the ${encoding} answer from ${where()}.` : `Connection to ${where()} failed mid-answer: ${error.code ?? error.message}.` },
            !decoding && RETRYABLE_CODES.has(error.code ?? ""),
          );
        });
        res.on("close", () => {
          if (!res.complete) stop({ kind: "network", message: `Connection to ${where()} closed mid-answer.` }, true);
        });
      });
      request.end();
    });
  }
}

function ok(response: HttpResponse): HttpResult {
  return { ok: true, response };
}

function fail(kind: HttpErrorKind, message: string, status?: number): HttpResult {
  return { ok: false, error: status === undefined ? { kind, message } : { kind, status, message } };
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
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
function delay(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
