// The CLI's V8 code cache (server/src/cli/codeCache.ts): where it lives, that it is keyed by the bundle's text, and
// that a missing, foreign or corrupt cache never changes what a command does.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { codeCacheDir, codeCacheFile, runWithCodeCache } from "../../server/src/cli/codeCache";
import { repoRoot } from "../repoRoot";

const REPO = repoRoot(__dirname);

const home = "/home/someone";

for (const { name, argv, env, expected } of [
  { name: "default: ~/.cache/provenance-lens", argv: ["check"], env: {}, expected: "/home/someone/.cache/provenance-lens" },
  { name: "XDG_CACHE_HOME when absolute", argv: ["check"], env: { XDG_CACHE_HOME: "/xdg" }, expected: "/xdg/provenance-lens" },
  { name: "a relative XDG_CACHE_HOME is ignored", argv: ["check"], env: { XDG_CACHE_HOME: "rel" }, expected: "/home/someone/.cache/provenance-lens" },
  { name: "--cache-dir moves verdicts, not the code cache", argv: ["check", "--cache-dir", "/c"], env: {}, expected: "/home/someone/.cache/provenance-lens" },
  { name: "--no-cache: none", argv: ["check", "--no-cache"], env: {}, expected: undefined },
  { name: "PROVENANCE_LENS_CODE_CACHE=off: none", argv: ["check"], env: { PROVENANCE_LENS_CODE_CACHE: "off" }, expected: undefined },
]) {
  test(`code cache folder: ${name}`, () => assert.equal(codeCacheDir(argv, env, home), expected));
}

test("the cache file name changes with the bundle's text", () => {
  const a = codeCacheFile("/c", "module.exports = 1;");
  assert.equal(a, codeCacheFile("/c", "module.exports = 1;"));
  assert.notEqual(a, codeCacheFile("/c", "module.exports = 2;"));
  assert.equal(path.dirname(a), "/c");
});

const scratch = mkdtempSync(path.join(tmpdir(), "pl-code-cache-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

test("runWithCodeCache runs a file as a CommonJS module, with its own require and __dirname", () => {
  const bundle = path.join(scratch, "bundle.js");
  writeFileSync(bundle, "module.exports.dir = __dirname; module.exports.sep = require('node:path').sep; globalThis.__plCodeCacheRan = module.exports;");
  runWithCodeCache(bundle, undefined, false);
  const ran = (globalThis as { __plCodeCacheRan?: { dir: string; sep: string } }).__plCodeCacheRan;
  assert.deepEqual(ran, { dir: scratch, sep: path.sep });
});

const CLI = path.join(REPO, "dist/cli.js");
const skip = existsSync(CLI) ? false : "dist/cli.js missing: run npm run build";

function cli(args: string[], xdgCache: string) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, XDG_CACHE_HOME: xdgCache, PROVENANCE_LENS_TRUST_REFRESH: "off" } });
}

test("the CLI writes its code cache after a check, reuses it, and recovers from a corrupt one", { skip }, () => {
  const xdg = path.join(scratch, "xdg");
  const cacheDir = path.join(xdg, "provenance-lens");
  const lockfile = path.join(REPO, "examples/demo-workspace/package-lock.json");
  const codeFiles = (): string[] => (existsSync(cacheDir) ? readdirSync(cacheDir).filter((n) => n.startsWith("cli-code-")) : []);

  const version = cli(["--version"], xdg);
  assert.equal(version.status, 0, version.stderr);
  assert.deepEqual(codeFiles(), [], "only a check writes the cache");

  const first = cli(["check", lockfile, "--offline", "--format", "json"], xdg);
  assert.ok(first.status === 0 || first.status === 1, first.stderr);
  assert.equal(codeFiles().length, 1);

  const second = cli(["check", lockfile, "--offline", "--format", "json"], xdg);
  assert.equal(second.status, first.status, second.stderr);
  assert.deepEqual(JSON.parse(second.stdout).summary, JSON.parse(first.stdout).summary);

  // A cache file of the right name but wrong content (corrupt, or from another V8) is rejected by V8, not run.
  writeFileSync(path.join(cacheDir, codeFiles()[0]), Buffer.alloc(4096, 7));
  const third = cli(["check", lockfile, "--offline", "--format", "json"], xdg);
  assert.equal(third.status, first.status, third.stderr);
  assert.deepEqual(JSON.parse(third.stdout).summary, JSON.parse(first.stdout).summary);
  assert.equal(codeFiles().length, 1);
});

test("the launcher without its bundle says what is missing and exits 2", { skip }, () => {
  const lonely = path.join(scratch, "lonely");
  mkdirSync(lonely, { recursive: true });
  copyFileSync(CLI, path.join(lonely, "cli.js"));
  const run = spawnSync(process.execPath, [path.join(lonely, "cli.js"), "--version"], { encoding: "utf8" });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /cliMain\.js is missing; reinstall the package, or run `npm run build`/);
});
