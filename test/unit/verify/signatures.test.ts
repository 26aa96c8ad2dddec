import { test } from "node:test";
import assert from "node:assert/strict";
import { NPMJS_REGISTRY_KEYS, type RegistryKey } from "../../../server/src/verify/npmKeys";
import { verifyRegistrySignature, type SignedVersion } from "../../../server/src/verify/signatures";
import { readFixture, skipWithoutFixtures, type SignatureVector } from "./sharedFixtures";

type Vector = SignatureVector;

const vectors = skipWithoutFixtures ? [] : readFixture<{ vectors: Vector[] }>("registry-signatures/signature-vectors.json").vectors;
const keyOf = (keyid: string): RegistryKey => NPMJS_REGISTRY_KEYS.find((k) => k.keyid === keyid)!;
const versionOf = (v: Vector, publishedAt?: string): SignedVersion => ({
  name: v.name,
  version: v.version,
  integrity: v.integrity,
  signatures: [{ keyid: v.keyid, sig: v.sig }],
  publishedAt,
});
/** A publish time known to be before the key's expiry (or any time for a key that never expires). */
const beforeExpiry = (key: RegistryKey): string => (key.expires === null ? "2026-01-01T00:00:00.000Z" : new Date(Date.parse(key.expires) - 86_400_000).toISOString());

test("every real signature vector verifies with the pinned keys", { skip: skipWithoutFixtures }, () => {
  assert.ok(vectors.length >= 5);
  assert.ok(vectors.some((v) => keyOf(v.keyid).expires === null), "a vector signed with the 2025 key");
  for (const v of vectors) {
    const key = keyOf(v.keyid);
    const verdict = verifyRegistrySignature(versionOf(v, v.published ?? beforeExpiry(key)), NPMJS_REGISTRY_KEYS);
    assert.deepEqual(verdict, { status: "valid", keyid: v.keyid, keyExpires: key.expires }, `${v.name}@${v.version}`);
  }
});

test("a signature by an expiring key without a publish time asks for it; one by the 2025 key does not", { skip: skipWithoutFixtures }, () => {
  for (const v of vectors) {
    const verdict = verifyRegistrySignature(versionOf(v), NPMJS_REGISTRY_KEYS);
    if (keyOf(v.keyid).expires === null) {
      assert.equal(verdict.status, "valid");
      assert.equal(verdict.needsPublishTime, undefined);
    } else {
      assert.equal(verdict.status, "not-checked");
      assert.equal(verdict.needsPublishTime, true);
      assert.match(verdict.reason ?? "", /publish time .* is needed/);
    }
  }
});

function flipLastByte(sigBase64: string): string {
  const der = Buffer.from(sigBase64, "base64");
  der[der.length - 1] ^= 0x01;
  return der.toString("base64");
}

const tampered: { name: string; change: (v: Vector) => SignedVersion; status: string; reason: RegExp }[] = [
  { name: "a flipped signature byte", change: (v) => ({ ...versionOf(v, v.published), signatures: [{ keyid: v.keyid, sig: flipLastByte(v.sig) }] }), status: "invalid", reason: /does not match/ },
  { name: "another package name", change: (v) => ({ ...versionOf(v, v.published), name: `${v.name}-evil` }), status: "invalid", reason: /does not match/ },
  { name: "another version", change: (v) => ({ ...versionOf(v, v.published), version: "9.9.9" }), status: "invalid", reason: /does not match/ },
  { name: "another integrity", change: (v) => ({ ...versionOf(v, v.published), integrity: v.integrity.replace(/^sha512-./, "sha512-A") }), status: "invalid", reason: /does not match/ },
  { name: "an unknown keyid", change: (v) => ({ ...versionOf(v, v.published), signatures: [{ keyid: "SHA256:unknownkeyunknownkeyunknownkeyunknownkey00", sig: v.sig }] }), status: "unknown-key", reason: /not one of the registry's keys/ },
  { name: "a publish time after the key expired", change: (v) => versionOf(v, "2025-02-01T00:00:00.000Z"), status: "expired-key", reason: /after its signing key .* expired/ },
  { name: "a signature that is not base64", change: (v) => ({ ...versionOf(v, v.published), signatures: [{ keyid: v.keyid, sig: "not*base64" }] }), status: "invalid", reason: /not base64/ },
  { name: "a signature that is not DER", change: (v) => ({ ...versionOf(v, v.published), signatures: [{ keyid: v.keyid, sig: Buffer.alloc(70, 7).toString("base64") }] }), status: "invalid", reason: /not a DER-encoded/ },
  { name: "a truncated DER signature", change: (v) => ({ ...versionOf(v, v.published), signatures: [{ keyid: v.keyid, sig: Buffer.from(v.sig, "base64").subarray(0, 40).toString("base64") }] }), status: "invalid", reason: /not a DER-encoded/ },
  { name: "no signatures", change: (v) => ({ ...versionOf(v, v.published), signatures: [] }), status: "missing", reason: /no signature/ },
  { name: "signatures absent", change: (v) => ({ ...versionOf(v, v.published), signatures: undefined }), status: "missing", reason: /no signature/ },
  { name: "a second entry that fails", change: (v) => ({ ...versionOf(v, v.published), signatures: [{ keyid: v.keyid, sig: v.sig }, { keyid: v.keyid, sig: flipLastByte(v.sig) }] }), status: "invalid", reason: /does not match/ },
  { name: "an entry without keyid", change: (v) => ({ ...versionOf(v, v.published), signatures: [{ sig: v.sig }] }), status: "invalid", reason: /names no keyid/ },
  { name: "no integrity", change: (v) => ({ ...versionOf(v, v.published), integrity: undefined }), status: "not-checked", reason: /no integrity/ },
];

for (const { name, change, status, reason } of tampered) {
  test(`a registry signature with ${name} is ${status}`, { skip: skipWithoutFixtures }, () => {
    const original = vectors.find((v) => v.published !== undefined)!;
    const verdict = verifyRegistrySignature(change(original), NPMJS_REGISTRY_KEYS);
    assert.equal(verdict.status, status);
    assert.match(verdict.reason ?? "", reason);
  });
}

test("a signature verifies only with the key its keyid names", { skip: skipWithoutFixtures }, () => {
  const v = vectors.find((x) => x.published !== undefined)!;
  const impostor: RegistryKey = { ...NPMJS_REGISTRY_KEYS[1], keyid: v.keyid, expires: null };
  assert.equal(verifyRegistrySignature(versionOf(v, v.published), [impostor]).status, "invalid");
});

test("every version of the real @isaacs/namespace-test packument verifies, using its time", { skip: skipWithoutFixtures }, () => {
  const packument = readFixture<{ name: string; time: Record<string, string>; versions: Record<string, { dist: { integrity: string; signatures: unknown } }> }>(
    "registry-signatures/packument.@isaacs+namespace-test.json",
  );
  const versions = Object.entries(packument.versions);
  assert.ok(versions.length > 0);
  for (const [version, manifest] of versions) {
    const verdict = verifyRegistrySignature(
      { name: packument.name, version, integrity: manifest.dist.integrity, signatures: manifest.dist.signatures, publishedAt: packument.time[version] },
      NPMJS_REGISTRY_KEYS,
    );
    assert.equal(verdict.status, "valid", `${version}: ${verdict.reason}`);
  }
});
