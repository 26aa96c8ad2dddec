// package.json contributions must say exactly what protocol/ declares: one source of truth per fact.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { LOCKFILE_NAMES } from "../../server/src/lockfile/index";
import { SETTING_DECLARATIONS, SETTINGS_SECTION, settingsFrom, DEFAULT_SETTINGS } from "../../server/src/protocol/settings";
import { REPO } from "./harness";

const manifest = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8"));

test("contributes.configuration matches protocol/settings.ts", () => {
  const expected = Object.fromEntries(
    SETTING_DECLARATIONS.map((d) => [`${SETTINGS_SECTION}.${d.key}`, { type: d.type, default: d.default, description: d.description }]),
  );
  const actual = Object.fromEntries(
    Object.entries(manifest.contributes.configuration.properties as Record<string, any>).map(([key, p]) => [
      key,
      { type: p.type, default: p.default, description: p.description },
    ]),
  );
  assert.deepEqual(actual, expected);
});

test("defaults agree with the declarations", () => {
  for (const d of SETTING_DECLARATIONS) assert.equal(DEFAULT_SETTINGS[d.key], d.default, d.key);
});

const SETTINGS_CASES: { raw: unknown; expected: Partial<typeof DEFAULT_SETTINGS> }[] = [
  { raw: undefined, expected: {} },
  { raw: null, expected: {} },
  { raw: { enable: false }, expected: { enable: false } },
  { raw: { offline: "yes", includeDev: false }, expected: { includeDev: false } },
  { raw: { unknown: 1, enable: 0 }, expected: {} },
];

for (const { raw, expected } of SETTINGS_CASES) {
  test(`settingsFrom(${JSON.stringify(raw)})`, () => assert.deepEqual(settingsFrom(raw), { ...DEFAULT_SETTINGS, ...expected }));
}

test("activation, commands and trust are declared", () => {
  assert.deepEqual(manifest.activationEvents, LOCKFILE_NAMES.map((n) => `workspaceContains:**/${n}`));
  assert.deepEqual(manifest.contributes.commands.map((c: { command: string }) => c.command).sort(), ["provenanceLens.recheck", "provenanceLens.showOutput"]);
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, "limited");
  assert.equal(manifest.capabilities.virtualWorkspaces, false);
  assert.equal(readFileSync(path.join(REPO, manifest.icon)).subarray(1, 4).toString(), "PNG");
});

test(".vscodeignore is an allowlist of what ships", () => {
  const lines = readFileSync(path.join(REPO, ".vscodeignore"), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  assert.equal(lines[0], "**");
  for (const shipped of ["!dist/extension.js", "!dist/server.js", "!dist/cli.js", "!media/**", "!package.json", "!LICENSE"]) assert.ok(lines.includes(shipped), shipped);
});
