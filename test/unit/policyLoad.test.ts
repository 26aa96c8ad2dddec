// Loading the policy file from disk and mapping `registries` onto the engine's options.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { nodeFileSystem } from "../../server/src/workspace/fileSystem";
import { loadPolicy, registryOptionsOf } from "../../server/src/policy/loadPolicy";

const fixtures = path.resolve(__dirname, "../fixtures/policy");

interface LoadCase {
  file: string;
  explicit: boolean;
  found: boolean;
  fellBack: boolean;
  readError?: RegExp;
  problems: number;
}

const LOAD_CASES: LoadCase[] = [
  { file: "full.json", explicit: true, found: true, fellBack: false, problems: 0 },
  { file: "no-such-policy.json", explicit: false, found: false, fellBack: false, problems: 0 },
  // --policy naming a missing file is a clear error, never "no policy".
  { file: "no-such-policy.json", explicit: true, found: false, fellBack: true, readError: /does not exist/, problems: 0 },
  { file: ".", explicit: false, found: true, fellBack: true, readError: /cannot be read/, problems: 0 },
  { file: "broken-syntax.json", explicit: false, found: true, fellBack: true, problems: 1 },
];

for (const c of LOAD_CASES) {
  test(`load ${c.file} (${c.explicit ? "--policy" : "folder default"})`, async () => {
    const loaded = await loadPolicy(nodeFileSystem, path.join(fixtures, c.file), c.explicit);
    assert.equal(loaded.found, c.found);
    assert.equal(loaded.fellBack, c.fellBack);
    assert.equal(loaded.problems.length, c.problems);
    if (c.readError) assert.match(loaded.readError ?? "", c.readError);
    else assert.equal(loaded.readError, undefined);
  });
}

test("registries: npmjs mirrors, keys from a file next to the policy, unusable entries reported", async () => {
  const file = path.join(fixtures, "registries.json");
  const loaded = await loadPolicy(nodeFileSystem, file, true);
  assert.deepEqual(loaded.problems, []);
  const options = await registryOptionsOf(loaded.policy, file, nodeFileSystem);
  assert.deepEqual(options.mirrorsOfNpmjs, ["https://mirror.example.com/npm/"]);
  assert.deepEqual(options.registryKeys?.map((k) => k.keyid), ["SHA256:zRLHVf9wLuiGbdJPbb4HdImyNBEhNvni4UmMR+Vx2TE"]);
  assert.equal(options.problems.length, 3, options.problems.join("\n"));
  assert.match(options.problems[0], /^https:\/\/other\.example\/: only mirrors of https:\/\/registry\.npmjs\.org\//);
  assert.match(options.problems[1], /^https:\/\/gone\.example\/: cannot read its keys/);
  assert.match(options.problems[2], /^https:\/\/inline\.example\/: Entry 0 is unusable/);
});
