// The incremental re-parse of npm lockfiles (npmIncremental.ts) must give exactly what a full parse of the edited
// text gives. Edits are generated from the real lockfiles of /work/shared/corpus and from small inline ones, with a
// fixed seed: values changed in place, field lines added and removed, keys, braces and quotes typed, entries
// deleted, the root name and the v2 legacy tree edited, and chains of edits each re-parsed from the last result.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseLockfile, reparseLockfile, type ParsedLockfile } from "../../../server/src/lockfile/index";
import { hasLayout, reparseNpmLockfile } from "../../../server/src/lockfile/npmIncremental";
import { sharedDir } from "./npmExpect";

const shared = sharedDir(__dirname);
const corpus = shared === undefined ? undefined : path.join(shared, "corpus/lockfiles");
const missing = corpus === undefined || !fs.existsSync(corpus) ? "the shared corpus (../shared/corpus/lockfiles) is not here" : undefined;
const NAME = "package-lock.json";

/** Deterministic pseudo-random numbers (mulberry32), so a failure names the same edit every run. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

interface Lines {
  lines: string[];
  pick: (n: number) => number;
  /** Whether line i is inside an entry the re-parse handles itself (not the root, a workspace, a link or a link's target). */
  ordinary: (i: number) => boolean;
}

/** An edit: a name, and the new text (undefined when the text has no place for it). */
type EditKind = { kind: string; incremental: boolean; apply: (at: Lines) => string[] | undefined };

function linesMatching(lines: string[], pattern: RegExp, pick: (n: number) => number, where: (i: number) => boolean = () => true): number | undefined {
  const found: number[] = [];
  for (let i = 0; i < lines.length; i++) if (pattern.test(lines[i]) && where(i)) found.push(i);
  return found.length === 0 ? undefined : found[pick(found.length)];
}

function replaceLine(lines: string[], index: number, ...replacement: string[]): string[] {
  return [...lines.slice(0, index), ...replacement, ...lines.slice(index + 1)];
}

const ENTRY_FIELD = /^ {6}"(version|integrity|resolved|license)": "/;

// `incremental`: whether the edit is one npmIncremental.ts must do itself (the test fails if it falls back); the
// others may go either way but must still equal a full parse.
const EDITS: EditKind[] = [
  { kind: "entry value changed in place", incremental: true, apply: ({ lines, pick, ordinary }) => {
    const i = linesMatching(lines, ENTRY_FIELD, pick, ordinary);
    return i === undefined ? undefined : replaceLine(lines, i, lines[i].replace(/": "(.)/, (_m, c: string) => `": "${c === "9" ? "8" : "9"}`));
  } },
  { kind: "entry value lengthened", incremental: true, apply: ({ lines, pick, ordinary }) => {
    const i = linesMatching(lines, /^ {6}"version": "/, pick, ordinary);
    return i === undefined ? undefined : replaceLine(lines, i, lines[i].replace(/"(,?)$/, `-beta.${pick(100)}"$1`));
  } },
  { kind: "field line added", incremental: false, apply: ({ lines, pick }) => {
    const i = linesMatching(lines, /^ {6}"version": ".*",$/, pick);
    return i === undefined ? undefined : replaceLine(lines, i, lines[i], `      "optional": true,`);
  } },
  { kind: "field line removed", incremental: false, apply: ({ lines, pick }) => {
    const i = linesMatching(lines, /^ {6}"(dev|license|peer|funding|engines)": .*,$/, pick);
    return i === undefined || /[{[]$/.test(lines[i]) ? undefined : replaceLine(lines, i);
  } },
  { kind: "dependency renamed", incremental: false, apply: ({ lines, pick }) => {
    const i = linesMatching(lines, /^ {8}"[a-z][^"]*": "[^"]*",?$/, pick);
    return i === undefined ? undefined : replaceLine(lines, i, lines[i].replace(/^( {8}")([^"]+)/, "$1$2x"));
  } },
  { kind: "quote typed", incremental: false, apply: ({ lines, pick }) => {
    const i = linesMatching(lines, ENTRY_FIELD, pick);
    return i === undefined ? undefined : replaceLine(lines, i, lines[i].replace(/": "/, `": ""`));
  } },
  { kind: "brace typed", incremental: false, apply: ({ lines, pick }) => {
    const i = pick(lines.length);
    return replaceLine(lines, i, `${lines[i]}}`);
  } },
  { kind: "comma removed", incremental: false, apply: ({ lines, pick }) => {
    const i = linesMatching(lines, /,$/, pick);
    return i === undefined ? undefined : replaceLine(lines, i, lines[i].slice(0, -1));
  } },
  { kind: "entry key changed", incremental: false, apply: ({ lines, pick }) => {
    const i = linesMatching(lines, /^ {4}"node_modules\//, pick);
    return i === undefined ? undefined : replaceLine(lines, i, lines[i].replace(/"node_modules\//, `"node_modules/z`));
  } },
  { kind: "entry deleted", incremental: false, apply: ({ lines, pick }) => {
    const i = linesMatching(lines, /^ {4}"node_modules\/.*\{$/, pick);
    if (i === undefined) return undefined;
    let end = i;
    while (end < lines.length && !/^ {4}\},?$/.test(lines[end])) end++;
    return [...lines.slice(0, i), ...lines.slice(end + 1)];
  } },
  { kind: "field line repeated", incremental: false, apply: ({ lines, pick }) => {
    const i = linesMatching(lines, /^ {6}"version": ".*",$/, pick);
    return i === undefined ? undefined : replaceLine(lines, i, lines[i], lines[i]);
  } },
  { kind: "link added", incremental: false, apply: ({ lines, pick }) => {
    const i = linesMatching(lines, /^ {6}"version": ".*",$/, pick);
    return i === undefined ? undefined : replaceLine(lines, i, lines[i], `      "link": true,`);
  } },
  { kind: "root name changed", incremental: true, apply: ({ lines, pick }) => {
    const i = lines.findIndex((line) => /^ {2}"name": "/.test(line));
    return i === -1 ? undefined : replaceLine(lines, i, lines[i].replace(/"name": "([^"]*)"/, `"name": "$1-${pick(1000)}"`));
  } },
  { kind: "legacy tree value changed", incremental: true, apply: ({ lines, pick }) => {
    const top = lines.findIndex((line) => line === `  "dependencies": {`);
    if (top === -1) return undefined;
    const i = top + 1 + pick(lines.length - top - 1);
    const line = lines[i];
    return /^ +"version": "/.test(line) ? replaceLine(lines, i, line.replace(/": "/, `": "0`)) : undefined;
  } },
  { kind: "two lines joined", incremental: false, apply: ({ lines, pick }) => {
    const i = 1 + pick(lines.length - 2);
    return [...lines.slice(0, i), `${lines[i]}${lines[i + 1].trimStart()}`, ...lines.slice(i + 2)];
  } },
  { kind: "trailing space inside an entry", incremental: true, apply: ({ lines, pick, ordinary }) => {
    const i = linesMatching(lines, ENTRY_FIELD, pick, ordinary);
    return i === undefined ? undefined : replaceLine(lines, i, `${lines[i]} `);
  } },
];

function ordinaryIn(lines: string[], parsed: ParsedLockfile): (i: number) => boolean {
  const special = new Set<string>();
  for (const entry of parsed.entries) {
    if (entry.source !== "link") continue;
    special.add(entry.id);
    if (entry.resolved !== undefined) special.add(entry.resolved);
  }
  return (i) => {
    for (let at = i; at >= 0; at--) {
      const key = /^ {4}"([^"]*)": \{$/.exec(lines[at])?.[1];
      if (key !== undefined) return key.startsWith("node_modules/") && !special.has(key);
      if (/^ {0,2}"/.test(lines[at])) return false;
    }
    return false;
  };
}

/** Applies `count` generated edits one after another, each re-parsed from the last result and compared. */
function checkChain(text: string, seed: number, count: number, only?: (kind: EditKind) => boolean): Map<string, { incremental: number; total: number }> {
  const pick = random(seed);
  const kinds = EDITS.filter(only ?? (() => true));
  const seen = new Map<string, { incremental: number; total: number }>();
  let previous = { text, parsed: parseLockfile(NAME, text) };
  for (let step = 0; step < count; step++) {
    const kind = kinds[pick(kinds.length)];
    const before = previous.text.split("\n");
    const lines = kind.apply({ lines: before, pick, ordinary: ordinaryIn(before, previous.parsed) });
    if (lines === undefined) continue;
    const next = lines.join("\n");
    const expected = parseLockfile(NAME, next);
    const incremental = reparseNpmLockfile(previous, next);
    const routed = reparseLockfile(NAME, next, previous);
    const where = `step ${step} (${kind.kind}, seed ${seed})`;
    // Routed through index.ts, the incremental result is the one just compared; a fallback is compared here.
    if (incremental !== undefined) assert.deepStrictEqual(incremental, expected, where);
    else assert.deepStrictEqual(routed, expected, where);
    const counts = seen.get(kind.kind) ?? { incremental: 0, total: 0 };
    counts.total++;
    if (incremental !== undefined) counts.incremental++;
    seen.set(kind.kind, counts);
    if (kind.incremental && expected.problems.length === 0 && hasLayout(previous.parsed)) assert.notEqual(incremental, undefined, `${where}: fell back to a full parse`);
    // A broken text, or one no longer in npm's layout, would end the chain's incremental part: carry on from the last
    // healthy one.
    if (expected.problems.length === 0 && hasLayout(routed)) previous = { text: next, parsed: routed };
  }
  return seen;
}

const CORPUS_RUNS: { file: string; seed: number; edits: number }[] = [
  { file: "npm-v3-npm-cli-package-lock.json", seed: 1, edits: 60 },
  { file: "npm-v3-npm-cli-package-lock.json", seed: 2, edits: 60 },
  { file: "npm-v2-create-react-app-package-lock.json", seed: 3, edits: 20 },
];

for (const run of CORPUS_RUNS) {
  test(`incremental re-parse equals a full parse: ${run.file}, ${run.edits} generated edits (seed ${run.seed})`, { skip: missing }, () => {
    const text = fs.readFileSync(path.join(corpus!, run.file), "utf8");
    const seen = checkChain(text, run.seed, run.edits);
    // The generator reached the kinds that matter: in-place values, added and removed lines, broken text.
    for (const kind of ["entry value changed in place", "field line added", "field line removed", "brace typed"]) {
      assert.ok((seen.get(kind)?.total ?? 0) > 0, `no "${kind}" edit was generated`);
    }
    const lineEdits = (seen.get("field line added")?.incremental ?? 0) + (seen.get("field line removed")?.incremental ?? 0);
    assert.ok(lineEdits > 0, "no edit that adds or removes a line was done incrementally");
  });
}

test("incremental re-parse: the kinds it must do itself, 80 edits of npm/cli's lockfile", { skip: missing }, () => {
  const text = fs.readFileSync(path.join(corpus!, "npm-v3-npm-cli-package-lock.json"), "utf8");
  const seen = checkChain(text, 7, 80, (kind) => kind.incremental || kind.kind.startsWith("field line"));
  assert.ok((seen.get("root name changed")?.incremental ?? 0) > 0);
});

// Small lockfiles for what the corpus files do not decide: a root entry without a name (the top-level name is the
// root importer's), links and their targets, workspaces, the last entry, the same text again.
const SMALL = JSON.stringify(
  {
    name: "small",
    version: "1.0.0",
    lockfileVersion: 3,
    requires: true,
    packages: {
      "": { workspaces: ["packages/a"], dependencies: { left: "^1.0.0", a: "*" } },
      "node_modules/a": { resolved: "packages/a", link: true },
      "node_modules/left": { version: "1.0.0", resolved: "https://registry.npmjs.org/left/-/left-1.0.0.tgz", integrity: "sha512-AAAA", dependencies: { right: "^2.0.0" } },
      "node_modules/right": { version: "2.0.0", resolved: "https://registry.npmjs.org/right/-/right-2.0.0.tgz", integrity: "sha512-BBBB", dev: true },
      "packages/a": { name: "a", version: "0.1.0", dependencies: { right: "^2.0.0" } },
    },
  },
  null,
  2,
);

const SMALL_CASES: { name: string; edit: (text: string) => string; incremental: boolean }[] = [
  { name: "same text", edit: (t) => t, incremental: true },
  { name: "root name (the root entry has none)", edit: (t) => t.replace('"name": "small"', '"name": "smaller"'), incremental: true },
  { name: "top-level version string", edit: (t) => t.replace('"version": "1.0.0",\n  "lockfileVersion"', '"version": "1.0.1",\n  "lockfileVersion"'), incremental: true },
  { name: "registry entry version", edit: (t) => t.replace('"version": "1.0.0",\n      "resolved"', '"version": "1.0.9",\n      "resolved"'), incremental: true },
  { name: "last entry (a workspace folder)", edit: (t) => t.replace('"version": "0.1.0"', '"version": "0.2.0"'), incremental: false },
  { name: "link entry", edit: (t) => t.replace('"resolved": "packages/a",', '"resolved": "packages/b",'), incremental: false },
  { name: "a dependency renamed to one not installed", edit: (t) => t.replace('"dependencies": {\n        "right"', '"dependencies": {\n        "wrong"'), incremental: true },
  { name: "dev flag line removed", edit: (t) => t.replace(',\n      "dev": true', ""), incremental: true },
  { name: "root entry", edit: (t) => t.replace('"left": "^1.0.0"', '"left": "^1.0.1"'), incremental: false },
  { name: "CRLF typed", edit: (t) => t.replace('"integrity": "sha512-AAAA",\n', '"integrity": "sha512-AAAA",\r\n'), incremental: false },
  { name: "lone CR typed", edit: (t) => t.replace('"integrity": "sha512-AAAA",\n', '"integrity": "sha512-AAAA",\r'), incremental: false },
  { name: "escape typed in a value", edit: (t) => t.replace('"sha512-BBBB"', '"sha512-B\\u0042BB"'), incremental: true },
];

for (const c of SMALL_CASES) {
  test(`incremental re-parse, small lockfile: ${c.name}`, () => {
    const previous = { text: SMALL, parsed: parseLockfile(NAME, SMALL) };
    const next = c.edit(SMALL);
    const expected: ParsedLockfile = parseLockfile(NAME, next);
    const incremental = reparseNpmLockfile(previous, next);
    assert.equal(incremental !== undefined, c.incremental, "incremental or not");
    assert.deepStrictEqual(reparseLockfile(NAME, next, previous), expected);
    if (incremental !== undefined) assert.deepStrictEqual(incremental, expected);
  });
}

test("incremental re-parse: lines added inside an entry move every later entry", () => {
  const previous = { text: SMALL, parsed: parseLockfile(NAME, SMALL) };
  const next = SMALL.replace('"integrity": "sha512-AAAA",\n', '"integrity": "sha512-AAAA",\n      "optional": true,\n      "cpu": [\n        "x64"\n      ],\n');
  const parsed = reparseNpmLockfile(previous, next);
  assert.ok(parsed !== undefined);
  assert.deepStrictEqual(parsed, parseLockfile(NAME, next));
  const right = parsed.entries.find((e) => e.id === "node_modules/right");
  const before = previous.parsed.entries.find((e) => e.id === "node_modules/right");
  assert.equal(right?.range.start.line, (before?.range.start.line ?? 0) + 4);
});

test("incremental re-parse: a text with lone CRs (read as line breaks) is parsed in full", () => {
  const withCr = SMALL.replace('"requires": true,\n', '"requires": true,\r');
  const previous = { text: withCr, parsed: parseLockfile(NAME, withCr) };
  const next = withCr.replace('"version": "1.0.0",\n      "resolved"', '"version": "1.0.9",\n      "resolved"');
  assert.deepStrictEqual(reparseLockfile(NAME, next, previous), parseLockfile(NAME, next));
});
