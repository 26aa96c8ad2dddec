// Records what a normal online check fetched, to write a trust bundle. Wraps the network source (the engine's
// `record` option), so the evidence in a bundle is exactly what the online verdicts were decided on.
import type { CallOptions, AttestationsDocument, KeysDocument, Packument, RegistryError, RegistryResult } from "../registry/registryClient";
import type { EvidenceSource } from "../verify/engine";
import {
  TRUST_BUNDLE_FORMAT,
  TRUST_BUNDLE_VERSION,
  neededFieldsOf,
  packumentKeyOf,
  withoutCredentials,
  type BundledLockfile,
  type BundledPackument,
  type BundledRegistry,
  type BundledVersion,
  type RecordedError,
  type TrustBundle,
} from "./format";

export interface BundleMetadata {
  createdAt: string;
  tool: { name: string; version: string };
  /** The TrustedRoot JSON the online check used. */
  trustedRoot: Record<string, unknown>;
  lockfiles: BundledLockfile[];
}

export class BundleRecorder {
  readonly #registries = new Map<string, BundledRegistry>();
  readonly #packuments = new Map<string, { versions: Map<string, BundledVersion>; time?: Map<string, string> } | { error: RecordedError }>();
  readonly #attestations = new Map<string, AttestationsDocument | { error: RecordedError }>();

  /**
   * @param wanted the versions to keep per package name (the lockfiles' registry packages); a packument's other
   * versions are dropped as soon as it arrives, so memory stays small on big lockfiles.
   */
  constructor(readonly wanted: ReadonlyMap<string, ReadonlySet<string>>) {}

  /** The engine's `record` option. */
  readonly wrap = (network: EvidenceSource): EvidenceSource => ({
    packument: async (name, options) => {
      const answer = await network.packument(name, options);
      this.#notePackument(name, options.registry, options.full === true, answer);
      return answer;
    },
    keys: async (registry, options?: CallOptions) => {
      const answer = await network.keys(registry, options);
      const entry = this.#registry(registry);
      if (answer.ok) entry.keys = answer.value;
      else if (isFact(answer.error)) entry.keysError = recorded(answer.error);
      return answer;
    },
    attestations: async (url, options) => {
      const answer = await network.attestations(url, options);
      this.#registry(options.registry);
      if (answer.ok) this.#attestations.set(withoutCredentials(url), answer.value);
      else if (isFact(answer.error)) this.#attestations.set(withoutCredentials(url), { error: recorded(answer.error) });
      return answer;
    },
  });

  /** Keys given by the user (`--registry-keys`) for a registry: the engine never fetched them, the bundle keeps them. */
  addKeys(registry: string, keys: KeysDocument): void {
    this.#registry(registry).keys = keys;
  }

  /** The registries seen (normalised URLs). */
  registries(): string[] {
    return [...this.#registries.keys()];
  }

  /** Registries and counts seen so far. */
  get stats(): { registries: number; packuments: number; versions: number; attestations: number; failures: number } {
    let versions = 0;
    let failures = 0;
    for (const p of this.#packuments.values()) {
      if ("error" in p) failures++;
      else versions += p.versions.size;
    }
    for (const a of this.#attestations.values()) if ("error" in a) failures++;
    return { registries: this.#registries.size, packuments: this.#packuments.size, versions, attestations: this.#attestations.size, failures };
  }

  toBundle(meta: BundleMetadata): TrustBundle {
    const packuments: Record<string, BundledPackument> = {};
    for (const [key, p] of [...this.#packuments].sort(byKey)) {
      if ("error" in p) packuments[key] = p;
      else packuments[key] = { versions: Object.fromEntries(p.versions), ...(p.time === undefined ? {} : { time: Object.fromEntries(p.time) }) };
    }
    return {
      format: TRUST_BUNDLE_FORMAT,
      version: TRUST_BUNDLE_VERSION,
      createdAt: meta.createdAt,
      tool: meta.tool,
      trustedRoot: meta.trustedRoot,
      registries: Object.fromEntries([...this.#registries].sort(byKey)),
      packuments,
      attestations: Object.fromEntries([...this.#attestations].sort(byKey)),
      lockfiles: meta.lockfiles,
    };
  }

  #registry(url: string): BundledRegistry {
    const key = withoutCredentials(url.endsWith("/") ? url : `${url}/`);
    let entry = this.#registries.get(key);
    if (entry === undefined) {
      entry = {};
      this.#registries.set(key, entry);
    }
    return entry;
  }

  #notePackument(name: string, registry: string, full: boolean, answer: RegistryResult<Packument>): void {
    this.#registry(registry);
    const key = packumentKeyOf(registry, name);
    const known = this.#packuments.get(key);
    if (!answer.ok) {
      // A failed full fetch only means no publish time (the engine reads nothing else from it).
      if (!full && known === undefined && isFact(answer.error)) this.#packuments.set(key, { error: recorded(answer.error) });
      return;
    }
    const entry = known === undefined || "error" in known ? { versions: new Map<string, BundledVersion>() } : known;
    this.#packuments.set(key, entry);
    const wanted = this.wanted.get(name);
    for (const version of wanted ?? []) {
      const fields = neededFieldsOf(answer.value.versions[version]);
      if (fields !== undefined) entry.versions.set(version, fields);
      const time = answer.value.time?.[version];
      if (full && typeof time === "string") (entry.time ??= new Map()).set(version, time);
    }
    if (full) entry.time ??= new Map();
  }
}

/** Cancellation says nothing about the package; every other answer is what the registry said, and is kept. */
function isFact(error: RegistryError): boolean {
  return error.kind !== "aborted";
}

function recorded(error: RegistryError): RecordedError {
  return error.status === undefined ? { kind: error.kind, message: error.message } : { kind: error.kind, status: error.status, message: error.message };
}

function byKey(a: [string, unknown], b: [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
