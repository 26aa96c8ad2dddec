import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { binaryBunLockfile, parseBunLockfile, parseBunLockfileWith } from "../../../server/src/lockfile/bun";
import { parseLockfile } from "../../../server/src/lockfile/index";
import type { LockEntry, ParsedLockfile } from "../../../server/src/lockfile/model";

const FIXTURES = path.resolve(__dirname, "../../fixtures/lockfiles/bun");
const SHARED = process.env.PROVENANCE_LENS_SHARED ?? path.resolve(__dirname, "../../../../shared");
const CORPUS = path.join(SHARED, "corpus/lockfiles");

const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), "utf8");

type Expected = Partial<Omit<LockEntry, "range">> & { id: string; line?: number };

interface Case {
  fixture: string;
  entries: Expected[];
  importers: { path: string; name?: string; deps: [name: string, spec: string, entryId: string | undefined][] }[];
}

const CASES: Case[] = [
  {
    fixture: "registry-git-tarball.lock",
    entries: [
      { id: "fsevents", source: "registry", version: "2.3.3", optional: true, resolved: undefined, line: 24 },
      // A non-default registry writes the tarball URL in the second slot.
      { id: "is-number", source: "registry", resolved: "https://npm.example.com/is-number/-/is-number-6.0.0.tgz", dependencies: [] },
      { id: "is-odd", source: "registry", dependencies: ["is-number"], integrity: "sha512-CQpnWPrDwmP1+SMHXZhtLtJv90yiyVfluGsX5iNCVkrhQtU3TQHsUWPG9wkdk9Lgd5yNpAg9jQEo90CBaXgWMA==" },
      { id: "left-pad", dev: true },
      { id: "local-lib", name: "local-lib", source: "file", resolved: "vendor/local-lib", dependencies: ["is-number"] },
      { id: "str-cjs", name: "string-width", alias: "str-cjs", version: "4.2.3", source: "registry" },
      {
        id: "uWebSocket.js",
        name: "uWebSockets.js",
        alias: "uWebSocket.js",
        source: "git",
        version: "github:uNetworking/uWebSockets.js#6609a88",
        resolved: "github:uNetworking/uWebSockets.js#6609a88",
        integrity: undefined,
      },
      { id: "xlsx", source: "tarball", resolved: "https://cdn.sheetjs.com/xlsx-0.20.2/xlsx-0.20.2.tgz", line: 38 },
    ],
    importers: [
      {
        path: ".",
        name: "demo",
        deps: [
          ["is-odd", "^3.0.1", "is-odd"],
          ["uWebSocket.js", "uNetworking/uWebSockets.js#v20.51.0", "uWebSocket.js"],
          ["xlsx", "https://cdn.sheetjs.com/xlsx-0.20.2/xlsx-0.20.2.tgz", "xlsx"],
          ["local-lib", "file:./vendor/local-lib", "local-lib"],
          ["str-cjs", "npm:string-width@4.2.3", "str-cjs"],
          ["left-pad", "1.3.0", "left-pad"],
          ["fsevents", "^2.3.3", "fsevents"],
        ],
      },
    ],
  },
  {
    fixture: "workspace-nested.lock",
    entries: [
      { id: "@demo/app", name: "@demo/app", source: "workspace", version: "0.2.0", resolved: "packages/app" },
      { id: "chalk", version: "5.3.0" },
      // Nested install: the app's own chalk 4, whose ansi-styles is nested again; color-convert is hoisted.
      { id: "@demo/app/chalk", name: "chalk", version: "4.1.2", alias: undefined, dependencies: ["@demo/app/chalk/ansi-styles", "supports-color"], line: 33 },
      { id: "@demo/app/chalk/ansi-styles", name: "ansi-styles", version: "4.3.0", dependencies: ["color-convert"] },
    ],
    importers: [
      { path: ".", name: "root", deps: [["chalk", "^5.0.0", "chalk"]] },
      { path: "packages/app", name: "@demo/app", deps: [["@demo/shared", "workspace:*", "@demo/shared"], ["chalk", "^4.1.2", "@demo/app/chalk"]] },
      { path: "packages/shared", name: "@demo/shared", deps: [["chalk", "^5.0.0", "chalk"]] },
    ],
  },
];

function checkCase(parsed: ParsedLockfile, c: Case): void {
  assert.equal(parsed.lockfileVersion, 1);
  assert.deepEqual(parsed.problems, []);
  for (const want of c.entries) {
    const got = parsed.entries.find((e) => e.id === want.id);
    assert.ok(got, `entry ${want.id}`);
    const { line, ...fields } = want;
    for (const [k, v] of Object.entries(fields)) assert.deepEqual(got[k as keyof LockEntry], v, `${want.id}.${k}`);
    if (line !== undefined) assert.equal(got.range.start.line, line, `${want.id} line`);
  }
  assert.deepEqual(
    parsed.importers.map((i) => ({ path: i.path, name: i.name, deps: i.dependencies.map((d) => [d.name, d.spec, d.entryId]) })),
    c.importers,
  );
}

for (const c of CASES) {
  test(`bun ${c.fixture}: entries, edges, importers`, () => checkCase(parseBunLockfile(fixture(c.fixture), {}), c));
  test(`bun ${c.fixture}: scanner equals jsonc-parser`, () => {
    const text = fixture(c.fixture);
    assert.deepEqual(parseBunLockfileWith(text, {}, "scanner"), parseBunLockfileWith(text, {}, "library"));
  });
}

test("bun exact key range (the quoted key)", () => {
  const entry = parseBunLockfile(fixture("workspace-nested.lock"), {}).entries.find((e) => e.id === "@demo/app/chalk");
  assert.deepEqual(entry?.range, { start: { line: 33, character: 4 }, end: { line: 33, character: 21 } });
});

test("bun.lockb is explained, not read", () => {
  for (const parsed of [binaryBunLockfile(), parseLockfile("/x/bun.lockb", "\u0000binary")]) {
    assert.equal(parsed.entries.length, 0);
    assert.equal(parsed.problems.length, 1);
    const [p] = parsed.problems;
    assert.equal(p.severity, "error");
    assert.deepEqual(p.range.start, { line: 0, character: 0 });
    assert.match(p.message, /bun install --save-text-lockfile --frozen-lockfile --lockfile-only/);
    assert.match(p.message, /Bun 1\.2/);
  }
});

interface BadCase {
  name: string;
  make: () => string;
  code: string;
  line: number;
  minEntries: number;
}

const base = () => fixture("registry-git-tarball.lock");
const BAD: BadCase[] = [
  { name: "BOM", make: () => "\uFEFF" + base(), code: "byte-order-mark", line: 0, minEntries: 8 },
  { name: "CRLF", make: () => base().replace(/\n/g, "\r\n"), code: "crlf-line-endings", line: 0, minEntries: 8 },
  {
    name: "merge conflict",
    make: () => base().replace('    "left-pad": [', '<<<<<<< HEAD\n    "left-pad": ["left-pad@1.3.0", "", {}, "sha512-x"],\n=======\n    "left-pad": ["left-pad@1.3.1", "", {}, "sha512-y"],\n>>>>>>> theirs\n    "left-pad-old": ['),
    code: "merge-conflict",
    line: 30,
    minEntries: 8,
  },
  { name: "duplicate key", make: () => base().replace('"is-number": ["is-number@6', '"fsevents": ["is-number@6'), code: "duplicate-key", line: 26, minEntries: 7 },
  { name: "truncated", make: () => base().slice(0, base().lastIndexOf('"str-cjs"') + 30), code: "truncated", line: 34, minEntries: 5 },
  { name: "unknown lockfileVersion", make: () => base().replace('"lockfileVersion": 1', '"lockfileVersion": 7'), code: "unknown-lockfile-version", line: 1, minEntries: 8 },
];

for (const bad of BAD) {
  test(`bun bad input: ${bad.name} is a problem with a position, never a throw`, () => {
    const text = bad.make();
    for (const reader of ["scanner", "library"] as const) {
      const parsed = parseBunLockfileWith(text, {}, reader);
      const found = parsed.problems.find((p) => p.code === bad.code);
      assert.ok(found, `${reader}: ${bad.code} in ${JSON.stringify(parsed.problems.map((p) => p.code))}`);
      assert.equal(found.range.start.line, bad.line, `${reader}: line`);
      assert.ok(parsed.entries.length >= bad.minEntries, `${reader}: ${parsed.entries.length} entries`);
    }
  });
}

const corpusSkip = existsSync(CORPUS) ? false : `shared corpus not found at ${CORPUS}`;

test("bun corpus bun-v1-midday-bun.lock: scanner equals jsonc-parser, counts match SOURCES.md", { skip: corpusSkip }, () => {
  const text = readFileSync(path.join(CORPUS, "bun-v1-midday-bun.lock"), "utf8");
  const scanned = parseBunLockfileWith(text, {}, "scanner");
  assert.deepEqual(scanned, parseBunLockfileWith(text, {}, "library"));
  assert.deepEqual(scanned.problems, []);
  assert.equal(scanned.entries.length, 2820);
  assert.equal(scanned.entries.filter((e) => e.id.includes("/") && !e.id.startsWith("@") ? true : e.id.split("/").length > 2).length, 909);
  assert.equal(scanned.importers.length, 39);
  assert.equal(scanned.entries.filter((e) => e.source === "tarball").length, 1);
  const ids = new Set(scanned.entries.map((e) => e.id));
  assert.ok(scanned.entries.every((e) => e.dependencies.every((d) => ids.has(d))));
  assert.ok(scanned.importers.every((i) => i.dependencies.every((d) => d.entryId !== undefined)));
});

// The layout reader reads `packages` straight from the text and gives up on anything Bun does not write. Each
// variant is one edit of a fixture line; whatever path reads it, the result must be jsonc-parser's.
const ODD_LINE = '"is-odd": ["is-odd@3.0.1", "", { "dependencies": { "is-number": "^6.0.0" } }, "sha512-CQpnWPrDwmP1+SMHXZhtLtJv90yiyVfluGsX5iNCVkrhQtU3TQHsUWPG9wkdk9Lgd5yNpAg9jQEo90CBaXgWMA=="],';
const LAYOUT_VARIANTS: { name: string; edit: (text: string) => string }[] = [
  { name: "inline trailing commas in an info object and a dependency map", edit: (t) => t.replace('{ "is-number": "^6.0.0" } }', '{ "is-number": "^6.0.0", }, }') },
  { name: "inline trailing comma in the tuple", edit: (t) => t.replace('WMA=="],', 'WMA==", ],') },
  { name: "numbers, literals and arrays as tuple elements", edit: (t) => t.replace('WMA=="],', 'WMA==", -1.5e3, true, null, [1, [], {}]],') },
  { name: "a missing comma between two packages", edit: (t) => t.replace('WMA=="],', 'WMA=="]') },
  { name: "a tab inside a string", edit: (t) => t.replace('"is-odd@3.0.1"', '"is-odd@3.0.1\t"') },
  { name: "an escaped quote in an id", edit: (t) => t.replace('"is-odd@3.0.1"', '"is-odd@3.0.1\\"x"') },
  { name: "a repeated dependencies field", edit: (t) => t.replace('{ "dependencies": { "is-number": "^6.0.0" } }, "sha512-CQ', '{ "dependencies": { "is-number": "^6.0.0" }, "dependencies": { "left-pad": "1" } }, "sha512-CQ') },
  { name: "a repeated dependency name", edit: (t) => t.replace('{ "is-number": "^6.0.0" } }, "sha512-CQ', '{ "nope": "1", "is-number": "^6.0.0", "nope": "2" } }, "sha512-CQ') },
  { name: "an integer-like dependency name", edit: (t) => t.replace('{ "is-number": "^6.0.0" } }, "sha512-CQ', '{ "is-number": "^6.0.0", "123": "1" } }, "sha512-CQ') },
  { name: "optional peers before the peers", edit: (t) => t.replace('{ "dependencies": { "is-number": "^6.0.0" } }, "sha512-CQ', '{ "optionalPeers": ["left-pad", 3], "peerDependencies": { "left-pad": "*", "fsevents": "*" } }, "sha512-CQ') },
  { name: "a package that is not a tuple", edit: (t) => t.replace(ODD_LINE, '"is-odd": { "version": "3.0.1" },') },
  { name: "a package tuple over two lines", edit: (t) => t.replace('"", { "dependencies"', '"",\n      { "dependencies"') },
  { name: "a repeated package key", edit: (t) => t.replace('"left-pad": ["left-pad@1.3.0"', '"is-odd": ["left-pad@1.3.0"') },
  { name: "an integer-like package key", edit: (t) => t.replace('"left-pad": ["left-pad@1.3.0"', '"42": ["left-pad@1.3.0"') },
  { name: "a key that is not a string", edit: (t) => t.replace('    "left-pad": [', '    left-pad: [') },
  { name: "a bad number", edit: (t) => t.replace('WMA=="],', 'WMA==", 01],') },
];

for (const variant of LAYOUT_VARIANTS) {
  test(`bun layout reader, ${variant.name}: scanner equals jsonc-parser`, () => {
    const text = variant.edit(base());
    assert.notEqual(text, base(), "the edit applies");
    assert.deepEqual(parseBunLockfileWith(text, {}, "scanner"), parseBunLockfileWith(text, {}, "library"));
  });
}
