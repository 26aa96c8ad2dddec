// The policy file in the editor (issue #6): the real server over an in-memory stream pair, the real engine against the
// loopback test registry (several versions per package: history), and `.provenance-lens.json` applied with the CLI's
// applyPolicy. Each case: a policy in, diagnostics / tree / hover out.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { engineFactory } from "../../server/src/features/checkerFactory";
import { integrityOf, startTestRegistry, type PackageSpec, type TestRegistry } from "../registry";
import { lineOf, startInProcess, type ClientOptions, type TestClient } from "./harness";

const ORG = "https://github.com/provenance-lens-test";
const PACKAGES: PackageSpec[] = [
  // Locked at 1.1.0, which lost the provenance 1.0.0 had: a downgrade.
  { name: "downgraded", versions: [{ version: "1.0.0", provenance: true, publishedAt: "2024-03-01T10:00:00.000Z" }, { version: "1.1.0" }] },
  // Locked at 1.1.0, built from another repository than 1.0.0: drift.
  { name: "drifted", versions: [{ version: "1.0.0", provenance: true, repository: `${ORG}/drifted` }, { version: "1.1.0", provenance: true, repository: `${ORG}/someone-else` }] },
  { name: "plain-signed", versions: [{ version: "1.0.0" }] },
  { name: "accepted-one", versions: [{ version: "1.0.0" }] },
  { name: "expired-one", versions: [{ version: "1.0.0" }] },
  { name: "dev-tool", versions: [{ version: "1.0.0" }] },
];
const LOCKED: Record<string, string> = { downgraded: "1.1.0", drifted: "1.1.0", "plain-signed": "1.0.0", "accepted-one": "1.0.0", "expired-one": "1.0.0", "dev-tool": "1.0.0" };
const DEV = new Set(["dev-tool"]);

const POLICY = `{
  "requireProvenance": "direct",
  "severity": { "signed": "none" },
  "ignoreDev": true,
  "exceptions": [
    { "package": "accepted-one", "versions": "1.0.0", "reason": "Audited by hand" },
    { "package": "expired-one", "versions": "^1.0.0", "reason": "Old decision", "expires": "2020-01-01" }
  ],
  "bogus": 1
}
`;

interface Project {
  dir: string;
  folderUri: string;
  lockfileUri: string;
  lockText: string;
  policyUri: string;
}

function writeProject(policy: string | undefined): Project {
  const dir = mkdtempSync(path.join(tmpdir(), "pl-policy-"));
  const names = Object.keys(LOCKED);
  const deps = (dev: boolean) => Object.fromEntries(names.filter((n) => DEV.has(n) === dev).map((n) => [n, `^${LOCKED[n]}`]));
  const packages: Record<string, unknown> = {};
  for (const name of names) {
    const version = PACKAGES.find((p) => p.name === name)!.versions.find((v) => v.version === LOCKED[name])!;
    packages[`node_modules/${name}`] = { version: LOCKED[name], integrity: integrityOf(name, version), ...(DEV.has(name) ? { dev: true } : {}) };
  }
  const root = { name: "policy-fixture", version: "1.0.0", dependencies: deps(false), devDependencies: deps(true) };
  const lockText = JSON.stringify({ name: "policy-fixture", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": root, ...packages } }, null, 2) + "\n";
  writeFileSync(path.join(dir, "package.json"), JSON.stringify(root, null, 2) + "\n");
  writeFileSync(path.join(dir, "package-lock.json"), lockText);
  if (policy !== undefined) writeFileSync(path.join(dir, ".provenance-lens.json"), policy);
  return { dir, folderUri: pathToFileURL(dir).href, lockfileUri: pathToFileURL(path.join(dir, "package-lock.json")).href, lockText, policyUri: pathToFileURL(path.join(dir, ".provenance-lens.json")).href };
}

let registry: TestRegistry;
let settings: Record<string, unknown>;
const home = mkdtempSync(path.join(tmpdir(), "pl-policy-home-"));
const environment = { env: { npm_config_globalconfig: path.join(home, "no-global-npmrc"), npm_config_userconfig: path.join(home, "no-npmrc") }, homeDir: home };

before(async () => {
  registry = await startTestRegistry({ packages: PACKAGES });
  settings = { registry: registry.url, trustedRootPath: registry.writeTrustedRoot(home), cachePath: mkdtempSync(path.join(tmpdir(), "pl-policy-cache-")) };
});
after(() => registry.stop());

async function session(project: Project, options: ClientOptions, fn: (client: TestClient) => Promise<void>): Promise<void> {
  const client = startInProcess({ settings, workspaceFolders: [project.folderUri], ...options }, { createChecker: engineFactory(environment) });
  try {
    const checked = client.next("provenanceLens/checked", (p: any) => p.uri === project.lockfileUri);
    await client.initialize();
    await checked;
    await fn(client);
  } finally {
    client.dispose();
  }
}

/** `code:severity` of every diagnostic on a package's entry line, sorted. */
function codesOn(client: TestClient, project: Project, name: string): string[] {
  const line = lineOf(project.lockText, `"node_modules/${name}"`);
  return client.diagnostics(project.lockfileUri).filter((d) => d.range.start.line === line).map((d) => `${d.code}:${d.severity}`).sort();
}

/** With POLICY: per package, its diagnostics (1 error, 2 warning). Signed is "none" by the policy; accepted ones have none. */
const EXPECTED_WITH_POLICY: Record<string, string[]> = {
  downgraded: ["provenance-downgrade:2", "provenance-required:1"],
  drifted: ["build-identity-drift:2"],
  "plain-signed": ["provenance-required:1"],
  "accepted-one": [],
  "expired-one": ["exception-expired:2", "provenance-required:1"],
  "dev-tool": [],
};

/** With no policy file: statuses at the default levels, history findings at theirs. */
const EXPECTED_DEFAULT: Record<string, string[]> = {
  downgraded: ["provenance-downgrade:2", "signed:3"],
  drifted: ["build-identity-drift:2"],
  "plain-signed": ["signed:3"],
  "accepted-one": ["signed:3"],
  "expired-one": ["signed:3"],
  "dev-tool": ["signed:3"],
};

function assertCodes(client: TestClient, project: Project, expected: Record<string, string[]>): void {
  const actual = Object.fromEntries(Object.keys(expected).map((name) => [name, codesOn(client, project, name)]));
  assert.deepEqual(actual, expected);
}

describe("the policy file in the editor", () => {
  test("findings are diagnostics with their own codes; accepted ones have none", () => {
    const project = writeProject(POLICY);
    return session(project, {}, async (client) => assertCodes(client, project, EXPECTED_WITH_POLICY));
  });

  test("no policy file: the default levels", () => {
    const project = writeProject(undefined);
    return session(project, {}, async (client) => assertCodes(client, project, EXPECTED_DEFAULT));
  });

  test("accepted findings are in the tree, greyed with their reason; history lines and findings come along", () => {
    const project = writeProject(POLICY);
    return session(project, {}, async (client) => {
      const tree: any = await client.connection.sendRequest("provenanceLens/tree", {});
      const byName = Object.fromEntries(tree.lockfiles[0].packages.map((p: any) => [p.name, p]));
      assert.deepEqual(byName["accepted-one"].accepted, { reason: "Audited by hand" });
      assert.deepEqual(byName["accepted-one"].findings.map((f: any) => [f.code, f.accepted?.reason]), [["provenance-required", "Audited by hand"]]);
      assert.match(byName["dev-tool"].accepted.reason, /ignoreDev/);
      assert.equal(byName["expired-one"].accepted, undefined, "an expired exception accepts nothing");
      assert.equal(byName.downgraded.history, "provenance lost: last in 1.0.0 (2024-03-01)");
      assert.match(byName.drifted.history, /^provenance since 1\.0\.0; built by provenance-lens-test\/someone-else release\.yml; build identity changed since 1\.0\.0$/);
      assert.ok(byName["dev-tool"].weakenings.some((w: string) => /ignoreDev/.test(w)), JSON.stringify(byName["dev-tool"]));
    });
  });

  test("hovers carry the history line, the findings and the weakenings that apply", () => {
    const project = writeProject(POLICY);
    return session(project, {}, async (client) => {
      const hoverOf = async (name: string) => (await client.hover(project.lockfileUri, lineOf(project.lockText, `"node_modules/${name}"`), 6)).contents.value as string;
      const drifted = await hoverOf("drifted");
      assert.ok(drifted.includes("History: provenance since 1.0.0; built by provenance-lens-test/someone-else release.yml"), drifted);
      assert.ok(drifted.includes("**build-identity-drift**"), drifted);
      const accepted = await hoverOf("accepted-one");
      assert.ok(accepted.includes("Accepted in .provenance-lens.json: Audited by hand"), accepted);
      const signed = await hoverOf("plain-signed");
      assert.ok(signed.includes("signed is shown as none instead of information"), signed);
    });
  });

  test("problems of the policy file sit at their positions; expired exceptions and weakenings are said on their lines", () => {
    const project = writeProject(POLICY);
    return session(project, {}, async (client) => {
      const found = client.diagnostics(project.policyUri).map((d) => `${d.range.start.line}:${d.code}:${d.severity}`).sort();
      const at = (needle: string) => lineOf(POLICY, needle);
      const expected = [
        `${at('"bogus"')}:policy-unknown-key:2`,
        `${at('"expired-one"')}:exception-expired:2`,
        `${at('"signed": "none"')}:policy-weakening:3`,
        `${at('"ignoreDev"')}:policy-weakening:3`,
        `${at('"accepted-one"')}:policy-weakening:3`,
      ].sort();
      assert.deepEqual(found, expected);
    });
  });

  test("a policy edited in the editor applies at once; a broken one gives its syntax error and the default checks", () => {
    const project = writeProject(POLICY);
    return session(project, {}, async (client) => {
      const rechecked = client.next("provenanceLens/checked", (p: any) => p.uri === project.lockfileUri);
      const broken = '{ "ignoreDev": true,, }';
      await client.open(project.policyUri, broken);
      await rechecked;
      assertCodes(client, project, EXPECTED_DEFAULT);
      const syntax = client.diagnostics(project.policyUri).filter((d) => d.code === "policy-syntax-error");
      assert.ok(syntax.length > 0, JSON.stringify(client.diagnostics(project.policyUri)));
      for (const d of syntax) {
        assert.deepEqual(d.range.start, { line: 0, character: broken.indexOf(",,") + 1 });
        assert.match(d.message, /default checks apply/);
      }
    });
  });

  test("a policy changed on disk is reloaded (file watcher)", () => {
    const project = writeProject(POLICY);
    return session(project, {}, async (client) => {
      writeFileSync(path.join(project.dir, ".provenance-lens.json"), '{ "requireProvenance": "none" }\n');
      const rechecked = client.next("provenanceLens/checked", (p: any) => p.uri === project.lockfileUri);
      await client.connection.sendNotification("workspace/didChangeWatchedFiles", { changes: [{ uri: project.policyUri, type: 2 }] });
      await rechecked;
      assertCodes(client, project, EXPECTED_DEFAULT);
      assert.deepEqual(client.diagnostics(project.policyUri), []);
    });
  });
});

describe("the policy file in an untrusted workspace", () => {
  test("its registries are ignored (said on their entry) and drive no request; its other rules apply", async () => {
    const policy = `{\n  "ignoreDev": true,\n  "registries": [{ "url": "${registry.url}", "mirrorOf": "https://registry.npmjs.org/" }]\n}\n`;
    const project = writeProject(policy);
    const requests = registry.requests.length;
    await session(project, { initializationOptions: { workspaceTrusted: false } }, async (client) => {
      const codes = client.diagnostics(project.policyUri).map((d) => `${d.range.start.line}:${d.code}`);
      assert.deepEqual(codes.sort(), [`1:policy-weakening`, `2:policy-registries-ignored`]);
      const tree: any = await client.connection.sendRequest("provenanceLens/tree", {});
      const dev = tree.lockfiles[0].packages.find((p: any) => p.name === "dev-tool");
      assert.match(dev.accepted.reason, /ignoreDev/);
      assert.ok(dev.weakenings.some((w: string) => /not trusted/.test(w)), JSON.stringify(dev.weakenings));
    });
    assert.equal(registry.requests.length, requests, "no request reached the registry");
  });
});
