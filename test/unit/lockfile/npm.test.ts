// Fixture in, expected out: each test/fixtures/lockfiles/npm/<name>.json has <name>.expected.json beside it.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseLockfile } from "../../../server/src/lockfile/index";
import type { ParsedLockfile } from "../../../server/src/lockfile/model";
import { parseNpmLockfile, parseNpmLockfileWithLibrary } from "../../../server/src/lockfile/npm";
import { sourceOfSpec } from "../../../server/src/lockfile/npmSource";
import { compactEntry, compactProblem, repoRoot } from "./npmExpect";

const FIXTURES = path.join(repoRoot(__dirname), "test/fixtures/lockfiles/npm");
const fixtureNames = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".json") && !f.endsWith(".expected.json"));

interface Expected {
  lockfileVersion?: string | number;
  entries: Record<string, Record<string, unknown>>;
  importers: ParsedLockfile["importers"];
  problems: [string, string, number, number][];
}

function read(name: string): string {
  return fs.readFileSync(path.join(FIXTURES, name), "utf8");
}

function fileNameOf(fixture: string): string {
  return fixture === "npm-shrinkwrap.json" ? "npm-shrinkwrap.json" : "package-lock.json";
}

function assertMatches(actual: ParsedLockfile, expected: Expected): void {
  assert.equal(actual.format, "npm");
  assert.equal(actual.lockfileVersion, expected.lockfileVersion);
  assert.deepEqual(
    Object.fromEntries(actual.entries.map((e) => [e.id, compactEntry(e)])),
    expected.entries,
  );
  assert.deepEqual(actual.entries.map((e) => e.id), Object.keys(expected.entries), "entries in file order");
  assert.deepEqual(actual.importers, expected.importers);
  assert.deepEqual(actual.problems.map(compactProblem), expected.problems);
}

test("npm fixtures are present", () => {
  assert.ok(fixtureNames.length >= 10, `only ${fixtureNames.length} fixtures in ${FIXTURES}`);
});

for (const fixture of fixtureNames) {
  const expected = JSON.parse(read(fixture.replace(/\.json$/, ".expected.json"))) as Expected;

  test(`${fixture}: parses to its expectation`, () => {
    assertMatches(parseLockfile(fileNameOf(fixture), read(fixture)), expected);
  });

  test(`${fixture}: the library parse gives the same result`, () => {
    assertMatches(parseNpmLockfileWithLibrary(read(fixture), {}), expected);
  });
}

test("every problem has a plain reason", () => {
  for (const fixture of fixtureNames) {
    for (const problem of parseNpmLockfile(read(fixture), {}).problems) {
      assert.ok(problem.message.length > 20, `${fixture}: ${problem.code} says too little: ${problem.message}`);
    }
  }
});

// Variants made at test time from v2.json: BOM and CRLF change only the problems list (a BOM is one character
// on line 0, a CR sits at the end of a line); every variant must agree with the library parse.
const variants: { name: string; rewrite: (text: string) => string; problems?: [string, string, number, number][] }[] = [
  { name: "byte order mark", rewrite: (t) => `\uFEFF${t}`, problems: [["information", "byte-order-mark", 0, 0]] },
  { name: "CRLF line endings", rewrite: (t) => t.replace(/\n/g, "\r\n"), problems: [["information", "crlf-line-endings", 0, 0]] },
  {
    name: "byte order mark and CRLF",
    rewrite: (t) => `\uFEFF${t.replace(/\n/g, "\r\n")}`,
    problems: [["information", "byte-order-mark", 0, 0], ["information", "crlf-line-endings", 0, 0]],
  },
  { name: "tab indent", rewrite: (t) => t.replace(/^( {2})+/gm, (s) => "\t".repeat(s.length / 2)) },
  { name: "4-space indent", rewrite: (t) => t.replace(/^( {2})+/gm, (s) => s + s) },
];

for (const variant of variants) {
  test(`v2.json with ${variant.name}: same as the library parse${variant.problems ? " and the expectation" : ""}`, () => {
    const text = variant.rewrite(read("v2.json"));
    const fast = parseNpmLockfile(text, {});
    assert.deepEqual(fast, parseNpmLockfileWithLibrary(text, {}));
    const expected = JSON.parse(read("v2.expected.json")) as Expected;
    assert.deepEqual(fast.entries.map((e) => e.id), Object.keys(expected.entries));
    if (variant.problems !== undefined) assertMatches(fast, { ...expected, problems: variant.problems });
  });
}

test("v1 importers come from the manifests when given", () => {
  const parsed = parseNpmLockfile(read("v1.json"), {
    manifests: [{ path: ".", name: "v1-app", dependencies: { debug: "^2.6.0" }, devDependencies: { ms: "^2.1.0" } }],
  });
  assert.deepEqual(parsed.importers, [
    {
      path: ".",
      name: "v1-app",
      dependencies: [
        { name: "debug", spec: "^2.6.0", entryId: "node_modules/debug", dev: false, optional: false },
        { name: "ms", spec: "^2.1.0", entryId: "node_modules/ms", dev: true, optional: false },
      ],
    },
  ]);
});

// Never a throw: whatever the text, a result with located problems.
const oddInputs: { text: string; codes: string[] }[] = [
  { text: "", codes: ["parse-error"] },
  { text: "{", codes: ["parse-error", "unknown-lockfile-version", "no-packages"] },
  { text: "null", codes: ["not-an-object"] },
  { text: '"package-lock"', codes: ["not-an-object"] },
  { text: "{}", codes: ["unknown-lockfile-version", "no-packages"] },
  { text: '{"lockfileVersion": 3, "packages": 5}', codes: ["no-packages"] },
  { text: '{"lockfileVersion": 3, "packages": {"node_modules/a": 5, "node_modules/b": {"version": "1.0.0"}}}', codes: ["invalid-entry"] },
  { text: '{"lockfileVersion": "3", "packages": {}}', codes: ["unknown-lockfile-version"] },
  { text: '{"lockfileVersion": 3, "packages": {"node_modules/a\\u0062": {"version": "1.0.0"}}}', codes: [] },
];

for (const { text, codes } of oddInputs) {
  test(`odd input ${JSON.stringify(text)}: problems ${codes.join(", ") || "none"}`, () => {
    for (const parse of [parseNpmLockfile, parseNpmLockfileWithLibrary]) {
      const parsed = parse(text, {});
      assert.deepEqual([...new Set(parsed.problems.map((p) => p.code))], codes);
      for (const p of parsed.problems) assert.ok(p.range.start.line >= 0 && p.range.start.character >= 0);
    }
  });
}

test("an escaped key is read decoded, with the range of its written form", () => {
  const parsed = parseNpmLockfile('{"lockfileVersion": 3, "packages": {"node_modules/a\\u0062": {"version": "1.0.0"}}}', {});
  assert.equal(parsed.entries[0].id, "node_modules/ab");
  assert.equal(parsed.entries[0].name, "ab");
  assert.deepEqual(parsed.entries[0].range, { start: { line: 0, character: 36 }, end: { line: 0, character: 58 } });
});

// Where an entry comes from, by its resolved URL or v1 version spec.
const sources: [spec: string, name: string, source: string][] = [
  ["https://registry.npmjs.org/react/-/react-18.2.0.tgz", "react", "registry"],
  ["https://registry.npmjs.org/@babel/core/-/core-7.24.0.tgz", "@babel/core", "registry"],
  ["https://npm.example.com/api/npm/remote/@babel%2fcore/-/core-7.24.0.tgz", "@babel/core", "registry"],
  ["https://registry.yarnpkg.com/ms/-/ms-2.1.3.tgz?cache=1", "ms", "registry"],
  ["https://cdn.example.com/builds/react-18.2.0.tgz", "react", "tarball"],
  ["https://registry.npmjs.org/other/-/react-18.2.0.tgz", "react", "tarball"],
  ["https://registry.npmjs.org/react/-/reactx-18.2.0.tgz", "react", "tarball"],
  ["git+ssh://git@github.com/a/b.git#0123456789abcdef0123456789abcdef01234567", "b", "git"],
  ["git+https://github.com/a/b.git#0123456", "b", "git"],
  ["git://github.com/a/b.git#0123456", "b", "git"],
  ["github:a/b#0123456", "b", "git"],
  ["a/b#0123456", "b", "git"],
  ["file:../vendor/b-1.0.0.tgz", "b", "file"],
  ["../vendor/b", "b", "file"],
  ["1.2.3", "b", "registry"],
];

test("source kinds of resolved URLs and specs", () => {
  for (const [spec, name, source] of sources) assert.equal(sourceOfSpec(spec, name), source, spec);
});
