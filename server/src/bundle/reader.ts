// A trust bundle read from disk, answering the engine as the registry would (an EvidenceSource). Nothing here is
// trusted: the engine verifies every answer with the configured keys and Sigstore root, as it does online.
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import type { AttestationsDocument, KeysDocument, Packument, RegistryResult } from "../registry/registryClient";
import { redactUrl } from "../registry/redact";
import type { EvidenceSource } from "../verify/engine";
import { trustedRootFromJSON, type LoadedTrustedRoot } from "../verify/trustedRoot";
import { packumentKeyOf, withoutCredentials, type TrustBundle } from "./format";
import { validateTrustBundle } from "./validate";

/** Bigger than any real lockfile's evidence (a 3,000-package lockfile with provenance everywhere is ~60 MiB). */
export const DEFAULT_MAX_BUNDLE_BYTES = 256 * 1024 * 1024;

export interface LoadedBundle {
  /** Where it was read from (for messages). */
  path: string;
  /** SHA-256 hex of the file's bytes: identifies the bundle (engines are kept per bundle). */
  digest: string;
  bundle: TrustBundle;
  /** The bundle's own trusted root, parsed. Informational until the user chooses it (chooseTrustedRoot). */
  trustedRoot: LoadedTrustedRoot;
  /** What the engine gets instead of the network (EngineOptions.evidence). */
  evidence: EvidenceSource;
}

export type LoadBundleResult = { ok: true; loaded: LoadedBundle } | { ok: false; reason: string };

/** The phrase every uncovered package's reason contains. */
export const NOT_IN_BUNDLE = "not in the trust bundle";

/** Reads and validates a bundle file. Never throws: an unreadable, oversized or malformed file gives the reason. */
export async function loadTrustBundle(file: string, options: { maxBytes?: number } = {}): Promise<LoadBundleResult> {
  const max = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  let bytes: Buffer;
  try {
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      if (size > max) return { ok: false, reason: `The trust bundle ${file} is ${size} bytes, more than the ${max} bytes a bundle may have.` };
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    return { ok: false, reason: `The trust bundle ${file} cannot be read (${error instanceof Error ? error.message : String(error)}).` };
  }
  // Checked again after reading: the file may have grown between stat and read.
  if (bytes.length > max) return { ok: false, reason: `The trust bundle ${file} is more than the ${max} bytes a bundle may have.` };
  return parseTrustBundle(bytes, file);
}

/** Parses bundle bytes (pure; loadTrustBundle is the file edge). */
export function parseTrustBundle(bytes: Buffer | string, file: string): LoadBundleResult {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString());
  } catch (error) {
    return { ok: false, reason: `The trust bundle ${file} is not JSON (${error instanceof SyntaxError ? error.message : String(error)}).` };
  }
  const valid = validateTrustBundle(doc);
  if (!valid.ok) return { ok: false, reason: `The trust bundle ${file} is malformed: ${valid.reason}.` };
  const root = trustedRootFromJSON(JSON.stringify(valid.bundle.trustedRoot), "file", file);
  if (!root.ok) return { ok: false, reason: `The trust bundle ${file} is malformed: its trustedRoot is unusable (${root.reason})` };
  const digest = createHash("sha256").update(bytes).digest("hex");
  return { ok: true, loaded: { path: file, digest, bundle: valid.bundle, trustedRoot: root.root, evidence: bundleEvidence(valid.bundle) } };
}

/** The bundle as an EvidenceSource: recorded answers replayed, anything else "not in the trust bundle". */
export function bundleEvidence(bundle: TrustBundle): EvidenceSource {
  const own = <T>(record: Record<string, T>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);
  return {
    async packument(name, options): Promise<RegistryResult<Packument>> {
      const key = packumentKeyOf(options.registry, name);
      const entry = own(bundle.packuments, key);
      if (entry === undefined) return notCovered(`${name} from ${redactUrl(options.registry)}: ${NOT_IN_BUNDLE}.`);
      if ("error" in entry) return { ok: false, error: entry.error };
      if (options.full === true) {
        // Only recorded when the online check needed publish times; otherwise the engine never asks.
        if (entry.time === undefined) return notCovered(`The publish times of ${name} are ${NOT_IN_BUNDLE}.`);
        return { ok: true, value: { name, versions: entry.versions, time: entry.time }, url: key };
      }
      return { ok: true, value: { name, versions: entry.versions }, url: key };
    },
    async keys(registry): Promise<RegistryResult<KeysDocument>> {
      const entry = own(bundle.registries, withoutCredentials(registry.endsWith("/") ? registry : `${registry}/`));
      if (entry?.keys !== undefined) return { ok: true, value: entry.keys, url: registry };
      if (entry?.keysError !== undefined) return { ok: false, error: entry.keysError };
      // Not "not-found": that would tell the engine the registry serves no keys (and report it as a stripping
      // mirror). Any other kind leaves the keys unknown, so its packages are unverifiable with this reason.
      return { ok: false, error: { kind: "malformed", message: `The signing keys of ${redactUrl(registry)} are ${NOT_IN_BUNDLE}.` } };
    },
    async attestations(url): Promise<RegistryResult<AttestationsDocument>> {
      const entry = own(bundle.attestations, withoutCredentials(url));
      if (entry === undefined) return notCovered(`The attestations at ${redactUrl(url)} are ${NOT_IN_BUNDLE}.`);
      if ("error" in entry) return { ok: false, error: entry.error };
      return { ok: true, value: entry, url };
    },
  };
}

function notCovered<T>(message: string): RegistryResult<T> {
  return { ok: false, error: { kind: "not-found", message } };
}

export interface RootChoice {
  /** The root provenance is verified with. */
  root: LoadedTrustedRoot;
  /** Whether the bundle's root has the same content as the configured one. */
  matches: boolean;
  /** One sentence for the person: which root, how old, and why. */
  message: string;
  /** Set when the person should look (the roots differ). */
  warning: boolean;
}

/**
 * The root to verify with. The bundle's root is never a trust anchor by itself: the configured root (shipped or
 * --trusted-root) is used, and the bundle's is accepted only when its content is identical, or when the person
 * chose it (`useBundleRoot`: --trusted-root names the bundle file).
 */
export function chooseTrustedRoot(loaded: LoadedBundle, configured: LoadedTrustedRoot, useBundleRoot: boolean, now = new Date()): RootChoice {
  const bundleRoot = loaded.trustedRoot;
  const matches = canonicalRoot(bundleRoot) === canonicalRoot(configured);
  if (useBundleRoot) {
    return { root: bundleRoot, matches, warning: false, message: `Verifying with the trust bundle's own Sigstore trusted root, as --trusted-root asks: ${ageOf(bundleRoot, now)}.` };
  }
  const which = configured.source === "shipped" ? "the shipped" : `the configured (${configured.path ?? "file"})`;
  if (matches) return { root: configured, matches, warning: false, message: `Verifying with ${which} Sigstore trusted root, the same one the trust bundle was made with: ${ageOf(configured, now)}.` };
  return {
    root: configured,
    matches,
    warning: true,
    message:
      `The trust bundle was made with another Sigstore trusted root (${ageOf(bundleRoot, now)}); provenance is verified with ${which} root ` +
      `(${ageOf(configured, now)}), never with the bundle's. If you trust the bundle's root, pass --trusted-root ${loaded.path}.`,
  };
}

/** Content identity: the protobuf JSON of both roots (whitespace and key order of the files do not matter). */
function canonicalRoot(root: LoadedTrustedRoot): string {
  return JSON.stringify(TrustedRoot.toJSON(root.root));
}

function ageOf(root: LoadedTrustedRoot, now: Date): string {
  if (root.newestValidFrom === undefined) return "of unknown date";
  const days = Math.floor((now.getTime() - Date.parse(root.newestValidFrom)) / 86_400_000);
  return `from ${root.newestValidFrom.slice(0, 10)}, ${days} day${days === 1 ? "" : "s"} old`;
}

/**
 * Whether the bundle was made for this lockfile text. A warning (undefined when it was): the check still uses
 * what the bundle covers, and every package it does not cover is unverifiable with that reason.
 */
export function lockfileCoverageWarning(loaded: LoadedBundle, displayPath: string, text: string): string | undefined {
  const digest = createHash("sha256").update(text).digest("hex");
  if (loaded.bundle.lockfiles.some((l) => l.sha256 === digest)) return undefined;
  const made = loaded.bundle.lockfiles.map((l) => l.path);
  return (
    `The trust bundle ${loaded.path} was not made for ${displayPath} as it is now` +
    ` (it was made for ${made.length === 0 ? "no lockfile" : made.join(", ")}, with other content).` +
    ` Only the packages it covers can verify; the others are unverifiable ("${NOT_IN_BUNDLE}").`
  );
}

/** e.g. "trust bundle b.json, made 2026-05-01 by provenance-lens 0.1.0: 412 packages, 97 attestations". */
export function describeBundle(loaded: LoadedBundle, now = new Date()): string {
  const b = loaded.bundle;
  const days = Math.floor((now.getTime() - Date.parse(b.createdAt)) / 86_400_000);
  return (
    `Trust bundle ${loaded.path}, made ${b.createdAt.slice(0, 10)} (${days} day${days === 1 ? "" : "s"} ago) by ${b.tool.name} ${b.tool.version}: ` +
    `${Object.keys(b.packuments).length} packages, ${Object.keys(b.attestations).length} attestation documents, ` +
    `${Object.keys(b.registries).length} registr${Object.keys(b.registries).length === 1 ? "y" : "ies"}.`
  );
}
