// What one check knows about one registry (its keys, trust, whether it answered, whether it serves signatures), and
// the pure helpers the engine uses on it: cache keys, the notices a check ends with, URL decisions. Split from
// engine.ts, which keeps the orchestration (lanes, deadlines, workers, the verdict cache).
import { createHash } from "node:crypto";
import type { LockedPackage } from "../lockfile/model";
import type { RegistryNotice } from "../protocol/verdicts";
import type { VerdictKey } from "../registry/cache";
import { redactUrl } from "../registry/redact";
import type { RegistryKey } from "./npmKeys";
import type { PreparedTrust } from "./trustedRoot";

export interface RegistryState {
  url: string;
  npmjsKeys: boolean;
  keys?: readonly RegistryKey[];
  keysProblem?: string;
  trust?: PreparedTrust;
  /** Identifies the trust a verdict of this registry was reached with (the cache key part). */
  trustMaterialId: string;
  sawSignatures: boolean;
  /** Packuments this registry actually served in this check (what a "serves no signatures" notice rests on). */
  answered: number;
  /** Set once the registry failed to answer: later packages are not asked for again. */
  unreachable?: string;
  /** Fetches the keys on first need (the first package not answered from the cache), once. */
  ready: () => Promise<void>;
  /** `url` as messages show it (redacted), made once per check. */
  where?: string;
}

export function sessionKeyOf(pkg: LockedPackage, state: RegistryState): string {
  return `${state.trustMaterialId}\u0000${pkg.name}\u0000${pkg.version}\u0000${pkg.integrity ?? ""}`;
}

export function cacheKeyOf(pkg: LockedPackage, state: RegistryState): VerdictKey {
  return { name: pkg.name, version: pkg.version, integrity: pkg.integrity, trustMaterialId: state.trustMaterialId };
}

export function noticesOf(state: RegistryState): RegistryNotice[] {
  const checkedAny = state.answered > 0;
  const where = redactUrl(state.url);
  if (state.unreachable !== undefined) {
    return [{ registry: where, kind: "unreachable", message: `${where} did not answer (${state.unreachable}); its packages could not be verified.` }];
  }
  if (checkedAny && !state.sawSignatures && state.keys !== undefined) {
    return [{
      registry: where,
      kind: "no-signatures",
      message: `${where} serves no registry signatures for any package checked${state.keys.length === 0 ? " and no signing keys" : ""}. It is probably a mirror or proxy that strips them; its packages are unverifiable, not unsigned. Point the check at the upstream registry, or declare the mirror with a trust bundle.`,
    }];
  }
  if (checkedAny && state.keysProblem !== undefined && state.keys === undefined) {
    return [{ registry: where, kind: "keys-unavailable", message: `The signing keys of ${where} are unavailable: ${state.keysProblem}` }];
  }
  return [];
}

/** The configured registry's own attestation URL when a packument points elsewhere (never follow it there). */
export function attestationUrl(advertised: unknown, registryUrl: string, pkg: LockedPackage, notes: string[]): string {
  const own = `${registryUrl}-/npm/v1/attestations/${pkg.name}@${pkg.version}`;
  if (typeof advertised !== "string") return own;
  try {
    if (new URL(advertised).origin === new URL(registryUrl).origin) return advertised;
    notes.push(`The packument's attestation URL points at another host (${new URL(advertised).host}); the attestations were fetched from the configured registry instead.`);
  } catch {
    notes.push("The packument's attestation URL is not a valid URL; the configured registry's attestations endpoint was used instead.");
  }
  return own;
}

/** The host a lockfile's `resolved` URL points at when it is not the configured registry. */
export function resolvedElsewhere(resolved: string | undefined, registryUrl: string): string | undefined {
  if (resolved === undefined || !/^https?:/i.test(resolved)) return undefined;
  try {
    const at = new URL(resolved);
    const registry = new URL(registryUrl);
    return at.host === registry.host && at.pathname.startsWith(registry.pathname) ? undefined : at.host;
  } catch {
    // An unreadable URL names no host; the parser already reports malformed entries.
    return undefined;
  }
}

export function normaliseRegistry(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host.toLowerCase()}${u.pathname.endsWith("/") ? u.pathname : `${u.pathname}/`}`;
  } catch {
    return url.endsWith("/") ? url : `${url}/`;
  }
}

export function hashOf(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 32);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
