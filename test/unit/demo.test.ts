// The README quick start's main job shows every kind of verdict, decided by real verification.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../repoRoot";

const REPO = repoRoot(__dirname);
const demo = path.join(REPO, "out/test/registry/demo.js");
const skip = existsSync(path.join(REPO, "dist/cli.js")) && existsSync(demo) ? false : "build first: npm run build && tsc -b";

test("the demo workspace gets every kind of verdict, each on the package meant to have it", { skip }, async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [demo, "--format", "json"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.once("error", reject);
    child.once("close", (exit) => resolve({ code: exit, stdout: out, stderr: err }));
  });
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  const statusOf = new Map<string, string>(report.lockfiles[0].packages.map((p: { name: string; source: string; status: string }) => [`${p.name}:${p.source}`, p.status]));
  assert.deepEqual(Object.fromEntries(statusOf), {
    "left-pad-verified:registry": "verified",
    "@demo/scoped-provenance:registry": "verified",
    "signed-only:registry": "signed",
    "tampered-pkg:registry": "invalid",
    "unsigned-pkg:registry": "unsigned",
    "unknown-key-pkg:registry": "unverifiable",
    "local-lib:workspace": "not-from-registry",
    "local-lib:link": "not-from-registry",
    "demo-git-dep:git": "not-from-registry",
    "remote-tarball:tarball": "not-from-registry",
  });
  const verified = report.lockfiles[0].packages.find((p: { name: string }) => p.name === "left-pad-verified");
  assert.equal(verified.provenance.sourceRepository, "https://github.com/provenance-lens-demo/left-pad-verified");
  assert.equal(verified.provenance.workflow, ".github/workflows/release.yml");
  assert.match(verified.signature.keyid, /^SHA256:/);
});
