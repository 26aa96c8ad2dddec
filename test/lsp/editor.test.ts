// The editor features end to end: the real server over an in-memory stream pair, the real engine (engineFactory)
// pointed by settings at the loopback test registry, real signatures and Sigstore bundles.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { engineFactory } from "../../server/src/features/checkerFactory";
import { integrityOf, startTestRegistry, type Misbehaviour, type PackageSpec, type TestRegistry } from "../registry";
import { applyTextEdits, lineOf, startInProcess, type ClientOptions, type TestClient } from "./harness";

const REPO_URL = "https://github.com/provenance-lens-test";

const PACKAGES: PackageSpec[] = [
  { name: "good-verified", versions: [{ version: "1.0.0", provenance: true, repository: `${REPO_URL}/good-verified`, dependencies: { "deep-signed": "^1.0.0" } }] },
  // 1.2.0's provenance is broken: the pin must skip it for 1.1.0; 2.0.0 is the newest that verifies.
  { name: "signed-dep", versions: [{ version: "1.0.0" }, { version: "1.1.0", provenance: true }, { version: "1.2.0", provenance: true }, { version: "2.0.0", provenance: true }] },
  { name: "tampered", versions: [{ version: "1.0.0" }] },
  { name: "stripped", versions: [{ version: "1.0.0" }] },
  { name: "deep-signed", versions: [{ version: "1.0.0" }, { version: "1.0.1", provenance: true }] },
  { name: "hanging", versions: [{ version: "1.0.0" }] },
];

const MISBEHAVIOUR: Record<string, Misbehaviour> = {
  "signed-dep@1.2.0": { kind: "attestation-broken-inclusion-proof" },
  "tampered@1.0.0": { kind: "tamper-integrity" },
  stripped: { kind: "strip-signatures" },
  hanging: { kind: "hang" },
};

const DIRECT = ["good-verified", "signed-dep", "tampered", "stripped"];

/** package.json + package-lock.json v3: the DIRECT packages at their first version, deep-signed under good-verified. */
function writeProject(names: string[], transitive: string[] = ["deep-signed"]): { dir: string; lockfileUri: string; lockText: string; manifestUri: string; manifestText: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "pl-editor-"));
  const spec = (name: string) => PACKAGES.find((p) => p.name === name)!;
  const dependencies = Object.fromEntries(names.map((n) => [n, `^${spec(n).versions[0].version}`]));
  const lockPackages: Record<string, unknown> = {};
  for (const name of [...names, ...transitive]) {
    const v = spec(name).versions[0];
    lockPackages[`node_modules/${name}`] = { version: v.version, integrity: integrityOf(name, v), ...(v.dependencies ? { dependencies: v.dependencies } : {}) };
  }
  const manifestText = JSON.stringify({ name: "editor-fixture", version: "1.0.0", dependencies }, null, 2) + "\n";
  const lockText = JSON.stringify({ name: "editor-fixture", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "editor-fixture", version: "1.0.0", dependencies }, ...lockPackages } }, null, 2) + "\n";
  writeFileSync(path.join(dir, "package.json"), manifestText);
  writeFileSync(path.join(dir, "package-lock.json"), lockText);
  return { dir, lockfileUri: pathToFileURL(path.join(dir, "package-lock.json")).href, lockText, manifestUri: pathToFileURL(path.join(dir, "package.json")).href, manifestText };
}

let registry: TestRegistry;
let settings: Record<string, unknown>;
const home = mkdtempSync(path.join(tmpdir(), "pl-editor-home-"));
// No user or global npmrc of this machine: only what the settings say.
const environment = { env: { npm_config_globalconfig: path.join(home, "no-global-npmrc"), npm_config_userconfig: path.join(home, "no-npmrc") }, homeDir: home };

before(async () => {
  registry = await startTestRegistry({ packages: PACKAGES, misbehaviour: MISBEHAVIOUR });
  settings = { registry: registry.url, trustedRootPath: registry.writeTrustedRoot(home), cachePath: mkdtempSync(path.join(tmpdir(), "pl-editor-cache-")) };
});
after(() => registry.stop());

async function session(options: ClientOptions, fn: (client: TestClient) => Promise<void>): Promise<void> {
  const client = startInProcess({ settings, ...options }, { createChecker: engineFactory(environment) });
  try {
    await client.initialize();
    await fn(client);
  } finally {
    client.dispose();
  }
}

async function openChecked(client: TestClient, uri: string, text: string): Promise<any> {
  const checked = client.next("provenanceLens/checked", (p: any) => p.uri === uri);
  await client.open(uri, text);
  return checked;
}

/** Status, severity (1 error .. 3 information; undefined: no diagnostic) per lockfile key. */
const EXPECTED = [
  { key: "node_modules/tampered", code: "invalid", severity: 1 },
  { key: "node_modules/stripped", code: "unsigned", severity: 2 },
  { key: "node_modules/signed-dep", code: "signed", severity: 3 },
  { key: "node_modules/deep-signed", code: "signed", severity: 3, relatedTo: "good-verified" },
  { key: "node_modules/good-verified", code: undefined, severity: undefined },
];

describe("editor features against the loopback registry", () => {
  test("diagnostics per status on the entry key, with doc links and the package.json dependency that brings them in", () => {
    const project = writeProject(DIRECT);
    return session({}, async (client) => {
      await openChecked(client, project.lockfileUri, project.lockText);
      const diagnostics = client.diagnostics(project.lockfileUri);
      for (const expected of EXPECTED) {
        const line = lineOf(project.lockText, `"${expected.key}"`);
        const found = diagnostics.filter((d) => d.range.start.line === line);
        if (expected.code === undefined) {
          assert.deepEqual(found, [], expected.key);
          continue;
        }
        assert.equal(found.length, 1, `${expected.key}: ${JSON.stringify(diagnostics)}`);
        const [d] = found;
        assert.equal(d.code, expected.code, expected.key);
        assert.equal(d.severity, expected.severity, expected.key);
        const column = project.lockText.split("\n")[line].indexOf(`"${expected.key}"`);
        assert.deepEqual([d.range.start.character, d.range.end.character], [column, column + expected.key.length + 2], expected.key);
        assert.equal(d.codeDescription.href, `https://github.com/provenance-lens/provenance-lens/blob/main/docs/EDITOR.md#${expected.code}`);
        const via = expected.relatedTo ?? expected.key.replace("node_modules/", "");
        assert.equal(d.relatedInformation?.length, 1, expected.key);
        assert.equal(d.relatedInformation[0].location.uri, project.manifestUri);
        assert.equal(d.relatedInformation[0].location.range.start.line, lineOf(project.manifestText, `"${via}":`), expected.key);
      }
    });
  });

  test("severity per status follows the setting", () => {
    const project = writeProject(DIRECT);
    return session({ settings: { ...settings, severity: { signed: "none", invalid: "warning" } } }, async (client) => {
      await openChecked(client, project.lockfileUri, project.lockText);
      const codes = client.diagnostics(project.lockfileUri).map((d) => `${d.code}:${d.severity}`).sort();
      assert.deepEqual(codes, ["invalid:2", "unsigned:2"]);
    });
  });

  test("hover shows the evidence: status in words, signature key, provenance links, integrity, chain", () => {
    const project = writeProject(DIRECT);
    return session({}, async (client) => {
      await openChecked(client, project.lockfileUri, project.lockText);
      const line = lineOf(project.lockText, '"node_modules/good-verified"');
      const hover = await client.hover(project.lockfileUri, line, 6);
      const text: string = hover.contents.value;
      for (const needle of ["Verified: provenance and registry signature verify", `key \`${registry.keyid}\``, `(${REPO_URL}/good-verified)`, `${REPO_URL}/good-verified/commit/`, "workflow `.github/workflows/", "builder `", "transparency log entry ", "Integrity: `sha512-", "Required by: (root) → good-verified@1.0.0"]) {
        assert.ok(text.includes(needle), `${needle} in\n${text}`);
      }
      const deep = await client.hover(project.lockfileUri, lineOf(project.lockText, '"node_modules/deep-signed"'), 6);
      assert.ok(deep.contents.value.includes("Required by: (root) → good-verified@1.0.0 → deep-signed@1.0.0"), deep.contents.value);
    });
  });

  test("progress reports n/total while the check runs, and the summary lens and tree say the same", () => {
    const project = writeProject(DIRECT);
    return session({ progress: true }, async (client) => {
      const checked = await openChecked(client, project.lockfileUri, project.lockText);
      assert.equal(checked.packages, 5);
      const values = client.progressOf(client.progressTokens[0]);
      assert.ok(values.length > 0, JSON.stringify([client.progressTokens, client.received.filter((r) => r.method === "$/progress")]));
      assert.equal(values[0].kind, "begin");
      assert.equal(values[0].cancellable, true);
      assert.match(values.filter((v) => v.kind === "report").at(-1).message, /: 5\/5$/);
      assert.equal(values.at(-1).kind, "end");
      const [lens] = await client.codeLenses(project.lockfileUri);
      assert.equal(lens.command.title, "Provenance Lens: 1 verified · 2 signed · 1 unsigned · 1 invalid");
      assert.equal(lens.command.command, "provenanceLens.showTree");
      const tree: any = await client.connection.sendRequest("provenanceLens/tree", {});
      assert.equal(tree.lockfiles.length, 1);
      const byName = Object.fromEntries(tree.lockfiles[0].packages.map((p: any) => [p.name, p]));
      assert.deepEqual(Object.fromEntries(Object.entries(byName).map(([n, p]: [string, any]) => [n, p.status])), { "good-verified": "verified", "signed-dep": "signed", tampered: "invalid", stripped: "unsigned", "deep-signed": "signed" });
      assert.equal(byName["good-verified"].purl, "pkg:npm/good-verified@1.0.0");
      assert.match(byName["good-verified"].commitUrl, /^https:\/\/github\.com\/provenance-lens-test\/good-verified\/commit\/[0-9a-f]{40}$/);
      assert.deepEqual(byName["deep-signed"].chain, ["(root)", "good-verified@1.0.0", "deep-signed@1.0.0"]);
      assert.equal(byName["deep-signed"].direct, false);
      assert.equal(byName["deep-signed"].range.start.line, lineOf(project.lockText, '"node_modules/deep-signed"'));
    });
  });

  test("cancelling the progress aborts the check", () => {
    const project = writeProject(["hanging"], []);
    return session({ progress: true }, async (client) => {
      const begun = client.next("$/progress", (p: any) => p.value.kind === "begin");
      const cancelled = client.next("provenanceLens/checked", (p: any) => p.uri === project.lockfileUri);
      await client.open(project.lockfileUri, project.lockText);
      const { token } = await begun;
      await client.connection.sendNotification("window/workDoneProgress/cancel", { token });
      assert.equal((await cancelled).cancelled, true);
      assert.deepEqual(client.diagnostics(project.lockfileUri), []);
    });
  });

  test("pin offers only versions whose provenance really verifies; the resolved edit changes package.json", () => {
    const project = writeProject(DIRECT);
    return session({}, async (client) => {
      await openChecked(client, project.lockfileUri, project.lockText);
      const actions = await client.codeActions(project.lockfileUri, lineOf(project.lockText, '"node_modules/signed-dep"'));
      const titles = actions.filter((a) => a.kind === "quickfix").map((a) => a.title);
      assert.deepEqual(titles, ["Pin signed-dep to 1.1.0 (provenance verified)", "Pin signed-dep to 2.0.0 (provenance verified, newest)", "Accept signed-dep@1.0.0 with a reason…"]);
      assert.equal(actions[2].command.command, "provenanceLens.acceptWithReason");
      const resolved = await client.resolve(actions[0]);
      const edited = JSON.parse(applyTextEdits(project.manifestText, resolved.edit.changes[project.manifestUri]));
      assert.equal(edited.dependencies["signed-dep"], "1.1.0");
      assert.equal(edited.dependencies["tampered"], "^1.0.0", "nothing else changes");
      assert.deepEqual(resolved.command.arguments, [{ folderPath: project.dir, command: "npm install" }]);
      assert.equal(resolved.command.command, "provenanceLens.offerInstall");
    });
  });

  test("a transitive package gets the package manager's override; fix-all pins only safe in-range versions", () => {
    const project = writeProject(DIRECT);
    return session({}, async (client) => {
      await openChecked(client, project.lockfileUri, project.lockText);
      const actions = await client.codeActions(project.lockfileUri, lineOf(project.lockText, '"node_modules/deep-signed"'));
      assert.equal(actions[0].title, "Override deep-signed to 1.0.1 (provenance verified)");
      const override = await client.resolve(actions[0]);
      assert.deepEqual(JSON.parse(applyTextEdits(project.manifestText, override.edit.changes[project.manifestUri])).overrides, { "deep-signed": "1.0.1" });
      const [fixAll] = await client.codeActions(project.lockfileUri, 0, ["source.fixAll"]);
      assert.equal(fixAll.kind, "source.fixAll.provenanceLens");
      const resolved = await client.resolve(fixAll);
      const edited = JSON.parse(applyTextEdits(project.manifestText, resolved.edit.changes[project.manifestUri]));
      assert.deepEqual(edited.dependencies, { "good-verified": "^1.0.0", "signed-dep": "1.1.0", tampered: "^1.0.0", stripped: "^1.0.0" });
    });
  });

  test("accept with a reason writes the agreed exception shape; the finding then shows accepted, with no diagnostic", () => {
    const project = writeProject(DIRECT);
    const folderUri = pathToFileURL(project.dir).href;
    return session({ workspaceFolders: [folderUri] }, async (client) => {
      await openChecked(client, project.lockfileUri, project.lockText);
      const exception = { package: "tampered", versions: "1.0.0", reason: "Vendored fork, audited", expires: "2999-01-01" };
      const edit: any = await client.connection.sendRequest("provenanceLens/acceptEdit", { lockfileUri: project.lockfileUri, exception });
      const policyUri = pathToFileURL(path.join(project.dir, ".provenance-lens.json")).href;
      assert.deepEqual(edit.documentChanges[0], { kind: "create", uri: policyUri, options: { ignoreIfExists: true } });
      const written = applyTextEdits("", edit.documentChanges[1].edits);
      assert.deepEqual(JSON.parse(written), { exceptions: [exception] });
      writeFileSync(path.join(project.dir, ".provenance-lens.json"), written);
      // A second exception is appended to the existing file.
      const second: any = await client.connection.sendRequest("provenanceLens/acceptEdit", { lockfileUri: project.lockfileUri, exception: { package: "stripped", versions: "^1.0.0", reason: "Internal mirror" } });
      assert.equal(JSON.parse(applyTextEdits(written, second.changes[policyUri])).exceptions.length, 2);
      const rechecked = client.next("provenanceLens/checked", (p: any) => p.uri === project.lockfileUri);
      await client.connection.sendNotification("workspace/didChangeWatchedFiles", { changes: [{ uri: policyUri, type: 1 }] });
      await rechecked;
      assert.ok(!client.diagnostics(project.lockfileUri).some((d) => d.code === "invalid"), JSON.stringify(client.diagnostics(project.lockfileUri)));
      const tree: any = await client.connection.sendRequest("provenanceLens/tree", {});
      const tampered = tree.lockfiles[0].packages.find((p: any) => p.name === "tampered");
      assert.deepEqual([tampered.status, tampered.accepted], ["invalid", { reason: "Vendored fork, audited", expires: "2999-01-01" }]);
      assert.equal(tree.lockfiles[0].folderUri, folderUri);
    });
  });
});

describe("a registry that strips signatures", () => {
  let mirror: TestRegistry;
  before(async () => {
    mirror = await startTestRegistry({ packages: PACKAGES, misbehaviour: { "*": { kind: "stripping-mirror" } } });
  });
  after(() => mirror.stop());

  test("is said once for the lockfile, not once per entry", () => {
    const project = writeProject(DIRECT);
    return session({ settings: { ...settings, registry: mirror.url, cachePath: mkdtempSync(path.join(tmpdir(), "pl-editor-cache-")) } }, async (client) => {
      await openChecked(client, project.lockfileUri, project.lockText);
      const diagnostics = client.diagnostics(project.lockfileUri);
      const codes = diagnostics.map((d) => d.code);
      assert.equal(codes.filter((c) => c === "registry-notice").length, 1, JSON.stringify(diagnostics));
      assert.ok(!codes.includes("unverifiable") && !codes.includes("unsigned"), JSON.stringify(codes));
      const notice = diagnostics.find((d) => d.code === "registry-notice");
      assert.match(notice.message, /serves no registry signatures/);
      assert.equal(notice.range.start.line, lineOf(project.lockText, '"node_modules/'));
    });
  });
});

describe("a project whose .npmrc has a problem", () => {
  test("is told once, at information level, and every package is still checked", () => {
    const project = writeProject(DIRECT);
    writeFileSync(path.join(project.dir, ".npmrc"), "cafile=/nonexistent/ca.pem\n");
    return session({ settings: { ...settings, cachePath: mkdtempSync(path.join(tmpdir(), "pl-editor-cache-")) } }, async (client) => {
      await openChecked(client, project.lockfileUri, project.lockText);
      const diagnostics = client.diagnostics(project.lockfileUri);
      const notices = diagnostics.filter((d) => d.code === "registry-notice");
      assert.equal(notices.length, 1, JSON.stringify(diagnostics));
      assert.match(notices[0].message, /^npm configuration: .*\.npmrc: cafile \/nonexistent\/ca\.pem could not be read: ENOENT\.$/);
      assert.equal(notices[0].severity, 3, "information");
      assert.ok(diagnostics.some((d) => d.code === "invalid"), "the tampered package is still found");
    });
  });
});

describe("an untrusted workspace", () => {
  test("ignores the workspace's registry setting and contacts no registry", async () => {
    const project = writeProject(DIRECT);
    const before = registry.requests.length;
    await session({ initializationOptions: { workspaceTrusted: false } }, async (client) => {
      await openChecked(client, project.lockfileUri, project.lockText);
      // Nothing is cached for this machine's (temporary) default cache: every registry package is offline, said once.
      const diagnostics = client.diagnostics(project.lockfileUri);
      assert.deepEqual(diagnostics.map((d) => d.code), ["unverifiable-offline"], JSON.stringify(diagnostics));
      assert.match(diagnostics[0].message, /^5 packages not verified: offline/);
    });
    assert.equal(registry.requests.length, before, "no request reached the registry");
  });
});
