// A trust bundle in the editor (issue #5): bundle with the CLI against the loopback registry, check once online, stop
// the registry, then check with `provenanceLens.trustBundlePath` alone: every verdict must be the online one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "../../server/src/cli/args";
import { runCli } from "../../server/src/cli/run";
import { engineFactory } from "../../server/src/features/checkerFactory";
import { nodeFileSystem } from "../../server/src/workspace/fileSystem";
import { integrityOf, startTestRegistry, type Misbehaviour, type PackageSpec, type TestRegistry } from "../registry";
import { startInProcess, type TestClient } from "./harness";

const PACKAGES: PackageSpec[] = [
  { name: "with-provenance", versions: [{ version: "1.0.0", provenance: true }] },
  { name: "only-signed", versions: [{ version: "1.0.0" }] },
  { name: "tampered", versions: [{ version: "1.0.0" }] },
  { name: "stripped", versions: [{ version: "1.0.0" }] },
];
const MISBEHAVIOUR: Record<string, Misbehaviour> = { "tampered@1.0.0": { kind: "tamper-integrity" }, stripped: { kind: "strip-signatures" } };

const scratch = mkdtempSync(path.join(tmpdir(), "pl-lsp-bundle-"));
const environment = { env: { npm_config_globalconfig: path.join(scratch, "no-global-npmrc"), npm_config_userconfig: path.join(scratch, "no-npmrc") }, homeDir: scratch };

function writeProject(): { dir: string; lockfile: string; lockText: string } {
  const dir = mkdtempSync(path.join(scratch, "project-"));
  const dependencies = Object.fromEntries(PACKAGES.map((p) => [p.name, "^1.0.0"]));
  const packages = Object.fromEntries(PACKAGES.map((p) => [`node_modules/${p.name}`, { version: "1.0.0", integrity: integrityOf(p.name, p.versions[0]) }]));
  const root = { name: "bundle-fixture", version: "1.0.0", dependencies };
  const lockText = JSON.stringify({ name: "bundle-fixture", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": root, ...packages } }, null, 2) + "\n";
  writeFileSync(path.join(dir, "package.json"), JSON.stringify(root, null, 2) + "\n");
  writeFileSync(path.join(dir, "package-lock.json"), lockText);
  return { dir, lockfile: path.join(dir, "package-lock.json"), lockText };
}

async function treeOf(settings: Record<string, unknown>, lockfile: string, text: string, fn?: (client: TestClient) => Promise<void>): Promise<Record<string, unknown>> {
  const client = startInProcess({ settings }, { createChecker: engineFactory(environment) });
  try {
    await client.initialize();
    const uri = pathToFileURL(lockfile).href;
    const checked = client.next("provenanceLens/checked", (p: any) => p.uri === uri);
    await client.open(uri, text);
    await checked;
    await fn?.(client);
    const tree: any = await client.connection.sendRequest("provenanceLens/tree", {});
    return Object.fromEntries(tree.lockfiles[0].packages.map((p: any) => [p.name, p.verdict]));
  } finally {
    client.dispose();
  }
}

describe("a trust bundle in the editor", () => {
  let registry: TestRegistry;
  let rootFile: string;
  before(async () => {
    registry = await startTestRegistry({ packages: PACKAGES, misbehaviour: MISBEHAVIOUR });
    rootFile = registry.writeTrustedRoot(scratch);
  });
  after(() => registry.stop());

  test("gives the online verdicts with the registry stopped; another lockfile text is said once", async () => {
    const project = writeProject();
    const online = await treeOf({ registry: registry.url, trustedRootPath: rootFile, cachePath: mkdtempSync(path.join(scratch, "cache-")) }, project.lockfile, project.lockText);
    assert.deepEqual(Object.fromEntries(Object.entries(online).map(([n, v]: [string, any]) => [n, v.status])), { "with-provenance": "verified", "only-signed": "signed", tampered: "invalid", stripped: "unsigned" });

    const bundleFile = path.join(scratch, "trust-bundle.json");
    let stderr = "";
    const code = await runCli(parseArgs(["bundle", project.dir, "--out", bundleFile, "--registry", registry.url, "--trusted-root", rootFile]), {
      fs: nodeFileSystem,
      createChecker: engineFactory(environment),
      cwd: scratch,
      version: "0.0.0-test",
      stdout: () => undefined,
      stderr: (t) => (stderr += t),
    });
    assert.equal(code, 0, stderr);
    await registry.stop();
    const requests = registry.requests.length;

    const settings = { registry: registry.url, trustedRootPath: rootFile, trustBundlePath: bundleFile };
    const offline = await treeOf(settings, project.lockfile, project.lockText, async (client) => {
      const codes = client.diagnostics(pathToFileURL(project.lockfile).href).map((d) => d.code);
      assert.ok(!codes.includes("trust-bundle-coverage") && !codes.includes("settings-problem"), JSON.stringify(codes));
    });
    assert.deepEqual(offline, online);
    assert.equal(registry.requests.length, requests, "nothing was asked of the (stopped) registry");

    // The same packages, other text: the bundle was not made for it. One diagnostic for the lockfile, not one per package.
    await treeOf(settings, project.lockfile, project.lockText.replace(/\n$/, "\n\n"), async (client) => {
      const coverage = client.diagnostics(pathToFileURL(project.lockfile).href).filter((d) => d.code === "trust-bundle-coverage");
      assert.equal(coverage.length, 1);
      assert.match(coverage[0].message, /was not made for/);
      assert.equal(client.logs.filter((l) => /was not made for/.test(l)).length, 1, client.logs.join("\n"));
    });
  });

  test("an unreadable bundle is a settings problem, never silently ignored", async () => {
    const project = writeProject();
    await treeOf({ registry: registry.url, trustedRootPath: rootFile, offline: true, trustBundlePath: path.join(scratch, "missing.json") }, project.lockfile, project.lockText, async (client) => {
      const problems = client.diagnostics(pathToFileURL(project.lockfile).href).filter((d) => d.code === "settings-problem");
      assert.equal(problems.length, 1);
      assert.match(problems[0].message, /^provenanceLens\.trustBundlePath: The trust bundle .*missing\.json cannot be read/);
    });
  });
});
