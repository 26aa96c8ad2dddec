// The memoized trust material (issue #7) must decide every bundle exactly as @sigstore/verify does on its own: the
// same bundles, valid and tampered, in an order where a remembered answer could leak from one bundle to the next,
// through one prepared verifier and through the library's plain verifier.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { bundleFromJSON } from "@sigstore/bundle";
import { ASN1Obj, X509Certificate } from "@sigstore/core";
import { Verifier, toSignedEntity, toTrustMaterial } from "@sigstore/verify";
import { NPMJS_REGISTRY_KEYS, parseKeysResponse, type RegistryKey } from "../../../server/src/verify/npmKeys";
import { SLSA_V1_PREDICATE_TYPE, verifyAttestations, type AttestedVersion } from "../../../server/src/verify/provenance";
import { createPreparedTrust, encodeDer, memoizeCertificateEncoding, shippedTrustedRoot, trustedRootFromJSON, type LoadedTrustedRoot, type PreparedTrust } from "../../../server/src/verify/trustedRoot";
import { integrityOf, startTestRegistry, type PackageSpec, type TestRegistry } from "../../registry";
import { readFixture, skipWithoutFixtures } from "./sharedFixtures";

interface Attestation {
  predicateType: string;
  bundle: { verificationMaterial: Record<string, unknown> } & Record<string, unknown>;
}
type Doc = { attestations: Attestation[] };

const SPECS: PackageSpec[] = ["memo-a", "memo-b", "memo-other-ca", "memo-broken-proof"].map((name) => ({ name, versions: [{ version: "1.0.0", provenance: true }] }));

let registry: TestRegistry;
let root: LoadedTrustedRoot;
let keys: RegistryKey[];
const docs = new Map<string, Doc>();

before(async () => {
  registry = await startTestRegistry({
    packages: SPECS,
    misbehaviour: { "memo-other-ca@1.0.0": { kind: "attestation-other-ca" }, "memo-broken-proof@1.0.0": { kind: "attestation-broken-inclusion-proof" } },
  });
  const loaded = trustedRootFromJSON(JSON.stringify(registry.trustedRoot), "file");
  assert.ok(loaded.ok);
  root = loaded.root;
  keys = parseKeysResponse(registry.keysJson).keys;
  for (const spec of SPECS) {
    const response = await fetch(`${registry.url}-/npm/v1/attestations/${spec.name}@1.0.0`, { signal: AbortSignal.timeout(10_000) });
    docs.set(spec.name, (await response.json()) as Doc);
  }
});
after(() => registry.stop());

function pkgOf(name: string): AttestedVersion {
  return { name, version: "1.0.0", integrity: integrityOf(name, SPECS.find((s) => s.name === name)!.versions[0]) };
}

/** The provenance bundle's certificate bytes, wherever the bundle version keeps them. */
function leafHolder(attestation: Attestation): { rawBytes: string } {
  const material = attestation.bundle.verificationMaterial as { certificate?: { rawBytes: string }; x509CertificateChain?: { certificates: { rawBytes: string }[] } };
  const holder = material.certificate ?? material.x509CertificateChain?.certificates[0];
  assert.ok(holder !== undefined, "a provenance bundle carries a certificate");
  return holder;
}

/** The document with the last byte of the provenance certificate's signature flipped. */
function withBrokenLeafSignature(doc: Doc): Doc {
  const copy = structuredClone(doc);
  const holder = leafHolder(copy.attestations.find((a) => a.predicateType !== undefined && a.predicateType.startsWith("https://slsa.dev/"))!);
  const der = Buffer.from(holder.rawBytes, "base64");
  der[der.length - 1] ^= 0x01;
  holder.rawBytes = der.toString("base64");
  return copy;
}

/** The document with the provenance "certificate" replaced by DER that parses but is not shaped like one. */
function withShapelessLeaf(doc: Doc): Doc {
  const copy = structuredClone(doc);
  const holder = leafHolder(copy.attestations.find((a) => a.predicateType.startsWith("https://slsa.dev/"))!);
  // SEQUENCE { SEQUENCE { INTEGER 1 }, SEQUENCE {}, BIT STRING {} }: no issuer, subject or key.
  holder.rawBytes = Buffer.from([0x30, 0x0a, 0x30, 0x03, 0x02, 0x01, 0x01, 0x30, 0x00, 0x03, 0x01, 0x00]).toString("base64");
  return copy;
}

/** The trusted root with the last byte of its CA certificate's (self-)signature flipped. */
function rootWithBrokenCaSignature(): LoadedTrustedRoot {
  const json = structuredClone(registry.trustedRoot) as { certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] };
  const cert = json.certificateAuthorities[0].certChain.certificates[0];
  const der = Buffer.from(cert.rawBytes, "base64");
  der[der.length - 1] ^= 0x01;
  cert.rawBytes = der.toString("base64");
  const loaded = trustedRootFromJSON(JSON.stringify(json), "file");
  assert.ok(loaded.ok, loaded.ok ? "" : loaded.reason);
  return loaded.root;
}

/** Each bundle's outcome from @sigstore/verify alone: a Verifier over toTrustMaterial, nothing memoized. */
function libraryOutcomes(doc: Doc, trust: PreparedTrust): string[] {
  const byHint = Object.fromEntries([...trust.keys].map(([id, k]) => [id, { rawBytes: Buffer.from(k.key, "base64") }]));
  const verifier = new Verifier(toTrustMaterial(trust.root.root, byHint as never), trust.thresholds);
  return doc.attestations.map((a) => {
    try {
      verifier.verify(toSignedEntity(bundleFromJSON(a.bundle)));
      return "ok";
    } catch (error) {
      return `fails ${(error as { code?: string }).code}`;
    }
  });
}

// One prepared verifier sees these in this order: valid bundles before and after each tampered one.
const sequence: { label: string; name: string; doc?: () => Doc; status: string; reason?: RegExp }[] = [
  { label: "valid", name: "memo-a", status: "verified" },
  { label: "certificate from another CA", name: "memo-other-ca", status: "invalid", reason: /SLSA provenance .* does not verify \[CERTIFICATE_ERROR\]/ },
  { label: "leaf signature flipped", name: "memo-b", doc: () => withBrokenLeafSignature(docs.get("memo-b")!), status: "invalid", reason: /SLSA provenance .* does not verify \[CERTIFICATE_ERROR\]/ },
  { label: "valid after a broken leaf", name: "memo-b", status: "verified" },
  { label: "broken inclusion proof", name: "memo-broken-proof", status: "invalid", reason: /does not verify/ },
  { label: "leaf signature flipped, again", name: "memo-b", doc: () => withBrokenLeafSignature(docs.get("memo-b")!), status: "invalid", reason: /CERTIFICATE_ERROR/ },
  { label: "a certificate without issuer, subject or key", name: "memo-a", doc: () => withShapelessLeaf(docs.get("memo-a")!), status: "invalid", reason: /SLSA provenance .* does not verify \[CERTIFICATE_ERROR\]: Failed to verify certificate chain/ },
  { label: "valid, again", name: "memo-a", status: "verified" },
];

test("one prepared verifier decides valid and tampered bundles in turn as the library does", () => {
  const trust = createPreparedTrust(root, keys);
  for (const step of sequence) {
    const doc = step.doc?.() ?? docs.get(step.name)!;
    const verdict = verifyAttestations(pkgOf(step.name), doc, { trust });
    assert.equal(verdict.status, step.status, `${step.label}: ${verdict.reason ?? ""}`);
    if (step.reason !== undefined) assert.match(verdict.reason ?? "", step.reason, step.label);
    const library = libraryOutcomes(doc, trust);
    assert.equal(library.every((o) => o === "ok"), step.status === "verified", `${step.label}: library says ${library.join(", ")}`);
  }
});

test("a trusted CA whose own signature is broken verifies nothing, however often it is asked", () => {
  const trust = createPreparedTrust(rootWithBrokenCaSignature(), keys);
  for (const name of ["memo-a", "memo-b", "memo-a"]) {
    const verdict = verifyAttestations(pkgOf(name), docs.get(name)!, { trust });
    assert.equal(verdict.status, "invalid", name);
    assert.match(verdict.reason ?? "", /SLSA provenance .* \[CERTIFICATE_ERROR\]/, name);
    assert.deepEqual(libraryOutcomes(docs.get(name)!, trust), ["ok", "fails CERTIFICATE_ERROR"], `${name}: publish attestation ok, provenance fails`);
  }
});

test("stack traces are captured again after a verification, whether it passed or failed", () => {
  const trust = createPreparedTrust(root, keys);
  const before = Error.stackTraceLimit;
  assert.ok(before > 0);
  assert.equal(verifyAttestations(pkgOf("memo-a"), docs.get("memo-a")!, { trust }).status, "verified");
  assert.equal(Error.stackTraceLimit, before);
  assert.equal(verifyAttestations(pkgOf("memo-other-ca"), docs.get("memo-other-ca")!, { trust }).status, "invalid");
  assert.equal(Error.stackTraceLimit, before);
});

const REAL_FILES = [
  "attestations/pacote/valid-attestations.json",
  "attestations/npm-cli/valid-sigstore-attestations.json",
  "attestations/npm-cli/valid-tuf-js-attestations.json",
  "attestations/playwright-cli/playwright-cli-0.1.1-attestations.json",
];

test("a memoized certificate encodes and checks exactly as a freshly parsed one (public-good chains)", { skip: skipWithoutFixtures }, () => {
  const raw: Buffer<ArrayBuffer>[] = [];
  for (const ca of shippedTrustedRoot().root.certificateAuthorities) for (const c of ca.certChain?.certificates ?? []) raw.push(Buffer.from(Uint8Array.from(c.rawBytes)));
  for (const file of REAL_FILES) {
    for (const a of readFixture<Doc>(file).attestations) if (a.predicateType.startsWith("https://slsa.dev/")) raw.push(Buffer.from(leafHolder(a).rawBytes, "base64"));
  }
  const fresh = raw.map((der) => X509Certificate.parse(der));
  const memo = raw.map((der) => X509Certificate.parse(der));
  memo.forEach((cert) => memoizeCertificateEncoding(cert));
  let verifiedPairs = 0;
  for (let i = 0; i < raw.length; i++) {
    assert.deepEqual(memo[i].root.toDER(), fresh[i].root.toDER(), `certificate ${i}`);
    assert.deepEqual(memo[i].root.toDER(), raw[i], `certificate ${i} re-encodes to its own bytes`);
    assert.deepEqual(memo[i].tbsCertificate.toDER(), fresh[i].tbsCertificate.toDER());
    assert.deepEqual(memo[i].publicKey, fresh[i].publicKey);
    for (let j = 0; j < raw.length; j++) {
      const expected = fresh[i].verify(fresh[j]);
      assert.equal(memo[i].verify(memo[j]), expected, `certificate ${i} under ${j}`);
      if (expected) verifiedPairs++;
    }
  }
  assert.ok(verifiedPairs >= REAL_FILES.length, "every real leaf verifies under its Fulcio intermediate");
});

test("a real provenance certificate with a flipped signature fails after the same chain verified", { skip: skipWithoutFixtures }, () => {
  const trust = createPreparedTrust(shippedTrustedRoot(), NPMJS_REGISTRY_KEYS);
  const pkg = { name: "@playwright/cli", version: "0.1.1", integrity: "sha512-9k11ZfDwAfMVDDIuEVW1Wvs8SoDNXIY1dNQ+9C9/SS8ZmElkcxesu5eoL7vNa96ntibUGaq1TM2qQoqvdl/I9g==" };
  const doc = readFixture<Doc>(REAL_FILES[3]);
  assert.equal(doc.attestations.some((a) => a.predicateType === SLSA_V1_PREDICATE_TYPE), true);
  assert.equal(verifyAttestations(pkg, doc, { trust }).status, "verified");
  const broken = withBrokenLeafSignature(doc);
  const verdict = verifyAttestations(pkg, broken, { trust });
  assert.equal(verdict.status, "invalid");
  assert.match(verdict.reason ?? "", /SLSA provenance .* \[CERTIFICATE_ERROR\]/);
  assert.deepEqual(libraryOutcomes(broken, trust), ["ok", "fails CERTIFICATE_ERROR"]);
  assert.equal(verifyAttestations(pkg, doc, { trust }).status, "verified");
});

/** DER of a primitive OCTET STRING of `size` zero bytes, with a minimal length (zeros do not parse as children). */
function octetString(size: number): Buffer<ArrayBuffer> {
  const length = size < 128 ? [size] : (() => {
    const bytes: number[] = [];
    for (let rest = size; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    return [0x80 | bytes.length, ...bytes];
  })();
  return Buffer.concat([Buffer.from([0x04, ...length]), Buffer.alloc(size)]);
}

function everyNode(node: ASN1Obj): ASN1Obj[] {
  return [node, ...node.subs.flatMap(everyNode)];
}

test("encodeDer writes what ASN1Obj.toDER writes, for every node of real and mock certificates and every length form", () => {
  const ders: Buffer<ArrayBuffer>[] = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 70_000].map(octetString);
  // A constructed node whose content needs a long length, around a node that needs one too.
  const inner = octetString(300);
  ders.push(Buffer.concat([Buffer.from([0x30, 0x82, (inner.length >> 8) & 0xff, inner.length & 0xff]), inner]));
  const json = registry.trustedRoot as { certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] };
  ders.push(Buffer.from(json.certificateAuthorities[0].certChain.certificates[0].rawBytes, "base64"));
  ders.push(Buffer.from(leafHolder(docs.get("memo-a")!.attestations[1]).rawBytes, "base64"));
  if (skipWithoutFixtures === false) {
    for (const file of REAL_FILES) {
      for (const a of readFixture<Doc>(file).attestations) if (a.predicateType.startsWith("https://slsa.dev/")) ders.push(Buffer.from(leafHolder(a).rawBytes, "base64"));
    }
  }
  let nodes = 0;
  for (const der of ders) {
    for (const node of everyNode(ASN1Obj.parseBuffer(der))) {
      assert.deepEqual(encodeDer(node), node.toDER());
      nodes++;
    }
    assert.deepEqual(encodeDer(ASN1Obj.parseBuffer(der)), der, "minimal DER re-encodes to itself");
  }
  // Real certificates add many nodes; without the shared fixtures the mock ones and the length forms still do.
  assert.ok(nodes > (skipWithoutFixtures === false ? 200 : 100), `compared ${nodes} nodes`);
});
