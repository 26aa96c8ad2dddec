// The verification engine: for every registry package of a lockfile, fetch what the registry signed and attested,
// verify it with real cryptography against the lockfile's integrity, and decide a verdict (decide.ts).
//
// Design for speed and reliability from the start: verdicts are cached by (name, version, integrity, trust material)
// and never re-fetched; packuments are fetched once per name; requests share keep-alive sockets with a bounded pool;
// a registry that fails to answer trips a breaker so that it delays the whole check by one deadline, not one per
// package; and a check in which nothing completes for 30 s is stopped.
import * as path from "node:path";
import { availableParallelism } from "node:os";
import type { LockedPackage } from "../lockfile/model";
import { packageKey } from "../lockfile/model";
import type { ProvenanceVerdict, RegistryNotice, SignatureVerdict, Verdict } from "../protocol/verdicts";
import { HttpClient } from "../registry/http";
import { loadNpmConfig, type NpmConfig } from "../registry/npmConfig";
import { redactUrl } from "../registry/redact";
import { RegistryClient, type PackumentVersion } from "../registry/registryClient";
import type { Checker, CheckRequest, CheckResult } from "./checker";
import { staticVerdict } from "./checker";
import { decideVerdict } from "./decide";
import { NPMJS_REGISTRY_KEYS, isNpmjsRegistry, parseKeysResponse, type RegistryKey } from "./npmKeys";
import { verifyAttestations, type AttestedVersion } from "./provenance";
import { AttestationPool } from "./attestationPool";
import { historyFor } from "./historyFor";
import type { VersionRecord } from "./history";
import { compareIntegrity } from "./integrity";
import { verifyRegistrySignature, type RegistrySignatureResult, type SignedVersion } from "./signatures";
import { describeTrustedRoot, prepareTrust, shippedTrustedRoot, type LoadedTrustedRoot, type PreparedTrust } from "./trustedRoot";
import { attestationUrl, cacheKeyOf, hashOf, isRecord, noticesOf, normaliseRegistry, resolvedElsewhere, sessionKeyOf, type RegistryState } from "./registryState";
import type { CheckStats, EngineOptions, EvidenceSource } from "./engineOptions";

export type { CheckStats, EngineOptions, EvidenceSource } from "./engineOptions";

const WORKER_THRESHOLD = 64;
let sharedPool: AttestationPool | undefined;

/** How long a verdict is re-used within one process (the editor re-checks on every edit). */
const SESSION_TTL_MS = 15 * 60_000;
/** A verdict that could not be decided (registry down, cancelled) is retried sooner. */
const SESSION_TTL_UNDECIDED_MS = 30_000;
const SESSION_MAX = 50_000;

export class VerificationEngine implements Checker {
  readonly #session = new Map<string, { verdict: Verdict; until: number }>();
  lastStats: CheckStats = { packages: 0, fromCache: 0, requests: 0 };
  /** Worker failures that fell back to the main thread (bounded), for the output channel and tests. */
  readonly workerFailures: string[] = [];
  readonly #clients = new Map<string, HttpClient>();
  readonly #mirrors: Set<string>;
  /** Verified provenance of earlier versions, for build-identity drift (issue #6): fetched and verified once. */
  readonly #previous = new Map<string, Promise<ProvenanceVerdict | undefined>>();

  constructor(readonly options: EngineOptions) {
    this.#mirrors = new Set((options.mirrorsOfNpmjs ?? []).map(normaliseRegistry));
  }

  /** Read per check: a root refreshed while the process runs is used from the next check on. */
  get trustedRoot(): LoadedTrustedRoot {
    return this.options.trustedRoot ?? this.options.refresher?.trustedRoot() ?? shippedTrustedRoot();
  }

  describeTrust(): string {
    const refresher = this.options.trustedRoot === undefined ? this.options.refresher : undefined;
    return refresher === undefined ? describeTrustedRoot(this.trustedRoot) : refresher.describe(this.trustedRoot);
  }

  async check(request: CheckRequest): Promise<CheckResult> {
    const config = loadNpmConfig({
      projectDir: path.dirname(request.lockfilePath),
      env: this.options.env,
      homeDir: this.options.homeDir,
      globalConfigPath: this.options.globalConfigPath,
      trusted: this.options.trusted,
      overrides: this.options.registry === undefined ? {} : { registry: this.options.registry },
    });
    const http = this.#clientFor(config);
    const attemptsBefore = http.stats.attempts;
    const network: EvidenceSource = new RegistryClient(http);
    const registry = this.options.evidence ?? (this.options.record?.(network) ?? network);
    const offline = request.offline && this.options.evidence === undefined;
    // A stall watchdog rather than a deadline on the whole check: a large lockfile may take long, but a check in
    // which nothing completes for this long is stopped (the per-registry breaker usually acts first).
    const stall = new AbortController();
    const stallMs = this.options.checkDeadlineMs ?? 30_000;
    const watchdog = setTimeout(() => stall.abort(), stallMs);
    const signal = request.signal === undefined ? stall.signal : AbortSignal.any([request.signal, stall.signal]);
    const registries = new Map<string, RegistryState>();
    const stateOf = (url: string): RegistryState => {
      let state = registries.get(url);
      if (state === undefined) {
        state = this.#registryState(url, registry, offline, signal);
        registries.set(url, state);
      }
      return state;
    };

    const verdicts = new Map<string, Verdict>();
    type Facts = Omit<Parameters<typeof decideVerdict>[0], "registryServesSignatures">;
    /** Facts whose verdict waits for the end of the check: their registry had served no signature yet. */
    const deferred: { pkg: LockedPackage; state: RegistryState; facts: Facts }[] = [];
    /** Registries with at least one package left unchecked (a blocker): for the stall notice below. */
    const blockedStates = new Set<RegistryState>();
    const settle = (pkg: LockedPackage, state: RegistryState, facts: Facts): void => {
      const verdict = decideVerdict({ ...facts, registryServesSignatures: state.sawSignatures });
      verdicts.set(packageKey(pkg), verdict);
      // Offline and cancelled results say nothing about the package: never re-used.
      if (!offline && !(signal.aborted && facts.blocker !== undefined)) this.#remember(sessionKeyOf(pkg, state), verdict, facts.blocker === undefined);
      if (verdict.status === "verified" || verdict.status === "signed") {
        this.options.cache?.set(cacheKeyOf(pkg, state), verdict);
      }
    };
    let done = 0;
    let fromCache = 0;
    const total = request.packages.length;
    const finish = (): void => {
      watchdog.refresh();
      request.onProgress?.(++done, total);
    };

    // Everything known without the network is decided first, synchronously: on a warm check (every edit in the
    // editor) that is all of it, and 2,000 async hops, watchdog re-arms and URL parses per check cost ~15 ms.
    const registryOf = new Map<string, RegistryState>();
    const queue: { pkg: LockedPackage; state: RegistryState }[] = [];
    for (const pkg of request.packages) {
      const fixed = staticVerdict(pkg);
      if (fixed !== undefined) {
        verdicts.set(packageKey(pkg), fixed);
        done++;
        continue;
      }
      const configured = config.registryFor(pkg.name);
      let state = registryOf.get(configured);
      if (state === undefined) {
        state = stateOf(normaliseRegistry(configured));
        registryOf.set(configured, state);
      }
      const known = request.fresh === true ? undefined : this.#known(pkg, state);
      if (known === undefined) {
        queue.push({ pkg, state });
        continue;
      }
      verdicts.set(packageKey(pkg), known);
      fromCache++;
      done++;
    }
    if (done > 0) request.onProgress?.(done, total);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let item = queue[next++]; item !== undefined; item = queue[next++]) {
        const { pkg, state } = item;
        const facts = await this.#factsOf(pkg, state, registry, offline, signal, pool);
        if (facts.blocker !== undefined) blockedStates.add(state);
        // Whether the registry serves signatures at all is known for sure once it has served one (it never turns
        // false again): from then on a verdict is decided as its facts arrive, while the lanes wait on the network,
        // instead of all at the end (issue #7: ~20 ms of the end of a cold check of 2,000 packages).
        if (state.sawSignatures) settle(pkg, state, facts);
        else deferred.push({ pkg, state, facts });
        finish();
      }
    };
    // Workers only for what has to be verified now (a warm check starts none).
    const pool = queue.length > WORKER_THRESHOLD ? this.#pool() : undefined;
    if (!offline) pool?.warm();
    try {
      if (queue.length > 0) await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 64, queue.length) }, worker));
    } finally {
      clearTimeout(watchdog);
    }

    const notices: RegistryNotice[] = [];
    // Said once per check, in plain words: otherwise a mistyped .npmrc shows only as its consequences (a 401, a
    // connection error) on every package.
    if (config.problems.length > 0) {
      notices.push({ registry: redactUrl(config.registry), kind: "config", message: `npm configuration: ${config.problems.map((p) => `${p.file}: ${p.message.replace(/\.$/, "")}`).join("; ")}.` });
    }
    for (const state of registries.values()) {
      if (stall.signal.aborted && state.unreachable === undefined && blockedStates.has(state)) {
        state.unreachable = `nothing completed for ${Math.round(stallMs / 1000)} s, so the check was stopped`;
      }
      notices.push(...noticesOf(state));
    }
    for (const { pkg, state, facts } of deferred) settle(pkg, state, facts);
    await this.options.cache?.flush();
    // In the order of the request, whatever order the network answered in.
    // (Nothing was queued: `verdicts` is already in that order.)
    const ordered = queue.length === 0 ? verdicts : new Map(request.packages.map((pkg) => [packageKey(pkg), verdicts.get(packageKey(pkg))!]));
    this.lastStats = { packages: total, fromCache, requests: http.stats.attempts - attemptsBefore };
    return { verdicts: ordered, notices };
  }

  /** A verdict re-used within this process, else from the persistent cache; undefined: it has to be checked. */
  #known(pkg: LockedPackage, state: RegistryState): Verdict | undefined {
    const remembered = this.#session.get(sessionKeyOf(pkg, state));
    if (remembered !== undefined && remembered.until > Date.now()) return remembered.verdict;
    return this.options.cache?.get(cacheKeyOf(pkg, state));
  }

  #remember(key: string, verdict: Verdict, decided: boolean): void {
    this.#session.delete(key);
    this.#session.set(key, { verdict, until: Date.now() + (decided ? SESSION_TTL_MS : SESSION_TTL_UNDECIDED_MS) });
    if (this.#session.size > SESSION_MAX) this.#session.delete(this.#session.keys().next().value as string);
  }

  /** Forgets the verdicts re-used within this process (the persistent cache is the VerdictCache's). */
  forgetSession(): void {
    this.#session.clear();
  }

  /** Cheap and synchronous: a warm check needs no more than this to look verdicts up in the cache. */
  #registryState(url: string, registry: EvidenceSource, offline: boolean, signal: AbortSignal): RegistryState {
    const npmjsKeys = isNpmjsRegistry(url) || this.#mirrors.has(url);
    if (npmjsKeys) {
      // Pinned keys (plus additions fetched from registry.npmjs.org itself): a mirror, proxy or impostor cannot hand
      // in keys of its own for npmjs packages.
      const refresher = this.options.refresher;
      // Never awaited: an unreachable keys endpoint or TUF repository must not delay the check (issue #3).
      if (refresher !== undefined && !offline && this.options.evidence === undefined) void refresher.start();
      const keys = refresher?.npmjsKeys() ?? NPMJS_REGISTRY_KEYS;
      const trust = prepareTrust(this.trustedRoot, keys);
      return { url, npmjsKeys, sawSignatures: false, answered: 0, keys, trust, trustMaterialId: trust.trustMaterialId, ready: async () => {} };
    }
    // Verdicts of other registries are cached by registry and root: a key rotation does not undo a past verification.
    const state: RegistryState = { url, npmjsKeys, sawSignatures: false, answered: 0, trustMaterialId: hashOf(this.trustedRoot.digest, url), ready: async () => {} };
    const given = this.options.registryKeys;
    if (given !== undefined) {
      state.keys = given;
      state.trust = prepareTrust(this.trustedRoot, given);
    } else if (offline) {
      state.keysProblem = "Offline: the signing keys of this registry were not fetched.";
    } else {
      let loading: Promise<void> | undefined;
      state.ready = () => (loading ??= this.#loadKeys(state, registry, signal));
    }
    return state;
  }

  async #loadKeys(state: RegistryState, registry: EvidenceSource, signal: AbortSignal): Promise<void> {
    const answer = await registry.keys(state.url, { signal });
    if (!answer.ok) {
      state.keysProblem = answer.error.message;
      if (answer.error.kind === "not-found") state.keys = [];
      else if (answer.error.kind === "timeout" || answer.error.kind === "network") state.unreachable ??= answer.error.message;
      return;
    }
    const parsed = parseKeysResponse(answer.value);
    state.keys = parsed.keys;
    state.trust = prepareTrust(this.trustedRoot, parsed.keys);
  }

  #pool(): AttestationPool | undefined {
    const size = this.options.workers ?? Math.min(4, availableParallelism());
    if (size <= 0) return undefined;
    sharedPool ??= new AttestationPool(size);
    return sharedPool.unavailable === undefined ? sharedPool : undefined;
  }

  #workerFailed(message: string): void {
    if (this.workerFailures.length < 100) this.workerFailures.push(message);
  }

  /** On a worker when the check is large, else here; a worker that fails falls back to this thread. */
  async #verifyProvenance(pkg: AttestedVersion, doc: unknown, trust: PreparedTrust, keys: readonly RegistryKey[], pool: AttestationPool | undefined): Promise<ProvenanceVerdict> {
    if (pool !== undefined) {
      try {
        return await pool.verify(pkg, doc, trust.root, keys);
      } catch (error) {
        // Verified here instead; the failure is kept for the output channel and the pool stops being used if broken.
        this.#workerFailed(`Verifying ${pkg.name}@${pkg.version} on a worker failed (${error instanceof Error ? error.message : String(error)}); verified on the main thread.`);
      }
    }
    return verifyAttestations(pkg, doc, { trust });
  }

  /** Like #verifyProvenance (issue #7: ECDSA of registry signatures was ~0.4 s of a cold check's main thread). */
  async #verifySignature(pkg: SignedVersion, keys: readonly RegistryKey[], pool: AttestationPool | undefined): Promise<RegistrySignatureResult> {
    // Nothing to verify (no signatures, no integrity) is answered here: a message would cost more than the answer.
    const work = Array.isArray(pkg.signatures) && pkg.signatures.length > 0 && pkg.integrity !== undefined && pkg.integrity !== "";
    if (pool !== undefined && work) {
      try {
        return await pool.verifySignature(pkg, keys);
      } catch (error) {
        this.#workerFailed(`Checking the signature of ${pkg.name}@${pkg.version} on a worker failed (${error instanceof Error ? error.message : String(error)}); checked on the main thread.`);
      }
    }
    return verifyRegistrySignature(pkg, keys);
  }

  async #factsOf(pkg: LockedPackage, state: RegistryState, registry: EvidenceSource, offline: boolean, signal: AbortSignal, pool?: AttestationPool) {
    const where = (state.where ??= redactUrl(state.url));
    const notChecked = { signature: { status: "not-checked" } as SignatureVerdict, provenance: { status: "not-checked" } as ProvenanceVerdict };
    const blocked = (blocker: string, blockerCause?: "registry" | "offline") => ({ ...notChecked, blocker, blockerCause, notes: [], registry: where });
    const unreachable = () => blocked(`${where} did not answer: ${state.unreachable}`, "registry");
    if (offline) return blocked("Offline, and no verdict for this version is cached (check once online, or use a trust bundle).", "offline");
    if (state.unreachable !== undefined) return unreachable();
    if (signal.aborted) return blocked("The check was stopped (cancelled, or it reached its deadline) before this package was fetched.");

    // The keys are fetched (once) while the first packuments are: nothing before the signature needs them, and waiting
    // for them first cost a round trip plus reading them before any packument request went out (~25 ms of a check).
    const [answer] = await Promise.all([registry.packument(pkg.name, { registry: state.url, signal }), state.ready()]);
    if (state.keys === undefined && state.unreachable !== undefined) return unreachable();
    if (!answer.ok) {
      const down = answer.error.kind === "timeout" || answer.error.kind === "network";
      if (down) state.unreachable ??= answer.error.message;
      return blocked(answer.error.message, down ? "registry" : undefined);
    }
    state.answered++;
    let version: PackumentVersion | undefined = answer.value.versions[pkg.version];
    if (version === undefined || typeof version !== "object") {
      return blocked(`${where} has no version ${pkg.version} of ${pkg.name} (unpublished, private elsewhere, or the lockfile names a version that never existed).`);
    }
    const notes: string[] = [];
    const elsewhere = resolvedElsewhere(pkg.resolved, state.url);
    if (elsewhere !== undefined && (pkg.integrity === undefined || pkg.integrity === "")) {
      // npm fetches `resolved` and, with no integrity in the lockfile, checks the bytes against nothing.
      return blocked(`The lockfile resolves it from ${elsewhere} with no integrity: nothing ties what is installed to what the registry signed.`);
    }
    if (elsewhere !== undefined) notes.push(`The lockfile resolves it from ${elsewhere}, not from the configured registry; its integrity still pins the bytes to the ones the registry signed.`);
    if (pkg.integrity === undefined || pkg.integrity === "") {
      notes.push("The lockfile records no integrity for it; the package manager checks the registry's signed integrity when it installs.");
    }
    const dist = isRecord(version.dist) ? version.dist : {};
    const registryIntegrity = typeof dist.integrity === "string" ? dist.integrity : undefined;
    const integrityMismatch = compareIntegrity(pkg.integrity, registryIntegrity, typeof dist.shasum === "string" ? dist.shasum : undefined, `${pkg.name}@${pkg.version}`);
    if (Array.isArray(dist.signatures) && dist.signatures.length > 0) state.sawSignatures = true;

    let signature: SignatureVerdict;
    let publishedAt: string | undefined;
    if (state.keys === undefined) {
      signature = { status: "not-checked", reason: state.keysProblem ?? "The registry's signing keys are unknown." };
    } else {
      let result = await this.#verifySignature({ name: pkg.name, version: pkg.version, integrity: registryIntegrity, signatures: dist.signatures }, state.keys, pool);
      if (result.needsPublishTime === true) {
        // The key has an expiry: only the full packument's `time` says whether the version was signed before it.
        const full = await registry.packument(pkg.name, { registry: state.url, full: true, signal });
        publishedAt = full.ok ? full.value.time?.[pkg.version] : undefined;
        if (publishedAt !== undefined) {
          result = await this.#verifySignature({ name: pkg.name, version: pkg.version, integrity: registryIntegrity, signatures: dist.signatures, publishedAt }, state.keys, pool);
        }
      }
      const { needsPublishTime: _, ...verdict } = result;
      signature = verdict;
    }

    let provenance: ProvenanceVerdict = { status: "absent" };
    const attestations = isRecord(dist.attestations) ? dist.attestations : undefined;
    if (attestations !== undefined && state.trust !== undefined) {
      const url = attestationUrl(attestations.url, state.url, pkg, notes);
      const doc = await registry.attestations(url, { registry: state.url, signal });
      if (doc.ok) provenance = await this.#verifyProvenance({ name: pkg.name, version: pkg.version, integrity: pkg.integrity }, doc.value, state.trust, state.keys ?? [], pool);
      else return { signature, provenance: { status: "not-checked" as const, reason: doc.error.message }, integrityMismatch, blocker: `The registry lists attestations for this version but they could not be fetched: ${doc.error.message}`, notes, registry: where, publishedAt };
    } else if (attestations !== undefined) {
      provenance = { status: "not-checked", reason: state.keysProblem ?? "No trust material for this registry." };
    }
    // Trust history (issue #6) from the packument at hand; the full packument (publish date of a downgrade) and the
    // previous version's attestations (drift) are fetched only when needed.
    const history = await historyFor(
      { name: pkg.name, version: pkg.version, provenance: provenance.status, signature: signature.status, provenanceVerdict: provenance },
      answer.value,
      {
        fullPackument: async () => {
          const full = await registry.packument(pkg.name, { registry: state.url, full: true, signal });
          return full.ok ? full.value : undefined;
        },
        verifiedProvenance: (record) => this.#previousProvenance(pkg.name, record, state, registry, signal),
      },
    );
    return { signature, provenance, integrityMismatch, notes, registry: where, publishedAt, history };
  }

  /** An earlier version's provenance, verified like the locked one's, once per process; a failed fetch is retried later. */
  #previousProvenance(name: string, record: VersionRecord, state: RegistryState, registry: EvidenceSource, signal: AbortSignal): Promise<ProvenanceVerdict | undefined> {
    const trust = state.trust;
    const integrity = record.integrity;
    if (trust === undefined || integrity === undefined) return Promise.resolve(undefined);
    const key = `${state.trustMaterialId}\u0000${name}\u0000${record.version}\u0000${integrity}`;
    let found = this.#previous.get(key);
    if (found === undefined) {
      const url = `${state.url}-/npm/v1/attestations/${name}@${record.version}`;
      found = registry.attestations(url, { registry: state.url, signal }).then((doc) => {
        if (doc.ok) return verifyAttestations({ name, version: record.version, integrity }, doc.value, { trust });
        this.#previous.delete(key);
        return undefined;
      });
      this.#previous.set(key, found);
      if (this.#previous.size > SESSION_MAX) this.#previous.delete(this.#previous.keys().next().value as string);
    }
    return found;
  }

  #clientFor(config: NpmConfig): HttpClient {
    // One client per distinct configuration keeps its keep-alive sockets and ETag cache across checks.
    const fingerprint = JSON.stringify([config.files, config.registry, config.scopes, config.tls.strictSSL, config.tls.ca?.length, config.authHeaderFor(config.registry) !== undefined, config.proxy]);
    let client = this.#clients.get(fingerprint);
    if (client === undefined) {
      // A small ETag cache: verdicts are cached above it, so packuments are rarely asked for twice (a version's full
      // packument for its history, candidates for a quick fix), and the language server's whole budget is 200 MB
      // (issue #7): 4 MiB of bodies, not the 128 MiB default.
      client = new HttpClient({ cacheBytes: 4 * 1024 * 1024, cacheEntries: 200, ...this.options.http, authHeaderFor: (url) => config.authHeaderFor(url), proxyFor: (url) => config.proxyFor(url), tls: config.tls });
      this.#clients.set(fingerprint, client);
    }
    return client;
  }
}
