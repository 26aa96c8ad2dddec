// Reading trust bundles (issue #5): malformed, garbage, missing or oversized files are clear errors (exit 2), never
// a crash; and the `bundle` / `--trust-bundle` arguments. No registry needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadTrustBundle, parseTrustBundle, validateTrustBundle, trustedRootJsonOf } from "../../server/src/bundle/index";
import { parseArgs } from "../../server/src/cli/args";
import { runCli } from "../../server/src/cli/run";
import { parseOnlyFactory } from "../../server/src/features/checkerFactory";
import { shippedTrustedRoot } from "../../server/src/verify/trustedRoot";
import { nodeFileSystem } from "../../server/src/workspace/fileSystem";

const scratch = mkdtempSync(path.join(tmpdir(), "pl-bundle-read-"));
const ROOT = trustedRootJsonOf(shippedTrustedRoot());
const SHA = "0".repeat(64);

function bundleWith(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    format: "provenance-lens-trust-bundle",
    version: 1,
    createdAt: "2026-01-02T03:04:05.000Z",
    tool: { name: "provenance-lens", version: "0.1.0" },
    trustedRoot: ROOT,
    registries: { "https://r.example/": { keys: { keys: [] } } },
    packuments: { "https://r.example/a": { versions: { "1.0.0": { dist: { integrity: "sha512-x" } } }, time: { "1.0.0": "2024-01-01T00:00:00.000Z" } } },
    attestations: { "https://r.example/-/npm/v1/attestations/a@1.0.0": { attestations: [{ predicateType: "p", bundle: {} }] } },
    lockfiles: [{ path: "package-lock.json", sha256: SHA }],
    ...fields,
  };
}

const MALFORMED: { name: string; doc: unknown; reason: RegExp }[] = [
  { name: "not an object", doc: [], reason: /not a JSON object/ },
  { name: "another format", doc: bundleWith({ format: "sigstore" }), reason: /format is "sigstore"/ },
  { name: "a newer version", doc: bundleWith({ version: 2 }), reason: /version 2 of the format; this provenance-lens reads version 1/ },
  { name: "no date", doc: bundleWith({ createdAt: "yesterday" }), reason: /createdAt is not an ISO date/ },
  { name: "no tool", doc: bundleWith({ tool: "x" }), reason: /tool needs a name and a version/ },
  { name: "no root", doc: bundleWith({ trustedRoot: null }), reason: /trustedRoot is not an object/ },
  { name: "packuments an array", doc: bundleWith({ packuments: [] }), reason: /packuments is not an object/ },
  { name: "a version without dist", doc: bundleWith({ packuments: { "https://r.example/a": { versions: { "1.0.0": {} } } } }), reason: /packuments\["https:\/\/r.example\/a"\] version "1.0.0" has no dist object/ },
  { name: "a time that is not a string", doc: bundleWith({ packuments: { "https://r.example/a": { versions: {}, time: { "1.0.0": 5 } } } }), reason: /time for "1.0.0" that is not a string/ },
  { name: "an error of unknown kind", doc: bundleWith({ packuments: { "https://r.example/a": { error: { kind: "boom", message: "m" } } } }), reason: /error has an unknown kind "boom"/ },
  { name: "keys without an array", doc: bundleWith({ registries: { "https://r.example/": { keys: { keys: {} } } } }), reason: /keys without a keys array/ },
  { name: "an attestation without bundle", doc: bundleWith({ attestations: { u: { attestations: [{ predicateType: "p" }] } } }), reason: /attestation 0 has no predicateType or bundle/ },
  { name: "a lockfile digest that is not hex", doc: bundleWith({ lockfiles: [{ path: "p", sha256: "zz" }] }), reason: /lockfiles\[0\] needs a path and a sha256/ },
];

test("a well-formed bundle validates", () => {
  assert.deepEqual(validateTrustBundle(bundleWith({})).ok, true);
  const parsed = parseTrustBundle(JSON.stringify(bundleWith({})), "b.json");
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.reason);
  assert.equal(parsed.loaded.trustedRoot.digest.length, 64);
});

for (const c of MALFORMED) {
  test(`malformed bundle: ${c.name}`, () => {
    const result = validateTrustBundle(c.doc);
    assert.equal(result.ok, false);
    assert.match(result.ok ? "" : result.reason, c.reason);
  });
}

test("a bundle whose trusted root is not a Sigstore root is malformed", () => {
  const result = parseTrustBundle(JSON.stringify(bundleWith({ trustedRoot: { mediaType: "text/plain" } })), "b.json");
  assert.equal(result.ok, false);
  assert.match(result.ok ? "" : result.reason, /trustedRoot is unusable/);
});

test("reading caps the size before parsing", async () => {
  const file = path.join(scratch, "big.json");
  writeFileSync(file, JSON.stringify(bundleWith({})));
  const result = await loadTrustBundle(file, { maxBytes: 100 });
  assert.equal(result.ok, false);
  assert.match(result.ok ? "" : result.reason, /more than the 100 bytes a bundle may have/);
});

const UNREADABLE: { name: string; content?: string; stderr: RegExp }[] = [
  { name: "missing", stderr: /cannot be read \(ENOENT/ },
  { name: "garbage", content: "\u0000\u0001 not json", stderr: /is not JSON/ },
  { name: "empty", content: "", stderr: /is not JSON/ },
  { name: "another JSON", content: '{"lockfileVersion":3}', stderr: /is malformed: its format is undefined/ },
];

for (const c of UNREADABLE) {
  test(`check --trust-bundle with a ${c.name} file: exit 2 and the reason, no report`, async () => {
    const file = path.join(scratch, `${c.name}.json`);
    if (c.content !== undefined) writeFileSync(file, c.content);
    const project = path.join(scratch, `project-${c.name}`);
    // A folder with a lockfile of no packages: the bundle must be refused before any checking.
    mkdirSync(project);
    writeFileSync(path.join(project, "package-lock.json"), '{"lockfileVersion":3,"packages":{"":{}}}');
    let stdout = "";
    let stderr = "";
    const code = await runCli(parseArgs(["check", project, "--trust-bundle", file, "--offline"]), {
      fs: nodeFileSystem,
      createChecker: parseOnlyFactory,
      cwd: scratch,
      version: "0",
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    });
    assert.equal(code, 2);
    assert.match(stderr, c.stderr);
    assert.equal(stdout, "");
  });
}

const ARGS: { argv: string[]; expect: Record<string, unknown> | RegExp }[] = [
  { argv: ["bundle", "--out", "b.json"], expect: { kind: "bundle", out: "b.json" } },
  { argv: ["bundle", "app", "--out=b.json", "--registry", "http://127.0.0.1:1/", "--mirror-of-npmjs"], expect: { kind: "bundle", out: "b.json" } },
  { argv: ["bundle"], expect: /bundle needs --out FILE/ },
  { argv: ["bundle", "--out", "b.json", "--offline"], expect: /--offline cannot be used with bundle/ },
  { argv: ["bundle", "--out", "b.json", "--trust-bundle", "x"], expect: /--trust-bundle cannot be used with bundle/ },
  { argv: ["check", "--out", "b.json"], expect: /--out belongs to the bundle command/ },
  { argv: ["check", "--trust-bundle", "b.json", "--offline"], expect: { kind: "check", trustBundleFile: "b.json", offline: true } },
  { argv: ["check", "--trust-bundle"], expect: /--trust-bundle needs a value/ },
];

for (const c of ARGS) {
  test(`argv ${c.argv.join(" ")}`, () => {
    const command = parseArgs(c.argv) as unknown as Record<string, unknown>;
    if (c.expect instanceof RegExp) {
      assert.equal(command.kind, "usage-error");
      assert.match(String(command.message), c.expect);
      return;
    }
    for (const [key, value] of Object.entries(c.expect)) assert.deepEqual(command[key], value, key);
    if (command.kind === "bundle") assert.equal((command.check as { kind: string }).kind, "check");
  });
}
