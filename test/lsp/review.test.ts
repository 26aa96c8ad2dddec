// Review in the editor (issue #5): a temporary git repository (base commit, then a changed lockfile), the review
// request lists what changed as the CLI's --base does, and `diagnostics.changedOnly` limits diagnostics to it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { engineFactory } from "../../server/src/features/checkerFactory";
import { integrityOf, startTestRegistry, type Misbehaviour, type PackageSpec, type TestRegistry } from "../registry";
import { lineOf, startInProcess, type TestClient } from "./harness";

const PACKAGES: PackageSpec[] = [
  { name: "good-verified", versions: [{ version: "1.0.0", provenance: true }] },
  { name: "signed-dep", versions: [{ version: "1.0.0" }, { version: "1.1.0", provenance: true }] },
  { name: "tampered", versions: [{ version: "1.0.0" }] },
  { name: "stripped", versions: [{ version: "1.0.0" }] },
  { name: "removed-dep", versions: [{ version: "1.0.0" }] },
];
const MISBEHAVIOUR: Record<string, Misbehaviour> = { "tampered@1.0.0": { kind: "tamper-integrity" }, stripped: { kind: "strip-signatures" } };

const BASE = { "good-verified": "1.0.0", "signed-dep": "1.0.0", tampered: "1.0.0", "removed-dep": "1.0.0" };
const HEAD = { "good-verified": "1.0.0", "signed-dep": "1.1.0", tampered: "1.0.0", stripped: "1.0.0" };

function lockfileText(locked: Record<string, string>): string {
  const dependencies = Object.fromEntries(Object.keys(locked).map((n) => [n, `^${locked[n]}`]));
  const packages = Object.fromEntries(
    Object.entries(locked).map(([name, version]) => [`node_modules/${name}`, { version, integrity: integrityOf(name, PACKAGES.find((p) => p.name === name)!.versions.find((v) => v.version === version)!) }]),
  );
  return JSON.stringify({ name: "review-fixture", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "review-fixture", version: "1.0.0", dependencies }, ...packages } }, null, 2) + "\n";
}

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: dir } });
}

/** A repository on branch main: the base lockfile committed, then the head lockfile committed on a branch `feature`. */
function writeRepository(): { dir: string; lockfileUri: string; headText: string; baseCommit: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "pl-review-"));
  git(dir, "init", "-q", "-b", "main");
  const manifest = (locked: Record<string, string>) => JSON.stringify({ name: "review-fixture", version: "1.0.0", dependencies: Object.fromEntries(Object.keys(locked).map((n) => [n, `^${locked[n]}`])) }, null, 2) + "\n";
  writeFileSync(path.join(dir, "package.json"), manifest(BASE));
  writeFileSync(path.join(dir, "package-lock.json"), lockfileText(BASE));
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "base");
  const baseCommit = git(dir, "rev-parse", "HEAD").trim();
  git(dir, "checkout", "-q", "-b", "feature");
  const headText = lockfileText(HEAD);
  writeFileSync(path.join(dir, "package.json"), manifest(HEAD));
  writeFileSync(path.join(dir, "package-lock.json"), headText);
  git(dir, "commit", "-q", "-am", "head");
  return { dir, lockfileUri: pathToFileURL(path.join(dir, "package-lock.json")).href, headText, baseCommit };
}

let registry: TestRegistry;
let settings: Record<string, unknown>;
const home = mkdtempSync(path.join(tmpdir(), "pl-review-home-"));
const environment = { env: { npm_config_globalconfig: path.join(home, "no-global-npmrc"), npm_config_userconfig: path.join(home, "no-npmrc") }, homeDir: home };

before(async () => {
  registry = await startTestRegistry({ packages: PACKAGES, misbehaviour: MISBEHAVIOUR });
  settings = { registry: registry.url, trustedRootPath: registry.writeTrustedRoot(home), cachePath: mkdtempSync(path.join(tmpdir(), "pl-review-cache-")) };
});
after(() => registry.stop());

async function session(repo: { dir: string; lockfileUri: string }, extra: Record<string, unknown>, fn: (client: TestClient) => Promise<void>): Promise<void> {
  const client = startInProcess({ settings: { ...settings, ...extra }, workspaceFolders: [pathToFileURL(repo.dir).href] }, { createChecker: engineFactory(environment) });
  try {
    const checked = client.next("provenanceLens/checked", (p: any) => p.uri === repo.lockfileUri);
    await client.initialize();
    await checked;
    await fn(client);
  } finally {
    client.dispose();
  }
}

function codesByLine(client: TestClient, uri: string, text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of Object.keys(HEAD)) {
    const line = lineOf(text, `"node_modules/${name}"`);
    out[name] = client.diagnostics(uri).filter((d) => d.range.start.line === line).map((d) => d.code);
  }
  return out;
}

const ALL_DIAGNOSTICS = { "good-verified": [], "signed-dep": [], tampered: ["invalid"], stripped: ["unsigned"] };

describe("review in the editor", () => {
  test("the default ref is the merge base with the default branch", () => {
    const repo = writeRepository();
    return session(repo, {}, async (client) => {
      const refs: any = await client.connection.sendRequest("provenanceLens/reviewRefs", {});
      assert.deepEqual(refs.refs[0], { ref: repo.baseCommit, label: "merge base with main", commit: repo.baseCommit });
      assert.ok(refs.refs.some((r: any) => r.ref === "feature"), JSON.stringify(refs));
    });
  });

  test("lists added, changed (old -> new, trust changes) and the removed count, in the tree too; ending it clears it", () => {
    const repo = writeRepository();
    return session(repo, {}, async (client) => {
      const result: any = await client.connection.sendRequest("provenanceLens/review", { ref: "main" });
      assert.deepEqual(result.problems, []);
      assert.equal(result.commit, repo.baseCommit);
      assert.equal(result.lockfiles.length, 1);
      const [lockfile] = result.lockfiles;
      assert.deepEqual(
        lockfile.changes.map((c: any) => [c.name, c.kind, c.description, c.trustDowngrade]),
        [
          ["signed-dep", "changed", "1.0.0 -> 1.1.0, signed -> verified", false],
          ["stripped", "added", "new, unsigned", true],
        ],
      );
      assert.deepEqual([lockfile.existedAtBase, lockfile.removed, lockfile.removedPackages, lockfile.unchanged], [true, 1, ["removed-dep@1.0.0"], 2]);
      const tree: any = await client.connection.sendRequest("provenanceLens/tree", {});
      assert.deepEqual(tree.review.lockfiles, result.lockfiles);
      // changedOnly is off: every diagnostic stays.
      assert.deepEqual(codesByLine(client, repo.lockfileUri, repo.headText), ALL_DIAGNOSTICS);
      await client.connection.sendRequest("provenanceLens/endReview", {});
      assert.equal(((await client.connection.sendRequest("provenanceLens/tree", {})) as any).review, undefined);
    });
  });

  test("diagnostics.changedOnly limits diagnostics to changed entries while the review is active", () => {
    const repo = writeRepository();
    return session(repo, { diagnostics: { changedOnly: true } }, async (client) => {
      assert.deepEqual(codesByLine(client, repo.lockfileUri, repo.headText), ALL_DIAGNOSTICS, "no review yet: everything");
      await client.connection.sendRequest("provenanceLens/review", { ref: repo.baseCommit, label: "merge base with main" });
      assert.deepEqual(codesByLine(client, repo.lockfileUri, repo.headText), { ...ALL_DIAGNOSTICS, tampered: [] });
      await client.connection.sendRequest("provenanceLens/endReview", {});
      assert.deepEqual(codesByLine(client, repo.lockfileUri, repo.headText), ALL_DIAGNOSTICS);
    });
  });

  test("a ref that does not resolve is said, not thrown", () => {
    const repo = writeRepository();
    return session(repo, {}, async (client) => {
      const result: any = await client.connection.sendRequest("provenanceLens/review", { ref: "no-such-branch" });
      assert.deepEqual(result.lockfiles, []);
      assert.equal(result.problems.length, 1);
      assert.match(result.problems[0], /no-such-branch is not a commit/);
    });
  });
});
