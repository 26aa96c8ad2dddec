// Lockfile integrity against the registry's signed integrity (server/src/verify/integrity.ts): agreement, a
// difference, and hashes that cannot be compared, each with the verdict people need.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareIntegrity } from "../../../server/src/verify/integrity";

const A512 = "sha512-5d99NhxQDKihefcrDgVvD/e5dRlDeyzbgszh2zJeCi4hioZ9VMBwYneqmnmggoFeMG1J6H8cVoXrNV/t+qPw0g==";
const B512 = "sha512-tidCV4v11T5ltiA5gQpnT+MBJuofHwXVikl4TXBZtGSkEZZUc7HFsZtSBWlejPk+mGmhNWNxOTsbJSgmSGZIZw==";
const SHA1_HEX = "2cbd9e22d4214b0d9689f114ad0dbb0f755de76e";
const SHA1_SRI = `sha1-${Buffer.from(SHA1_HEX, "hex").toString("base64")}`;

for (const { name, lockfile, registry, shasum, expected } of [
  { name: "the same single hash agrees", lockfile: A512, registry: A512, shasum: undefined, expected: undefined },
  { name: "the same hash list agrees", lockfile: `${A512} ${SHA1_SRI}`, registry: `${A512} ${SHA1_SRI}`, shasum: undefined, expected: undefined },
  { name: "no lockfile integrity is not a mismatch", lockfile: undefined, registry: A512, shasum: undefined, expected: undefined },
  { name: "a different sha512 is a mismatch", lockfile: A512, registry: B512, shasum: undefined, expected: /sha512 integrity of p@1\.0\.0 differs/ },
  { name: "a sha1 lockfile agrees with the registry's shasum", lockfile: SHA1_SRI, registry: A512, shasum: SHA1_HEX, expected: undefined },
  { name: "a sha1 lockfile against a sha512-only registry cannot be compared", lockfile: SHA1_SRI, registry: A512, shasum: undefined, expected: /cannot be compared/ },
  { name: "the same unreadable text is not agreement", lockfile: "garbage", registry: "garbage", shasum: undefined, expected: /not a readable integrity/ },
  { name: "a query suffix on the same hash still agrees", lockfile: `${A512}?opt`, registry: A512, shasum: undefined, expected: undefined },
]) {
  test(`compareIntegrity: ${name}`, () => {
    const got = compareIntegrity(lockfile, registry, shasum, "p@1.0.0");
    if (expected === undefined) assert.equal(got, undefined);
    else assert.match(got ?? "", expected);
  });
}
