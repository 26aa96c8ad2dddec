// Offline trust bundles end to end (issue #5): bundle against the loopback registry, stop it, verify from the
// bundle alone; the verdicts must be exactly the online ones, and an edited bundle must never verify.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chooseTrustedRoot, loadTrustBundle, packumentKeyOf, type LoadedBundle, type TrustBundle } from "../../server/src/bundle/index";
import { parseArgs } from "../../server/src/cli/args";
import { runCli } from "../../server/src/cli/run";
import { engineFactory, type CheckerOptions } from "../../server/src/features/checkerFactory";
import { packagesOf, parseLockfile } from "../../server/src/lockfile/index";
import type { CheckResult } from "../../server/src/verify/checker";
import { shippedTrustedRoot, trustedRootFromFile, type LoadedTrustedRoot } from "../../server/src/verify/trustedRoot";
import { nodeFileSystem } from "../../server/src/workspace/fileSystem";
import { startTestRegistry, writeProjectForSpec, type Misbehaviour, type PackageSpec, type TestRegistry } from "../registry";

const SPECS: PackageSpec[] = [
  { name: "good-provenance", versions: [{ version: "1.0.0", provenance: true }] },
  { name: "@scope/good-scoped", versions: [{ version: "2.0.0", provenance: true }] },
  // Two versions served, one locked: the bundle keeps only the locked one.
  { name: "good-signed", versions: [{ version: "1.0.0" }, { version: "1.1.0" }] },
  { name: "stripped", versions: [{ version: "1.0.0" }] },
  { name: "tampered", versions: [{ version: "1.0.0" }] },
  { name: "unknown-key", versions: [{ version: "1.0.0" }] },
  { name: "expired-key", versions: [{ version: "1.0.0" }] },
  { name: "replayed", versions: [{ version: "1.0.0" }] },
  { name: "wrong-digest", versions: [{ version: "1.0.0", provenance: true }] },
  { name: "elsewhere-url", versions: [{ version: "1.0.0", provenance: true }] },
  { name: "malformed", versions: [{ version: "1.0.0" }] },
  { name: "missing", versions: [{ version: "1.0.0" }] },
];
const MISBEHAVIOUR: Record<string, Misbehaviour> = {
  stripped: { kind: "strip-signatures" },
  "tampered@1.0.0": { kind: "tamper-integrity" },
  "unknown-key@1.0.0": { kind: "unknown-key" },
  "expired-key@1.0.0": { kind: "expired-key" },
  "replayed@1.0.0": { kind: "replay-signature", from: "good-signed@1.0.0" },
  "wrong-digest@1.0.0": { kind: "attestation-wrong-digest" },
  "elsewhere-url@1.0.0": { kind: "attestation-url-host" },
  malformed: { kind: "malformed-json" },
  missing: { kind: "not-found" },
};

const scratch = mkdtempSync(path.join(tmpdir(), "pl-bundle-"));
const environment = { env: { npm_config_globalconfig: path.join(scratch, "no-global-npmrc") }, homeDir: path.join(scratch, "home") };

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(parseArgs(args), {
    fs: nodeFileSystem,
    createChecker: engineFactory(environment),
    cwd: scratch,
    version: "0.0.0-test",
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

function requestOf(lockfilePath: string, offline: boolean) {
  const parsed = parseLockfile(lockfilePath, readFileSync(lockfilePath, "utf8"));
  return { lockfilePath, parsed, packages: packagesOf(parsed), offline };
}

function plain(result: CheckResult): unknown {
  return { verdicts: Object.fromEntries(result.verdicts), notices: result.notices };
}

describe("trust bundles against the loopback registry", () => {
  let registry: TestRegistry;
  let rootFile: string;
  let root: LoadedTrustedRoot;
  let lockfilePath: string;
  let bundleFile: string;
  let online: CheckResult;
  let onlineJson: { code: number; report: any };
  let onlineOptions: CheckerOptions;

  before(async () => {
    registry = await startTestRegistry({ packages: SPECS, misbehaviour: MISBEHAVIOUR });
    rootFile = registry.writeTrustedRoot(scratch);
    const loaded = await trustedRootFromFile(rootFile);
    assert.ok(loaded.ok);
    root = loaded.root;
    lockfilePath = writeProjectForSpec(path.join(scratch, "project"), SPECS).lockfilePath;
    bundleFile = path.join(scratch, "trust-bundle.json");
    const made = await cli(["bundle", "project", "--out", bundleFile, "--registry", registry.url, "--trusted-root", rootFile]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /Wrote trust bundle trust-bundle\.json/);
    onlineOptions = { offline: false, registry: registry.url, trustedRoot: root, cacheDir: null };
    online = await engineFactory(environment)(onlineOptions).check(requestOf(lockfilePath, false));
    const json = await cli(["check", "project", "--registry", registry.url, "--trusted-root", rootFile, "--no-cache", "--format", "json"]);
    onlineJson = { code: json.code, report: JSON.parse(json.stdout) };
    // Offline from here on: nothing answers on that port any more.
    await registry.stop();
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  async function offlineCheck(bundle: LoadedBundle, options: Partial<CheckerOptions> = {}, file = lockfilePath): Promise<CheckResult> {
    return engineFactory(environment)({ ...onlineOptions, offline: true, trustBundle: bundle, ...options }).check(requestOf(file, true));
  }

  async function edited(name: string, edit: (bundle: TrustBundle) => void): Promise<LoadedBundle> {
    const bundle = JSON.parse(readFileSync(bundleFile, "utf8")) as TrustBundle;
    edit(bundle);
    const file = path.join(scratch, `${name}.json`);
    writeFileSync(file, JSON.stringify(bundle));
    const loaded = await loadTrustBundle(file);
    assert.ok(loaded.ok, loaded.ok ? "" : loaded.reason);
    return loaded.loaded;
  }

  test("the online check shows every status the bundle must reproduce", () => {
    const statuses = new Set([...online.verdicts.values()].map((v) => v.status));
    assert.deepEqual([...statuses].sort(), ["invalid", "signed", "unsigned", "unverifiable", "verified"]);
  });

  test("offline from the bundle, every verdict (whole object) and notice is exactly the online one", async () => {
    const loaded = await loadTrustBundle(bundleFile);
    assert.ok(loaded.ok, loaded.ok ? "" : loaded.reason);
    const offline = await offlineCheck(loaded.loaded);
    for (const [key, verdict] of online.verdicts) assert.deepEqual(offline.verdicts.get(key), verdict, key);
    assert.deepEqual(plain(offline), plain(online));
  });

  test("the CLI offline with --trust-bundle prints the online report, says which root and bundle it used", async () => {
    const { code, stdout, stderr } = await cli(["check", "project", "--trust-bundle", bundleFile, "--offline", "--registry", registry.url, "--trusted-root", rootFile, "--format", "json"]);
    assert.equal(code, onlineJson.code, stderr);
    assert.deepEqual(JSON.parse(stdout).lockfiles, onlineJson.report.lockfiles);
    assert.match(stderr, /Trust bundle .*trust-bundle\.json, made \d{4}-\d\d-\d\d .* by provenance-lens 0\.0\.0-test/);
    assert.match(stderr, /the same one the trust bundle was made with: from \d{4}-\d\d-\d\d, \d+ days? old/);
    assert.doesNotMatch(stderr, /warning/);
  });

  test("the bundle keeps only what verification reads: locked versions, their signed fields, the lockfile's digest", () => {
    const text = readFileSync(bundleFile, "utf8");
    const bundle = JSON.parse(text) as TrustBundle;
    const signed = bundle.packuments[packumentKeyOf(registry.url, "good-signed")];
    assert.ok(signed !== undefined && "versions" in signed);
    assert.deepEqual(Object.keys(signed.versions), ["1.0.0"]);
    assert.deepEqual(Object.keys(signed.versions["1.0.0"].dist).sort(), ["integrity", "shasum", "signatures"]);
    const expired = bundle.packuments[packumentKeyOf(registry.url, "expired-key")];
    assert.ok(expired !== undefined && "time" in expired && expired.time?.["1.0.0"] !== undefined, "publish time kept for an expiring key");
    assert.ok("error" in bundle.packuments[packumentKeyOf(registry.url, "malformed")]);
    assert.deepEqual(bundle.lockfiles, [{ path: "project/package-lock.json", sha256: createHash("sha256").update(readFileSync(lockfilePath, "utf8")).digest("hex") }]);
    assert.deepEqual(bundle.registries[registry.url].keys, registry.keysJson);
    assert.equal(bundle.trustedRoot.mediaType, registry.trustedRoot.mediaType);
    // Measurement, not an assertion on size: printed for the report.
    console.log(`# bundle: ${Buffer.byteLength(text)} bytes for ${online.verdicts.size} packages, ${Object.keys(bundle.attestations).length} attestation documents`);
  });

  const good = (name: string) => (b: TrustBundle) => {
    const entry = b.packuments[packumentKeyOf(registry.url, name)];
    assert.ok(entry !== undefined && "versions" in entry);
    return Object.values(entry.versions)[0].dist;
  };
  const attestationsOf = (name: string) => (b: TrustBundle) => {
    const url = Object.keys(b.attestations).find((u) => u.endsWith(`/${name}@1.0.0`));
    assert.ok(url !== undefined);
    const doc = b.attestations[url];
    assert.ok("attestations" in doc);
    return doc.attestations;
  };

  const TAMPERED: { name: string; target: string; edit: (b: TrustBundle) => void; status: string[]; reason: RegExp }[] = [
    {
      name: "an integrity flipped",
      target: "good-signed",
      edit: (b) => {
        const dist = good("good-signed")(b);
        const bytes = Buffer.from(dist.integrity!.slice("sha512-".length), "base64");
        bytes[0] ^= 1;
        dist.integrity = `sha512-${bytes.toString("base64")}`;
      },
      status: ["invalid"],
      reason: /differs from the one the registry signed|integrity/i,
    },
    {
      name: "a signature swapped for another package's",
      target: "good-signed",
      edit: (b) => (good("good-signed")(b).signatures = good("stripped")(b).signatures ?? good("good-provenance")(b).signatures),
      status: ["invalid"],
      reason: /signature/i,
    },
    {
      name: "an attestation payload edited",
      target: "good-provenance",
      edit: (b) => {
        const envelope = (attestationsOf("good-provenance")(b)[0].bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope;
        const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8"));
        statement.predicate = { ...statement.predicate, edited: true };
        envelope.payload = Buffer.from(JSON.stringify(statement)).toString("base64");
      },
      status: ["invalid"],
      reason: /does not verify/,
    },
    {
      name: "a package removed",
      target: "good-signed",
      edit: (b) => delete b.packuments[packumentKeyOf(registry.url, "good-signed")],
      status: ["unverifiable"],
      reason: /not in the trust bundle/,
    },
    {
      name: "an attestation document removed",
      target: "good-provenance",
      edit: (b) => delete b.attestations[Object.keys(b.attestations).find((u) => u.endsWith("/good-provenance@1.0.0"))!],
      status: ["unverifiable"],
      reason: /not in the trust bundle/,
    },
  ];

  for (const c of TAMPERED) {
    test(`tampered bundle: ${c.name} -> ${c.status.join(" or ")}, never verified`, async () => {
      const result = await offlineCheck(await edited(c.name.replace(/\W+/g, "-"), c.edit));
      const key = [...result.verdicts.keys()].find((k) => k.startsWith(`${c.target}@`))!;
      const verdict = result.verdicts.get(key)!;
      assert.ok(c.status.includes(verdict.status), JSON.stringify(verdict));
      assert.match(verdict.reasons.join(" "), c.reason, JSON.stringify(verdict));
      // Everything not edited still verifies as online.
      const other = [...online.verdicts.keys()].find((k) => k.startsWith("@scope/good-scoped@"))!;
      assert.deepEqual(result.verdicts.get(other), online.verdicts.get(other));
    });
  }

  test("tampered bundle: the trusted root and attestations replaced by another CA's -> invalid, with a warning", async () => {
    const forger = await startTestRegistry({ packages: SPECS.slice(0, 1) });
    let forged: unknown;
    try {
      forged = await (await fetch(`${forger.url}-/npm/v1/attestations/good-provenance@1.0.0`)).json();
    } finally {
      await forger.stop();
    }
    const loaded = await edited("root-replaced", (b) => {
      b.trustedRoot = forger.trustedRoot;
      const url = Object.keys(b.attestations).find((u) => u.endsWith("/good-provenance@1.0.0"))!;
      b.attestations[url] = forged as TrustBundle["attestations"][string];
    });
    const choice = chooseTrustedRoot(loaded, root, false);
    assert.equal(choice.root, root, "the configured root, never the bundle's");
    assert.equal(choice.warning, true);
    assert.match(choice.message, /another Sigstore trusted root/);
    for (const configured of [root, shippedTrustedRoot()]) {
      const result = await offlineCheck(loaded, { trustedRoot: configured });
      const verdict = [...result.verdicts.entries()].find(([k]) => k.startsWith("good-provenance@"))![1];
      assert.equal(verdict.status, "invalid", JSON.stringify(verdict));
      assert.equal(verdict.provenance.status, "invalid");
    }
  });

  test("npmjs packages verify only with the pinned keys, whatever keys the bundle carries", async () => {
    const npmjs = "https://registry.npmjs.org/";
    const loaded = await edited("npmjs-keys", (b) => {
      for (const [key, entry] of Object.entries(b.packuments)) b.packuments[key.replace(registry.url, npmjs)] = entry;
      for (const [url, doc] of Object.entries(b.attestations)) b.attestations[url.replace(registry.url, npmjs)] = doc;
      b.registries[npmjs] = b.registries[registry.url];
    });
    const result = await offlineCheck(loaded, { registry: npmjs });
    for (const [key, verdict] of result.verdicts) assert.notEqual(verdict.status, "verified", `${key}: ${JSON.stringify(verdict)}`);
    const signed = [...result.verdicts.entries()].find(([k]) => k.startsWith("good-signed@"))![1];
    assert.equal(signed.signature.status, "unknown-key");
  });

  test("a bundle for another lockfile: a clear warning, covered packages still verify, the rest are unverifiable", async () => {
    const other = writeProjectForSpec(path.join(scratch, "other"), [SPECS[2], { name: "not-bundled", versions: [{ version: "1.0.0" }] }], "other");
    const { code, stdout, stderr } = await cli(["check", "other", "--trust-bundle", bundleFile, "--registry", registry.url, "--trusted-root", rootFile, "--format", "json"]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /warning: The trust bundle .* was not made for other\/package-lock\.json as it is now \(it was made for project\/package-lock\.json/);
    const byName = new Map<string, any>(JSON.parse(stdout).lockfiles[0].packages.map((p: { name: string }) => [p.name, p]));
    assert.equal(byName.get("good-signed").status, "signed");
    assert.equal(byName.get("not-bundled").status, "unverifiable");
    assert.match(byName.get("not-bundled").reasons[0], /not in the trust bundle/);
    assert.ok(readFileSync(other.lockfilePath, "utf8").length > 0);
  });

  test("--trusted-root naming the bundle itself chooses the bundle's root, and says so", async () => {
    const { code, stderr } = await cli(["check", "project", "--trust-bundle", bundleFile, "--trusted-root", bundleFile, "--registry", registry.url, "--format", "json"]);
    assert.equal(code, onlineJson.code, stderr);
    assert.match(stderr, /Verifying with the trust bundle's own Sigstore trusted root, as --trusted-root asks/);
  });
});
