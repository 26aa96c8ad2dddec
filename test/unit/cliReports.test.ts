// The report formats over the demo workspace checked against the loopback registry (every status appears):
// SARIF validated against the key parts of the SARIF 2.1.0 schema, a Markdown snapshot (stable fields only),
// registry notices said once in every format, colours only on a terminal and never with NO_COLOR.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "../../server/src/cli/args";
import { runCli, type CliDeps } from "../../server/src/cli/run";
import { engineFactory } from "../../server/src/features/checkerFactory";
import { nodeFileSystem } from "../../server/src/workspace/fileSystem";
import { DEMO_MISBEHAVIOUR, DEMO_PACKAGES, startTestRegistry, type TestRegistry } from "../registry";

const REPO = path.resolve(__dirname, "../..");
const DEMO = path.join(REPO, "examples/demo-workspace");
const DEMO_LOCK = path.join(DEMO, "package-lock.json");
const SNAPSHOT = path.join(REPO, "test/fixtures/review/demo.snapshot.md");

async function run(registry: TestRegistry, trustedRoot: string, argv: string[], extra: Partial<CliDeps> = {}) {
  let stdout = "";
  let stderr = "";
  const scratch = path.dirname(trustedRoot);
  const code = await runCli(parseArgs([...argv, "--registry", registry.url, "--trusted-root", trustedRoot, "--no-cache"]), {
    fs: nodeFileSystem,
    createChecker: engineFactory({ env: { NPM_CONFIG_USERCONFIG: path.join(scratch, "no-npmrc") }, homeDir: scratch }),
    cwd: REPO,
    version: "0.0.0-test",
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    ...extra,
  });
  return { code, stdout, stderr };
}

/** The key constraints of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json) and of GitHub's accepted subset. */
function assertSarifShape(sarif: any): void {
  assert.equal(sarif.version, "2.1.0");
  assert.match(sarif.$schema, /sarif-2\.1\.0/);
  assert.ok(Array.isArray(sarif.runs) && sarif.runs.length === 1);
  const run = sarif.runs[0];
  const driver = run.tool.driver;
  assert.equal(typeof driver.name, "string");
  assert.ok(Array.isArray(driver.rules));
  const ids = new Set<string>();
  for (const rule of driver.rules) {
    assert.equal(typeof rule.id, "string");
    assert.ok(!ids.has(rule.id), `rule ids are unique: ${rule.id}`);
    ids.add(rule.id);
    assert.ok(rule.shortDescription.text.length > 0 && rule.shortDescription.text.length <= 1024);
    assert.ok(rule.fullDescription.text.length > 0);
    assert.ok(rule.help.text.length > 0);
    assert.doesNotThrow(() => new URL(rule.helpUri), "helpUri is an absolute URI");
    assert.ok(["none", "note", "warning", "error"].includes(rule.defaultConfiguration.level));
  }
  for (const result of run.results) {
    assert.ok(ids.has(result.ruleId), `result ruleId ${result.ruleId} has a rule`);
    assert.equal(driver.rules[result.ruleIndex].id, result.ruleId, "ruleIndex points at its rule");
    assert.ok(["none", "note", "warning", "error"].includes(result.level));
    assert.ok(result.message.text.length > 0);
    assert.equal(result.locations.length, 1);
    const { artifactLocation, region } = result.locations[0].physicalLocation;
    assert.ok(!artifactLocation.uri.startsWith("/") && !artifactLocation.uri.startsWith("..") && !artifactLocation.uri.includes("\\"), artifactLocation.uri);
    assert.ok(Number.isInteger(region.startLine) && region.startLine >= 1);
    assert.ok(Number.isInteger(region.startColumn) && region.startColumn >= 1);
    for (const value of Object.values(result.partialFingerprints ?? {})) assert.equal(typeof value, "string");
  }
  for (const n of run.invocations?.[0]?.toolExecutionNotifications ?? []) assert.ok(n.message.text.length > 0);
}

describe("report formats over the demo workspace", () => {
  let registry: TestRegistry;
  let scratch: string;
  let trustedRoot: string;
  before(async () => {
    registry = await startTestRegistry({ packages: DEMO_PACKAGES, misbehaviour: DEMO_MISBEHAVIOUR });
    scratch = mkdtempSync(path.join(tmpdir(), "pl-reports-"));
    trustedRoot = registry.writeTrustedRoot(scratch);
  });
  after(async () => {
    await registry.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("SARIF: valid shape, a rule per finding code, each result on its entry's lockfile line", async () => {
    const { code, stdout, stderr } = await run(registry, trustedRoot, ["check", DEMO, "--format", "sarif"]);
    assert.equal(code, 1, stderr);
    const sarif = JSON.parse(stdout);
    assertSarifShape(sarif);
    const results = sarif.runs[0].results;
    const lines = readFileSync(DEMO_LOCK, "utf8").split("\n");
    const byPackage = new Map<string, any>();
    for (const r of results) {
      const { uri } = r.locations[0].physicalLocation.artifactLocation;
      assert.equal(uri, "examples/demo-workspace/package-lock.json");
      byPackage.set(r.message.text.split(" ")[0], r);
    }
    const expected: Record<string, [string, string]> = {
      "tampered-pkg@0.4.2": ["invalid", "error"],
      "unsigned-pkg@3.1.4": ["unsigned", "warning"],
      "unknown-key-pkg@0.9.0": ["unverifiable", "note"],
      "demo-git-dep@1.0.0": ["not-from-registry", "note"],
      "remote-tarball@1.0.0": ["not-from-registry", "note"],
    };
    assert.deepEqual(Object.fromEntries([...byPackage].map(([k, r]) => [k, [r.ruleId, r.level]])), expected);
    for (const [label, result] of byPackage) {
      const line = lines[result.locations[0].physicalLocation.region.startLine - 1];
      assert.ok(line.includes(`"node_modules/${label.slice(0, label.lastIndexOf("@"))}"`), `${label} sits on its entry: ${line}`);
    }
    const failOnUnsigned = JSON.parse((await run(registry, trustedRoot, ["check", DEMO, "--format", "sarif", "--fail-on", "unsigned"])).stdout);
    const levels = new Map<string, string>(failOnUnsigned.runs[0].results.map((r: any) => [r.ruleId, r.level]));
    assert.equal(levels.get("unsigned"), "error", "a --fail-on status is shown as an error");
    assert.equal(levels.get("invalid"), "error", "invalid keeps its default level");
  });

  test("Markdown: matches the snapshot (registry URL and log indexes normalised)", async () => {
    const { stdout } = await run(registry, trustedRoot, ["check", DEMO, "--format", "markdown"]);
    const stable = stdout.split(registry.url).join("<registry>/").replace(/(transparency log entry) \d+/g, "$1 N").replace(/\?logIndex=\d+/g, "?logIndex=N").split(scratch).join("<scratch>").replace(/SHA256:[A-Za-z0-9+/=]+/g, "SHA256:<random test key>");
    if (process.env.UPDATE_SNAPSHOTS === "1") require("node:fs").writeFileSync(SNAPSHOT, stable);
    assert.equal(stable, readFileSync(SNAPSHOT, "utf8"));
  });

  test("--fail-on: exit codes over the demo's statuses", async () => {
    const cases: [string[], number][] = [
      [[], 1],
      [["--fail-on", "verified"], 1],
      [["--fail-on", "unverifiable,signed"], 1],
      [["--fail-on", "not-from-registry"], 1],
    ];
    for (const [args, expected] of cases) assert.equal((await run(registry, trustedRoot, ["check", DEMO, "--format", "json", ...args])).code, expected, args.join(" "));
    const onlyRegistry = await run(registry, trustedRoot, ["check", path.join(REPO, "test/fixtures/workspaces/basic"), "--offline", "--format", "json", "--fail-on", "invalid"]);
    assert.equal(onlyRegistry.code, 0, "offline: nothing invalid");
    const unverifiable = await run(registry, trustedRoot, ["check", path.join(REPO, "test/fixtures/workspaces/basic"), "--offline", "--format", "json", "--fail-on", "unverifiable"]);
    assert.equal(unverifiable.code, 1);
    const bad = await run(registry, trustedRoot, ["check", DEMO, "--fail-on", "trusted"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown status for --fail-on: trusted/);
  });

  test("text: colours only on a terminal without NO_COLOR; no progress line off a terminal", async () => {
    const cases: { tty: boolean; env: Record<string, string>; colour: boolean }[] = [
      { tty: false, env: {}, colour: false },
      { tty: true, env: {}, colour: true },
      { tty: true, env: { NO_COLOR: "1" }, colour: false },
      { tty: true, env: { TERM: "dumb" }, colour: false },
    ];
    for (const c of cases) {
      const { stdout, stderr } = await run(registry, trustedRoot, ["check", DEMO], { stdoutIsTTY: c.tty, stderrIsTTY: false, env: c.env });
      assert.equal(/\u001b\[/.test(stdout), c.colour, JSON.stringify(c));
      assert.equal(stderr, "");
      assert.ok(stdout.indexOf("invalid (1)") < stdout.indexOf("verified (2)"), "problems first");
    }
  });

  test("a progress line on a terminal for a long check, cleared at the end", async () => {
    let t = 0;
    // A clock that moves 400 ms per reading: the check is "long" after a few packages.
    const { stderr } = await run(registry, trustedRoot, ["check", DEMO, "--format", "json"], { stderrIsTTY: true, now: () => (t += 400) });
    assert.match(stderr, /\rprovenance-lens: checked \d+\/\d+ packages of package-lock\.json/);
    assert.ok(stderr.endsWith("\r\u001b[2K"));
  });
});

describe("registry notices are said once in every format", () => {
  test("a stripping mirror over two lockfiles: one notice in text, JSON, Markdown and SARIF", async () => {
    const registry = await startTestRegistry({ packages: DEMO_PACKAGES, misbehaviour: { "*": { kind: "stripping-mirror" } } });
    const scratch = mkdtempSync(path.join(tmpdir(), "pl-notices-"));
    try {
      const trustedRoot = registry.writeTrustedRoot(scratch);
      const twoLockfiles = path.join(scratch, "two");
      cpSync(DEMO, path.join(twoLockfiles, "a"), { recursive: true });
      cpSync(DEMO, path.join(twoLockfiles, "b"), { recursive: true });
      const outputs: Record<string, string> = {};
      for (const format of ["text", "json", "markdown", "sarif"]) outputs[format] = (await run(registry, trustedRoot, ["check", ".", "--format", format], { cwd: twoLockfiles })).stdout;
      const json = JSON.parse(outputs.json);
      assert.equal(json.lockfiles.length, 2);
      assert.equal(json.notices.length, 1);
      const message: string = json.notices[0].message;
      assert.match(message, /signatures/);
      assert.equal(json.notices[0].kind, "no-signatures");
      assert.equal(outputs.text.split(message).length - 1, 1, outputs.text);
      assert.equal(outputs.markdown.split("[!WARNING]").length - 1, 1, outputs.markdown);
      const sarif = JSON.parse(outputs.sarif);
      assertSarifShape(sarif);
      assert.deepEqual(sarif.runs[0].invocations[0].toolExecutionNotifications.map((n: any) => n.message.text), [message]);
    } finally {
      await registry.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
