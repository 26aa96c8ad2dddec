// The loopback test registry's own output is right: signatures, keyids, tarballs, attestation bundles.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPublicKey, verify as verifySignature } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import {
  attestationSubjectName,
  GITHUB_OIDC_ISSUER,
  npmKeyid,
  packagesFromLockfileEntries,
  PUBLISH_PREDICATE_TYPE,
  sha512HexOfIntegrity,
  SLSA_PROVENANCE_V1,
  startTestRegistry,
  workflowIdentity,
  workflowRunOf,
  writeProjectForSpec,
  type PackageSpec,
  type TestRegistry,
} from "../registry";

const SHARED = process.env.PROVENANCE_LENS_SHARED ?? path.resolve(__dirname, "../..", "../shared");
const NO_SHARED = existsSync(path.join(SHARED, "fixtures")) ? undefined : `shared fixtures not found at ${SHARED}`;

const PACKAGES: PackageSpec[] = [
  { name: "plain", versions: [{ version: "1.0.0" }, { version: "1.1.0", dependencies: { "@scope/prov": "^1.2.3" } }] },
  { name: "@scope/prov", versions: [{ version: "1.2.3", provenance: true, repository: "https://github.com/acme/prov" }] },
  ...packagesFromLockfileEntries([
    { name: "sigstore", version: "0.4.0", integrity: "sha512-KCwMX6k20mQyFkNYG2XT3lwK9u1P36wS9YURFd85zCXPrwrSLZCEh7/vMBFNYcJXRiBtGDS+T4/RZZF493zABA==" },
  ]),
];

let registry: TestRegistry;
before(async () => {
  registry = await startTestRegistry({ packages: PACKAGES });
});
after(() => registry.stop());

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined, headers: res.headers };
}

function keysByIdOf(keysJson: { keys: { keyid: string; key: string }[] }): Map<string, string> {
  return new Map(keysJson.keys.map((k) => [k.keyid, `-----BEGIN PUBLIC KEY-----\n${k.key}\n-----END PUBLIC KEY-----\n`]));
}

function signatureVerifies(pem: string, name: string, version: string, integrity: string, sig: string): boolean {
  return verifySignature("sha256", Buffer.from(`${name}@${version}:${integrity}`), createPublicKey(pem), Buffer.from(sig, "base64"));
}

function verifierFor(reg: TestRegistry): Verifier {
  const root = TrustedRoot.fromJSON(reg.trustedRoot);
  const material = toTrustMaterial(root, (hint) => {
    if (hint !== reg.keyid) throw new Error(`unknown key hint ${hint}`);
    return { publicKey: createPublicKey(reg.registryKeyPem), validFor: () => true };
  });
  return new Verifier(material, { tlogThreshold: 1, ctlogThreshold: 0 });
}

function statementOf(bundle: any): any {
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8"));
}

test("keyids are computed the npm way (checked against npmjs.org's published keys)", { skip: NO_SHARED }, () => {
  const published = JSON.parse(readFileSync(path.join(SHARED, "fixtures/npm-keys/npm-v1-keys.registry.npmjs.org.json"), "utf8"));
  assert.equal(published.keys.length, 2);
  for (const key of published.keys) {
    assert.equal(npmKeyid(`-----BEGIN PUBLIC KEY-----\n${key.key}\n-----END PUBLIC KEY-----\n`), key.keyid);
  }
});

test("the keys endpoint lists the registry key under its npm keyid", async () => {
  const { status, body } = await getJson(`${registry.url}-/npm/v1/keys`);
  assert.equal(status, 200);
  assert.deepEqual(body, registry.keysJson);
  const own = body.keys.find((k) => k.keyid === registry.keyid);
  assert.ok(own);
  assert.deepEqual(
    { expires: own.expires, keytype: own.keytype, scheme: own.scheme },
    { expires: null, keytype: "ecdsa-sha2-nistp256", scheme: "ecdsa-sha2-nistp256" },
  );
  assert.equal(npmKeyid(createPublicKey(registry.registryKeyPem)), registry.keyid);
  assert.equal(createPublicKey(keysByIdOf(body).get(registry.keyid)!).export({ format: "pem", type: "spki" }), registry.registryKeyPem);
});

const PACKUMENT_CASES = [
  { path: "plain", name: "plain", versions: ["1.0.0", "1.1.0"] },
  { path: "@scope%2fprov", name: "@scope/prov", versions: ["1.2.3"] },
  { path: "@scope/prov", name: "@scope/prov", versions: ["1.2.3"] },
  { path: "sigstore", name: "sigstore", versions: ["0.4.0"] },
];

for (const c of PACKUMENT_CASES) {
  test(`full packument /${c.path}: every signature verifies against the keys endpoint`, async () => {
    const { status, body } = await getJson(`${registry.url}${c.path}`);
    assert.equal(status, 200);
    assert.equal(body.name, c.name);
    assert.deepEqual(Object.keys(body.versions), c.versions);
    const keys = keysByIdOf(registry.keysJson);
    for (const version of c.versions) {
      const v = body.versions[version];
      assert.equal(typeof body.time[version], "string");
      assert.match(v.repository.url, /^git\+https:\/\/github\.com\//);
      assert.equal(v.dist.signatures.length, 1);
      const { keyid, sig } = v.dist.signatures[0];
      assert.equal(keyid, registry.keyid);
      assert.ok(signatureVerifies(keys.get(keyid)!, c.name, version, v.dist.integrity, sig));
      assert.ok(!signatureVerifies(keys.get(keyid)!, c.name, `${version}-other`, v.dist.integrity, sig));
    }
  });
}

test("abbreviated packument has npm's install-v1 shape and ETags give 304", async () => {
  const accept = { accept: "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*" };
  const first = await getJson(`${registry.url}plain`, accept);
  assert.equal(first.status, 200);
  assert.deepEqual(Object.keys(first.body).sort(), ["dist-tags", "modified", "name", "versions"]);
  assert.deepEqual(first.body["dist-tags"], { latest: "1.1.0" });
  assert.deepEqual(Object.keys(first.body.versions["1.1.0"]).sort(), ["dependencies", "dist", "name", "version"]);
  const etag = first.headers.get("etag");
  assert.ok(etag);
  const again = await fetch(`${registry.url}plain`, { headers: { ...accept, "if-none-match": etag }, signal: AbortSignal.timeout(10_000) });
  assert.equal(again.status, 304);
});

test("tarballs are real gzipped tars whose sha512 is the served integrity", async () => {
  const { body } = await getJson(`${registry.url}@scope/prov`);
  const dist = body.versions["1.2.3"].dist;
  assert.equal(dist.tarball, `${registry.url}@scope/prov/-/prov-1.2.3.tgz`);
  const res = await fetch(dist.tarball, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal("sha512-" + createHash("sha512").update(bytes).digest("base64"), dist.integrity);
  assert.equal(createHash("sha1").update(bytes).digest("hex"), dist.shasum);
  const tar = gunzipSync(bytes);
  assert.equal(tar.subarray(0, 20).toString("utf8"), "package/package.json");
  const size = parseInt(tar.subarray(124, 135).toString("ascii"), 8);
  assert.equal(JSON.parse(tar.subarray(512, 512 + size).toString("utf8")).name, "@scope/prov");
});

test("versions made from lockfile entries sign the given integrity and have no tarball", async () => {
  const { body } = await getJson(`${registry.url}sigstore`);
  assert.equal(body.versions["0.4.0"].dist.integrity, PACKAGES[2].versions[0].integrity);
  const res = await fetch(body.versions["0.4.0"].dist.tarball, { signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  assert.equal(res.status, 404);
});

test("both attestation bundles verify with @sigstore/verify against the exported trusted root", async () => {
  const { body: packument } = await getJson(`${registry.url}@scope%2fprov`);
  const dist = packument.versions["1.2.3"].dist;
  assert.deepEqual(dist.attestations, {
    url: `${registry.url}-/npm/v1/attestations/@scope/prov@1.2.3`,
    provenance: { predicateType: SLSA_PROVENANCE_V1 },
  });
  const { status, body } = await getJson(dist.attestations.url);
  assert.equal(status, 200);
  assert.deepEqual(body.attestations.map((a: any) => a.predicateType), [PUBLISH_PREDICATE_TYPE, SLSA_PROVENANCE_V1]);
  const verifier = verifierFor(registry);
  const expectedSubject = [{ name: attestationSubjectName("@scope/prov", "1.2.3"), digest: { sha512: sha512HexOfIntegrity(dist.integrity) } }];
  assert.equal(expectedSubject[0].name, "pkg:npm/%40scope/prov@1.2.3");

  const [publish, provenance] = body.attestations;
  assert.equal(publish.bundle.verificationMaterial.publicKey.hint, registry.keyid);
  assert.equal(publish.bundle.dsseEnvelope.signatures[0].keyid, registry.keyid);
  verifier.verify(toSignedEntity(bundleFromJSON(publish.bundle)));
  assert.deepEqual(statementOf(publish.bundle).subject, expectedSubject);

  const signer = verifier.verify(toSignedEntity(bundleFromJSON(provenance.bundle)));
  const run = workflowRunOf("@scope/prov", PACKAGES[1].versions[0]);
  assert.equal(signer.identity?.subjectAlternativeName, workflowIdentity(run));
  assert.equal(signer.identity?.extensions?.issuer, GITHUB_OIDC_ISSUER);
  const statement = statementOf(provenance.bundle);
  assert.deepEqual(statement.subject, expectedSubject);
  assert.equal(statement.predicate.buildDefinition.externalParameters.workflow.repository, "https://github.com/acme/prov");
  assert.equal(statement.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit, run.commit);

  // Memoized: the same bytes on a second request, not a fresh signing.
  const again = await getJson(dist.attestations.url);
  assert.deepEqual(again.body, body);
});

test("a package without provenance has no dist.attestations and its attestation URL is a 404", async () => {
  const { body } = await getJson(`${registry.url}plain`);
  assert.equal(body.versions["1.0.0"].dist.attestations, undefined);
  assert.equal((await getJson(`${registry.url}-/npm/v1/attestations/plain@1.0.0`)).status, 404);
  assert.equal((await getJson(`${registry.url}no-such-package`)).status, 404);
});

test("requireToken: 401 without the bearer token, 200 with it, and the log shows what arrived", async () => {
  const locked = await startTestRegistry({ packages: PACKAGES, requireToken: "s3cret" });
  try {
    assert.equal((await getJson(`${locked.url}plain`)).status, 401);
    assert.equal((await getJson(`${locked.url}plain`, { authorization: "Bearer wrong" })).status, 401);
    assert.equal((await getJson(`${locked.url}plain`, { authorization: "Bearer s3cret" })).status, 200);
    assert.deepEqual(
      locked.requests.map((r) => [r.method, r.url, r.headers.authorization]),
      [["GET", "/plain", undefined], ["GET", "/plain", "Bearer wrong"], ["GET", "/plain", "Bearer s3cret"]],
    );
  } finally {
    await locked.stop();
  }
});

test("writeTrustedRoot and writeProjectForSpec write files that match what is served", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "test-registry-"));
  try {
    const rootPath = registry.writeTrustedRoot(dir);
    assert.deepEqual(JSON.parse(readFileSync(rootPath, "utf8")), registry.trustedRoot);
    const written = writeProjectForSpec(dir, PACKAGES.slice(0, 2));
    const lock = JSON.parse(readFileSync(written.lockfilePath, "utf8"));
    assert.equal(lock.lockfileVersion, 3);
    assert.deepEqual(JSON.parse(readFileSync(written.packageJsonPath, "utf8")).dependencies, { plain: "1.0.0", "@scope/prov": "1.2.3" });
    for (const [name, version] of [["plain", "1.0.0"], ["@scope/prov", "1.2.3"]]) {
      const entry = lock.packages[`node_modules/${name}`];
      assert.equal(entry.resolved, undefined);
      assert.equal(entry.version, version);
      const { body } = await getJson(`${registry.url}${name}`);
      assert.equal(entry.integrity, body.versions[version].dist.integrity);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("prewarm builds every attestation response without any HTTP request", async () => {
  const fresh = await startTestRegistry({ packages: [...PACKAGES, { name: "late", versions: [{ version: "0.1.0", provenance: true }] }] });
  try {
    assert.equal(await fresh.prewarm(), 2);
    assert.deepEqual(fresh.requests, []);
    const res = await fetch(`${fresh.url}-/npm/v1/attestations/late@0.1.0`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { attestations: { bundle: any }[] };
    verifierFor(fresh).verify(toSignedEntity(bundleFromJSON(body.attestations[1].bundle)));
  } finally {
    await fresh.stop();
  }
});

test("a real lockfile (corpus npm-cli package-lock) can be checked against the registry", { skip: NO_SHARED }, async () => {
  const lock = JSON.parse(readFileSync(path.join(SHARED, "corpus/lockfiles/npm-v3-npm-cli-package-lock.json"), "utf8"));
  const entries = Object.entries<any>(lock.packages)
    .filter(([key, value]) => key.includes("node_modules/") && typeof value.integrity === "string" && value.link !== true)
    .map(([key, value]) => ({ name: key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length), version: value.version, integrity: value.integrity }));
  assert.ok(entries.length > 100);
  const specs = packagesFromLockfileEntries(entries, { provenance: (_name, _version, index) => index % 3 === 0 });
  const corpus = await startTestRegistry({ packages: specs });
  try {
    const keys = keysByIdOf(corpus.keysJson);
    for (const entry of [entries[0], entries[Math.floor(entries.length / 2)], entries[entries.length - 1]]) {
      const res = await fetch(`${corpus.url}${entry.name.replace("/", "%2f")}`, { signal: AbortSignal.timeout(10_000) });
      const doc = (await res.json()) as any;
      const dist = doc.versions[entry.version].dist;
      assert.equal(dist.integrity, entry.integrity);
      assert.ok(signatureVerifies(keys.get(dist.signatures[0].keyid)!, entry.name, entry.version, entry.integrity, dist.signatures[0].sig));
    }
  } finally {
    await corpus.stop();
  }
});

test("test registry: requests are logged for tests, and not when logRequests is false (serve.ts)", async () => {
  for (const logRequests of [undefined, false]) {
    const own = await startTestRegistry({ packages: [{ name: "plain", versions: [{ version: "1.0.0" }] }], logRequests });
    try {
      const response = await fetch(`${own.url}plain`);
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      assert.deepEqual(own.requests.map((r) => r.url), logRequests === false ? [] : ["/plain"]);
    } finally {
      await own.stop();
    }
  }
});
