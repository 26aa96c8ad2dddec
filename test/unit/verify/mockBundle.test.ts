// The path the loopback test registry takes: bundles made with @sigstore/mock's Fulcio CA and Rekor log (served over a
// real HTTP server on 127.0.0.1 and driven by @sigstore/sign's own clients), a trusted root assembled from the mock key
// material, and the product's verification code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fulcioHandler, initializeCA, initializeTLog, rekorHandler, type HandlerFn } from "@sigstore/mock";
import { DSSEBundleBuilder, FulcioSigner, RekorWitness, type Signer } from "@sigstore/sign";
import { bundleToJSON } from "@sigstore/bundle";
import { keyIdOf, type RegistryKey } from "../../../server/src/verify/npmKeys";
import { PUBLISH_PREDICATE_TYPE, SLSA_V1_PREDICATE_TYPE, npmPurl, sha512HexOf, verifyAttestations } from "../../../server/src/verify/provenance";
import { prepareTrust, shippedTrustedRoot, trustedRootFromFile } from "../../../server/src/verify/trustedRoot";

const PKG = { name: "@acme/widget", version: "1.2.3", integrity: `sha512-${createHash("sha512").update("widget tarball").digest("base64")}` };
const ISSUER = "https://token.actions.githubusercontent.com";
const IDENTITY = "https://github.com/acme/widget/.github/workflows/release.yml@refs/tags/v1.2.3";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

function statement(predicateType: string, predicate: object): Buffer {
  const subject = [{ name: npmPurl(PKG.name, PKG.version), digest: { sha512: sha512HexOf(PKG.integrity) } }];
  return Buffer.from(JSON.stringify({ _type: "https://in-toto.io/Statement/v1", subject, predicateType, predicate }));
}

function unsignedJwt(claims: object): string {
  // The mock Fulcio reads the token's claims without checking a signature, as a test OIDC provider would issue it.
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

test("a bundle made with @sigstore/mock and its own trusted root verifies with the product's code", async () => {
  const routes = new Map<string, HandlerFn>();
  const server = createServer((request, response) => {
    const handler = request.method === "POST" ? routes.get(request.url ?? "") : undefined;
    if (handler === undefined) {
      response.writeHead(404).end();
      return;
    }
    body(request)
      .then((text) => handler(text))
      .then(({ statusCode, response: payload, contentType }) => response.writeHead(statusCode, { "content-type": contentType ?? "text/plain" }).end(payload))
      .catch((error: unknown) => response.writeHead(500).end(String(error)));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = await mkdtemp(path.join(tmpdir(), "provenance-lens-mock-"));
  try {
    // No CT log: the mock's SCTs do not parse in @sigstore/core 3 (see the fixtures README), so the CA embeds none.
    const ca = await initializeCA(generateKeyPairSync("ec", { namedCurve: "P-384" }));
    const tlogKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
    // The log's checkpoints name its host, and the verifier matches that against the root's baseUrl.
    const tlog = await initializeTLog(baseURL, tlogKeys);
    routes.set("/api/v2/signingCert", fulcioHandler(ca).fn);
    routes.set("/api/v1/log/entries", rekorHandler(tlog).fn);

    const tlogDer = tlogKeys.publicKey.export({ format: "der", type: "spki" });
    const validFor = { start: "2020-01-01T00:00:00Z" };
    const rootFile = path.join(dir, "trusted_root.json");
    await writeFile(
      rootFile,
      JSON.stringify({
        mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        tlogs: [
          {
            baseUrl: baseURL,
            hashAlgorithm: "SHA2_256",
            publicKey: { rawBytes: tlogDer.toString("base64"), keyDetails: "PKIX_ECDSA_P256_SHA_256", validFor },
            logId: { keyId: createHash("sha256").update(tlogDer).digest("base64") },
          },
        ],
        certificateAuthorities: [{ subject: { organization: "sigstore.mock", commonName: "sigstore" }, uri: baseURL, certChain: { certificates: [{ rawBytes: ca.rootCertificate.toString("base64") }] }, validFor }],
        ctlogs: [],
        timestampAuthorities: [],
      }),
    );

    // The registry's own key signs the npm publish attestation, named by its keyid.
    const registryKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const registrySpki = registryKeys.publicKey.export({ format: "der", type: "spki" }).toString("base64");
    const registryKey: RegistryKey = { keyid: keyIdOf(registrySpki), keytype: "ecdsa-sha2-nistp256", scheme: "ecdsa-sha2-nistp256", key: registrySpki, expires: null };
    const registrySigner: Signer = {
      sign: async (data) => ({
        signature: sign("sha256", data, registryKeys.privateKey),
        key: { $case: "publicKey", hint: registryKey.keyid, publicKey: registryKeys.publicKey.export({ format: "pem", type: "spki" }).toString() },
      }),
    };
    const witness = new RekorWitness({ rekorBaseURL: baseURL, entryType: "intoto", retry: 0, timeout: 5000 });
    const buildSigner = new FulcioSigner({
      fulcioBaseURL: baseURL,
      identityProvider: { getToken: async () => unsignedJwt({ iss: ISSUER, sub: IDENTITY, aud: "sigstore" }) },
      retry: 0,
      timeout: 5000,
    });
    const type = "application/vnd.in-toto+json";
    const provenance = await new DSSEBundleBuilder({ signer: buildSigner, witnesses: [witness] }).create({
      type,
      data: statement(SLSA_V1_PREDICATE_TYPE, {
        buildDefinition: {
          externalParameters: { workflow: { repository: "https://github.com/acme/widget", path: ".github/workflows/release.yml", ref: "refs/tags/v1.2.3" } },
          resolvedDependencies: [{ uri: "git+https://github.com/acme/widget@refs/tags/v1.2.3", digest: { gitCommit: COMMIT } }],
        },
        runDetails: { builder: { id: "https://github.com/actions/runner/github-hosted" } },
      }),
    });
    const publish = await new DSSEBundleBuilder({ signer: registrySigner, witnesses: [witness] }).create({
      type,
      data: statement(PUBLISH_PREDICATE_TYPE, { name: PKG.name, version: PKG.version, registry: "https://registry.test" }),
    });
    const response = {
      attestations: [
        { predicateType: PUBLISH_PREDICATE_TYPE, bundle: bundleToJSON(publish) },
        { predicateType: SLSA_V1_PREDICATE_TYPE, bundle: bundleToJSON(provenance) },
      ],
    };

    const loaded = await trustedRootFromFile(rootFile);
    assert.ok(loaded.ok, loaded.ok ? "" : loaded.reason);
    const trust = prepareTrust(loaded.root, [registryKey]);
    assert.equal(trust.thresholds.ctlogThreshold, 0, "a root without CT logs cannot require SCTs");
    const verdict = verifyAttestations(PKG, response, { trust });
    assert.deepEqual(verdict, {
      status: "verified",
      predicateType: SLSA_V1_PREDICATE_TYPE,
      sourceRepository: "https://github.com/acme/widget",
      workflow: ".github/workflows/release.yml",
      sourceRef: "refs/tags/v1.2.3",
      sourceCommit: COMMIT,
      builder: "https://github.com/actions/runner/github-hosted",
      issuer: ISSUER,
      signerIdentity: IDENTITY,
      logIndex: provenance.verificationMaterial.tlogEntries[0].logIndex,
      publishAttestation: "verified",
    });

    // The same bundles mean nothing under the public-good root, nor with npmjs's keys in place of the registry's.
    const publicGood = verifyAttestations(PKG, response, { trust: prepareTrust(shippedTrustedRoot(), [registryKey]) });
    assert.equal(publicGood.status, "invalid");
    const otherKeys = verifyAttestations(PKG, response, { trust: prepareTrust(loaded.root, []) });
    assert.equal(otherKeys.status, "invalid");
    assert.match(otherKeys.reason ?? "", /not one of the registry's keys/);
  } finally {
    server.closeAllConnections();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
