// package.json contributions must say exactly what protocol/ declares: one source of truth per fact.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { LOCKFILE_NAMES } from "../../server/src/lockfile/index";
import { configKeyOf, DEFAULT_SETTINGS, DEFAULT_STATUS_LEVELS, DIAGNOSTIC_LEVELS, SETTING_DECLARATIONS, SETTINGS_SECTION, settingsFrom, type Settings } from "../../server/src/protocol/settings";
import { PACKAGE_STATUSES } from "../../server/src/protocol/verdicts";
import { REPO } from "./harness";

/** The command ids others (the e2e suite, docs/EDITOR.md) rely on. */
const EDITOR_COMMANDS = [
  "provenanceLens.recheck",
  "provenanceLens.recheckIgnoringCache",
  "provenanceLens.clearCache",
  "provenanceLens.showOutput",
  "provenanceLens.openSettings",
  "provenanceLens.showTree",
  "provenanceLens.filterProblemsOnly",
  "provenanceLens.filterDirectOnly",
  "provenanceLens.filterProductionOnly",
  "provenanceLens.revealEntry",
  "provenanceLens.openSourceCommit",
  "provenanceLens.copyPurl",
  "provenanceLens.acceptWithReason",
  "provenanceLens.offerInstall",
  "provenanceLens.review",
  "provenanceLens.endReview",
  "provenanceLens.restartServer",
];

const manifest = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8"));

test("contributes.configuration matches protocol/settings.ts", () => {
  const expected = Object.fromEntries(
    SETTING_DECLARATIONS.map((d) => [`${SETTINGS_SECTION}.${configKeyOf(d)}`, { type: d.type, default: d.default, description: d.description }]),
  );
  const actual = Object.fromEntries(
    Object.entries(manifest.contributes.configuration.properties as Record<string, any>).map(([key, p]) => [
      key,
      { type: p.type, default: p.default, description: p.description },
    ]),
  );
  assert.deepEqual(actual, expected);
});

test("untrusted workspaces ignore exactly the restricted settings", () => {
  const restricted = SETTING_DECLARATIONS.filter((d) => d.restricted === true).map((d) => `${SETTINGS_SECTION}.${configKeyOf(d)}`);
  assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations, restricted);
});

test("the severity setting lists every status with its default level", () => {
  const severity = manifest.contributes.configuration.properties[`${SETTINGS_SECTION}.severity`];
  assert.deepEqual(Object.keys(severity.properties), [...PACKAGE_STATUSES]);
  for (const status of PACKAGE_STATUSES) {
    assert.equal(severity.properties[status].default, DEFAULT_STATUS_LEVELS[status], status);
    assert.deepEqual(severity.properties[status].enum, [...DIAGNOSTIC_LEVELS]);
  }
});

test("defaults agree with the declarations", () => {
  for (const d of SETTING_DECLARATIONS) assert.deepEqual(DEFAULT_SETTINGS[d.key], d.default, d.key);
  assert.deepEqual(Object.keys(DEFAULT_SETTINGS).sort(), SETTING_DECLARATIONS.map((d) => d.key).sort());
});

const SETTINGS_CASES: { raw: unknown; expected: Partial<Settings> }[] = [
  { raw: undefined, expected: {} },
  { raw: null, expected: {} },
  { raw: { enable: false }, expected: { enable: false } },
  { raw: { offline: "yes", includeDev: false }, expected: { includeDev: false } },
  { raw: { unknown: 1, enable: 0 }, expected: {} },
  { raw: { registry: " http://127.0.0.1:4873/ ", cachePath: 7 }, expected: { registry: "http://127.0.0.1:4873/" } },
  { raw: { mirrorsOfNpmjs: ["https://mirror.example/", 3, ""] }, expected: { mirrorsOfNpmjs: ["https://mirror.example/"] } },
  { raw: { mirrorsOfNpmjs: "https://mirror.example/" }, expected: {} },
  { raw: { severity: { signed: "none", invalid: "loud" } }, expected: { severity: { ...DEFAULT_STATUS_LEVELS, signed: "none" } } },
  { raw: { trustBundlePath: " /tmp/b.json " }, expected: { trustBundlePath: "/tmp/b.json" } },
  // VS Code hands nested keys as objects; other clients may send them flat.
  { raw: { diagnostics: { changedOnly: true } }, expected: { diagnosticsChangedOnly: true } },
  { raw: { "diagnostics.changedOnly": true }, expected: { diagnosticsChangedOnly: true } },
  { raw: { diagnostics: { changedOnly: "yes" } }, expected: {} },
];

for (const { raw, expected } of SETTINGS_CASES) {
  test(`settingsFrom(${JSON.stringify(raw)})`, () => assert.deepEqual(settingsFrom(raw), { ...DEFAULT_SETTINGS, ...expected }));
}

test("activation, commands and trust are declared", () => {
  assert.deepEqual(manifest.activationEvents, LOCKFILE_NAMES.map((n) => `workspaceContains:**/${n}`));
  const commands = manifest.contributes.commands.map((c: { command: string }) => c.command);
  for (const id of EDITOR_COMMANDS) assert.ok(commands.includes(id), id);
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, "limited");
  assert.equal(manifest.capabilities.virtualWorkspaces.supported, false);
  assert.deepEqual(manifest.contributes.views.provenanceLens.map((v: { id: string; name: string }) => [v.id, v.name]), [["provenanceLens.trust", "Dependency Trust"]]);
  assert.ok(existsSync(path.join(REPO, manifest.contributes.viewsContainers.activitybar[0].icon)));
  assert.ok(manifest.contributes.viewsWelcome.some((w: { view: string }) => w.view === "provenanceLens.trust"));
  assert.equal(readFileSync(path.join(REPO, manifest.icon)).subarray(1, 4).toString(), "PNG");
});

test(".vscodeignore is an allowlist of what ships", () => {
  const lines = readFileSync(path.join(REPO, ".vscodeignore"), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  assert.equal(lines[0], "**");
  for (const shipped of ["!dist/extension.js", "!dist/server.js", "!dist/cli.js", "!media/**", "!package.json", "!LICENSE"]) assert.ok(lines.includes(shipped), shipped);
});
