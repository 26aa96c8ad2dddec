// The policy file: fixture in, policy and positioned problems out. And the JSON schema VS Code validates it with
// names exactly the keys, codes and levels the parser accepts (one source of truth, checked).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { DIAGNOSTIC_LEVELS } from "../../server/src/protocol/settings";
import { parsePolicy, POLICY_CODES, POLICY_KEYS, REQUIRE_PROVENANCE, type Policy } from "../../server/src/policy/policyFile";

const root = path.resolve(__dirname, "../..");
const fixture = (name: string): string => readFileSync(path.join(root, "test/fixtures/policy", name), "utf8");

interface Case {
  file: string;
  fellBack: boolean;
  /** code@line:character (zero-based) of each problem, in order. */
  problems: string[];
  policy?: Partial<Policy>;
  /** Exceptions as package@versions that survived. */
  exceptions?: string[];
}

const CASES: Case[] = [
  {
    file: "full.json",
    fellBack: false,
    problems: [],
    policy: {
      severity: { signed: "none", "provenance-downgrade": "error" },
      requireProvenance: "direct",
      ignoreDev: true,
      ignorePackages: ["@types/*"],
      trustedBuilders: ["https://github.com/actions/runner/**"],
      trustedRepositories: ["https://github.com/our-org/**"],
    },
    exceptions: ["left-pad@^1.3.0", "@legacy/*@*"],
  },
  { file: "broken-syntax.json", fellBack: true, problems: ["policy-syntax-error@3:23"], policy: { requireProvenance: "none", exceptions: [] } },
  { file: "not-object.json", fellBack: true, problems: ["policy-invalid-value@0:0"] },
  { file: "empty.json", fellBack: true, problems: ["policy-syntax-error@0:0"] },
  {
    file: "bad-values.json",
    fellBack: false,
    problems: [
      "policy-invalid-value@1:27", // "loud" is not a level
      "policy-unknown-key@1:35", // "nonsense" is no code
      "policy-invalid-value@2:23", // requireProvenance "some"
      "policy-invalid-value@3:15", // ignoreDev "yes"
      "policy-invalid-value@4:29", // 3 in ignorePackages
      "policy-invalid-value@6:34", // versions "not a range"
      "policy-invalid-value@7:4", // no reason
      "policy-invalid-value@8:72", // expires "soon"
      "policy-invalid-value@9:71", // codes ["made-up"]
      "policy-unknown-key@10:59", // "note"
      "policy-invalid-value@12:26", // ftp:// url
      "policy-invalid-value@12:79", // keys: 5
      "policy-unknown-key@13:2", // trustedRepos
    ],
    // Every broken field at its default, every valid one kept: a broken policy never silently weakens checks.
    policy: { severity: { unsigned: "error" }, requireProvenance: "none", ignoreDev: false, ignorePackages: ["ok-*"], registries: [] },
    exceptions: ["e@1.x"],
  },
];

for (const c of CASES) {
  test(`policy file ${c.file}`, () => {
    const reading = parsePolicy(fixture(c.file));
    assert.equal(reading.fellBack, c.fellBack);
    assert.deepEqual(reading.problems.map((p) => `${p.code}@${p.range.start.line}:${p.range.start.character}`), c.problems);
    for (const p of reading.problems) assert.ok(p.message.length > 20, `a reason a person can act on: ${p.message}`);
    for (const [key, value] of Object.entries(c.policy ?? {})) assert.deepEqual(reading.policy[key as keyof Policy], value, key);
    if (c.exceptions !== undefined) assert.deepEqual(reading.policy.exceptions.map((e) => `${e.package}@${e.versions}`), c.exceptions);
  });
}

test("registries and exception details of the full fixture", () => {
  const { policy } = parsePolicy(fixture("full.json"));
  assert.deepEqual(policy.registries.map(({ range: _, ...r }) => r), [
    { url: "https://mirror.example.com/npm/", mirrorOf: "https://registry.npmjs.org/" },
    { url: "https://npm.corp.example/", keys: "corp-keys.json" },
  ]);
  const [leftPad] = policy.exceptions;
  assert.deepEqual(leftPad.codes, ["provenance-downgrade"]);
  assert.equal(leftPad.expires, "2027-01-01");
  assert.deepEqual(leftPad.range?.start, { line: 6, character: 4 });
});

test("inline registry keys are read as plain objects", () => {
  const { policy, problems } = parsePolicy(`{"registries":[{"url":"https://r.example/","keys":[{"keyid":"SHA256:x","key":"AAAA","expires":null}]}]}`);
  assert.deepEqual(problems, []);
  assert.deepEqual(policy.registries[0].keys, [{ keyid: "SHA256:x", key: "AAAA", expires: null }]);
});

test("the JSON schema names the same keys, codes and levels as the parser", () => {
  const schema = JSON.parse(readFileSync(path.join(root, "media/policySchema.json"), "utf8"));
  assert.deepEqual(Object.keys(schema.properties).sort(), [...POLICY_KEYS].sort());
  assert.deepEqual(Object.keys(schema.properties.severity.properties).sort(), [...POLICY_CODES].sort());
  for (const code of POLICY_CODES) assert.deepEqual(schema.properties.severity.properties[code].enum, [...DIAGNOSTIC_LEVELS]);
  assert.deepEqual(schema.properties.requireProvenance.enum, [...REQUIRE_PROVENANCE]);
  assert.deepEqual(schema.properties.exceptions.items.properties.codes.items.enum, [...POLICY_CODES]);
  assert.equal(schema.additionalProperties, false);
});

test("package.json makes VS Code validate .provenance-lens.json with the schema", () => {
  const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const entries: { fileMatch: string | string[]; url: string }[] = manifest.contributes?.jsonValidation ?? [];
  const entry = entries.find((e) => [e.fileMatch].flat().includes(".provenance-lens.json"));
  assert.ok(entry, "a jsonValidation entry for .provenance-lens.json");
  assert.equal(entry.url, "./media/policySchema.json");
  const files = manifest.contributes?.languages?.flatMap((l: { filenames?: string[] }) => l.filenames ?? []) ?? [];
  assert.ok(files.includes(".provenance-lens.json"), "opened as JSON with comments, as the parser allows");
});
