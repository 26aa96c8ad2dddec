// Data shapes of the loopback test registry: package specs in, misbehaviours on demand.

export interface VersionSpec {
  version: string;
  /** Serve SLSA provenance + the npm publish attestation for this version. */
  provenance?: boolean;
  /** ISO publish time (`time[version]`); defaults to a fixed date so output is reproducible. */
  publishedAt?: string;
  dependencies?: Record<string, string>;
  /** Source repository URL, e.g. https://github.com/org/repo (used in metadata and provenance). */
  repository?: string;
  /** Workflow path the provenance names (default .github/workflows/release.yml): build-identity drift tests. */
  workflow?: string;
  /**
   * Sign this integrity instead of building a tarball (for existing lockfiles such as the corpus).
   * Such versions have no tarball: GET on their tarball URL is a 404.
   */
  integrity?: string;
}

export interface PackageSpec {
  name: string;
  versions: VersionSpec[];
}

/**
 * What can go wrong, on purpose. Set per target with `setMisbehaviour(target, ...)`:
 * - target `"*"`: the whole registry; `"keys"`: the keys endpoint;
 * - `"<name>"`: the packument and everything of that package; `"<name>@<version>"`: that version's
 *   signature, integrity, attestations, and its tarball / attestation requests.
 */
export type Misbehaviour =
  // Signing content
  | { kind: "strip-signatures" }
  /** Whole registry: no signatures, no dist.attestations, keys and attestation endpoints 404 (like this machine's mirror). */
  | { kind: "stripping-mirror" }
  /** Serve an integrity other than the one signed (and other than the tarball's). */
  | { kind: "tamper-integrity" }
  /** Sign with a key the keys endpoint does not list. */
  | { kind: "unknown-key" }
  /** Sign with a key the keys endpoint lists with `expires` (EXPIRED_KEY_EXPIRES) before the publish time. */
  | { kind: "expired-key" }
  /** Serve the signature made for another `name@version`. */
  | { kind: "replay-signature"; from: string }
  /** The signature's `sig` is not base64 at all (keyid still the registry's). */
  | { kind: "signature-bad-base64" }
  /** The signature's `sig` is base64, but of bytes that are not a DER ECDSA signature. */
  | { kind: "signature-bad-der" }
  /** The keys endpoint offers an attacker's key under npmjs.org's keyid, and packages are signed with it. */
  | { kind: "attacker-keys"; keyid?: string }
  // Attestations
  | { kind: "attestation-wrong-name" }
  | { kind: "attestation-wrong-digest" }
  /** Provenance certificate from a second mock CA that is not in the trusted root. */
  | { kind: "attestation-other-ca" }
  /** The provenance tlog entry's inclusion proof does not hash to its checkpoint. */
  | { kind: "attestation-broken-inclusion-proof" }
  /** `dist.attestations.url` on another host (default 127.0.0.2, same port). */
  | { kind: "attestation-url-host"; host?: string }
  // HTTP
  /** Answer with this status `times` times (forever when omitted), then normally. */
  | { kind: "status"; status: number; times?: number; retryAfterSeconds?: number }
  | { kind: "slow"; delayMs: number }
  /** Accept the request and never answer (until stop()). */
  | { kind: "hang" }
  | { kind: "malformed-json" }
  /** Stream a 200 JSON-looking body of this many bytes (e.g. 60 MiB). */
  | { kind: "oversized"; bytes: number }
  /** 302 to the same path on another origin, e.g. "http://127.0.0.2:4873". */
  | { kind: "redirect"; to: string }
  | { kind: "not-found" };

export type MisbehaviourKind = Misbehaviour["kind"];

/** Where a misbehaviour applies: "*", "keys", a package name, or name@version. */
export type MisbehaviourTarget = string;

export interface LoggedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** `expires` of the expired key listed on the keys endpoint; default publish times are after it. */
export const EXPIRED_KEY_EXPIRES = "2020-01-01T00:00:00.000Z";
/** Publish time of versions without `publishedAt`. */
export const DEFAULT_PUBLISHED_AT = "2024-06-01T12:00:00.000Z";
