// The policy file through the CLI, end to end against the loopback registry (issue #6, CLI side): each policy field
// as a case (policy in, findings per package and exit code out, read from --format json), a broken policy (positions,
// defaults still checked, exit 1), an expired exception, --policy naming a missing file (exit 2), the policy's
// registries (flags win), and how accepted findings, weakenings and history read in text, Markdown and SARIF.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { parseArgs } from "../../server/src/cli/args";
import { runCli, type CliDeps } from "../../server/src/cli/run";
import { ruleFor } from "../../server/src/cli/findings";
import { FINDING_CODES } from "../../server/src/protocol/verdicts";
import { engineFactory } from "../../server/src/features/checkerFactory";
import { nodeFileSystem } from "../../server/src/workspace/fileSystem";
import { integrityOf, startTestRegistry, type PackageSpec, type TestRegistry } from "../registry";

const REPO = path.resolve(__dirname, "../..");
const A = "https://github.com/org-a/lib";
const B = "https://github.com/org-b/lib";

/** What is locked: the first version of each spec; the others are only served (the package's history). */
interface Locked {
  spec: PackageSpec;
  dev?: boolean;
  /** Not a dependency of the project itself, but of `plain`. */
  transitive?: boolean;
}

const LOCKED: Locked[] = [
  { spec: { name: "down-minor", versions: [{ version: "1.2.0" }, { version: "1.0.0", provenance: true }, { version: "1.1.0", provenance: true, publishedAt: "2024-03-01T10:00:00.000Z" }] } },
  { spec: { name: "drift-repo", versions: [{ version: "1.1.0", provenance: true, repository: B }, { version: "1.0.0", provenance: true, repository: A }] } },
  { spec: { name: "good", versions: [{ version: "2.0.0", provenance: true }] } },
  { spec: { name: "plain", versions: [{ version: "1.0.0", dependencies: { transitive: "1.0.0" } }] } },
  { spec: { name: "transitive", versions: [{ version: "1.0.0" }] }, transitive: true },
  { spec: { name: "dev-tool", versions: [{ version: "1.0.0" }] }, dev: true },
  { spec: { name: "@types/thing", versions: [{ version: "1.0.0" }] }, dev: true },
  { spec: { name: "tampered", versions: [{ version: "1.0.0" }] } },
];

/** An npm v3 lockfile (and package.json) locking `locked`, dev and transitive entries marked as npm marks them. */
function writeProject(dir: string, locked: Locked[]): void {
  mkdirSync(dir, { recursive: true });
  const deps: Record<string, string> = {};
  const devDeps: Record<string, string> = {};
  const entries: Record<string, unknown> = {};
  for (const { spec, dev, transitive } of locked) {
    const v = spec.versions[0];
    if (!transitive) (dev ? devDeps : deps)[spec.name] = v.version;
    entries[`node_modules/${spec.name}`] = { version: v.version, integrity: integrityOf(spec.name, v), ...(v.dependencies ? { dependencies: v.dependencies } : {}), ...(dev ? { dev: true } : {}) };
  }
  const root = { name: "policy-project", version: "1.0.0", dependencies: deps, devDependencies: devDeps };
  writeFileSync(path.join(dir, "package.json"), JSON.stringify(root, null, 2) + "\n");
  writeFileSync(path.join(dir, "package-lock.json"), JSON.stringify({ name: root.name, version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": root, ...entries } }, null, 2) + "\n");
}

/** Exceptions expire against this day, whatever the machine's clock says. */
const TODAY = Date.parse("2026-06-01T00:00:00Z");

interface Case {
  name: string;
  /** The policy file's text (an object is written as JSON); undefined: no policy file. */
  policy?: object | string;
  args?: string[];
  exit: 0 | 1;
  /** Per package: its findings as `code:level`, `+accepted` when a rule accepts it. Packages not named: just checked to exist. */
  findings: Record<string, string[]>;
  policyProblems?: RegExp[];
  weakenings?: RegExp[];
}

const DEFAULTS: Record<string, string[]> = {
  "down-minor": ["signed:information", "provenance-downgrade:warning"],
  "drift-repo": ["verified:none", "build-identity-drift:warning"],
  good: ["verified:none"],
  plain: ["signed:information"],
  "dev-tool": ["signed:information"],
  tampered: ["invalid:error"],
};
const acceptTampered = { package: "tampered", versions: "1.x", codes: ["invalid"], reason: "Republished by the vendor, see SEC-1", expires: "2027-01-01" };

const CASES: Case[] = [
  { name: "no policy file: history findings at their default levels, invalid fails", exit: 1, findings: DEFAULTS, weakenings: [] },
  {
    name: "severity: a downgrade made an error fails the run; an exception accepts the invalid package",
    policy: { severity: { "provenance-downgrade": "error", signed: "none" }, exceptions: [acceptTampered] },
    exit: 1,
    findings: { ...DEFAULTS, "down-minor": ["signed:none", "provenance-downgrade:error"], plain: ["signed:none"], "dev-tool": ["signed:none"], tampered: ["invalid:error+accepted"] },
    weakenings: [/severity: "signed" is shown as none instead of information/, /exceptions: 1 accepted/],
  },
  {
    name: "exceptions: every error accepted with a reason gives exit 0",
    policy: { exceptions: [acceptTampered, { package: "down-minor", versions: "^1.2.0", codes: ["provenance-downgrade"], reason: "Hand-published hotfix" }] },
    exit: 0,
    findings: { ...DEFAULTS, "down-minor": ["signed:information", "provenance-downgrade:warning+accepted"], tampered: ["invalid:error+accepted"] },
  },
  {
    name: "requireProvenance direct: direct dependencies without verified provenance",
    policy: { requireProvenance: "direct", exceptions: [acceptTampered] },
    exit: 1,
    findings: { plain: ["signed:information", "provenance-required:error"], transitive: ["signed:information"], "dev-tool": ["signed:information", "provenance-required:error"], good: ["verified:none"] },
  },
  {
    name: "requireProvenance production: transitive yes, dev no",
    policy: { requireProvenance: "production", exceptions: [acceptTampered] },
    exit: 1,
    findings: { plain: ["signed:information", "provenance-required:error"], transitive: ["signed:information", "provenance-required:error"], "dev-tool": ["signed:information"] },
  },
  {
    name: "requireProvenance all + ignoreDev: dev packages accepted with the rule as reason",
    policy: { requireProvenance: "all", ignoreDev: true, exceptions: [{ ...acceptTampered, codes: undefined }] },
    exit: 1,
    findings: { "dev-tool": ["signed:information+accepted", "provenance-required:error+accepted"], "@types/thing": ["signed:information+accepted", "provenance-required:error+accepted"], transitive: ["signed:information", "provenance-required:error"] },
    weakenings: [/ignoreDev: the findings of development-only dependencies are accepted/, /exceptions: 1/],
  },
  {
    name: "ignorePackages: matching packages still listed, their findings accepted",
    policy: { requireProvenance: "all", ignorePackages: ["@types/*", "tampered", "plain", "transitive", "down-minor"] },
    exit: 1,
    findings: { "@types/thing": ["signed:information+accepted", "provenance-required:error+accepted"], tampered: ["invalid:error+accepted", "provenance-required:error+accepted"], "dev-tool": ["signed:information", "provenance-required:error"] },
    weakenings: [/ignorePackages: the findings of @types\/\*, tampered/],
  },
  {
    name: "trustedRepositories accepts drift towards a matching repository",
    policy: { trustedRepositories: ["https://github.com/org-b/**"], exceptions: [acceptTampered] },
    exit: 0,
    findings: { "drift-repo": ["verified:none", "build-identity-drift:warning+accepted"] },
    weakenings: [/trustedRepositories/, /exceptions: 1/],
  },
  {
    name: "trustedBuilders accepts drift built by a matching builder",
    policy: { trustedBuilders: ["https://github.com/actions/runner/**"], exceptions: [acceptTampered] },
    exit: 0,
    findings: { "drift-repo": ["verified:none", "build-identity-drift:warning+accepted"] },
  },
  {
    name: "an expired exception accepts nothing and is a finding on the package and in the file",
    policy: { exceptions: [{ ...acceptTampered, expires: "2026-01-01" }] },
    exit: 1,
    findings: { tampered: ["invalid:error", "exception-expired:warning"] },
    policyProblems: [/^\.provenance-lens\.json:3:5 warning \[exception-expired\] This exception for tampered@1\.x expired on 2026-01-01/],
  },
  {
    name: "--fail-on wins over the file's severity of that status",
    policy: { severity: { invalid: "hint" } },
    exit: 1,
    findings: { tampered: ["invalid:error"] },
    weakenings: [],
  },
  {
    name: "--fail-on without invalid: a weakening by flag; the policy may still raise a status to error",
    policy: { severity: { unsigned: "error", "build-identity-drift": "error" } },
    args: ["--fail-on", "unverifiable"],
    exit: 1,
    findings: { tampered: ["invalid:warning"], "drift-repo": ["verified:none", "build-identity-drift:error"] },
    weakenings: [/^flag: --fail-on unverifiable: invalid packages are reported but do not fail the run/],
  },
  {
    name: "a broken policy file: every syntax error positioned, the defaults still checked, exit 1",
    policy: '{\n  "requireProvenance": "all",\n  "exceptions": [ { "package": "tampered" "versions": "*", "reason": "x" } ]\n}\n',
    exit: 1,
    findings: DEFAULTS,
    policyProblems: [/^\.provenance-lens\.json:3:\d+ error \[policy-syntax-error\] Not valid JSON here/],
    weakenings: [],
  },
  {
    name: "an invalid value falls back to its default and fails the run; an unknown key only warns",
    policy: '{\n  "requireProvenance": "some",\n  "trustedRepos": [],\n  "exceptions": [' + JSON.stringify(acceptTampered) + "]\n}\n",
    exit: 1,
    findings: { ...DEFAULTS, plain: ["signed:information"], tampered: ["invalid:error+accepted"] },
    policyProblems: [/^\.provenance-lens\.json:2:24 error \[policy-invalid-value\] "requireProvenance" must be one of/, /^\.provenance-lens\.json:3:3 warning \[policy-unknown-key\] Unknown key "trustedRepos"/],
  },
];

function summarise(pkg: any): string[] {
  return pkg.findings.map((f: any) => `${f.code}:${f.level}${f.accepted ? "+accepted" : ""}`);
}

describe("the policy file through the CLI", () => {
  let registry: TestRegistry;
  let scratch: string;
  let trustedRoot: string;
  let project: string;

  const run = async (argv: string[], cwd = project, extra: Partial<CliDeps> = {}) => {
    let stdout = "";
    let stderr = "";
    const code = await runCli(parseArgs([...argv, "--registry", registry.url, "--trusted-root", trustedRoot, "--no-cache"]), {
      fs: nodeFileSystem,
      createChecker: engineFactory({ env: { NPM_CONFIG_USERCONFIG: path.join(scratch, "no-npmrc") }, homeDir: scratch }),
      cwd,
      version: "0.0.0-test",
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      clock: () => TODAY,
      ...extra,
    });
    return { code, stdout, stderr };
  };
  const writePolicy = (policy: object | string | undefined, dir = project): void => {
    const file = path.join(dir, ".provenance-lens.json");
    if (policy === undefined) rmSync(file, { force: true });
    else writeFileSync(file, typeof policy === "string" ? policy : JSON.stringify(policy, null, 2) + "\n");
  };

  before(async () => {
    registry = await startTestRegistry({ packages: LOCKED.map((l) => l.spec), misbehaviour: { "tampered@1.0.0": { kind: "tamper-integrity" } } });
    scratch = mkdtempSync(path.join(tmpdir(), "pl-cli-policy-"));
    trustedRoot = registry.writeTrustedRoot(scratch);
    project = path.join(scratch, "project");
    writeProject(project, LOCKED);
  });
  after(async () => {
    await registry.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const c of CASES) {
    test(c.name, async () => {
      writePolicy(c.policy);
      const { code, stdout, stderr } = await run(["check", ".", "--format", "json", ...(c.args ?? [])]);
      const report = JSON.parse(stdout);
      const byName = new Map<string, any>(report.lockfiles[0].packages.map((p: any) => [p.name, p]));
      const got = Object.fromEntries(Object.keys(c.findings).map((name) => [name, byName.has(name) ? summarise(byName.get(name)) : ["(missing)"]]));
      assert.deepEqual(got, c.findings, stderr);
      assert.equal(code, c.exit, stderr);
      assert.equal(report.policy.found, c.policy !== undefined);
      const problems = report.policy.problems.map((p: any) => `${p.path}:${p.line}:${p.column} ${p.severity} [${p.code}] ${p.message}`);
      assert.equal(problems.length, (c.policyProblems ?? []).length, problems.join("\n"));
      for (const [i, pattern] of (c.policyProblems ?? []).entries()) assert.match(problems[i], pattern);
      // JSON is for tools: people still see every problem of the policy, on stderr, with its position.
      for (const p of problems) assert.ok(stderr.includes(p), `on stderr: ${p}\n${stderr}`);
      if (c.weakenings !== undefined) {
        const weakenings = report.weakenings.map((w: any) => `${w.source}: ${w.message}`);
        assert.equal(weakenings.length, c.weakenings.length, weakenings.join("\n"));
        for (const pattern of c.weakenings) assert.ok(weakenings.some((w: string) => pattern.test(w) || pattern.test(w.replace(/^policy: /, ""))), `${pattern} in\n${weakenings.join("\n")}`);
      }
    });
  }

  test("history and downgrade facts are in the JSON, with the hover's history line", async () => {
    writePolicy(undefined);
    const report = JSON.parse((await run(["check", ".", "--format", "json"])).stdout);
    const byName = new Map<string, any>(report.lockfiles[0].packages.map((p: any) => [p.name, p]));
    assert.deepEqual(byName.get("down-minor").history.lastWithProvenance, { version: "1.1.0", publishedAt: "2024-03-01T10:00:00.000Z" });
    assert.equal(byName.get("down-minor").historyLine, "provenance lost: last in 1.1.0 (2024-03-01)");
    assert.deepEqual(byName.get("drift-repo").history.drift.kinds, ["repository"]);
    assert.equal(byName.get("good").historyLine, "provenance since 2.0.0; built by provenance-lens-test/good release.yml");
    assert.deepEqual(report.summary.findings, { "provenance-downgrade": 1, "build-identity-drift": 1, "provenance-required": 0, "exception-expired": 0 });
  });

  test("docs/CLI.md: an anchor for every rule's helpUri, and every JSON field of a package, finding and policy", async () => {
    const docs = readFileSync(path.join(REPO, "docs/CLI.md"), "utf8");
    for (const code of [...FINDING_CODES, "policy-syntax-error", "policy-invalid-value", "policy-unknown-key"]) {
      const anchor = new URL(ruleFor(code, "error").helpUri).hash.slice(1);
      assert.ok(docs.includes(`<a id="${anchor}"></a>`), `anchor ${anchor} for ${code}`);
    }
    writePolicy('{ "bogus": 1, "exceptions": [' + JSON.stringify(acceptTampered) + "] }");
    const report = JSON.parse((await run(["check", ".", "--format", "json"])).stdout);
    const pkg = report.lockfiles[0].packages.find((p: any) => p.name === "tampered");
    const keys = [...Object.keys(report), ...Object.keys(report.summary), ...Object.keys(pkg), ...Object.keys(pkg.findings[0]), ...Object.keys(report.policy), ...Object.keys(report.policy.problems[0]), ...Object.keys(report.weakenings[0])];
    for (const key of keys) assert.ok(docs.includes(`\`${key}\``) || docs.includes(`"${key}"`), `docs/CLI.md documents ${key}`);
  });

  test("--policy FILE is used instead of the folder's; a missing one exits 2 with the reason", async () => {
    writePolicy({ exceptions: [{ package: "nothing", versions: "*", reason: "folder policy" }] });
    const other = path.join(scratch, "elsewhere.json");
    writeFileSync(other, JSON.stringify({ exceptions: [acceptTampered] }));
    const named = await run(["check", ".", "--format", "json", "--policy", other]);
    assert.equal(named.code, 0, named.stderr);
    assert.equal(JSON.parse(named.stdout).policy.path, other, "outside the working directory: absolute");
    const missing = await run(["check", ".", "--format", "json", "--policy", "no-such.json"]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, "");
    assert.match(missing.stderr, /The policy file .*no-such\.json does not exist/);
    const bundle = await run(["bundle", ".", "--out", path.join(scratch, "b.json"), "--policy", "no-such.json"]);
    assert.equal(bundle.code, 2);
    assert.match(bundle.stderr, /no-such\.json does not exist/);
    // A LOCKFILE argument: the policy next to it.
    const byLockfile = await run(["check", path.join(project, "package-lock.json"), "--format", "json"], scratch);
    assert.equal(JSON.parse(byLockfile.stdout).policy.path, "project/.provenance-lens.json");
  });

  test("--base: the policy judges only the changed packages, and a broken policy still fails the run", async () => {
    const repo = path.join(scratch, "git-project");
    writeProject(repo, LOCKED.filter((l) => ["good", "plain", "transitive"].includes(l.spec.name)));
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: repo, stdio: "pipe" });
    git("init", "-q");
    git("add", ".");
    git("commit", "-q", "-m", "base");
    writeProject(repo, LOCKED.filter((l) => ["good", "plain", "transitive", "down-minor"].includes(l.spec.name)));
    writePolicy({ requireProvenance: "all" }, repo);
    const changed = await run(["check", ".", "--base", "HEAD", "--format", "json"], repo);
    const report = JSON.parse(changed.stdout);
    assert.deepEqual(report.lockfiles[0].packages.map((p: any) => `${p.name}:${summarise(p).join(",")}`), ["down-minor:signed:information,provenance-downgrade:warning,provenance-required:error"]);
    assert.equal(changed.code, 1, changed.stderr);
    writePolicy({ requireProvenance: "all", exceptions: [{ package: "down-minor", versions: "*", reason: "tracked" }] }, repo);
    assert.equal((await run(["check", ".", "--base", "HEAD", "--format", "json"], repo)).code, 0, "plain and transitive lack provenance too, but did not change");
    writePolicy("{ nope", repo);
    const broken = await run(["check", ".", "--base", "HEAD", "--format", "json"], repo);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /\.provenance-lens\.json:1:3 error \[policy-syntax-error\]/);
  });

  test("registries: the policy's keys replace the registry's endpoint; --registry-keys wins over them", async () => {
    // Keys of some other registry: with them, nothing this registry signed verifies.
    writePolicy({ registries: [{ url: registry.url, keys: path.join(REPO, "test/fixtures/policy/corp-keys.json") }], exceptions: [acceptTampered] });
    const withPolicyKeys = JSON.parse((await run(["check", ".", "--format", "json"])).stdout);
    const plain = (r: any) => r.lockfiles[0].packages.find((p: any) => p.name === "plain");
    assert.equal(plain(withPolicyKeys).status, "unverifiable", JSON.stringify(plain(withPolicyKeys).reasons));
    const ownKeys = path.join(scratch, "own-keys.json");
    writeFileSync(ownKeys, JSON.stringify(registry.keysJson));
    const flagWins = await run(["check", ".", "--format", "json", "--registry-keys", ownKeys]);
    assert.equal(plain(JSON.parse(flagWins.stdout)).status, "signed");
    assert.match(flagWins.stderr, /--registry-keys .*own-keys\.json is used instead of the keys the policy file \.provenance-lens\.json declares/);
  });

  test("a mirror declared by the policy or by --mirror-of-npmjs is a weakening, said once", async () => {
    writePolicy({ registries: [{ url: "https://mirror.example.com/npm/", mirrorOf: "https://registry.npmjs.org/" }], exceptions: [acceptTampered] });
    const report = JSON.parse((await run(["check", ".", "--format", "json", "--mirror-of-npmjs"])).stdout);
    const weakenings = report.weakenings.map((w: any) => `${w.source}: ${w.message}`);
    assert.ok(weakenings.some((w: string) => /^flag: --mirror-of-npmjs: http:\/\/127\.0\.0\.1:\d+\/ is trusted/.test(w)), weakenings.join("\n"));
    assert.ok(weakenings.some((w: string) => w.startsWith("policy: registries: https://mirror.example.com/npm/ is declared a mirror")), weakenings.join("\n"));
  });

  test("text and Markdown: findings under their package, accepted reasons, history lines, one line per weakening", async () => {
    const policy = { trustedRepositories: ["https://github.com/org-b/**"], exceptions: [acceptTampered] };
    writePolicy(policy);
    const text = (await run(["check", "."])).stdout;
    assert.match(text, /^Weakened by policy: trustedRepositories: build-identity drift towards https:\/\/github\.com\/org-b\/\*\* is accepted\.$/m);
    assert.match(text, /^Weakened by policy: exceptions: 1 accepted finding\(s\)/m);
    assert.match(text, /^Policy: \.provenance-lens\.json$/m);
    assert.match(text, /^ {4}down-minor@1\.2\.0 line \d+ .*\n {6}history: provenance lost: last in 1\.1\.0 \(2024-03-01\)\n {6}warning \[provenance-downgrade\] down-minor@1\.2\.0 has no provenance, but 1\.1\.0 \(published 2024-03-01\)/m);
    assert.match(text, /^ {4}tampered@1\.0\.0 line \d+ .*\n {6}accepted: Republished by the vendor, see SEC-1 until 2027-01-01$/m);
    assert.match(text, /^ {6}accepted \[build-identity-drift\] 1\.1\.0 was built by org-b\/lib .* \(The new build identity is trusted by the policy file \(trustedRepositories "https:\/\/github\.com\/org-b\/\*\*"\)\.\)$/m);
    assert.match(text, /^ {4}good@2\.0\.0 line \d+ .*\n {6}history: provenance since 2\.0\.0; built by provenance-lens-test\/good release\.yml$/m);
    assert.equal(text.split("Weakened by").length - 1, 2, "each weakening once");

    const markdown = (await run(["check", ".", "--format", "markdown"])).stdout;
    assert.match(markdown, /^- Weakened by policy: trustedRepositories: /m);
    assert.match(markdown, /^- \*\*warning\*\* \[provenance-downgrade\]\([^)]+#finding-provenance-downgrade\) `down-minor@1\.2\.0` in `package-lock\.json` line \d+: .*\n {2}History: provenance lost: last in 1\.1\.0 \(2024-03-01\)$/m);
    assert.match(markdown, /^- ☑️ ❌ \*\*invalid\*\* \[invalid\]\([^)]+\) `tampered@1\.0\.0`.* _Accepted: Republished by the vendor, see SEC-1 \(until 2027-01-01\)_$/m);
    assert.match(markdown, /`good@2\.0\.0`: .*\(provenance since 2\.0\.0; built by provenance-lens-test\/good release\.yml\)$/m);
    assert.match(markdown, /^\| provenance-downgrade \| 1 \|$/m);
  });

  test("SARIF: a rule per finding code with help, accepted findings as suppressions, policy problems in the policy file", async () => {
    writePolicy('{\n  "trustedRepositories": ["https://github.com/org-b/**"],\n  "ignoreDev": "yes",\n  "exceptions": [' + JSON.stringify(acceptTampered) + "]\n}\n");
    const { code, stdout } = await run(["check", ".", "--format", "sarif"]);
    assert.equal(code, 1, "the invalid ignoreDev value is an error");
    const sarif = JSON.parse(stdout);
    const [sarifRun] = sarif.runs;
    const rules = new Map<string, any>(sarifRun.tool.driver.rules.map((r: any) => [r.id, r]));
    for (const id of ["provenance-downgrade", "build-identity-drift", "policy-invalid-value", "invalid"]) {
      const rule = rules.get(id);
      assert.ok(rule, `rule ${id}`);
      assert.ok(rule.help.text.length > 40);
      assert.doesNotThrow(() => new URL(rule.helpUri));
    }
    const results: any[] = sarifRun.results;
    for (const r of results) assert.equal(sarifRun.tool.driver.rules[r.ruleIndex].id, r.ruleId);
    const find = (ruleId: string, pkg?: string) => results.find((r) => r.ruleId === ruleId && (pkg === undefined || r.message.text.startsWith(pkg)));
    assert.deepEqual(find("invalid", "tampered@1.0.0").suppressions, [{ kind: "external", status: "accepted", justification: "Republished by the vendor, see SEC-1" }]);
    assert.match(find("build-identity-drift", "drift-repo@1.1.0").suppressions[0].justification, /trustedRepositories/);
    const downgrade = find("provenance-downgrade", "down-minor@1.2.0");
    assert.equal(downgrade.suppressions, undefined);
    assert.equal(downgrade.level, "warning");
    assert.equal(downgrade.locations[0].physicalLocation.artifactLocation.uri.endsWith("package-lock.json"), true);
    const policyProblem = find("policy-invalid-value");
    assert.equal(policyProblem.level, "error");
    assert.match(policyProblem.locations[0].physicalLocation.artifactLocation.uri, /\.provenance-lens\.json$/);
    assert.deepEqual(policyProblem.locations[0].physicalLocation.region, { startLine: 3, startColumn: 16 });
    assert.match(policyProblem.partialFingerprints["policyProblem/v1"], /\.provenance-lens\.json:policy-invalid-value:/);
    const notes = sarifRun.invocations[0].toolExecutionNotifications.map((n: any) => n.message.text);
    assert.ok(notes.some((n: string) => /^Weakened by policy: trustedRepositories/.test(n)), notes.join("\n"));
    // Fingerprints stay distinct per finding of one package.
    const prints = results.filter((r) => r.partialFingerprints["packageIdentity/v1"]).map((r) => r.partialFingerprints["packageIdentity/v1"]);
    assert.equal(new Set(prints).size, prints.length);
  });
});
