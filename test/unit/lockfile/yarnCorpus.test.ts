// The real lockfiles of /work/shared/corpus: each scanner must agree with a full reference parser
// (@yarnpkg/lockfile for classic, the `yaml` library for Berry) and the counts in corpus/SOURCES.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseLockfile } from "../../../server/src/lockfile/index";
import { LineIndex } from "../../../server/src/lockfile/lineIndex";
import { scanYarnClassic } from "../../../server/src/lockfile/yarnClassic";
import { scanBerryYaml } from "../../../server/src/lockfile/yarnBerryYaml";
import { parseBerryYamlWithLibrary } from "../../../server/src/lockfile/yarnBerryLibrary";
import type { BerryRecord } from "../../../server/src/lockfile/yarnBerryYaml";

const SHARED = process.env.PROVENANCE_LENS_SHARED ?? path.resolve(__dirname, "../../../../shared");
const CORPUS = path.join(SHARED, "corpus/lockfiles");
const CLASSIC = path.join(CORPUS, "yarn-v1-babel-2020-yarn.lock");
const BERRY = path.join(CORPUS, "yarn-berry-v10-babel-yarn.lock");
const skipUnless = (file: string): { skip: string } | Record<string, never> =>
  existsSync(file) ? {} : { skip: `corpus file missing: ${file} (set PROVENANCE_LENS_SHARED)` };

// @yarnpkg/lockfile ships no types; this is the part of its API the reference test uses.
const yarnV1 = require("@yarnpkg/lockfile") as { parse(text: string): { type: string; object: Record<string, Record<string, unknown>> } };

/** The reference's values as strings (it reads bare `true` and numbers as such; Yarn's data is strings). */
function stringify(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = typeof v === "object" && v !== null ? stringify(v as Record<string, unknown>) : String(v);
  return out;
}

test("classic corpus: scanner agrees with @yarnpkg/lockfile on every spec", skipUnless(CLASSIC), () => {
  const text = readFileSync(CLASSIC, "utf8");
  const problems: never[] = [];
  const records = scanYarnClassic(text, () => new LineIndex(text), problems);
  const reference = yarnV1.parse(text);
  assert.equal(reference.type, "success");
  assert.deepEqual(problems, []);
  let specs = 0;
  for (const record of records) {
    for (const spec of record.specs) {
      specs++;
      assert.deepEqual(record.fields, stringify(reference.object[spec]), spec);
    }
  }
  assert.equal(records.length, 1442);
  assert.equal(specs, 1857);
  assert.equal(Object.keys(reference.object).length, specs);
});

test("classic corpus: entries, sources and edges", skipUnless(CLASSIC), () => {
  const result = parseLockfile("yarn.lock", readFileSync(CLASSIC, "utf8"));
  assert.equal(result.format, "yarn-classic");
  assert.equal(result.lockfileVersion, 1);
  assert.deepEqual(result.problems, []);
  assert.equal(result.entries.length, 1442);
  const count = (source: string): number => result.entries.filter((e) => e.source === source).length;
  assert.deepEqual([count("registry"), count("link"), count("git")], [1439, 2, 1]);
  const git = result.entries.find((e) => e.source === "git");
  assert.equal(git?.resolved, "https://github.com/babel/lerna.git#ae87fff020c5ad00366878c14b749e8ee0a34145");
  assert.deepEqual(git?.range, { start: { line: 1259, character: 0 }, end: { line: 1259, character: 114 } });
  const ids = new Set(result.entries.map((e) => e.id));
  for (const e of result.entries) for (const d of e.dependencies) assert.ok(ids.has(d), `${e.id} -> ${d}`);
});

function berryRecords(text: string): BerryRecord[] {
  const scanned = scanBerryYaml(text, []);
  assert.ok(Array.isArray(scanned), `scanner gave up: ${JSON.stringify(scanned)}`);
  return scanned;
}

test("Berry corpus: scanner equals the yaml library's full parse, also as CRLF with a BOM", skipUnless(BERRY), () => {
  const text = readFileSync(BERRY, "utf8");
  for (const variant of [text, "\uFEFF" + text.replace(/\n/g, "\r\n")]) {
    const problems: never[] = [];
    const reference = parseBerryYamlWithLibrary(variant, new LineIndex(variant), problems);
    assert.deepEqual(problems, []);
    assert.deepEqual(berryRecords(variant), reference);
  }
});

test("Berry corpus: counts from corpus/SOURCES.md and a clean parse", skipUnless(BERRY), () => {
  const text = readFileSync(BERRY, "utf8");
  const result = parseLockfile("yarn.lock", text);
  assert.equal(result.format, "yarn-berry");
  assert.equal(result.lockfileVersion, 10);
  assert.deepEqual(result.problems, []);
  assert.equal(result.entries.length, 1749);
  assert.equal(result.entries.reduce((n, e) => n + e.id.split(", ").length, 0), 2346);
  const count = (source: string): number => result.entries.filter((e) => e.source === source).length;
  assert.equal(count("workspace"), 163);
  assert.equal(count("patch"), 9);
  assert.equal(result.importers.length, 163);
  // Berry records no registry integrity; its checksum is Yarn's zip hash (absent for `conditions:` packages).
  assert.ok(result.entries.every((e) => e.integrity === undefined && (e.checksum === undefined || /^10\/[0-9a-f]{128}$/.test(e.checksum))));
  assert.equal(result.entries.filter((e) => e.checksum !== undefined).length, 1470);
  const root = result.importers.find((i) => i.path === ".");
  assert.equal(root?.name, "babel");
  const alias = result.entries.find((e) => e.id === "@babel-baseline/cli@npm:@babel/cli@7.27.1");
  assert.deepEqual([alias?.name, alias?.alias, alias?.version], ["@babel/cli", "@babel-baseline/cli", "7.27.1"]);
  const ids = new Set(result.entries.map((e) => e.id));
  for (const e of result.entries) for (const d of e.dependencies) assert.ok(ids.has(d), `${e.id} -> ${d}`);
});

test("corpus with a merge conflict and cut in half: problems, partial entries, no throw", skipUnless(BERRY), () => {
  for (const file of [CLASSIC, BERRY]) {
    const lines = readFileSync(file, "utf8").split("\n");
    // Conflict around lines 100-104, then cut the file in the middle of a line.
    const conflicted = [...lines.slice(0, 100), "<<<<<<< HEAD", ...lines.slice(100, 102), "=======", "garbage: [", ">>>>>>> other", ...lines.slice(102)];
    const text = conflicted.join("\n");
    const half = text.slice(0, Math.floor(text.length / 2) + 7);
    const result = parseLockfile("yarn.lock", half);
    const codes = new Set(result.problems.map((p) => p.code));
    assert.ok(codes.has("merge-conflict"), file);
    assert.deepEqual(result.problems.filter((p) => p.code === "merge-conflict").map((p) => p.range.start.line), [100, 103, 105]);
    assert.ok(result.entries.length > 500 && result.entries.length < 1200, `${file}: ${result.entries.length} entries`);
  }
});
