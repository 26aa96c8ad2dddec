// Each misbehaviour of the test registry observably happens.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPublicKey, verify as verifySignature } from "node:crypto";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import {
  attestationSubjectName,
  EXPIRED_KEY_EXPIRES,
  NPMJS_CURRENT_KEYID,
  startTestRegistry,
  type Misbehaviour,
  type PackageSpec,
  type TestRegistry,
} from "../registry";

const PACKAGES: PackageSpec[] = [
  { name: "alpha", versions: [{ version: "1.0.0", provenance: true }] },
  { name: "beta", versions: [{ version: "2.0.0", provenance: true, publishedAt: "2024-03-01T00:00:00.000Z" }] },
];

let registry: TestRegistry;
before(async () => {
  registry = await startTestRegistry({ packages: PACKAGES });
});
after(() => registry.stop());

function get(pathname: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${registry.url}${pathname}`, { signal: AbortSignal.timeout(10_000), ...init });
}

async function packument(name: string): Promise<any> {
  const res = await get(name);
  assert.equal(res.status, 200);
  return res.json();
}

async function keys(): Promise<{ keyid: string; key: string; expires: string | null }[]> {
  return ((await (await get("-/npm/v1/keys")).json()) as { keys: { keyid: string; key: string; expires: string | null }[] }).keys;
}

function verifiesWith(keyBase64: string, name: string, version: string, integrity: string, sig: string): boolean {
  const key = createPublicKey({ key: Buffer.from(keyBase64, "base64"), format: "der", type: "spki" });
  return verifySignature("sha256", Buffer.from(`${name}@${version}:${integrity}`), key, Buffer.from(sig, "base64"));
}

/** With `target` misbehaving as `behaviour` during `check`, then restored. */
async function withMisbehaviour(target: string, behaviour: Misbehaviour, check: () => Promise<void>): Promise<void> {
  registry.setMisbehaviour(target, behaviour);
  try {
    await check();
  } finally {
    registry.setMisbehaviour(target, undefined);
  }
}

function verifier(): Verifier {
  const material = toTrustMaterial(TrustedRoot.fromJSON(registry.trustedRoot), () => ({
    publicKey: createPublicKey(registry.registryKeyPem),
    validFor: () => true,
  }));
  return new Verifier(material, { tlogThreshold: 1, ctlogThreshold: 0 });
}

async function attestations(name: string, version: string): Promise<{ publish: any; provenance: any }> {
  const res = await get(`-/npm/v1/attestations/${name}@${version}`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { attestations: { bundle: any }[] };
  return { publish: body.attestations[0].bundle, provenance: body.attestations[1].bundle };
}

const subjectOf = (bundle: any): { name: string; digest: { sha512: string } } =>
  JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8")).subject[0];

test("strip-signatures removes dist.signatures of one version only", async () => {
  await withMisbehaviour("alpha@1.0.0", { kind: "strip-signatures" }, async () => {
    assert.equal((await packument("alpha")).versions["1.0.0"].dist.signatures, undefined);
    assert.equal((await packument("beta")).versions["2.0.0"].dist.signatures.length, 1);
  });
  assert.equal((await packument("alpha")).versions["1.0.0"].dist.signatures.length, 1);
});

test("stripping-mirror: no signatures, no attestations, keys and attestation endpoints 404", async () => {
  await withMisbehaviour("*", { kind: "stripping-mirror" }, async () => {
    const dist = (await packument("alpha")).versions["1.0.0"].dist;
    assert.deepEqual([dist.signatures, dist.attestations], [undefined, undefined]);
    assert.equal((await get("-/npm/v1/keys")).status, 404);
    assert.equal((await get("-/npm/v1/attestations/alpha@1.0.0")).status, 404);
  });
});

test("tamper-integrity: the served integrity matches neither the signature nor the tarball", async () => {
  const honest = (await packument("alpha")).versions["1.0.0"].dist;
  await withMisbehaviour("alpha@1.0.0", { kind: "tamper-integrity" }, async () => {
    const dist = (await packument("alpha")).versions["1.0.0"].dist;
    assert.notEqual(dist.integrity, honest.integrity);
    const key = (await keys()).find((k) => k.keyid === dist.signatures[0].keyid);
    assert.ok(key);
    assert.equal(verifiesWith(key.key, "alpha", "1.0.0", dist.integrity, dist.signatures[0].sig), false);
    assert.equal(verifiesWith(key.key, "alpha", "1.0.0", honest.integrity, dist.signatures[0].sig), true);
    const bytes = Buffer.from(await (await get("alpha/-/alpha-1.0.0.tgz")).arrayBuffer());
    assert.notEqual("sha512-" + createHash("sha512").update(bytes).digest("base64"), dist.integrity);
  });
});

test("unknown-key signs with a key the keys endpoint does not list", async () => {
  await withMisbehaviour("alpha", { kind: "unknown-key" }, async () => {
    const sig = (await packument("alpha")).versions["1.0.0"].dist.signatures[0];
    assert.notEqual(sig.keyid, registry.keyid);
    assert.equal((await keys()).some((k) => k.keyid === sig.keyid), false);
  });
});

test("expired-key signs with a listed key that expired before the publish time", async () => {
  await withMisbehaviour("beta@2.0.0", { kind: "expired-key" }, async () => {
    const doc = await packument("beta");
    const { dist } = doc.versions["2.0.0"];
    const key = (await keys()).find((k) => k.keyid === dist.signatures[0].keyid);
    assert.ok(key);
    assert.equal(key.expires, EXPIRED_KEY_EXPIRES);
    assert.ok(Date.parse(key.expires) < Date.parse(doc.time["2.0.0"]));
    assert.equal(verifiesWith(key.key, "beta", "2.0.0", dist.integrity, dist.signatures[0].sig), true);
  });
});

test("replay-signature serves another version's valid signature, which fails for this package", async () => {
  const betaDist = (await packument("beta")).versions["2.0.0"].dist;
  await withMisbehaviour("alpha@1.0.0", { kind: "replay-signature", from: "beta@2.0.0" }, async () => {
    const dist = (await packument("alpha")).versions["1.0.0"].dist;
    const key = (await keys()).find((k) => k.keyid === registry.keyid);
    assert.ok(key);
    assert.equal(dist.signatures[0].keyid, registry.keyid);
    assert.equal(verifiesWith(key.key, "alpha", "1.0.0", dist.integrity, dist.signatures[0].sig), false);
    assert.equal(verifiesWith(key.key, "beta", "2.0.0", betaDist.integrity, dist.signatures[0].sig), true);
  });
});

test("attacker-keys: the keys endpoint offers an attacker's key under npmjs.org's keyid, and signatures use it", async () => {
  await withMisbehaviour("*", { kind: "attacker-keys" }, async () => {
    const listed = (await keys()).find((k) => k.keyid === NPMJS_CURRENT_KEYID);
    assert.ok(listed);
    // npmjs.org's real key under that keyid (fixtures/npm-keys); the attacker's is a different one.
    assert.notEqual(listed.key, "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEY6Ya7W++7aUPzvMTrezH6Ycx3c+HOKYCcNGybJZSCJq/fd7Qa8uuAKtdIkUQtQiEKERhAmE5lMMJhP8OkDOa2g==");
    const dist = (await packument("alpha")).versions["1.0.0"].dist;
    assert.equal(dist.signatures[0].keyid, NPMJS_CURRENT_KEYID);
    assert.equal(verifiesWith(listed.key, "alpha", "1.0.0", dist.integrity, dist.signatures[0].sig), true);
  });
  assert.equal((await keys()).some((k) => k.keyid === NPMJS_CURRENT_KEYID), false);
});

const SUBJECT_CASES: { kind: "attestation-wrong-name" | "attestation-wrong-digest"; field: "name" | "digest" }[] = [
  { kind: "attestation-wrong-name", field: "name" },
  { kind: "attestation-wrong-digest", field: "digest" },
];
for (const c of SUBJECT_CASES) {
  test(`${c.kind}: bundles still verify but their subject ${c.field} is not this package's`, async () => {
    const dist = (await packument("alpha")).versions["1.0.0"].dist;
    const expected = { name: attestationSubjectName("alpha", "1.0.0"), digest: { sha512: Buffer.from(dist.integrity.slice(7), "base64").toString("hex") } };
    await withMisbehaviour("alpha@1.0.0", { kind: c.kind }, async () => {
      const { publish, provenance } = await attestations("alpha", "1.0.0");
      for (const bundle of [publish, provenance]) {
        verifier().verify(toSignedEntity(bundleFromJSON(bundle)));
        const subject = subjectOf(bundle);
        assert.notDeepEqual(subject[c.field], expected[c.field]);
        const other = c.field === "name" ? "digest" : "name";
        assert.deepEqual(subject[other], expected[other]);
      }
    });
  });
}

const FAILING_PROVENANCE = [
  { kind: "attestation-other-ca", code: "CERTIFICATE_ERROR", message: /certificate chain/ },
  { kind: "attestation-broken-inclusion-proof", code: "TLOG_INCLUSION_PROOF_ERROR", message: /root hash does not match/ },
] as const;
for (const c of FAILING_PROVENANCE) {
  test(`${c.kind}: the provenance bundle fails verification, the publish attestation still verifies`, async () => {
    await withMisbehaviour("beta@2.0.0", { kind: c.kind }, async () => {
      const { publish, provenance } = await attestations("beta", "2.0.0");
      verifier().verify(toSignedEntity(bundleFromJSON(publish)));
      assert.throws(() => verifier().verify(toSignedEntity(bundleFromJSON(provenance))), { code: c.code, message: c.message });
    });
    const { provenance } = await attestations("beta", "2.0.0");
    verifier().verify(toSignedEntity(bundleFromJSON(provenance)));
  });
}

test("attestation-url-host points dist.attestations at another host", async () => {
  await withMisbehaviour("alpha@1.0.0", { kind: "attestation-url-host" }, async () => {
    const url = new URL((await packument("alpha")).versions["1.0.0"].dist.attestations.url);
    assert.equal(url.hostname, "127.0.0.2");
    assert.equal(url.port, new URL(registry.url).port);
  });
});

test("status: 429 twice with Retry-After, then OK; 500 forever", async () => {
  registry.setMisbehaviour("alpha", { kind: "status", status: 429, times: 2, retryAfterSeconds: 0 });
  const seen = [];
  for (let i = 0; i < 3; i++) {
    const res = await get("alpha");
    await res.arrayBuffer();
    seen.push([res.status, res.headers.get("retry-after")]);
  }
  assert.deepEqual(seen, [[429, "0"], [429, "0"], [200, null]]);
  await withMisbehaviour("keys", { kind: "status", status: 500 }, async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get("-/npm/v1/keys")).status, 500);
  });
  registry.setMisbehaviour("alpha", undefined);
});

test("slow and hang: a client deadline fires before any answer", async () => {
  for (const behaviour of [{ kind: "slow", delayMs: 600_000 }, { kind: "hang" }] as Misbehaviour[]) {
    await withMisbehaviour("beta", behaviour, async () => {
      await assert.rejects(fetch(`${registry.url}beta`, { signal: AbortSignal.timeout(100) }), { name: "TimeoutError" });
    });
  }
});

test("slow answers after its delay", async () => {
  await withMisbehaviour("beta", { kind: "slow", delayMs: 20 }, async () => {
    assert.equal((await packument("beta")).name, "beta");
  });
});

test("malformed-json: 200 with a body that is not JSON", async () => {
  await withMisbehaviour("alpha", { kind: "malformed-json" }, async () => {
    const res = await get("alpha");
    assert.equal(res.status, 200);
    await assert.rejects(res.json(), SyntaxError);
  });
});

test("oversized streams exactly the asked number of bytes (60 MiB)", async () => {
  const bytes = 60 * 1024 * 1024;
  await withMisbehaviour("alpha", { kind: "oversized", bytes }, async () => {
    const res = await get("alpha");
    let total = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) total += chunk.length;
    assert.equal(total, bytes);
  });
});

test("redirect answers 302 to the same path on another origin", async () => {
  await withMisbehaviour("alpha", { kind: "redirect", to: "http://127.0.0.2:9/" }, async () => {
    const res = await get("alpha", { redirect: "manual" });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "http://127.0.0.2:9/alpha");
  });
});

test("not-found makes an existing package a 404; misbehaviour given at start applies too", async () => {
  await withMisbehaviour("alpha", { kind: "not-found" }, async () => {
    assert.equal((await get("alpha")).status, 404);
  });
  const other = await startTestRegistry({ packages: PACKAGES, misbehaviour: { beta: { kind: "not-found" } } });
  try {
    const res = await fetch(`${other.url}beta`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 404);
    assert.deepEqual(other.requests.map((r) => r.url), ["/beta"]);
  } finally {
    await other.stop();
  }
});
