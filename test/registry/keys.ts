// P-256 signing keys in the shapes npm uses: the `/-/npm/v1/keys` entry, the keyid, the registry signature.
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";

/** The keyid npmjs.org's current (2025) key is published under; the "attacker-keys" misbehaviour reuses it. */
export const NPMJS_CURRENT_KEYID = "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U";

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyid: string;
  /** SPKI PEM of the public key. */
  publicKeyPem: string;
  /** Base64 SPKI DER, as in the `key` field of `/-/npm/v1/keys`. */
  publicKeyBase64: string;
}

/** One entry of `GET /-/npm/v1/keys`. */
export interface NpmKeyEntry {
  expires: string | null;
  keyid: string;
  keytype: "ecdsa-sha2-nistp256";
  scheme: "ecdsa-sha2-nistp256";
  key: string;
}

function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * npm's keyid: `SHA256:` + unpadded base64 of SHA-256 over the OpenSSH wire form of the key (what
 * `ssh-keygen -l` prints), see RFC 5656 section 3.1. Not a hash of the DER key.
 */
export function npmKeyid(publicKey: KeyObject | string): string {
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  const jwk = key.export({ format: "jwk" });
  if (jwk.crv !== "P-256" || jwk.x === undefined || jwk.y === undefined) throw new Error("npm keyids are defined here for P-256 keys only");
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
  const wire = Buffer.concat([sshString(Buffer.from("ecdsa-sha2-nistp256")), sshString(Buffer.from("nistp256")), sshString(point)]);
  return "SHA256:" + createHash("sha256").update(wire).digest("base64").replace(/=+$/, "");
}

export function newSigningKey(keyid?: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const der = publicKey.export({ format: "der", type: "spki" });
  return {
    privateKey,
    publicKey,
    keyid: keyid ?? npmKeyid(publicKey),
    publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    publicKeyBase64: der.toString("base64"),
  };
}

export function keyEntry(key: SigningKey, expires: string | null): NpmKeyEntry {
  return { expires, keyid: key.keyid, keytype: "ecdsa-sha2-nistp256", scheme: "ecdsa-sha2-nistp256", key: key.publicKeyBase64 };
}

/** The registry signature: ECDSA P-256 / SHA-256 over `${name}@${version}:${integrity}`, DER, base64. */
export function registrySignature(key: SigningKey, name: string, version: string, integrity: string): { keyid: string; sig: string } {
  const sig = sign("sha256", Buffer.from(`${name}@${version}:${integrity}`, "utf8"), key.privateKey).toString("base64");
  return { keyid: key.keyid, sig };
}
