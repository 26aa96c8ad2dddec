// Registry signatures verified on a worker thread give exactly the results of verifyRegistrySignature on the main
// thread (issue #7: the engine sends them to the pool in large checks). Data: generated P-256 keys (always), and
// npm's real signatures from the shared fixtures.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { AttestationPool, workerScript } from "../../../server/src/verify/attestationPool";
import { NPMJS_REGISTRY_KEYS, type RegistryKey } from "../../../server/src/verify/npmKeys";
import { verifyRegistrySignature, type SignedVersion } from "../../../server/src/verify/signatures";
import { readFixture, skipWithoutFixtures, type SignatureVector } from "./sharedFixtures";

const noWorker = workerScript() === undefined ? "no worker script next to the module" : false;
const pool = new AttestationPool(2);
after(() => pool.close());

function generatedKey(keyid: string, expires: string | null): { key: RegistryKey; signer: (message: string) => string } {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const der = publicKey.export({ format: "der", type: "spki" }).toString("base64");
  return {
    key: { keyid, keytype: "ecdsa-sha2-nistp256", scheme: "ecdsa-sha2-nistp256", key: der, expires },
    signer: (message) => sign("sha256", Buffer.from(message), { key: privateKey, dsaEncoding: "der" }).toString("base64"),
  };
}

const lasting = generatedKey("SHA256:lasting", null);
const expiring = generatedKey("SHA256:expiring", "2025-01-29T00:00:00.000Z");
const stranger = generatedKey("SHA256:stranger", null);
const KEYS = [lasting.key, expiring.key];
const INTEGRITY = "sha512-" + Buffer.alloc(64, 7).toString("base64");

const signed = (name: string, by: typeof lasting, extra: Partial<SignedVersion> = {}): SignedVersion => ({
  name,
  version: "1.0.0",
  integrity: INTEGRITY,
  signatures: [{ keyid: by.key.keyid, sig: by.signer(`${name}@1.0.0:${INTEGRITY}`) }],
  ...extra,
});

const CASES: { name: string; pkg: SignedVersion; status: string; needsPublishTime?: true }[] = [
  { name: "valid, key without expiry", pkg: signed("a", lasting), status: "valid" },
  { name: "valid, published before the key expired", pkg: signed("b", expiring, { publishedAt: "2024-06-01T00:00:00.000Z" }), status: "valid" },
  { name: "expiring key, publish time needed", pkg: signed("c", expiring), status: "not-checked", needsPublishTime: true },
  { name: "expired key", pkg: signed("d", expiring, { publishedAt: "2025-06-01T00:00:00.000Z" }), status: "expired-key" },
  { name: "unknown key", pkg: signed("e", stranger), status: "unknown-key" },
  { name: "tampered: other package name", pkg: { ...signed("f", lasting), name: "f-evil" }, status: "invalid" },
  { name: "tampered: other integrity", pkg: { ...signed("g", lasting), integrity: "sha512-" + Buffer.alloc(64, 8).toString("base64") }, status: "invalid" },
  { name: "not DER", pkg: { ...signed("h", lasting), signatures: [{ keyid: lasting.key.keyid, sig: "AAAA" }] }, status: "invalid" },
  { name: "no signatures", pkg: { ...signed("i", lasting), signatures: [] }, status: "missing" },
  { name: "no integrity", pkg: { ...signed("j", lasting), integrity: undefined }, status: "not-checked" },
];

test("worker signature results equal main-thread results (generated keys)", { skip: noWorker }, async () => {
  // All at once, so they travel in batches as in a check.
  const pooled = await Promise.all(CASES.map((c) => pool.verifySignature(c.pkg, KEYS)));
  for (const [i, c] of CASES.entries()) {
    const inline = verifyRegistrySignature(c.pkg, KEYS);
    assert.deepEqual(pooled[i], inline, c.name);
    assert.equal(pooled[i].status, c.status, c.name);
    assert.equal(pooled[i].needsPublishTime, c.needsPublishTime, c.name);
  }
});

type Vector = SignatureVector;

test("worker signature results equal main-thread results (npm's real signatures)", { skip: noWorker || skipWithoutFixtures }, async () => {
  const vectors = readFixture<{ vectors: Vector[] }>("registry-signatures/signature-vectors.json").vectors;
  assert.ok(vectors.length >= 5);
  const flip = (sig: string): string => {
    const der = Buffer.from(sig, "base64");
    der[der.length - 1] ^= 0x01;
    return der.toString("base64");
  };
  const pkgs: { pkg: SignedVersion; keys: readonly RegistryKey[]; status: string }[] = [];
  for (const v of vectors) {
    const key = NPMJS_REGISTRY_KEYS.find((k) => k.keyid === v.keyid)!;
    const base: SignedVersion = { name: v.name, version: v.version, integrity: v.integrity, signatures: [{ keyid: v.keyid, sig: v.sig }] };
    const before = key.expires === null ? "2026-01-01T00:00:00.000Z" : new Date(Date.parse(key.expires) - 86_400_000).toISOString();
    pkgs.push({ pkg: { ...base, publishedAt: v.published ?? before }, keys: NPMJS_REGISTRY_KEYS, status: "valid" });
    pkgs.push({ pkg: { ...base, publishedAt: v.published, signatures: [{ keyid: v.keyid, sig: flip(v.sig) }] }, keys: NPMJS_REGISTRY_KEYS, status: "invalid" });
    pkgs.push({ pkg: { ...base, publishedAt: before }, keys: NPMJS_REGISTRY_KEYS.filter((k) => k.keyid !== v.keyid), status: "unknown-key" });
    if (key.expires !== null) {
      const afterExpiry = new Date(Date.parse(key.expires) + 86_400_000).toISOString();
      pkgs.push({ pkg: { ...base, publishedAt: afterExpiry }, keys: NPMJS_REGISTRY_KEYS, status: "expired-key" });
    }
  }
  assert.ok(pkgs.some((p) => p.status === "expired-key"), "a vector signed with the expiring key");
  const pooled = await Promise.all(pkgs.map((p) => pool.verifySignature(p.pkg, p.keys)));
  for (const [i, p] of pkgs.entries()) {
    const label = `${p.pkg.name}@${p.pkg.version} (${p.status})`;
    assert.deepEqual(pooled[i], verifyRegistrySignature(p.pkg, p.keys), label);
    assert.equal(pooled[i].status, p.status, label);
  }
});

test("tasks queued while the worker is busy are shared with this thread, with the same results", { skip: noWorker }, async () => {
  // Two batches large enough to keep the worker busy for tens of milliseconds (a worker is sent at most two before
  // it answers), then more tasks while it is: those wait in the queue, where this thread takes some of them (newest
  // first) between its I/O callbacks.
  const own = new AttestationPool(1);
  try {
    const batch = (from: number, count: number): SignedVersion[] =>
      Array.from({ length: count }, (_, i) => (i % 7 === 3 ? { ...signed(`shared-${from + i}`, lasting), name: `shared-${from + i}-evil` } : signed(`shared-${from + i}`, i % 5 === 0 ? stranger : lasting)));
    const all: SignedVersion[] = [];
    const pending: Promise<unknown>[] = [];
    for (const from of [0, 400]) {
      const tasks = batch(from, 400);
      all.push(...tasks);
      pending.push(...tasks.map((pkg) => own.verifySignature(pkg, KEYS)));
      await new Promise((resolve) => setImmediate(resolve)); // this batch is posted
    }
    const third = batch(800, 400);
    all.push(...third);
    const results = (await Promise.all([...pending, ...third.map((pkg) => own.verifySignature(pkg, KEYS))])) as ReturnType<typeof verifyRegistrySignature>[];
    all.forEach((pkg, i) => assert.deepEqual(results[i], verifyRegistrySignature(pkg, KEYS), pkg.name));
    assert.ok(results.some((r) => r.status === "invalid") && results.some((r) => r.status === "unknown-key") && results.some((r) => r.status === "valid"));
    assert.ok(own.helped > 0, "this thread verified some of the queued tasks");
    assert.ok(own.helped <= 400, "only queued tasks, never the ones posted to the worker");
  } finally {
    await own.close();
  }
});
