import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { NPMJS_REGISTRY_KEYS } from "../../../server/src/verify/npmKeys";
import { PUBLISH_PREDICATE_TYPE, npmPurl, sha512HexOf, verifyAttestations } from "../../../server/src/verify/provenance";
import { describeTrustedRoot, prepareTrust, shippedTrustedRoot, trustedRootFromFile, type LoadedTrustedRoot } from "../../../server/src/verify/trustedRoot";
import type { ProvenanceVerdict } from "../../../server/src/protocol/verdicts";
import { FIXTURES_DIR, readFixture, skipWithoutFixtures } from "./sharedFixtures";

const PUBLIC_GOOD_ROOT = path.join(FIXTURES_DIR, "sigstore-trust/trusted_root.public-good.json");
const SIGSTORE_040 = { name: "sigstore", version: "0.4.0", integrity: "sha512-KCwMX6k20mQyFkNYG2XT3lwK9u1P36wS9YURFd85zCXPrwrSLZCEh7/vMBFNYcJXRiBtGDS+T4/RZZF493zABA==" };

interface ValidCase {
  file: string;
  pkg: { name: string; version: string; integrity: string };
  expected: Partial<ProvenanceVerdict>;
}

const valid: ValidCase[] = [
  {
    file: "attestations/pacote/valid-attestations.json",
    pkg: SIGSTORE_040,
    expected: {
      status: "verified",
      predicateType: "https://slsa.dev/provenance/v0.2",
      sourceRepository: "https://github.com/sigstore/sigstore-js",
      sourceRef: "refs/tags/v0.4.0",
      sourceCommit: "8a2ee2fd20dda58ffa4a8d808a65cb1e04711c03",
      workflow: "sigstore/sigstore-js/.github/workflows/publish.yml@refs/tags/v0.4.0",
      issuer: "https://token.actions.githubusercontent.com",
      signerIdentity: "https://github.com/sigstore/sigstore-js/.github/workflows/publish.yml@refs/tags/v0.4.0",
      logIndex: "10960845",
      logUrl: "https://search.sigstore.dev/?logIndex=10960845",
      publishAttestation: "verified",
    },
  },
  {
    file: "attestations/npm-cli/valid-sigstore-attestations.json",
    pkg: { name: "sigstore", version: "1.0.0", integrity: "sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg==" },
    expected: { status: "verified", sourceRepository: "https://github.com/sigstore/sigstore-js", sourceCommit: "06528997c3c8ab9f864fad9a3658446aca7fd86d", logIndex: "12988397", publishAttestation: "verified" },
  },
  {
    file: "attestations/npm-cli/valid-tuf-js-attestations.json",
    pkg: { name: "tuf-js", version: "1.0.0", integrity: "sha512-1dxsQwESDzACJjTdYHQ4wJ1f/of7jALWKfJEHSBWUQB/5UTJUx9SW6GHXp4mZ1KvdBRJCpGjssoPFGi4hvw8/A==" },
    expected: {
      status: "verified",
      sourceRepository: "https://github.com/theupdateframework/tuf-js",
      sourceCommit: "99624cc7ce39872e6bd08a0df59229a48562dbca",
      workflow: "theupdateframework/tuf-js/.github/workflows/publish.yml@refs/tags/v1.0.0",
      logIndex: "12987347",
      publishAttestation: "verified",
    },
  },
  {
    file: "attestations/playwright-cli/playwright-cli-0.1.1-attestations.json",
    pkg: { name: "@playwright/cli", version: "0.1.1", integrity: "sha512-9k11ZfDwAfMVDDIuEVW1Wvs8SoDNXIY1dNQ+9C9/SS8ZmElkcxesu5eoL7vNa96ntibUGaq1TM2qQoqvdl/I9g==" },
    expected: {
      status: "verified",
      predicateType: "https://slsa.dev/provenance/v1",
      sourceRepository: "https://github.com/microsoft/playwright-cli",
      sourceRef: "refs/tags/v0.1.1",
      sourceCommit: "d1c6d1113932ddcee243e8b111b6d4aea553df20",
      workflow: ".github/workflows/publish.yml",
      builder: "https://github.com/actions/runner/github-hosted",
      issuer: "https://token.actions.githubusercontent.com",
      logIndex: "953297574",
      logUrl: "https://search.sigstore.dev/?logIndex=953297574",
      publishAttestation: "verified",
    },
  },
];

const tampered: { file: string; reason: RegExp }[] = [
  { file: "invalid-attestations.json", reason: /npm publish attestation of sigstore@0\.4\.0 does not verify/ },
  { file: "malformed-subject-attestations.json", reason: /without a sha512 digest/ },
  { file: "mismatched-keyid-attestations.json", reason: /SLSA provenance .* names key JXkT\/aBM9baLZ7dpjJLQhJrj3Ru5s\/OSXoZzZsPUyhg, which is not one of the registry's keys/ },
  { file: "mismatched-subject-digest-attestations.json", reason: /attests sha512 123c0c5f.* the tarball differs/ },
  { file: "mismatched-subject-name-attestations.json", reason: /is about pkg:npm\/sigstore@1\.4\.0, not pkg:npm\/sigstore@0\.4\.0/ },
  { file: "no-keyid-attestations.json", reason: /npm publish attestation of sigstore@0\.4\.0 names no keyid/ },
  { file: "unsupported-attestations.json", reason: /payload type "tlog-entry-mismatch"/ },
];

async function roots(): Promise<[string, LoadedTrustedRoot][]> {
  const fromFile = await trustedRootFromFile(PUBLIC_GOOD_ROOT);
  assert.ok(fromFile.ok, fromFile.ok ? "" : fromFile.reason);
  return [
    ["public-good root from the fixtures", fromFile.root],
    ["shipped root", shippedTrustedRoot()],
  ];
}

for (const { file, pkg, expected } of valid) {
  test(`${pkg.name}@${pkg.version}: real attestations verify against both public-good roots`, { skip: skipWithoutFixtures }, async () => {
    for (const [label, root] of await roots()) {
      const verdict = verifyAttestations(pkg, readFixture(file), { trust: prepareTrust(root, NPMJS_REGISTRY_KEYS) });
      assert.equal(verdict.reason, undefined, label);
      for (const [field, value] of Object.entries(expected)) assert.equal(verdict[field as keyof ProvenanceVerdict], value, `${label}: ${field}`);
    }
  });
}

for (const { file, reason } of tampered) {
  test(`pacote's ${file} fails verification with its reason`, { skip: skipWithoutFixtures }, () => {
    const verdict = verifyAttestations(SIGSTORE_040, readFixture(`attestations/pacote/${file}`), { trust: prepareTrust(shippedTrustedRoot(), NPMJS_REGISTRY_KEYS) });
    assert.equal(verdict.status, "invalid");
    assert.match(verdict.reason ?? "", reason);
  });
}

test("a lockfile integrity other than the attested tarball fails on the digest", { skip: skipWithoutFixtures }, () => {
  const other = { ...SIGSTORE_040, integrity: valid[1].pkg.integrity };
  const verdict = verifyAttestations(other, readFixture(valid[0].file), { trust: prepareTrust(shippedTrustedRoot(), NPMJS_REGISTRY_KEYS) });
  assert.equal(verdict.status, "invalid");
  assert.match(verdict.reason ?? "", /attests sha512 282c0c5f.*lockfile's integrity is sha512 7bea9f6e.*the tarball differs/);
});

test("a publish attestation signed by a key that is not pinned for the registry is invalid", { skip: skipWithoutFixtures }, () => {
  // pacote's file is signed by the 2022 key: with only the 2025 key trusted it must not verify.
  const onlyNewKey = prepareTrust(shippedTrustedRoot(), [NPMJS_REGISTRY_KEYS[1]]);
  const verdict = verifyAttestations(SIGSTORE_040, readFixture(valid[0].file), { trust: onlyNewKey });
  assert.equal(verdict.status, "invalid");
  assert.match(verdict.reason ?? "", /signed with key SHA256:jl3bw.*not one of the registry's keys/);
});

test("no provenance is absent, and a verified publish attestation alone is recorded", { skip: skipWithoutFixtures }, () => {
  const trust = prepareTrust(shippedTrustedRoot(), NPMJS_REGISTRY_KEYS);
  const response = readFixture<{ attestations: { predicateType: string }[] }>(valid[0].file);
  const publishOnly = { attestations: response.attestations.filter((a) => a.predicateType === PUBLISH_PREDICATE_TYPE) };
  assert.deepEqual(verifyAttestations(SIGSTORE_040, publishOnly, { trust }), { status: "absent", publishAttestation: "verified", reason: "sigstore@0.4.0 was published without provenance." });
  assert.equal(verifyAttestations(SIGSTORE_040, { attestations: [] }, { trust }).status, "absent");
});

test("malformed responses and entries are invalid with a reason, never thrown", () => {
  const trust = prepareTrust(shippedTrustedRoot(), NPMJS_REGISTRY_KEYS);
  const cases: [unknown, RegExp][] = [
    [null, /no attestations list/],
    [{ attestations: {} }, /no attestations list/],
    [{ attestations: [42] }, /has no predicateType/],
    [{ attestations: [{ predicateType: "https://slsa.dev/provenance/v1", bundle: { mediaType: "nope" } }] }, /not a valid Sigstore bundle/],
  ];
  for (const [response, reason] of cases) {
    const verdict = verifyAttestations(SIGSTORE_040, response, { trust });
    assert.equal(verdict.status, "invalid");
    assert.match(verdict.reason ?? "", reason);
  }
  assert.equal(verifyAttestations({ ...SIGSTORE_040, integrity: "sha1-abc=" }, { attestations: [{}] }, { trust }).status, "not-checked");
});

test("subjects: scoped names are written %40, digests are the hex of the integrity's sha512", () => {
  assert.equal(npmPurl("@playwright/cli", "0.1.1"), "pkg:npm/%40playwright/cli@0.1.1");
  assert.equal(npmPurl("sigstore", "0.4.0"), "pkg:npm/sigstore@0.4.0");
  assert.equal(sha512HexOf(SIGSTORE_040.integrity)?.slice(0, 16), "282c0c5fa936d264");
  assert.equal(sha512HexOf(`sha1-qNzODj5pyt0xJzqVvGpEb4DPMTc= ${SIGSTORE_040.integrity}`)?.slice(0, 16), "282c0c5fa936d264");
  assert.equal(sha512HexOf("sha1-qNzODj5pyt0xJzqVvGpEb4DPMTc="), undefined);
  assert.equal(sha512HexOf(undefined), undefined);
});

test("the trusted root in use says how old it is and where it came from", { skip: skipWithoutFixtures }, async () => {
  const [[, fromFile], [, shipped]] = await roots();
  assert.equal(describeTrustedRoot(shipped), "Sigstore trusted root from 2025-09-23 (shipped)");
  assert.equal(describeTrustedRoot(fromFile), `Sigstore trusted root from 2025-09-23 (${PUBLIC_GOOD_ROOT})`);
  assert.equal(fromFile.digest, shipped.digest, "the fixture is the same document @sigstore/tuf ships");
  assert.ok(shipped.hasCtLogs);
  const a = prepareTrust(shipped, NPMJS_REGISTRY_KEYS);
  assert.equal(prepareTrust(shipped, [...NPMJS_REGISTRY_KEYS].reverse()), a, "built once per (root, keys)");
  assert.equal(a.thresholds.ctlogThreshold, 1);
  assert.notEqual(prepareTrust(shipped, [NPMJS_REGISTRY_KEYS[1]]).trustMaterialId, a.trustMaterialId);
});

test("a bad trusted root file is reported as data", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "provenance-lens-root-"));
  try {
    const cases: [string, string | undefined, RegExp][] = [
      ["missing.json", undefined, /cannot be read/],
      ["text.json", "not json", /is not JSON/],
      ["other.json", JSON.stringify({ mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1" }), /not a Sigstore trusted root/],
      ["empty.json", JSON.stringify({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [] }), /no transparency log/],
      [
        "badcert.json",
        JSON.stringify({
          mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
          certificateAuthorities: [{ certChain: { certificates: [{ rawBytes: "AAAA" }] }, validFor: { start: "2020-01-01T00:00:00Z" } }],
        }),
        /cannot be used/,
      ],
    ];
    for (const [name, content, reason] of cases) {
      const file = path.join(dir, name);
      if (content !== undefined) await writeFile(file, content);
      const result = await trustedRootFromFile(file);
      assert.equal(result.ok, false, name);
      if (!result.ok) assert.match(result.reason, reason, name);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
