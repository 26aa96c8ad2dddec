import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { NPMJS_REGISTRY_KEYS, isNpmjsRegistry, keyIdOf, parseKeysResponse } from "../../../server/src/verify/npmKeys";
import { readFixture, skipWithoutFixtures } from "./sharedFixtures";

const [KEY_2022, KEY_2025] = NPMJS_REGISTRY_KEYS;

test("keyIdOf reproduces the pinned npm keyids (OpenSSH fingerprint, not a DER hash)", () => {
  for (const key of NPMJS_REGISTRY_KEYS) assert.equal(keyIdOf(key.key), key.keyid);
});

test("keyIdOf rejects a key that is not ECDSA P-256", () => {
  const ed = generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" }).toString("base64");
  assert.throws(() => keyIdOf(ed), /P-256/);
});

test("the pinned keys are exactly what registry.npmjs.org serves, in both document forms", { skip: skipWithoutFixtures }, () => {
  for (const file of ["npm-keys/npm-v1-keys.registry.npmjs.org.json", "npm-keys/tuf-target.registry.npmjs.org.keys.json"]) {
    const parsed = parseKeysResponse(readFixture(file));
    assert.deepEqual(parsed.problems, [], file);
    assert.deepEqual(parsed.keys, [...NPMJS_REGISTRY_KEYS], file);
  }
  const vectors = readFixture<{ keys: Record<string, string> }>("registry-signatures/signature-vectors.json");
  for (const [keyid, key] of Object.entries(vectors.keys)) assert.equal(keyIdOf(key), keyid);
});

const ed25519Spki = generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" }).toString("base64");
const good = { keyid: KEY_2025.keyid, keytype: "ecdsa-sha2-nistp256", scheme: "ecdsa-sha2-nistp256", key: KEY_2025.key, expires: null };

const malformed: { name: string; entry: unknown; reason: RegExp }[] = [
  { name: "not an object", entry: "SHA256:x", reason: /not an object/ },
  { name: "no keyid", entry: { ...good, keyid: undefined }, reason: /no keyid/ },
  { name: "no key", entry: { ...good, key: "" }, reason: /has no key/ },
  { name: "other keytype", entry: { ...good, keytype: "ssh-ed25519" }, reason: /keytype "ssh-ed25519"/ },
  { name: "key not base64", entry: { ...good, key: "not base64!" }, reason: /not base64/ },
  { name: "key not a public key", entry: { ...good, key: "AAAA" }, reason: /not a public key/ },
  { name: "key of another curve", entry: { ...good, key: ed25519Spki }, reason: /not ECDSA P-256/ },
  { name: "unreadable expiry", entry: { ...good, expires: "next tuesday" }, reason: /unreadable expiry/ },
  { name: "TUF entry with other keyDetails", entry: { keyId: "k", publicKey: { rawBytes: KEY_2025.key, keyDetails: "PKIX_ED25519" } }, reason: /keyDetails/ },
  { name: "TUF entry without publicKey", entry: { keyId: "k", keyUsage: "npm:signatures" }, reason: /no publicKey/ },
];

for (const { name, entry, reason } of malformed) {
  test(`parseKeysResponse rejects an entry: ${name}, and keeps the good ones`, () => {
    const parsed = parseKeysResponse({ keys: [good, entry] });
    assert.deepEqual(parsed.keys, [good]);
    assert.equal(parsed.problems.length, 1);
    assert.equal(parsed.problems[0].index, 1);
    assert.match(parsed.problems[0].reason, reason);
  });
}

test("parseKeysResponse reports a document without a keys list", () => {
  for (const body of [null, [], { keys: "x" }, "text"]) {
    const parsed = parseKeysResponse(body);
    assert.deepEqual(parsed.keys, []);
    assert.match(parsed.problems[0].reason, /no `keys` list/);
  }
});

test("parseKeysResponse takes a TUF key's expiry from its npm:signatures entry", () => {
  const tuf = (usage: string, end?: string) => ({
    keyId: KEY_2022.keyid,
    keyUsage: usage,
    publicKey: { rawBytes: KEY_2022.key, keyDetails: "PKIX_ECDSA_P256_SHA_256", validFor: { start: "2022-12-01T00:00:00.000Z", end } },
  });
  const parsed = parseKeysResponse({ keys: [tuf("npm:attestations", "2030-01-01T00:00:00.000Z"), tuf("npm:signatures", "2025-01-29T00:00:00.000Z")] });
  assert.deepEqual(parsed.keys, [KEY_2022]);
});

test("isNpmjsRegistry recognises only the public registry host", () => {
  const cases: [string, boolean][] = [
    ["https://registry.npmjs.org/", true],
    ["https://REGISTRY.npmjs.org", true],
    ["https://registry.npmjs.org.evil.test/", false],
    ["https://npm.pkg.github.com/", false],
    ["http://127.0.0.1:4873/", false],
    ["not a url", false],
  ];
  for (const [url, expected] of cases) assert.equal(isNpmjsRegistry(url), expected, url);
});
