// Registry signatures: ECDSA P-256 / SHA-256 over `${name}@${version}:${integrity}` (npm's `dist.signatures`).
// https://docs.npmjs.com/about-registry-signatures
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import type { SignatureVerdict } from "../protocol/verdicts";
import type { RegistryKey } from "./npmKeys";

export interface SignedVersion {
  name: string;
  version: string;
  /** The integrity the signature is checked against (the lockfile's, so a match also proves the lockfile). */
  integrity: string | undefined;
  /** `dist.signatures` as the registry sent it (unknown: it is checked here). */
  signatures: unknown;
  /** Publish time of the version (`time[version]` of the full packument), ISO. */
  publishedAt?: string;
}

/**
 * A signature verdict, plus a flag the engine acts on: the signature verifies with a key that has an expiry, and the
 * version's publish time is needed to know whether it was signed before then (fetch the full packument, retry).
 */
export interface RegistrySignatureResult extends SignatureVerdict {
  needsPublishTime?: true;
}

// Importing a key costs far more than a verification; a cold check verifies thousands with the same two keys.
const keyObjects = new Map<string, KeyObject>();

function keyObjectOf(key: RegistryKey): KeyObject | string {
  const cacheKey = `${key.keyid}\n${key.key}`;
  const cached = keyObjects.get(cacheKey);
  if (cached !== undefined) return cached;
  try {
    const object = createPublicKey({ key: Buffer.from(key.key, "base64"), format: "der", type: "spki" });
    keyObjects.set(cacheKey, object);
    return object;
  } catch (error) {
    return `key ${key.keyid} cannot be read (${error instanceof Error ? error.message : String(error)})`;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * True when the bytes are one DER SEQUENCE of two INTEGERs (an ECDSA signature). Hand-written because OpenSSL only
 * answers "false" for both a wrong and an unreadable signature, and people need to be told which it is.
 */
function isDerEcdsaSignature(der: Buffer): boolean {
  const readLength = (at: number): [number, number] | undefined => {
    if (at >= der.length) return undefined;
    const first = der[at];
    if (first < 0x80) return [first, at + 1];
    if (first === 0x81 && at + 1 < der.length && der[at + 1] >= 0x80) return [der[at + 1], at + 2];
    return undefined;
  };
  if (der[0] !== 0x30) return false;
  const seq = readLength(1);
  if (seq === undefined || seq[1] + seq[0] !== der.length) return false;
  let at = seq[1];
  for (let i = 0; i < 2; i++) {
    if (der[at] !== 0x02) return false;
    const int = readLength(at + 1);
    if (int === undefined || int[0] === 0 || int[1] + int[0] > der.length) return false;
    at = int[1] + int[0];
  }
  return at === der.length;
}

type EntryOutcome =
  | { status: "valid"; key: RegistryKey; needsPublishTime?: true; reason?: string }
  | { status: "invalid" | "unknown-key" | "expired-key"; keyid?: string; key?: RegistryKey; reason: string };

// When several entries disagree, the worst one decides.
const SEVERITY: Record<EntryOutcome["status"], number> = { invalid: 3, "unknown-key": 2, "expired-key": 1, valid: 0 };

function checkEntry(entry: unknown, message: Buffer, subject: string, pkg: SignedVersion, keys: ReadonlyMap<string, RegistryKey>): EntryOutcome {
  if (typeof entry !== "object" || entry === null) return { status: "invalid", reason: `A signature entry of ${subject} is not an object.` };
  const { keyid, sig } = entry as { keyid?: unknown; sig?: unknown };
  if (typeof keyid !== "string" || keyid === "") return { status: "invalid", reason: `A signature of ${subject} names no keyid.` };
  const key = keys.get(keyid);
  if (key === undefined) {
    return { status: "unknown-key", keyid, reason: `${subject} is signed with key ${keyid}, which is not one of the registry's keys.` };
  }
  if (typeof sig !== "string" || !BASE64.test(sig) || sig === "") {
    return { status: "invalid", keyid, key, reason: `The signature of ${subject} by ${keyid} is not base64.` };
  }
  const der = Buffer.from(sig, "base64");
  if (!isDerEcdsaSignature(der)) {
    return { status: "invalid", keyid, key, reason: `The signature of ${subject} by ${keyid} is not a DER-encoded ECDSA signature.` };
  }
  const keyObject = keyObjectOf(key);
  if (typeof keyObject === "string") return { status: "invalid", keyid, key, reason: `The signature of ${subject} cannot be checked: ${keyObject}.` };
  if (!verify("sha256", message, { key: keyObject, dsaEncoding: "der" }, der)) {
    return {
      status: "invalid",
      keyid,
      key,
      reason: `The signature by ${keyid} does not match ${subject} with integrity ${pkg.integrity}: the package, version or tarball differs from what the registry signed.`,
    };
  }
  if (key.expires === null) return { status: "valid", key };
  if (pkg.publishedAt === undefined) {
    return {
      status: "valid",
      key,
      needsPublishTime: true,
      reason: `The signature verifies with key ${keyid}, which expired on ${key.expires}; the publish time of ${subject} is needed to know whether it was signed before then.`,
    };
  }
  const published = Date.parse(pkg.publishedAt);
  if (Number.isNaN(published)) {
    return { status: "valid", key, needsPublishTime: true, reason: `The publish time of ${subject} (${pkg.publishedAt}) cannot be read; it is needed because key ${keyid} expired on ${key.expires}.` };
  }
  if (published >= Date.parse(key.expires)) {
    return { status: "expired-key", keyid, key, reason: `${subject} was published on ${pkg.publishedAt}, after its signing key ${keyid} expired on ${key.expires}.` };
  }
  return { status: "valid", key };
}

/**
 * Checks `dist.signatures` of one version against the registry's keys. Every entry must verify with the key its
 * keyid names. Never throws: unreadable input becomes a status with a reason.
 */
export function verifyRegistrySignature(pkg: SignedVersion, keys: readonly RegistryKey[]): RegistrySignatureResult {
  const subject = `${pkg.name}@${pkg.version}`;
  if (!Array.isArray(pkg.signatures) || pkg.signatures.length === 0) {
    return { status: "missing", reason: `The registry sent no signature for ${subject}.` };
  }
  if (pkg.integrity === undefined || pkg.integrity === "") {
    return { status: "not-checked", reason: `${subject} has no integrity to check its signature against.` };
  }
  const byId = new Map(keys.map((k) => [k.keyid, k]));
  const message = Buffer.from(`${subject}:${pkg.integrity}`, "utf8");
  let worst: EntryOutcome | undefined;
  for (const entry of pkg.signatures as unknown[]) {
    const outcome = checkEntry(entry, message, subject, pkg, byId);
    const rank = (o: EntryOutcome): number => SEVERITY[o.status] * 2 + (o.status === "valid" && o.needsPublishTime ? 1 : 0);
    if (worst === undefined || rank(outcome) > rank(worst)) worst = outcome;
  }
  if (worst === undefined) return { status: "missing", reason: `The registry sent no signature for ${subject}.` };
  if (worst.status === "valid") {
    const base = { keyid: worst.key.keyid, keyExpires: worst.key.expires };
    return worst.needsPublishTime ? { status: "not-checked", ...base, needsPublishTime: true, reason: worst.reason } : { status: "valid", ...base };
  }
  return { status: worst.status, keyid: worst.keyid, keyExpires: worst.key?.expires, reason: worst.reason };
}
