import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parsePnpmLockfile, parsePnpmLockfileWith } from "../../../server/src/lockfile/pnpm";
import type { LockEntry, ParsedLockfile } from "../../../server/src/lockfile/model";

const FIXTURES = path.resolve(__dirname, "../../fixtures/lockfiles/pnpm");
const SHARED = process.env.PROVENANCE_LENS_SHARED ?? path.resolve(__dirname, "../../../../shared");
const CORPUS = path.join(SHARED, "corpus/lockfiles");

const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), "utf8");

type Expected = Partial<Omit<LockEntry, "range">> & { id: string; line?: number };

interface Case {
  fixture: string;
  lockfileVersion: string | number;
  entries: Expected[];
  importers: { path: string; deps: [name: string, spec: string, entryId: string | undefined][] }[];
}

const CASES: Case[] = [
  {
    fixture: "v5.4.yaml",
    lockfileVersion: 5.4,
    entries: [
      { id: "/@types/react/18.0.28", name: "@types/react", version: "18.0.28", source: "registry", dev: true, line: 20 },
      { id: "/loose-envify/1.4.0", dependencies: ["/js-tokens/4.0.0"], dev: undefined },
      { id: "/react-dom/18.2.0_react@18.2.0", name: "react-dom", version: "18.2.0", dependencies: ["/loose-envify/1.4.0", "/react/18.2.0"], line: 35 },
      { id: "/string-width/4.2.3", name: "string-width", alias: "string-width-cjs", source: "registry" },
      { id: "file:../local-pkg", name: "local-pkg", version: "1.0.0", source: "file", resolved: "../local-pkg", integrity: undefined },
      {
        id: "github.com/kevva/is-positive/97edff6f525f192a3f83cea1944765f769ae2678",
        name: "is-positive",
        version: "3.1.0",
        source: "tarball",
        resolved: "https://codeload.github.com/kevva/is-positive/tar.gz/97edff6f525f192a3f83cea1944765f769ae2678",
      },
    ],
    importers: [
      {
        path: ".",
        deps: [
          ["is-positive", "github:kevva/is-positive", "github.com/kevva/is-positive/97edff6f525f192a3f83cea1944765f769ae2678"],
          ["local-pkg", "file:../local-pkg", "file:../local-pkg"],
          ["react-dom", "18.2.0", "/react-dom/18.2.0_react@18.2.0"],
          ["string-width-cjs", "npm:string-width@^4.2.0", "/string-width/4.2.3"],
          ["@types/react", "^18.0.0", "/@types/react/18.0.28"],
        ],
      },
    ],
  },
  {
    fixture: "v6.0.yaml",
    lockfileVersion: "6.0",
    entries: [
      { id: "/@babel/plugin-x@7.24.1(@babel/core@7.24.5)", name: "@babel/plugin-x", version: "7.24.1", dev: true, dependencies: ["/@babel/core@7.24.5"], line: 43 },
      { id: "/@pnpm/strip-ansi@6.0.1", alias: "strip-ansi", dependencies: ["/ansi-regex@5.0.1"] },
      { id: "/fsevents@2.3.3", optional: true, integrity: "sha512-5xoDfX+fL7faATnagmWPpbFtwh/R77WmMMqqHGS65C3vvB0YHrgF+B1YmZ3441tMj5n63k0212XNoJwzlhffQw==" },
      {
        id: "github.com/owner/my-git-dep/0123456789abcdef0123456789abcdef01234567",
        name: "my-git-dep",
        version: "1.0.0",
        source: "git",
        resolved: "https://github.com/owner/my-git-dep.git#0123456789abcdef0123456789abcdef01234567",
      },
      { id: "link:packages/shared", name: "shared", source: "workspace", resolved: "packages/shared", line: 26 },
    ],
    importers: [
      {
        path: ".",
        deps: [
          ["ansi-regex", "^5.0.1", "/ansi-regex@5.0.1"],
          ["my-git-dep", "git+https://github.com/owner/my-git-dep.git#v1.0.0", "github.com/owner/my-git-dep/0123456789abcdef0123456789abcdef01234567"],
          ["strip-ansi", "npm:@pnpm/strip-ansi@^6.0.1", "/@pnpm/strip-ansi@6.0.1"],
          ["@babel/plugin-x", "^7.0.0", "/@babel/plugin-x@7.24.1(@babel/core@7.24.5)"],
        ],
      },
      { path: "packages/app", deps: [["shared", "workspace:*", "link:packages/shared"], ["fsevents", "^2.3.2", "/fsevents@2.3.3"]] },
      { path: "packages/shared", deps: [] },
    ],
  },
  {
    fixture: "v9.0.yaml",
    lockfileVersion: "9.0",
    entries: [
      // Peer variant: id is the snapshot key, the range is the packages key (line 35), dev from reachability.
      { id: "@babel/plugin-x@7.24.1(@babel/core@7.24.5)", name: "@babel/plugin-x", version: "7.24.1", dev: true, dependencies: ["@babel/core@7.24.5"], line: 35 },
      { id: "@pnpm/hosted-git-info@1.0.0", alias: "hosted-git-info", dependencies: ["graceful-fs@4.2.11(patch_hash=ivtm2a2cfr5pomcfbedhmr5v2q)"], dev: undefined },
      // Patched: still a registry package (the registry tarball is what pnpm downloads before patching).
      { id: "graceful-fs@4.2.11(patch_hash=ivtm2a2cfr5pomcfbedhmr5v2q)", name: "graceful-fs", version: "4.2.11", source: "registry", line: 44 },
      { id: "tarball-pkg@https://example.com/tarball-pkg-1.0.0.tgz", name: "tarball-pkg", version: "1.0.0", source: "tarball", optional: true, resolved: "https://example.com/tarball-pkg-1.0.0.tgz" },
    ],
    importers: [
      {
        path: ".",
        deps: [
          ["graceful-fs", "^4.2.11", "graceful-fs@4.2.11(patch_hash=ivtm2a2cfr5pomcfbedhmr5v2q)"],
          ["hosted-git-info", "npm:@pnpm/hosted-git-info@1.0.0", "@pnpm/hosted-git-info@1.0.0"],
          ["tarball-pkg", "https://example.com/tarball-pkg-1.0.0.tgz", "tarball-pkg@https://example.com/tarball-pkg-1.0.0.tgz"],
          ["@babel/plugin-x", "^7.0.0", "@babel/plugin-x@7.24.1(@babel/core@7.24.5)"],
        ],
      },
    ],
  },
  {
    fixture: "two-documents.yaml",
    lockfileVersion: "9.0",
    entries: [{ id: "ansi-regex@5.0.1", source: "registry", line: 24 }],
    importers: [{ path: ".", deps: [["ansi-regex", "^5.0.1", "ansi-regex@5.0.1"]] }],
  },
];

function checkCase(parsed: ParsedLockfile, c: Case): void {
  assert.equal(parsed.lockfileVersion, c.lockfileVersion);
  assert.deepEqual(parsed.problems, []);
  for (const want of c.entries) {
    const got = parsed.entries.find((e) => e.id === want.id);
    assert.ok(got, `entry ${want.id}`);
    const { line, ...fields } = want;
    for (const [k, v] of Object.entries(fields)) assert.deepEqual(got[k as keyof LockEntry], v, `${want.id}.${k}`);
    if (line !== undefined) assert.equal(got.range.start.line, line, `${want.id} line`);
  }
  assert.deepEqual(
    parsed.importers.map((i) => ({ path: i.path, deps: i.dependencies.map((d) => [d.name, d.spec, d.entryId]) })),
    c.importers,
  );
}

for (const c of CASES) {
  test(`pnpm ${c.fixture}: entries, edges, importers`, () => checkCase(parsePnpmLockfile(fixture(c.fixture), {}), c));
  test(`pnpm ${c.fixture}: scanner equals the yaml library`, () => {
    const text = fixture(c.fixture);
    assert.deepEqual(parsePnpmLockfileWith(text, {}, "scanner"), parsePnpmLockfileWith(text, {}, "library"));
  });
}

test("pnpm exact key range (quoted key, with its quotes)", () => {
  const parsed = parsePnpmLockfile(fixture("v9.0.yaml"), {});
  const entry = parsed.entries.find((e) => e.id === "@babel/core@7.24.5");
  assert.deepEqual(entry?.range, { start: { line: 31, character: 2 }, end: { line: 31, character: 22 } });
});

interface BadCase {
  name: string;
  make: () => string;
  code: string;
  line: number;
  /** At least this many entries still read. */
  minEntries: number;
}

const v6 = () => fixture("v6.0.yaml");
const BAD: BadCase[] = [
  { name: "BOM", make: () => "\uFEFF" + v6(), code: "byte-order-mark", line: 0, minEntries: 6 },
  { name: "CRLF", make: () => v6().replace(/\n/g, "\r\n"), code: "crlf-line-endings", line: 0, minEntries: 6 },
  {
    name: "merge conflict",
    make: () => v6().replace("  /ansi-regex@5.0.1:\n", "<<<<<<< HEAD\n  /ansi-regex@5.0.1:\n=======\n  /ansi-regex@5.0.2:\n>>>>>>> theirs\n"),
    code: "merge-conflict",
    line: 57,
    minEntries: 6,
  },
  { name: "duplicate key", make: () => v6().replace("  /fsevents@2.3.3:", "  /ansi-regex@5.0.1:"), code: "duplicate-key", line: 62, minEntries: 5 },
  { name: "truncated", make: () => v6().slice(0, v6().indexOf("engines: {node: ^8.16.0") + 20), code: "truncated", line: 64, minEntries: 4 },
  { name: "unknown lockfileVersion", make: () => v6().replace("lockfileVersion: '6.0'", "lockfileVersion: '7.1'"), code: "unknown-lockfile-version", line: 0, minEntries: 6 },
];

for (const bad of BAD) {
  test(`pnpm bad input: ${bad.name} is a problem with a position, never a throw`, () => {
    const text = bad.make();
    for (const reader of ["scanner", "library"] as const) {
      const parsed = parsePnpmLockfileWith(text, {}, reader);
      const found = parsed.problems.find((p) => p.code === bad.code);
      assert.ok(found, `${reader}: ${bad.code} in ${JSON.stringify(parsed.problems.map((p) => p.code))}`);
      assert.equal(found.range.start.line, bad.line, `${reader}: line`);
      assert.ok(found.message.length > 20);
      assert.ok(parsed.entries.length >= bad.minEntries, `${reader}: ${parsed.entries.length} entries`);
    }
  });
}

const CORPUS_CASES = [
  { file: "pnpm-v6.0-pnpm-2024-pnpm-lock.yaml", version: "6.0", packages: 1635, suffixed: 87, importers: 152 },
  { file: "pnpm-v9-pnpm-2024-pnpm-lock.yaml", version: "9.0", packages: 1650, suffixed: 96, importers: 155 },
];
const corpusSkip = existsSync(CORPUS) ? false : `shared corpus not found at ${CORPUS}`;

for (const c of CORPUS_CASES) {
  test(`pnpm corpus ${c.file}: scanner equals the library, counts match SOURCES.md`, { skip: corpusSkip }, () => {
    const text = readFileSync(path.join(CORPUS, c.file), "utf8");
    const scanned = parsePnpmLockfileWith(text, {}, "scanner");
    assert.deepEqual(scanned, parsePnpmLockfileWith(text, {}, "library"));
    assert.equal(scanned.lockfileVersion, c.version);
    assert.deepEqual(scanned.problems, []);
    const fromRegistry = scanned.entries.filter((e) => e.source !== "workspace" && e.source !== "link");
    assert.equal(fromRegistry.length, c.packages);
    assert.equal(fromRegistry.filter((e) => e.id.includes("(")).length, c.suffixed);
    assert.equal(scanned.importers.length, c.importers);
    assert.ok(fromRegistry.every((e) => e.integrity?.startsWith("sha512-")));
    const ids = new Set(scanned.entries.map((e) => e.id));
    assert.ok(scanned.entries.every((e) => e.dependencies.every((d) => ids.has(d))));
  });
}

// The scanner keeps entry sections as arrays and pairs v9 snapshots with packages by their sorted order; repeats and
// other orders must still read exactly as the library reads them (a repeat: the library's duplicate-key problem).
const v9 = () => fixture("v9.0.yaml");
const CORE_PACKAGE = "  '@babel/core@7.24.5':\n    resolution: {integrity: sha512-tVQRucExLQ02Boi4vdPp49svNGcfL2GhdTCT9aldhXgCJVAI21EtRfBettiuLUwce/7r6bFdgs6JFkcdTiFttA==}\n    engines: {node: '>=6.9.0'}\n\n";
const GRACEFUL_PACKAGE = "  graceful-fs@4.2.11:\n    resolution: {integrity: sha512-RbJ5/jmFcNNCcDV5o9eTnBLJ/HszWV0P73bc+Ff4nS/rJj+YaS6IGyiOL0VoBYX+l1Wrl3k63h/KrH+nhJ0XvQ==}\n\n";
const ORDER_CASES: { name: string; make: () => string; duplicate: boolean }[] = [
  { name: "v9 package key written twice, next to itself", make: () => v9().replace(CORE_PACKAGE, CORE_PACKAGE + CORE_PACKAGE), duplicate: true },
  { name: "v9 package key written twice, apart", make: () => v9().replace(GRACEFUL_PACKAGE, GRACEFUL_PACKAGE + CORE_PACKAGE), duplicate: true },
  { name: "v9 snapshot key written twice", make: () => v9().replace("  '@babel/core@7.24.5': {}\n", "  '@babel/core@7.24.5': {}\n\n  '@babel/core@7.24.5': {}\n"), duplicate: true },
  { name: "v9 packages out of order", make: () => v9().replace(CORE_PACKAGE, "").replace(GRACEFUL_PACKAGE, GRACEFUL_PACKAGE + CORE_PACKAGE), duplicate: false },
  { name: "v9 package without a snapshot", make: () => v9().replace("  '@babel/core@7.24.5': {}\n", ""), duplicate: false },
  { name: "v9 snapshot without a package", make: () => v9().replace(CORE_PACKAGE, ""), duplicate: false },
  { name: "v6 package key written twice", make: () => v6().replace("  /fsevents@2.3.3:", "  /ansi-regex@5.0.1:"), duplicate: true },
];

for (const c of ORDER_CASES) {
  test(`pnpm ${c.name}: scanner equals the yaml library`, () => {
    const text = c.make();
    assert.notEqual(text, c.name.startsWith("v9") ? v9() : v6(), "the edit applies");
    const scanned = parsePnpmLockfileWith(text, {}, "scanner");
    assert.deepEqual(scanned, parsePnpmLockfileWith(text, {}, "library"));
    assert.equal(scanned.problems.some((p) => p.code === "duplicate-key"), c.duplicate);
    assert.ok(scanned.entries.length >= 4);
  });
}
