// The bundled CLI as people and CI run it: `node dist/cli.js check ...`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "../../server/src/cli/args";
import { runCli } from "../../server/src/cli/run";
import { parseOnlyFactory } from "../../server/src/features/checkerFactory";
import { PACKAGE_STATUSES } from "../../server/src/protocol/verdicts";
import { nodeFileSystem, type FileSystem } from "../../server/src/workspace/fileSystem";

const REPO = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
const CLI = path.join(REPO, "dist/cli.js");
const FIXTURES = path.join(REPO, "test/fixtures/workspaces");
const skip = existsSync(CLI) ? false : "dist/cli.js missing: run npm run build";
const CACHE = mkdtempSync(path.join(tmpdir(), "pl-cli-cache-"));

function run(args: string[], cwd = REPO): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // These tests are about the front end, not the registry: --offline keeps them off the network.
    const argv = args[0] === "check" ? [...args, "--offline"] : args;
    const child = spawn(process.execPath, [CLI, ...argv], { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, XDG_CACHE_HOME: CACHE } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** 1-based line of the first line containing `needle`. */
function lineOf(file: string, needle: string): number {
  const text = readFileSync(file, "utf8");
  return text.slice(0, text.indexOf(needle)).split("\n").length;
}

test("check --format json: schema, one package per name@version@source, 1-based positions", { skip }, async () => {
  const { code, stdout, stderr } = await run(["check", path.join(FIXTURES, "basic"), "--format", "json"]);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  assert.deepEqual(Object.keys(report), ["schemaVersion", "trustedRoot", "policy", "weakenings", "lockfiles", "notices", "summary"]);
  assert.match(report.trustedRoot, /^Sigstore trusted root from \d{4}-\d\d-\d\d \(shipped(; [^)]+)?\)$/, "with the refresh state when a refresh is on");
  assert.equal(report.schemaVersion, 1);
  assert.equal(report.lockfiles.length, 1);
  const [lockfile] = report.lockfiles;
  assert.equal(lockfile.path, "test/fixtures/workspaces/basic/package-lock.json");
  assert.equal(lockfile.format, "npm");
  assert.equal(lockfile.lockfileVersion, 3);
  assert.deepEqual(lockfile.problems, []);
  const keys = ["name", "version", "alias", "source", "integrity", "resolved", "dev", "direct", "locations", "status", "reasons", "signature", "provenance", "findings", "ignored", "history", "historyLine"];
  for (const p of lockfile.packages) assert.deepEqual(Object.keys(p), keys);
  const distinct = new Set(lockfile.packages.map((p: any) => `${p.name}@${p.version}@${p.source}@${p.resolved}`));
  assert.equal(distinct.size, lockfile.packages.length);
  const byName = new Map<string, any>(lockfile.packages.map((p: any) => [p.name, p]));
  const lockPath = path.join(FIXTURES, "basic/package-lock.json");
  const isOdd = byName.get("is-odd");
  assert.equal(isOdd.source, "git");
  assert.equal(isOdd.status, "not-from-registry");
  assert.equal(isOdd.locations[0].line, lineOf(lockPath, '"node_modules/is-odd"'));
  assert.equal(isOdd.locations[0].column, 5, "after two 2-space indents, 1-based");
  const leftPad = byName.get("left-pad");
  assert.equal(leftPad.source, "registry");
  assert.equal(leftPad.status, "unverifiable");
  assert.match(leftPad.reasons[0], /Offline/);
  assert.deepEqual(leftPad.signature, { status: "not-checked", keyid: null });
  assert.ok(leftPad.reasons.length > 0);
  assert.equal(leftPad.integrity.startsWith("sha512-"), true);
  assert.equal(byName.get("typescript").dev, true);
  assert.equal(report.summary.packages, lockfile.packages.length);
  assert.deepEqual(Object.keys(report.summary.byStatus), [...PACKAGE_STATUSES]);
  const counted = Object.values(report.summary.byStatus as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.equal(counted, lockfile.packages.length);
});

test("a conflicted lockfile exits 1 with its problem at the marker line", { skip }, async () => {
  const lockPath = path.join(FIXTURES, "conflict/package-lock.json");
  const { code, stdout } = await run(["check", lockPath, "--format", "json"]);
  assert.equal(code, 1);
  const report = JSON.parse(stdout);
  const conflict = report.lockfiles[0].problems.find((p: any) => p.code === "merge-conflict");
  assert.ok(conflict, stdout);
  assert.equal(conflict.severity, "error");
  assert.equal(conflict.line, lineOf(lockPath, "<<<<<<< HEAD"));
  assert.equal(conflict.column, 1);
  assert.equal(report.summary.problems, report.lockfiles[0].problems.length);
});

test("text output lists problems first, then statuses, then a summary", { skip }, async () => {
  const { code, stdout } = await run(["check", "test/fixtures/workspaces"]);
  assert.equal(code, 1, "the conflicted fixture is among them");
  const lines = stdout.trimEnd().split("\n");
  assert.match(lines[lines.length - 1], /^Summary: 2 lockfiles, \d+ packages/);
  assert.ok(stdout.indexOf("merge-conflict") < stdout.lastIndexOf("Summary"));
  assert.ok(stdout.includes("not-from-registry ("));
  assert.ok(stdout.includes("is-odd@3.0.1"));
});

const USAGE_ERRORS: { name: string; args: string[]; stderr: RegExp }[] = [
  { name: "no command", args: [], stderr: /Missing command/ },
  { name: "bad format", args: ["check", "--format", "xml"], stderr: /Unknown format/ },
  { name: "missing target", args: ["check", "does/not/exist"], stderr: /does not exist/ },
  { name: "not a lockfile", args: ["check", "package.json"], stderr: /not a lockfile/ },
  { name: "no lockfile in folder", args: ["check", "media"], stderr: /No lockfile found/ },
];

for (const { name, args, stderr: expected } of USAGE_ERRORS) {
  test(`usage error exits 2: ${name}`, { skip }, async () => {
    const { code, stdout, stderr } = await run(args);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(stderr, expected);
  });
}

test("an unreadable lockfile exits 2", { skip: skip || (process.getuid?.() === 0 ? "root reads any file; the injected file system test below covers it" : false) }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pl-cli-"));
  try {
    writeFileSync(path.join(dir, "yarn.lock"), "x", { mode: 0o000 });
    const { code, stderr } = await run(["check", path.join(dir, "yarn.lock")]);
    assert.equal(code, 2);
    assert.match(stderr, /cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a lockfile the file system refuses exits 2 (in process, injected file system)", async () => {
  const lockPath = path.join(FIXTURES, "basic/package-lock.json");
  const refusing: FileSystem = {
    ...nodeFileSystem,
    readFile: (file, signal) =>
      file === lockPath ? Promise.reject(Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: "EACCES" })) : nodeFileSystem.readFile(file, signal),
  };
  let stdout = "";
  let stderr = "";
  const code = await runCli(parseArgs(["check", lockPath]), {
    fs: refusing,
    createChecker: parseOnlyFactory,
    cwd: REPO,
    version: "0.0.0",
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /cannot read .*EACCES/);
});

test("--version and --help exit 0", { skip }, async () => {
  const version = await run(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")).version);
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: provenance-lens check/);
});
