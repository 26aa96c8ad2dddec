// Background refresh of npm's signing keys and of the Sigstore trusted root (issue #3).
//
// A check never waits for this: the engine calls `start()` without awaiting it and verifies with what is pinned
// (keys), shipped (root) or cached from an earlier refresh. npm's own audit stalls ~70 s on an unreachable TUF
// repository; here each fetch has a short deadline, the whole refresh a hard one, and a failure is a plain reason.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import seeds from "@sigstore/tuf/seeds.json";
import { HttpClient } from "../registry/http";
import type { ProxyChoice } from "../registry/proxy";
import { NPMJS_REGISTRY_KEYS, keyIdOf, parseKeysResponse, type RegistryKey } from "./npmKeys";
import { shippedTrustedRoot, trustedRootFromJSON, type LoadedTrustedRoot } from "./trustedRoot";

export const NPMJS_KEYS_URL = "https://registry.npmjs.org/-/npm/v1/keys";
export const SIGSTORE_TUF_MIRROR_URL = "https://tuf-repo-cdn.sigstore.dev";
const TUF_KEYS_TARGET = "registry.npmjs.org/keys.json";
const HOUR_MS = 60 * 60_000;

/** What the engine asks of a refresher (tests may hand in their own). */
export interface TrustRefresh {
  /** The pinned registry.npmjs.org keys plus refreshed additions; a pinned keyid is never replaced. */
  npmjsKeys(): readonly RegistryKey[];
  /** The refreshed root when it is usable and newer than the shipped one, else undefined. */
  trustedRoot(): LoadedTrustedRoot | undefined;
  /** Starts the refresh once per process; never rejects. Checks must not await it. */
  start(): Promise<void>;
  /** e.g. "Sigstore trusted root from 2025-09-23 (shipped; refresh failed: …)". */
  describe(root: LoadedTrustedRoot): string;
}

export interface TrustRefresherOptions {
  /** Where keys, root and the TUF metadata are kept (the verdict cache folder); undefined: memory only, no TUF. */
  cacheDir: string | undefined;
  keysUrl?: string;
  tufMirrorUrl?: string;
  /** The proxy for the keys request (the TUF client reads the environment's proxy variables itself). */
  proxyFor?: (url: URL) => ProxyChoice;
  /** Deadline of the keys request and of each TUF fetch. Default 3 s. */
  fetchTimeoutMs?: number;
  /** Nothing in the refresh waits longer than this. Default 8 s. */
  deadlineMs?: number;
  /** Not more often than this across processes. Default 1 h. */
  minIntervalMs?: number;
  now?: () => number;
}

/** What the last refresh found, per kind, persisted so a later process can say it. */
interface Outcome {
  /** ISO time of the last success. */
  refreshedAt?: string;
  /** Why the last attempt failed (cleared by a success). */
  problem?: string;
  /** ISO time of the last attempt, success or not. */
  attemptedAt?: string;
}

interface RefreshState {
  /** ISO time an attempt began (a concurrent process does not start another within the deadline). */
  startedAt?: string;
  keys: Outcome;
  root: Outcome;
}

const STATE_FILE = "refresh-state.json";
const KEYS_FILE = "npm-keys.json";
const ROOT_FILE = "trusted_root.json";
const KEYS_FORMAT = "provenance-lens-npm-keys";

export class TrustRefresher implements TrustRefresh {
  /** Plain-words problems met while loading or refreshing (impostor keys, unusable cached files, failures). */
  readonly problems: string[] = [];
  readonly #o: Required<Omit<TrustRefresherOptions, "cacheDir" | "proxyFor">>;
  readonly #proxyFor: ((url: URL) => ProxyChoice) | undefined;
  readonly #dir: string | undefined;
  #loaded = false;
  #added: RegistryKey[] = [];
  #keys: readonly RegistryKey[] = NPMJS_REGISTRY_KEYS;
  #root: LoadedTrustedRoot | undefined;
  #rootRefreshedAt: string | undefined;
  #state: RefreshState = { keys: {}, root: {} };
  #running: Promise<void> | undefined;
  #settled = false;
  readonly #abort = new AbortController();

  constructor(options: TrustRefresherOptions) {
    this.#dir = options.cacheDir === undefined ? undefined : path.join(options.cacheDir, "trust");
    this.#proxyFor = options.proxyFor;
    this.#o = {
      keysUrl: options.keysUrl ?? NPMJS_KEYS_URL,
      tufMirrorUrl: (options.tufMirrorUrl ?? SIGSTORE_TUF_MIRROR_URL).replace(/\/+$/, ""),
      fetchTimeoutMs: options.fetchTimeoutMs ?? 3_000,
      deadlineMs: options.deadlineMs ?? 8_000,
      minIntervalMs: options.minIntervalMs ?? HOUR_MS,
      now: options.now ?? Date.now,
    };
  }

  npmjsKeys(): readonly RegistryKey[] {
    this.#load();
    return this.#keys;
  }

  trustedRoot(): LoadedTrustedRoot | undefined {
    this.#load();
    return this.#root;
  }

  /** True once start() was called and has not finished. */
  get pending(): boolean {
    return this.#running !== undefined && !this.#settled;
  }

  start(): Promise<void> {
    this.#running ??= this.#refresh().then(
      () => {
        this.#settled = true;
      },
      (error: unknown) => {
        // #refresh turns every expected failure into data; anything reaching here is a bug, kept as a problem.
        this.#settled = true;
        this.problems.push(`Trust refresh failed unexpectedly: ${plainError(error)}`);
      },
    );
    return this.#running;
  }

  /** Cancels a refresh under way (the keys request at once; TUF fetches stop at their own deadline). */
  stop(): void {
    this.#abort.abort();
  }

  describe(root: LoadedTrustedRoot): string {
    this.#load();
    const date = root.newestValidFrom === undefined ? "of unknown date" : `from ${root.newestValidFrom.slice(0, 10)}`;
    const outcome = this.#state.root;
    const failed = outcome.problem === undefined ? undefined : `refresh failed: ${outcome.problem}`;
    let how: string;
    if (this.#root !== undefined && root.digest === this.#root.digest) {
      how = `refreshed over TUF on ${(this.#rootRefreshedAt ?? "an unknown day").slice(0, 10)}${failed === undefined ? "" : `; latest ${failed}`}`;
    } else if (root.source !== "shipped") {
      return `Sigstore trusted root ${date} (${root.path ?? "file"})`;
    } else if (this.pending) {
      how = "shipped; refresh under way";
    } else if (failed !== undefined) {
      how = `shipped; ${failed}`;
    } else if (outcome.refreshedAt !== undefined) {
      how = `shipped; nothing newer over TUF on ${outcome.refreshedAt.slice(0, 10)}`;
    } else {
      how = "shipped; not refreshed yet";
    }
    return `Sigstore trusted root ${date} (${how})`;
  }

  /** e.g. "npm registry keys: 2 pinned, 1 added by a refresh on 2026-11-21". */
  describeKeys(): string {
    this.#load();
    const outcome = this.#state.keys;
    const added = this.#added.length === 0 ? "none added" : `${this.#added.length} added`;
    const when = outcome.refreshedAt === undefined ? "never refreshed" : `refreshed on ${outcome.refreshedAt.slice(0, 10)}`;
    return `npm registry keys: ${NPMJS_REGISTRY_KEYS.length} pinned, ${added} (${when}${outcome.problem === undefined ? "" : `; refresh failed: ${outcome.problem}`})`;
  }

  /** Reads what earlier refreshes left in the cache folder, once. Small files, read synchronously on first use. */
  #load(): void {
    if (this.#loaded) return;
    this.#loaded = true;
    if (this.#dir === undefined) return;
    const state = this.#readJson(STATE_FILE);
    if (isRecord(state)) this.#state = { startedAt: str(state.startedAt), keys: outcomeOf(state.keys), root: outcomeOf(state.root) };
    const keys = this.#readJson(KEYS_FILE);
    if (isRecord(keys)) {
      // Keys fetched from another URL (a test, another configuration) are not the npmjs keys.
      if (keys.format === KEYS_FORMAT && keys.source === this.#o.keysUrl) this.#addKeys(keys, "the cached npm keys");
    }
    this.#useRootText(this.#readText(ROOT_FILE), undefined);
  }

  /** Keeps a root when it verifies as a trusted root and is newer than the shipped one. */
  #useRootText(text: string | undefined, refreshedAt: string | undefined): boolean {
    if (text === undefined || this.#dir === undefined) return false;
    const file = path.join(this.#dir, ROOT_FILE);
    const result = trustedRootFromJSON(text, "file", file);
    if (!result.ok) {
      this.problems.push(result.reason);
      return false;
    }
    const shipped = shippedTrustedRoot();
    if ((result.root.newestValidFrom ?? "") <= (shipped.newestValidFrom ?? "")) return false;
    this.#root = result.root;
    this.#rootRefreshedAt = refreshedAt ?? this.#state.root.refreshedAt ?? mtimeOf(file);
    return true;
  }

  /** Adds the new keyids of a keys document; a pinned keyid with other material is an impostor and is ignored. */
  #addKeys(doc: unknown, from: string): number {
    const parsed = parseKeysResponse(doc);
    for (const p of parsed.problems) this.problems.push(`${from}: ${p.reason}`);
    const known = new Map(this.#keys.map((k) => [k.keyid, k]));
    let added = 0;
    for (const key of parsed.keys) {
      const have = known.get(key.keyid);
      if (have !== undefined) {
        if (have.key !== key.key) this.problems.push(`${from} give key ${key.keyid} other key material than the pinned one: ignored, the pinned key is kept.`);
        continue;
      }
      let actual: string;
      try {
        actual = keyIdOf(key.key);
      } catch (error) {
        this.problems.push(`${from}: key ${key.keyid} is unusable (${plainError(error)}).`);
        continue;
      }
      if (actual !== key.keyid) {
        this.problems.push(`${from} name a key ${key.keyid} whose fingerprint is ${actual}: ignored.`);
        continue;
      }
      known.set(key.keyid, key);
      this.#added.push(key);
      added++;
    }
    this.#keys = Object.freeze([...NPMJS_REGISTRY_KEYS, ...this.#added]);
    return added;
  }

  async #refresh(): Promise<void> {
    // Off the caller's synchronous path: the check that called start() goes on first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#load();
    const now = this.#o.now();
    const last = Math.max(Date.parse(this.#state.keys.attemptedAt ?? ""), Date.parse(this.#state.root.attemptedAt ?? "")) || 0;
    const started = Date.parse(this.#state.startedAt ?? "") || 0;
    // Once an hour across processes; a process killed mid-refresh (the CLI exits when its output is out) blocks
    // others only for the refresh's own deadline.
    // A time in the future (a clock set back) blocks nothing.
    const within = (at: number, ms: number): boolean => at <= now && now - at < ms;
    if (within(last, this.#o.minIntervalMs) || within(started, this.#o.deadlineMs)) return;
    this.#state.startedAt = new Date(now).toISOString();
    this.#persistState();
    const tuf = this.#dir === undefined ? Promise.resolve<RootResult>({ problem: "no cache folder to keep the TUF metadata in" }) : this.#fetchRoot(this.#dir);
    const [keys, root] = await Promise.all([this.#refreshKeys(), withDeadline(tuf, this.#o.deadlineMs, this.#abort.signal)]);
    const at = new Date(this.#o.now()).toISOString();
    this.#state.keys = keys === undefined ? { refreshedAt: at, attemptedAt: at } : { ...this.#state.keys, problem: keys, attemptedAt: at };
    if (root.text !== undefined) {
      const usable = trustedRootFromJSON(root.text, "file");
      if (usable.ok) {
        this.#state.root = { refreshedAt: at, attemptedAt: at };
        this.#writeAtomic(ROOT_FILE, root.text);
        this.#useRootText(root.text, at);
        if (root.keys !== undefined && this.#addKeys(root.keys, `The TUF target ${TUF_KEYS_TARGET}`) > 0) this.#persistKeys(at);
      } else {
        this.#state.root = { ...this.#state.root, problem: `the TUF repository served an unusable trusted root (${usable.reason})`, attemptedAt: at };
      }
    } else {
      this.#state.root = { ...this.#state.root, problem: root.problem ?? "no trusted root was served", attemptedAt: at };
    }
    this.#state.startedAt = undefined;
    this.#persistState();
  }

  /** Resolves undefined on success, else why not. */
  async #refreshKeys(): Promise<string | undefined> {
    const http = new HttpClient({ timeoutMs: this.#o.fetchTimeoutMs, retries: 0, maxBytes: 1024 * 1024, maxSockets: 1, proxyFor: this.#proxyFor });
    try {
      const answer = await http.get(this.#o.keysUrl, { signal: this.#abort.signal });
      if (!answer.ok) return answer.error.message.replace(/\.$/, "");
      // Only the keys endpoint's own origin speaks for npmjs: a redirect elsewhere (a mirror, a portal) is refused.
      if (new URL(answer.response.url).origin !== new URL(this.#o.keysUrl).origin) {
        return `${this.#o.keysUrl} redirected to ${new URL(answer.response.url).origin}; keys are taken from ${new URL(this.#o.keysUrl).origin} only`;
      }
      let doc: unknown;
      try {
        doc = JSON.parse(answer.response.body.toString("utf8"));
      } catch (error) {
        return `${this.#o.keysUrl} did not answer JSON (${plainError(error)})`;
      }
      if (this.#addKeys(doc, `The keys at ${this.#o.keysUrl}`) > 0) this.#persistKeys(new Date(this.#o.now()).toISOString());
      return undefined;
    } finally {
      http.close();
    }
  }

  /** The trusted_root.json target (and npm's keys target) over TUF with @sigstore/tuf: verified metadata, no retries. */
  async #fetchRoot(dir: string): Promise<RootResult> {
    const mirror = this.#o.tufMirrorUrl;
    try {
      // Loaded on demand: a check that never refreshes does not pay for tuf-js and its fetch stack.
      const { initTUF } = loadTufClient();
      let rootPath: string | undefined;
      if (mirror !== SIGSTORE_TUF_MIRROR_URL) {
        // Another mirror of the public-good repository starts from the same TUF root (the seeds only name the CDN).
        rootPath = path.join(dir, "tuf-seed-root.json");
        this.#writeAtomic("tuf-seed-root.json", Buffer.from(seeds[SIGSTORE_TUF_MIRROR_URL]["root.json"], "base64").toString("utf8"));
      }
      const tuf = await initTUF({ cachePath: path.join(dir, "tuf"), mirrorURL: mirror, rootPath, retry: { retries: 0 }, timeout: this.#o.fetchTimeoutMs });
      const text = await tuf.getTarget("trusted_root.json");
      let keys: unknown;
      try {
        keys = JSON.parse(await tuf.getTarget(TUF_KEYS_TARGET));
      } catch (error) {
        this.problems.push(`The TUF target ${TUF_KEYS_TARGET} could not be read: ${plainError(error)}.`);
      }
      return { text, keys };
    } catch (error) {
      return { problem: `the Sigstore TUF repository ${mirror} did not give a trusted root (${plainError(error)})` };
    }
  }

  #persistKeys(at: string): void {
    this.#writeAtomic(KEYS_FILE, JSON.stringify({ format: KEYS_FORMAT, source: this.#o.keysUrl, fetchedAt: at, keys: this.#added }, null, 1));
  }

  #persistState(): void {
    this.#writeAtomic(STATE_FILE, JSON.stringify(this.#state));
  }

  /** Temp file + rename: a process that exits mid-write (the CLI does not wait) leaves no half file. */
  #writeAtomic(name: string, text: string): void {
    if (this.#dir === undefined) return;
    const file = path.join(this.#dir, name);
    const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      writeFileSync(temp, text);
      renameSync(temp, file);
    } catch (error) {
      this.problems.push(`Could not write ${file}: ${plainError(error)}.`);
    }
  }

  #readText(name: string): string | undefined {
    if (this.#dir === undefined) return undefined;
    const file = path.join(this.#dir, name);
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.problems.push(`Could not read ${file}: ${plainError(error)}.`);
      return undefined;
    }
  }

  #readJson(name: string): unknown {
    const text = this.#readText(name);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch (error) {
      this.problems.push(`${path.join(this.#dir ?? "", name)} is not JSON (${plainError(error)}); it is ignored.`);
      return undefined;
    }
  }
}

interface RootResult {
  text?: string;
  keys?: unknown;
  problem?: string;
}

/** Resolves with the work's result, or with a problem once the deadline passes or the signal aborts. */
function withDeadline(work: Promise<RootResult>, ms: number, signal: AbortSignal): Promise<RootResult> {
  return new Promise((resolve) => {
    const done = (result: RootResult): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(result);
    };
    const onAbort = (): void => done({ problem: "the refresh was stopped" });
    const timer = setTimeout(() => done({ problem: `the Sigstore TUF repository gave no trusted root within ${Math.round(ms / 1000)} s` }), ms);
    // A deadline must not keep a process alive that has nothing else to do.
    timer.unref();
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    void work.then(done);
  });
}

/** An error and its causes, in one line (tuf-js wraps the network error twice). */
function plainError(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (message !== "" && !parts.includes(message)) parts.push(message);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ") || "unknown error";
}

function mtimeOf(file: string): string | undefined {
  try {
    return statSync(file).mtime.toISOString();
  } catch {
    // The root was just read from it; a file that vanished since only loses the date, which then says unknown.
    return undefined;
  }
}

function outcomeOf(value: unknown): Outcome {
  return isRecord(value) ? { refreshedAt: str(value.refreshedAt), problem: str(value.problem), attemptedAt: str(value.attemptedAt) } : {};
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * tufClient.ts's module: dist/tufClient.js next to the bundle, else the compiled or TypeScript source (tests, tsx).
 * The path is computed so that esbuild leaves the require alone instead of bundling @sigstore/tuf in.
 */
function loadTufClient(): typeof import("./tufClient") {
  const candidates = ["tufClient.js", "tufClient.ts"].map((name) => path.join(__dirname, name));
  const file = candidates.find((candidate) => existsSync(candidate)) ?? candidates[0];
  return require(file) as typeof import("./tufClient");
}
