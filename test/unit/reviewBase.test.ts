// `check --base REF` end to end: real temporary git repositories, the loopback test registry, the real engine.
// For every lockfile format: the base lockfile is committed, the new one sits in the work tree (as in a pull request).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "../../server/src/cli/args";
import { runCli } from "../../server/src/cli/run";
import { engineFactory } from "../../server/src/features/checkerFactory";
import { nodeFileSystem } from "../../server/src/workspace/fileSystem";
import { integrityOf, startTestRegistry, type PackageSpec, type TestRegistry } from "../registry";

const FIXTURES = path.resolve(__dirname, "../fixtures/review");

const SPECS: PackageSpec[] = [
  { name: "stay", versions: [{ version: "1.0.0" }] },
  { name: "bump", versions: [{ version: "1.0.0", provenance: true }, { version: "1.1.0" }] },
  { name: "swap", versions: [{ version: "1.0.0" }] },
  { name: "fresh", versions: [{ version: "1.0.0" }] },
  { name: "gone", versions: [{ version: "1.0.0" }] },
];

/** What every format's fixture pair must give (same packages in each format). */
const EXPECTED_CHANGES = [
  { name: "bump", kind: "changed", aspects: ["version", "status"], from: "1.0.0 verified", to: "1.1.0 signed" },
  { name: "swap", kind: "changed", aspects: ["integrity", "status"], from: "1.0.0 signed", to: "1.0.0 invalid" },
  { name: "fresh", kind: "added", aspects: [], from: null, to: "1.0.0 unsigned" },
];

const FORMATS = [
  { dir: "npm", lockfile: "package-lock.json", format: "npm" },
  { dir: "yarn-classic", lockfile: "yarn.lock", format: "yarn-classic" },
  { dir: "pnpm", lockfile: "pnpm-lock.yaml", format: "pnpm" },
  { dir: "bun", lockfile: "bun.lock", format: "bun" },
];

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], { cwd, encoding: "utf8" });
}

describe("check --base REF against the loopback registry", () => {
  let registry: TestRegistry;
  let scratch: string;
  let trustedRoot: string;
  const createChecker = () => engineFactory({ env: { NPM_CONFIG_USERCONFIG: path.join(scratch, "no-npmrc") }, homeDir: scratch });

  /** A fixture file with its placeholders filled: integrities the registry signs, and the registry URL. */
  const fill = (text: string): string =>
    text
      .replace(/@@INTEGRITY\(([^@)]+)@([^)]+)\)@@/g, (_m, name: string, version: string) => {
        const spec = SPECS.find((s) => s.name === name)?.versions.find((v) => v.version === version);
        assert.ok(spec, `${name}@${version} is in SPECS`);
        return integrityOf(name, spec);
      })
      .replace(/@@REGISTRY@@/g, registry.url);

  const copySide = (from: string, to: string): void => {
    for (const name of readdirSync(from)) writeFileSync(path.join(to, name), fill(readFileSync(path.join(from, name), "utf8")));
  };

  /** A repository whose commit tagged `base` holds `base/`, with `head/` in the work tree; the project in `sub`. */
  const repoFor = (fixture: string, sub = "app"): { repo: string; project: string } => {
    const repo = mkdtempSync(path.join(scratch, "repo-"));
    const project = path.join(repo, sub);
    mkdirSync(project, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    copySide(path.join(FIXTURES, fixture, "base"), project);
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "base");
    git(repo, "tag", "base");
    for (const name of readdirSync(project)) rmSync(path.join(project, name));
    copySide(path.join(FIXTURES, fixture, "head"), project);
    return { repo, project };
  };

  const run = async (argv: string[], cwd: string) => {
    let stdout = "";
    let stderr = "";
    const code = await runCli(parseArgs([...argv, "--registry", registry.url, "--trusted-root", trustedRoot, "--no-cache"]), {
      fs: nodeFileSystem,
      createChecker: createChecker(),
      cwd,
      version: "0.0.0-test",
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    });
    return { code, stdout, stderr };
  };

  before(async () => {
    registry = await startTestRegistry({ packages: SPECS, misbehaviour: { fresh: { kind: "strip-signatures" } } });
    scratch = mkdtempSync(path.join(tmpdir(), "pl-review-"));
    trustedRoot = registry.writeTrustedRoot(scratch);
  });
  after(async () => {
    await registry.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const { dir, lockfile, format } of FORMATS) {
    test(`${format}: only added and changed packages, with old -> new trust; removed counted`, async () => {
      const { repo, project } = repoFor(dir);
      const { code, stdout, stderr } = await run(["check", "--base", "base", "--format", "json"], project);
      assert.equal(code, 1, `swap is invalid now, and invalid fails by default\n${stderr}`);
      const report = JSON.parse(stdout);
      assert.deepEqual(report.base, { ref: "base", commit: git(repo, "rev-parse", "base").trim() });
      const [only] = report.lockfiles;
      assert.equal(only.path, lockfile);
      assert.equal(only.format, format);
      const changes = only.changes;
      assert.equal(changes.existedAtBase, true);
      const actual = changes.entries.map((c: any) => ({
        name: c.name,
        kind: c.kind,
        aspects: c.aspects,
        from: c.from === null ? null : `${c.from.version} ${c.from.status}`,
        to: `${c.to.version} ${c.to.status}`,
      }));
      const order = (xs: { name: string }[]) => [...xs].sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(order(actual), order(EXPECTED_CHANGES), JSON.stringify(only.packages.map((p: any) => [p.name, p.reasons])));
      assert.deepEqual(
        only.packages.map((p: any) => p.name),
        changes.entries.map((c: any) => c.name),
        "packages and changes.entries are parallel",
      );
      assert.deepEqual(changes.removedPackages, [{ name: "gone", version: "1.0.0", source: "registry" }]);
      assert.deepEqual([changes.added, changes.changed, changes.removed, changes.unchanged], [1, 2, 1, 1]);
      assert.deepEqual(report.summary.changes, { added: 1, changed: 2, removed: 1, unchanged: 1 });
      assert.equal(report.summary.packages, 3, "stay is unchanged: not reported");
      assert.equal(git(repo, "status", "--porcelain").split("\n").filter(Boolean).length > 0, true, "the work tree keeps its changes");
    });
  }

  test("--fail-on decides the exit code over the changed packages only", async () => {
    const { project } = repoFor("npm");
    const cases: { failOn: string; code: number }[] = [
      { failOn: "invalid", code: 1 },
      { failOn: "unsigned", code: 1 },
      { failOn: "verified", code: 0 },
      { failOn: "signed", code: 1 },
      { failOn: "not-from-registry,unverifiable", code: 0 },
    ];
    for (const c of cases) {
      const { code, stderr } = await run(["check", "--base", "base", "--fail-on", c.failOn, "--format", "json"], project);
      assert.equal(code, c.code, `--fail-on ${c.failOn}: ${stderr}`);
    }
  });

  test("a lockfile that did not exist at REF: everything is new", async () => {
    const repo = mkdtempSync(path.join(scratch, "repo-"));
    git(repo, "init", "-q", "-b", "main");
    writeFileSync(path.join(repo, "README"), "x\n");
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "no lockfile yet");
    copySide(path.join(FIXTURES, "npm/head"), repo);
    const { code, stdout } = await run(["check", ".", "--base", "HEAD", "--format", "json"], repo);
    assert.equal(code, 1);
    const changes = JSON.parse(stdout).lockfiles[0].changes;
    assert.equal(changes.existedAtBase, false);
    assert.deepEqual(changes.entries.map((c: any) => c.kind), ["added", "added", "added", "added"]);
    assert.equal(changes.removed, 0);
  });

  test("the lockfile committed on both sides: --base HEAD~1, run from the repository root", async () => {
    const { repo } = repoFor("pnpm", "packages/web");
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "head");
    const { code, stdout } = await run(["check", "packages/web", "--base", "HEAD~1", "--format", "json"], repo);
    assert.equal(code, 1);
    const report = JSON.parse(stdout);
    assert.equal(report.lockfiles[0].path, "packages/web/pnpm-lock.yaml");
    assert.deepEqual(report.summary.changes, { added: 1, changed: 2, removed: 1, unchanged: 1 });
    const empty = await run(["check", "packages/web", "--base", "HEAD", "--format", "json"], repo);
    assert.equal(empty.code, 0, "nothing changed since HEAD: nothing reported, nothing fails");
    assert.deepEqual(JSON.parse(empty.stdout).lockfiles[0].packages, []);
  });

  const BAD_BASES: { name: string; args: string[]; stderr: RegExp; outside?: boolean }[] = [
    { name: "a REF that does not exist", args: ["--base", "no-such-branch"], stderr: /--base no-such-branch: no-such-branch is not a commit/ },
    { name: "a REF that names a file, not a commit", args: ["--base", "HEAD:app/package.json"], stderr: /is not a commit/ },
    { name: "a folder outside any git repository", args: ["--base", "HEAD"], stderr: /not inside a git repository/, outside: true },
  ];
  for (const c of BAD_BASES) {
    test(`exit 2 for ${c.name}`, async () => {
      let cwd = repoFor("npm").project;
      if (c.outside) {
        cwd = mkdtempSync(path.join(tmpdir(), "pl-nogit-"));
        copySide(path.join(FIXTURES, "npm/head"), cwd);
      }
      const before = registry.requests.length;
      const { code, stdout, stderr } = await run(["check", ...c.args], cwd);
      assert.equal(code, 2);
      assert.equal(stdout, "");
      assert.match(stderr, c.stderr);
      assert.equal(registry.requests.length, before, "refused before any registry work");
      if (c.outside) rmSync(cwd, { recursive: true, force: true });
    });
  }

  test("text, markdown and SARIF show the changes", async () => {
    const { project } = repoFor("npm");
    const text = await run(["check", "--base", "base"], project);
    assert.match(text.stdout, /^Changes since base \([0-9a-f]{12}\): 1 added, 2 changed, 1 removed, 1 unchanged\./);
    assert.match(text.stdout, /bump@1\.1\.0 line \d+ {2}\[1\.0\.0 -> 1\.1\.0, verified -> signed\]/);
    assert.match(text.stdout, /swap@1\.0\.0 line \d+ {2}\[integrity changed at the same version, signed -> invalid\]/);
    assert.match(text.stdout, /removed \(1\): gone@1\.0\.0/);
    assert.doesNotMatch(text.stdout, /\u001b\[/, "no colours off a terminal");
    const markdown = await run(["check", "--base", "base", "--format", "markdown"], project);
    assert.match(markdown.stdout, /\*\*1 added, 2 changed, 1 removed\*\* \(1 unchanged\)/);
    assert.match(markdown.stdout, /\[trust-downgrade\]\([^)]+#status-trust-downgrade\) `bump@1\.1\.0` \(1\.0\.0 -&gt; 1\.1\.0, verified -&gt; signed\)/);
    const sarif = JSON.parse((await run(["check", "--base", "base", "--format", "sarif"], project)).stdout);
    const byRule = new Map<string, any>(sarif.runs[0].results.map((r: any) => [r.ruleId, r]));
    assert.deepEqual([...byRule.keys()].sort(), ["invalid", "provenance-downgrade", "trust-downgrade", "unsigned"], "bump lost its provenance: a trust change and a downgrade");
    assert.equal(byRule.get("invalid").locations[0].physicalLocation.artifactLocation.uri, "app/package-lock.json", "relative to the repository root");
    assert.equal(byRule.get("trust-downgrade").level, "warning");
  });
});
