// Data-driven: each test/fixtures/lockfiles/yarn-*/ folder holds a yarn.lock (and maybe manifests.json) and the
// expected.json it must parse to. Every fixture is also read as CRLF and with a byte-order mark.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseLockfile } from "../../../server/src/lockfile/index";
import type { ParsedLockfile, WorkspaceManifest } from "../../../server/src/lockfile/index";
import { isYarnBerry } from "../../../server/src/lockfile/yarn";
import { scanBerryYaml } from "../../../server/src/lockfile/yarnBerryYaml";

const FIXTURES = path.resolve(__dirname, "../../fixtures/lockfiles");

type Quad = [number, number, number, number];

/** The comparable shape of a result: everything, with ranges as [line, char, line, char] and no messages. */
function project(result: ParsedLockfile): unknown {
  const quad = (r: { start: { line: number; character: number }; end: { line: number; character: number } }): Quad => [
    r.start.line,
    r.start.character,
    r.end.line,
    r.end.character,
  ];
  return {
    format: result.format,
    lockfileVersion: result.lockfileVersion,
    entries: result.entries.map(({ range, ...e }) => ({ ...e, range: quad(range) })),
    importers: result.importers,
    problems: result.problems.map((p) => ({ code: p.code, severity: p.severity, range: quad(p.range) })),
  };
}

interface Fixture {
  name: string;
  text: string;
  manifests?: WorkspaceManifest[];
  expected: { problems: { code: string; severity: string; range: Quad }[] } & Record<string, unknown>;
}

const fixtures: Fixture[] = readdirSync(FIXTURES)
  .filter((d) => d.startsWith("yarn"))
  .sort()
  .map((name) => {
    const dir = path.join(FIXTURES, name);
    const manifestsFile = path.join(dir, "manifests.json");
    return {
      name,
      text: readFileSync(path.join(dir, "yarn.lock"), "utf8"),
      manifests: existsSync(manifestsFile) ? (JSON.parse(readFileSync(manifestsFile, "utf8")) as WorkspaceManifest[]) : undefined,
      expected: JSON.parse(readFileSync(path.join(dir, "expected.json"), "utf8")) as Fixture["expected"],
    };
  });

test("there are Yarn fixtures to run", () => {
  assert.ok(fixtures.length >= 6, `found ${fixtures.length} fixture folders in ${FIXTURES}`);
});

for (const fixture of fixtures) {
  const options = fixture.manifests === undefined ? {} : { manifests: fixture.manifests };

  test(`${fixture.name}: parses to expected.json`, () => {
    assert.deepEqual(project(parseLockfile("yarn.lock", fixture.text, options)), fixture.expected);
  });

  test(`${fixture.name}: CRLF line endings give the same result`, () => {
    const crlf = fixture.text.replace(/\n/g, "\r\n");
    assert.deepEqual(project(parseLockfile("/some/dir/yarn.lock", crlf, options)), fixture.expected);
  });

  test(`${fixture.name}: a byte-order mark is reported and otherwise ignored`, () => {
    const result = project(parseLockfile("yarn.lock", "\uFEFF" + fixture.text, options)) as Fixture["expected"];
    const shifted = structuredClone(fixture.expected);
    // Only positions on line 0 move, by the one BOM character.
    const shift = (q: Quad): Quad => (q[0] === 0 ? [0, q[1] + 1, q[2], q[2] === 0 ? q[3] + 1 : q[3]] : q);
    shifted.problems = shifted.problems.map((p) => ({ ...p, range: shift(p.range) }));
    for (const e of shifted.entries as { range: Quad }[]) e.range = shift(e.range);
    const conflicts = shifted.problems.filter((p) => p.code === "merge-conflict");
    const rest = shifted.problems.filter((p) => p.code !== "merge-conflict");
    shifted.problems = [...conflicts, { code: "byte-order-mark", severity: "information", range: [0, 0, 0, 1] }, ...rest];
    assert.deepEqual(result, shifted);
  });
}

test("yarn-berry-fallback really leaves the scanner's subset (so the yaml library read it)", () => {
  const fallback = fixtures.find((f) => f.name === "yarn-berry-fallback");
  assert.ok(fallback);
  const scanned = scanBerryYaml(fallback.text, []);
  assert.ok(!Array.isArray(scanned) && "unsupported" in scanned, "the scanner should hand this file to the library");
});

test("the scanner reads the other Berry fixtures itself", () => {
  for (const fixture of fixtures.filter((f) => isYarnBerry(f.text) && f.name !== "yarn-berry-fallback")) {
    const masked = fixture.text.replace(/^(<{7}|={7}|>{7}).*$/gm, "");
    assert.ok(Array.isArray(scanBerryYaml(masked, [])), `${fixture.name} fell back to the library`);
  }
});

const cut: { name: string; text: string; codes: string[]; entries: number }[] = [
  { name: "classic cut inside a quoted value", text: '# yarn lockfile v1\n\na@^1.0.0:\n  version "1.0.0"\n\nb@^2:\n  version "2.', codes: ["parse-error", "incomplete-entry"], entries: 1 },
  { name: "classic without its header line", text: 'a@^1.0.0:\n  version "1.0.0"\n', codes: ["unknown-lockfile-version"], entries: 1 },
  { name: "classic with an unknown header version", text: '# yarn lockfile v2\n\na@^1.0.0:\n  version "1.0.0"\n', codes: ["unknown-lockfile-version"], entries: 1 },
  { name: "Berry cut inside a quoted value", text: '__metadata:\n  version: 8\n\n"a@npm:^1.0.0":\n  version: 1.0.0\n  resolution: "a@npm:1.0.0"\n\n"b@npm:^2.0.0":\n  version: 2.0.0\n  resolution: "b@npm', codes: ["parse-error"], entries: 1 },
  { name: "Berry cut after a key", text: '__metadata:\n  version: 8\n\n"a@npm:^1.0.0":\n  version: 1.0.0\n  resolution: "a@npm:1.0.0"\n\n"b@npm:^2.0.0":\n', codes: ["incomplete-entry"], entries: 1 },
  { name: "empty file", text: "", codes: ["unknown-lockfile-version"], entries: 0 },
];

for (const c of cut) {
  test(`bad input never throws: ${c.name}`, () => {
    const result = parseLockfile("yarn.lock", c.text);
    assert.deepEqual([...new Set(result.problems.map((p) => p.code))], c.codes);
    assert.equal(result.entries.length, c.entries);
    for (const p of result.problems) assert.ok(p.message.length > 10 && p.range.start.line >= 0);
  });
}
