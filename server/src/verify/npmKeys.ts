// Registry signing keys: the pinned registry.npmjs.org keys, keyids, and parsing of key documents.
import { createHash, createPublicKey } from "node:crypto";

/** One registry signing key, as `/-/npm/v1/keys` describes it. */
export interface RegistryKey {
  keyid: string;
  keytype: string;
  scheme: string;
  /** Base64 of the SubjectPublicKeyInfo DER. */
  key: string;
  /** ISO time after which the key signs nothing new; null when it never expires. */
  expires: string | null;
}

/**
 * The registry.npmjs.org signing keys, pinned in the product.
 *
 * Source: `GET https://registry.npmjs.org/-/npm/v1/keys` (the same values npm's keys TUF target
 * `registry.npmjs.org/keys.json` in sigstore/root-signing and corepack's `config.json` publish). They are pinned
 * rather than fetched so that a mirror or a man in the middle cannot hand in its own keys: an npmjs package only
 * ever verifies with these, and keys served by any other host never verify an npmjs package.
 */
export const NPMJS_REGISTRY_KEYS: readonly RegistryKey[] = Object.freeze([
  Object.freeze({
    keyid: "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA",
    keytype: "ecdsa-sha2-nistp256",
    scheme: "ecdsa-sha2-nistp256",
    key: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg==",
    expires: "2025-01-29T00:00:00.000Z",
  }),
  Object.freeze({
    keyid: "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U",
    keytype: "ecdsa-sha2-nistp256",
    scheme: "ecdsa-sha2-nistp256",
    key: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEY6Ya7W++7aUPzvMTrezH6Ycx3c+HOKYCcNGybJZSCJq/fd7Qa8uuAKtdIkUQtQiEKERhAmE5lMMJhP8OkDOa2g==",
    expires: null,
  }),
]);

export const NPMJS_REGISTRY_HOST = "registry.npmjs.org";

/** True for the public npm registry, whose packages verify with the pinned keys only. */
export function isNpmjsRegistry(registryUrl: string): boolean {
  try {
    return new URL(registryUrl).hostname.toLowerCase() === NPMJS_REGISTRY_HOST;
  } catch {
    // Not a URL at all: certainly not the public registry.
    return false;
  }
}

const ECDSA_P256 = "ecdsa-sha2-nistp256";

function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * The keyid npm gives an ECDSA P-256 key: `SHA256:` + unpadded base64 of SHA-256 over the key's OpenSSH wire form
 * (what `ssh-keygen -l` prints), not a hash of the DER. Throws on a key that is not a P-256 SPKI.
 */
export function keyIdOf(spkiBase64: string): string {
  const jwk = createPublicKey({ key: Buffer.from(spkiBase64, "base64"), format: "der", type: "spki" }).export({ format: "jwk" });
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || jwk.x === undefined || jwk.y === undefined) {
    throw new Error("Not an ECDSA P-256 public key.");
  }
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
  const wire = Buffer.concat([sshString(Buffer.from(ECDSA_P256)), sshString(Buffer.from("nistp256")), sshString(point)]);
  return `SHA256:${createHash("sha256").update(wire).digest("base64").replace(/=+$/, "")}`;
}

export interface KeyProblem {
  /** Position of the entry in the document's `keys` array (-1 for the document itself). */
  index: number;
  reason: string;
}

export interface ParsedKeys {
  keys: RegistryKey[];
  problems: KeyProblem[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isIsoTime(value: unknown): value is string {
  return typeof value === "string" && !Number.isNaN(Date.parse(value));
}

/** Why a base64 SPKI is unusable as a P-256 key, or undefined when it is fine. */
function keyProblem(key: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) return "its key is not base64";
  try {
    const jwk = createPublicKey({ key: Buffer.from(key, "base64"), format: "der", type: "spki" }).export({ format: "jwk" });
    return jwk.kty === "EC" && jwk.crv === "P-256" ? undefined : `its key is ${jwk.kty} ${jwk.crv ?? ""}, not ECDSA P-256`.trim();
  } catch (error) {
    return `its key is not a public key (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** One `/-/npm/v1/keys` entry: {keyid, keytype, scheme, key, expires}. */
function fromKeysEntry(entry: Record<string, unknown>): RegistryKey | string {
  const { keyid, keytype, scheme, key, expires } = entry;
  if (typeof keyid !== "string" || keyid === "") return "it has no keyid";
  if (typeof key !== "string" || key === "") return `key ${keyid} has no key`;
  if (keytype !== ECDSA_P256) return `key ${keyid} has keytype ${JSON.stringify(keytype)}, not ${ECDSA_P256}`;
  if (scheme !== undefined && scheme !== ECDSA_P256) return `key ${keyid} has scheme ${JSON.stringify(scheme)}, not ${ECDSA_P256}`;
  if (expires !== null && expires !== undefined && !isIsoTime(expires)) return `key ${keyid} has an unreadable expiry ${JSON.stringify(expires)}`;
  const problem = keyProblem(key);
  if (problem !== undefined) return `key ${keyid}: ${problem}`;
  return { keyid, keytype, scheme: ECDSA_P256, key, expires: expires ?? null };
}

/** One TUF target entry: {keyId, keyUsage, publicKey: {rawBytes, keyDetails, validFor: {start, end?}}}. */
function fromTufEntry(entry: Record<string, unknown>): (RegistryKey & { usage: string }) | string {
  const { keyId, keyUsage, publicKey } = entry;
  if (typeof keyId !== "string" || keyId === "") return "it has no keyId";
  if (!isRecord(publicKey)) return `key ${keyId} has no publicKey`;
  const { rawBytes, keyDetails, validFor } = publicKey;
  if (typeof rawBytes !== "string" || rawBytes === "") return `key ${keyId} has no rawBytes`;
  if (keyDetails !== "PKIX_ECDSA_P256_SHA_256") return `key ${keyId} has keyDetails ${JSON.stringify(keyDetails)}, not PKIX_ECDSA_P256_SHA_256`;
  const end = isRecord(validFor) ? validFor.end : undefined;
  if (end !== undefined && end !== null && !isIsoTime(end)) return `key ${keyId} has an unreadable validFor.end ${JSON.stringify(end)}`;
  const problem = keyProblem(rawBytes);
  if (problem !== undefined) return `key ${keyId}: ${problem}`;
  return { keyid: keyId, keytype: ECDSA_P256, scheme: ECDSA_P256, key: rawBytes, expires: end ?? null, usage: typeof keyUsage === "string" ? keyUsage : "" };
}

/**
 * Reads a registry keys document: the `/-/npm/v1/keys` body or the TUF target form (`keyUsage`, `validFor`).
 * Malformed entries are left out and reported with a reason; the rest are kept. In the TUF form a key listed for
 * several usages is returned once, with the expiry of its `npm:signatures` entry when there is one.
 */
export function parseKeysResponse(json: unknown): ParsedKeys {
  const problems: KeyProblem[] = [];
  if (!isRecord(json) || !Array.isArray(json.keys)) {
    return { keys: [], problems: [{ index: -1, reason: "The keys document has no `keys` list." }] };
  }
  const byId = new Map<string, RegistryKey & { usage?: string }>();
  json.keys.forEach((entry: unknown, index: number) => {
    if (!isRecord(entry)) {
      problems.push({ index, reason: `Entry ${index} is not an object.` });
      return;
    }
    const parsed = "keyId" in entry || "publicKey" in entry ? fromTufEntry(entry) : fromKeysEntry(entry);
    if (typeof parsed === "string") {
      problems.push({ index, reason: `Entry ${index} is unusable: ${parsed}.` });
      return;
    }
    const known = byId.get(parsed.keyid);
    if (known === undefined || (known.usage !== "npm:signatures" && "usage" in parsed && parsed.usage === "npm:signatures")) {
      byId.set(parsed.keyid, parsed);
    }
  });
  const keys = [...byId.values()].map(({ keyid, keytype, scheme, key, expires }) => ({ keyid, keytype, scheme, key, expires }));
  return { keys, problems };
}
