// The npm registry endpoints verification needs: packuments, signing keys, attestations. One instance is one
// run: each packument, key document and attestation URL is fetched at most once (in-flight requests shared).
// Documents are checked only for shape here; their meaning (signatures, bundles) is verify/'s business.
import { Cancellation } from "./cancellation";
import type { HttpClient, HttpErrorKind, HttpResult } from "./http";
import { redactUrl } from "./redact";

export type RegistryErrorKind = HttpErrorKind | "not-found" | "malformed" | "other-host";

export interface RegistryError {
  kind: RegistryErrorKind;
  status?: number;
  /** Plain words, no credentials. */
  message: string;
}

export type RegistryResult<T> = { ok: true; value: T; url: string } | { ok: false; error: RegistryError };

/** npm's Accept for the abbreviated ("corgi") packument (pacote / npm-registry-fetch). */
export const ABBREVIATED_ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";
export const FULL_ACCEPT = "application/json";

export interface PackumentDist {
  integrity?: string;
  shasum?: string;
  tarball?: string;
  signatures?: { keyid: string; sig: string }[];
  attestations?: { url: string; provenance?: { predicateType: string } };
  [field: string]: unknown;
}

export interface PackumentVersion {
  name?: string;
  version?: string;
  dist?: PackumentDist;
  [field: string]: unknown;
}

export interface Packument {
  name: string;
  versions: Record<string, PackumentVersion>;
  "dist-tags"?: Record<string, string>;
  /** Publish times by version; only in the full packument. */
  time?: Record<string, string>;
  modified?: string;
  [field: string]: unknown;
}

/** `/-/npm/v1/keys`. Entries are left for verify/ to parse and judge. */
export interface KeysDocument {
  keys: Record<string, unknown>[];
}

/** `/-/npm/v1/attestations/<name>@<version>`. Bundles are left for verify/. */
export interface AttestationsDocument {
  attestations: { predicateType: string; bundle: unknown }[];
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface RegistryClientOptions {
  /** Per-attempt deadline for registry calls; default: the HTTP client's. */
  timeoutMs?: number;
}

interface Shared<T> {
  promise: Promise<RegistryResult<T>>;
  /** Cancels the shared request; only when every waiter has given up. */
  cancel: Cancellation;
  waiters: number;
  settled: boolean;
}

export class RegistryClient {
  readonly #packuments = new Map<string, Shared<Packument>>();
  readonly #keys = new Map<string, Shared<KeysDocument>>();
  readonly #attestations = new Map<string, Shared<AttestationsDocument>>();

  constructor(
    readonly http: HttpClient,
    readonly options: RegistryClientOptions = {},
  ) {}

  /**
   * The packument of `name` on `registry`: abbreviated unless `full` (which adds `time`, needed for key expiry).
   * A full packument already fetched in this run also answers an abbreviated request.
   */
  packument(name: string, options: CallOptions & { registry: string; full?: boolean }): Promise<RegistryResult<Packument>> {
    const full = options.full === true;
    const registry = withSlash(options.registry);
    const fullEntry = this.#packuments.get(`full\n${registry}\n${name}`);
    if (!full && fullEntry?.settled) return this.#join(fullEntry, options.signal);
    const url = packumentUrl(registry, name);
    return this.#shared(this.#packuments, `${full ? "full" : "abbreviated"}\n${registry}\n${name}`, options.signal, async (signal) => {
      const got = await this.http.get(url, { accept: full ? FULL_ACCEPT : ABBREVIATED_ACCEPT, signal, timeoutMs: this.options.timeoutMs });
      return parseAnswer(got, () => `${name} on ${redactUrl(registry)}`, (doc) => {
        if (!isRecord(doc.versions)) return "it has no versions object";
        if (typeof doc.name === "string" && doc.name !== name) return `it describes ${JSON.stringify(doc.name)}, not ${JSON.stringify(name)}`;
        if (doc.time !== undefined && !isRecord(doc.time)) return "its time field is not an object";
        return undefined;
      }, (doc) => ({ ...doc, name }) as Packument);
    });
  }

  /** The registry's signing keys; a 404 means the registry serves none (kind "not-found"). */
  keys(registry: string, options: CallOptions = {}): Promise<RegistryResult<KeysDocument>> {
    const base = withSlash(registry);
    return this.#shared(this.#keys, base, options.signal, async (signal) => {
      const got = await this.http.get(`${base}-/npm/v1/keys`, { signal, timeoutMs: this.options.timeoutMs });
      if (!got.ok && got.error.status === 404) {
        return { ok: false, error: { kind: "not-found", status: 404, message: `${redactUrl(base)} serves no signing keys (404 on /-/npm/v1/keys).` } };
      }
      return parseAnswer(got, () => `the signing keys of ${redactUrl(base)}`, (doc) =>
        Array.isArray(doc.keys) && doc.keys.every(isRecord) ? undefined : "it has no keys array of objects",
      (doc) => ({ keys: doc.keys as Record<string, unknown>[] }));
    });
  }

  /**
   * The attestations at `url` (a version's `dist.attestations.url`). Fetched only when the URL is on the
   * registry's own origin: a packument must not be able to send us (and our credentials' hop logic) elsewhere.
   */
  attestations(url: string, options: CallOptions & { registry: string }): Promise<RegistryResult<AttestationsDocument>> {
    let target: URL;
    let registry: URL;
    try {
      target = new URL(url);
      registry = new URL(options.registry);
    } catch {
      return Promise.resolve({ ok: false, error: { kind: "bad-url", message: "The attestation URL or the registry URL is not a valid URL." } });
    }
    if (target.origin !== registry.origin) {
      return Promise.resolve({
        ok: false,
        error: { kind: "other-host", message: `The attestation URL points at another host (${target.host}) than the registry (${registry.host}); it was not fetched.` },
      });
    }
    return this.#shared(this.#attestations, target.href, options.signal, async (signal) => {
      const got = await this.http.get(target, { signal, timeoutMs: this.options.timeoutMs });
      if (!got.ok && got.error.status === 404) {
        return { ok: false, error: { kind: "not-found", status: 404, message: `No attestations at ${redactUrl(target)} (404).` } };
      }
      return parseAnswer(got, () => `the attestations at ${redactUrl(target)}`, (doc) => {
        if (!Array.isArray(doc.attestations)) return "it has no attestations array";
        const bad = doc.attestations.findIndex((a) => !isRecord(a) || typeof a.predicateType !== "string" || !isRecord(a.bundle));
        return bad === -1 ? undefined : `attestation ${bad} has no predicateType or bundle`;
      }, (doc) => ({ attestations: doc.attestations as AttestationsDocument["attestations"] }));
    });
  }

  /** Forgets everything fetched: the next call of each kind goes to the network (ETags still apply). */
  newRun(): void {
    this.#packuments.clear();
    this.#keys.clear();
    this.#attestations.clear();
  }

  /**
   * Runs `start` once per key and lets every caller wait on it with its own signal. The shared request is
   * cancelled only when every waiter has given up; a cancelled result is not remembered.
   */
  #shared<T>(memo: Map<string, Shared<T>>, key: string, signal: AbortSignal | undefined, start: (cancel: Cancellation) => Promise<RegistryResult<T>>): Promise<RegistryResult<T>> {
    if (signal?.aborted) return Promise.resolve(aborted());
    let entry = memo.get(key);
    if (entry === undefined) {
      const cancel = new Cancellation();
      const created: Shared<T> = { promise: Promise.resolve(aborted()), cancel, waiters: 0, settled: false };
      created.promise = start(cancel).then((result) => {
        created.settled = true;
        if (!result.ok && result.error.kind === "aborted" && memo.get(key) === created) memo.delete(key);
        return result;
      });
      memo.set(key, created);
      entry = created;
    }
    return this.#join(entry, signal);
  }

  #join<T>(entry: Shared<T>, signal: AbortSignal | undefined): Promise<RegistryResult<T>> {
    entry.waiters++;
    const cancel = Cancellation.of(signal);
    if (cancel === undefined) return entry.promise;
    return new Promise<RegistryResult<T>>((resolve) => {
      const onAbort = (): void => {
        entry.waiters--;
        if (entry.waiters === 0 && !entry.settled) entry.cancel.cancel();
        resolve(aborted());
      };
      cancel.onCancel(onAbort);
      void entry.promise.then((result) => {
        cancel.offCancel(onAbort);
        resolve(result);
      });
    });
  }
}

/** `<registry>/<escaped name>`; a scope's slash is written `%2f` as npm writes it (npm-package-arg escapedName). */
export function packumentUrl(registry: string, name: string): string {
  const escaped = name.startsWith("@") && name.includes("/")
    ? `@${encodeURIComponent(name.slice(1, name.indexOf("/")))}%2f${encodeURIComponent(name.slice(name.indexOf("/") + 1))}`
    : encodeURIComponent(name);
  return `${withSlash(registry)}${escaped}`;
}

function withSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

function aborted<T>(): RegistryResult<T> {
  return { ok: false, error: { kind: "aborted", message: "Cancelled." } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `describe` names the document for messages; it is a function so that only a failure pays for building it. */
function parseAnswer<T>(
  got: HttpResult,
  describe: () => string,
  problemOf: (doc: Record<string, unknown>) => string | undefined,
  build: (doc: Record<string, unknown>) => T,
): RegistryResult<T> {
  if (!got.ok) {
    if (got.error.status === 404) return { ok: false, error: { kind: "not-found", status: 404, message: `Not found: ${describe()} (404).` } };
    return { ok: false, error: got.error };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(got.response.body.toString("utf8"));
  } catch (error) {
    // The parser's message can quote the body; the body is not ours to echo, so only its kind is kept.
    return { ok: false, error: { kind: "malformed", message: `The registry's answer for ${describe()} is not valid JSON (${error instanceof SyntaxError ? "syntax error" : String(error)}).` } };
  }
  if (!isRecord(doc)) return { ok: false, error: { kind: "malformed", message: `The registry's answer for ${describe()} is not a JSON object.` } };
  const problem = problemOf(doc);
  if (problem !== undefined) return { ok: false, error: { kind: "malformed", message: `The registry's answer for ${describe()} is unusable: ${problem}.` } };
  return { ok: true, value: build(doc), url: got.response.url };
}
