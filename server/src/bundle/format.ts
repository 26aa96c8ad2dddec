// The trust bundle file (issue #5, "Offline trust bundles"): recorded evidence, not trust. Everything in it is
// verified by the engine exactly as if it had just come from the registry; only what verification reads is kept.
import type { AttestationsDocument, KeysDocument, PackumentDist, RegistryErrorKind } from "../registry/registryClient";

export const TRUST_BUNDLE_FORMAT = "provenance-lens-trust-bundle";
export const TRUST_BUNDLE_VERSION = 1;

/** A registry answer that was not a document (a 404, a 500, malformed JSON...), replayed as it was seen. */
export interface RecordedError {
  kind: RegistryErrorKind;
  status?: number;
  message: string;
}

/** A version record cut down to the fields the engine reads (decide.ts, signatures.ts, provenance.ts). */
// A type, not an interface: it must be assignable to the registry's index-signatured PackumentVersion.
export type BundledVersion = {
  name?: string;
  version?: string;
  dist: Pick<PackumentDist, "integrity" | "shasum" | "signatures" | "attestations">;
};

export type BundledPackument =
  | {
      versions: Record<string, BundledVersion>;
      /** Publish times of the kept versions; present when the full packument was fetched (keys that expire). */
      time?: Record<string, string>;
    }
  | { error: RecordedError };

export interface BundledRegistry {
  /** The `/-/npm/v1/keys` document, for registries other than npmjs (npmjs verifies with pinned keys only). */
  keys?: KeysDocument;
  keysError?: RecordedError;
}

export interface BundledLockfile {
  /** Relative to where the bundle was made, POSIX separators. */
  path: string;
  /** SHA-256 hex of the lockfile's text (UTF-8). */
  sha256: string;
}

export interface TrustBundle {
  format: typeof TRUST_BUNDLE_FORMAT;
  version: typeof TRUST_BUNDLE_VERSION;
  /** ISO time the evidence was collected. */
  createdAt: string;
  tool: { name: string; version: string };
  /** The Sigstore TrustedRoot used when the bundle was made (protobuf JSON). Informational: never a trust anchor. */
  trustedRoot: Record<string, unknown>;
  /** Keyed by normalised registry URL (`https://host/path/`, no credentials). */
  registries: Record<string, BundledRegistry>;
  /** Keyed by registry URL + package name, e.g. `https://registry.npmjs.org/@scope/name`. */
  packuments: Record<string, BundledPackument>;
  /** Keyed by the attestation URL the engine asked for (no credentials). */
  attestations: Record<string, AttestationsDocument | { error: RecordedError }>;
  lockfiles: BundledLockfile[];
}

/** Where a packument lives in the bundle. The registry URL is the engine's normalised one (ends with `/`). */
export function packumentKeyOf(registry: string, name: string): string {
  return `${withoutCredentials(registry.endsWith("/") ? registry : `${registry}/`)}${name}`;
}

/** URLs are stored without user:password, so a bundle never carries credentials (and lookups agree). */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === "" && u.password === "") return url;
    u.username = "";
    u.password = "";
    return u.href;
  } catch {
    // Not a URL: it cannot carry URL credentials either; kept as the engine gave it.
    return url;
  }
}

/** The fields verification needs from a version record, and nothing else (size matters for big lockfiles). */
export function neededFieldsOf(version: unknown): BundledVersion | undefined {
  if (!isRecord(version)) return undefined;
  const dist = isRecord(version.dist) ? version.dist : {};
  const kept: BundledVersion["dist"] = {};
  // Kept as served, whatever their shape: verify/ judges malformed values, so the verdict is the same offline.
  if (dist.integrity !== undefined) kept.integrity = dist.integrity as string;
  if (dist.shasum !== undefined) kept.shasum = dist.shasum as string;
  if (dist.signatures !== undefined) kept.signatures = dist.signatures as PackumentDist["signatures"];
  if (dist.attestations !== undefined) kept.attestations = dist.attestations as PackumentDist["attestations"];
  return {
    ...(typeof version.name === "string" ? { name: version.name } : {}),
    ...(typeof version.version === "string" ? { version: version.version } : {}),
    dist: kept,
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
