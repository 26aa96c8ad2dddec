// The verification engine end to end: real HTTP to the loopback test registry, real signatures, real Sigstore
// bundles, each misbehaviour giving its verdict while every other package still verifies.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { LockedPackage } from "../../../server/src/lockfile/model";
import { packageKey } from "../../../server/src/lockfile/model";
import type { PackageStatus, Verdict } from "../../../server/src/protocol/verdicts";
import { VerdictCache } from "../../../server/src/registry/cache";
import { VerificationEngine, type EngineOptions } from "../../../server/src/verify/engine";
import { trustedRootFromJSON } from "../../../server/src/verify/trustedRoot";
import { startTestRegistry, type Misbehaviour, type PackageSpec, type TestRegistry } from "../../registry";
import { isolatedConfig, lockedPackage, projectDir } from "../../hostile/harness";
import { startProxy } from "../registry/proxyServer";

interface Case {
  name: string;
  version?: string;
  provenance?: boolean;
  misbehaviour?: Misbehaviour;
  /** Misbehaviour on the version rather than the whole package. */
  onVersion?: boolean;
  status: PackageStatus;
  signature?: string;
  provenanceStatus?: string;
  reason?: RegExp;
}

const CASES: Case[] = [
  { name: "good-provenance", provenance: true, status: "verified", signature: "valid", provenanceStatus: "verified", reason: /Provenance verified: built from https:\/\/github.com\// },
  { name: "good-signed", status: "signed", signature: "valid", provenanceStatus: "absent" },
  { name: "@scope/good-scoped", provenance: true, status: "verified" },
  { name: "stripped", misbehaviour: { kind: "strip-signatures" }, status: "unsigned", signature: "missing" },
  { name: "tampered", misbehaviour: { kind: "tamper-integrity" }, onVersion: true, status: "invalid", reason: /differs from the one the registry signed/ },
  { name: "unknown-key", misbehaviour: { kind: "unknown-key" }, onVersion: true, status: "unverifiable", signature: "unknown-key" },
  { name: "expired-key", misbehaviour: { kind: "expired-key" }, onVersion: true, status: "invalid", signature: "expired-key" },
  { name: "replayed", misbehaviour: { kind: "replay-signature", from: "good-signed@1.0.0" }, onVersion: true, status: "invalid", signature: "invalid" },
  { name: "wrong-subject", provenance: true, misbehaviour: { kind: "attestation-wrong-name" }, onVersion: true, status: "invalid", provenanceStatus: "invalid" },
  { name: "wrong-digest", provenance: true, misbehaviour: { kind: "attestation-wrong-digest" }, onVersion: true, status: "invalid", provenanceStatus: "invalid" },
  { name: "other-ca", provenance: true, misbehaviour: { kind: "attestation-other-ca" }, onVersion: true, status: "invalid", provenanceStatus: "invalid" },
  { name: "broken-proof", provenance: true, misbehaviour: { kind: "attestation-broken-inclusion-proof" }, onVersion: true, status: "invalid", provenanceStatus: "invalid" },
  { name: "elsewhere-url", provenance: true, misbehaviour: { kind: "attestation-url-host" }, onVersion: true, status: "verified", reason: /attestation URL points at another host/ },
  { name: "server-error", misbehaviour: { kind: "status", status: 500 }, status: "unverifiable", reason: /500/ },
  { name: "rate-limited", misbehaviour: { kind: "status", status: 429, times: 1 }, status: "signed" },
  { name: "malformed", misbehaviour: { kind: "malformed-json" }, status: "unverifiable", reason: /JSON/i },
  { name: "missing", misbehaviour: { kind: "not-found" }, status: "unverifiable" },
];

const specOf = (c: Case): PackageSpec => ({ name: c.name, versions: [{ version: c.version ?? "1.0.0", provenance: c.provenance }] });

async function check(engine: VerificationEngine, packages: LockedPackage[], lockfilePath = projectDir()) {
  const parsed = { format: "npm" as const, lockfileVersion: 3, entries: [], importers: [], problems: [] };
  return engine.check({ lockfilePath, parsed, packages, offline: false });
}

describe("verification engine against the loopback registry", () => {
  let registry: TestRegistry;
  let engineOptions: EngineOptions;
  const packages = CASES.map((c) => lockedPackage(specOf(c)));

  before(async () => {
    const misbehaviour: Record<string, Misbehaviour> = {};
    for (const c of CASES) if (c.misbehaviour) misbehaviour[c.onVersion ? `${c.name}@${c.version ?? "1.0.0"}` : c.name] = c.misbehaviour;
    registry = await startTestRegistry({ packages: CASES.map(specOf), misbehaviour });
    const root = trustedRootFromJSON(JSON.stringify(registry.trustedRoot), "file", "test-registry-root.json");
    assert.ok(root.ok);
    engineOptions = { ...isolatedConfig(), trusted: true, registry: registry.url, trustedRoot: root.root, http: { retryBaseMs: 5, timeoutMs: 5_000 } };
  });
  after(() => registry.stop());

  test("each misbehaviour gives its verdict; every other package still verifies", async () => {
    const engine = new VerificationEngine(engineOptions);
    const result = await check(engine, packages);
    for (const [i, c] of CASES.entries()) {
      const verdict = result.verdicts.get(packageKey(packages[i]));
      assert.ok(verdict, `${c.name} has a verdict`);
      const detail = `${c.name}: ${JSON.stringify(verdict)}`;
      assert.equal(verdict.status, c.status, detail);
      if (c.signature) assert.equal(verdict.signature.status, c.signature, detail);
      if (c.provenanceStatus) assert.equal(verdict.provenance.status, c.provenanceStatus, detail);
      if (c.reason) assert.match(verdict.reasons.join(" "), c.reason, detail);
      assert.ok(verdict.reasons.length > 0, detail);
    }
    assert.deepEqual(result.notices, []);
    const good = result.verdicts.get(packageKey(packages[0]))!;
    assert.match(good.provenance.workflow ?? "", /\.github\/workflows\//);
    assert.match(good.provenance.sourceCommit ?? "", /^[0-9a-f]{40}$/);
    assert.ok(good.provenance.logIndex !== undefined);
  });

  test("through the project's proxy (.npmrc proxy=) every verdict is the same as direct", async () => {
    const proxy = await startProxy();
    try {
      const direct = await check(new VerificationEngine(engineOptions), packages);
      const engine = new VerificationEngine(engineOptions);
      const proxied = await check(engine, packages, projectDir(`proxy=${proxy.origin}\n`));
      for (const pkg of packages) assert.equal(proxied.verdicts.get(packageKey(pkg))?.status, direct.verdicts.get(packageKey(pkg))?.status, pkg.name);
      const forwarded = proxy.seen.filter((s) => s.kind === "forward" && s.target.startsWith(registry.url));
      assert.equal(forwarded.length, engine.lastStats.requests, "every request went through the proxy");
      assert.ok(forwarded.length >= packages.length);
    } finally {
      await proxy.close();
    }
  });

  test("npm configuration problems are said once, as a notice, and the check goes on", async () => {
    const engine = new VerificationEngine(engineOptions);
    const result = await check(engine, packages, projectDir("cafile=/nonexistent/ca.pem\nregistry-typo=${PL_UNSET_FOR_TEST}\n"));
    const config = result.notices.filter((n) => n.kind === "config");
    assert.equal(config.length, 1, JSON.stringify(result.notices));
    assert.match(config[0].message, /^npm configuration: \S*\.npmrc: /);
    assert.match(config[0].message, /\.npmrc: cafile \/nonexistent\/ca\.pem could not be read: ENOENT[;.]/);
    assert.match(config[0].message, /\.npmrc: The value of "registry-typo" refers to the unset environment variable PL_UNSET_FOR_TEST; it was left as written[;.]/);
    assert.doesNotMatch(config[0].message, /\.;|\.\.$/);
    assert.equal(result.verdicts.get(packageKey(packages[1]))?.status, "signed", "the rest of the check is unaffected");
  });

  test("a warm re-check answers verified and signed packages from the cache with no request", async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), "pl-cache-"));
    const wanted = packages.filter((_, i) => ["good-provenance", "good-signed", "@scope/good-scoped"].includes(CASES[i].name));
    const cold = new VerificationEngine({ ...engineOptions, cache: new VerdictCache<Verdict>({ dir: cacheDir }) });
    const first = await check(cold, wanted);
    assert.ok(cold.lastStats.requests > 0);
    const warm = new VerificationEngine({ ...engineOptions, cache: new VerdictCache<Verdict>({ dir: cacheDir }) });
    const before = registry.requests.length;
    const second = await check(warm, wanted);
    assert.equal(registry.requests.length, before, "no request reached the registry");
    assert.equal(warm.lastStats.fromCache, wanted.length);
    assert.deepEqual([...second.verdicts], [...first.verdicts]);
  });

  test("declared a mirror of registry.npmjs.org, its own keys are ignored: pinned keys only", async () => {
    const engine = new VerificationEngine({ ...engineOptions, mirrorsOfNpmjs: [registry.url] });
    const result = await check(engine, packages.slice(1, 2));
    const verdict = [...result.verdicts.values()][0];
    assert.equal(verdict.signature.status, "unknown-key", JSON.stringify(verdict));
    assert.equal(verdict.status, "unverifiable");
  });

  test("offline: nothing fetched, packages unverifiable with the reason", async () => {
    const engine = new VerificationEngine(engineOptions);
    const before = registry.requests.length;
    const parsed = { format: "npm" as const, lockfileVersion: 3, entries: [], importers: [], problems: [] };
    const result = await engine.check({ lockfilePath: projectDir(), parsed, packages: packages.slice(0, 2), offline: true });
    assert.equal(registry.requests.length, before);
    for (const verdict of result.verdicts.values()) {
      assert.equal(verdict.status, "unverifiable");
      assert.match(verdict.reasons[0], /Offline/);
    }
  });
});

describe("registries that strip, hang or need a token", () => {
  const specs: PackageSpec[] = [
    { name: "alpha", versions: [{ version: "1.0.0", provenance: true }] },
    { name: "beta", versions: [{ version: "2.0.0" }] },
    { name: "gamma", versions: [{ version: "3.0.0" }] },
  ];
  const packages = specs.map((spec) => lockedPackage(spec));

  async function withRegistry(options: Parameters<typeof startTestRegistry>[0], fn: (registry: TestRegistry, engineOptions: EngineOptions) => Promise<void>): Promise<void> {
    const registry = await startTestRegistry(options);
    try {
      const root = trustedRootFromJSON(JSON.stringify(registry.trustedRoot), "file");
      assert.ok(root.ok);
      await fn(registry, { ...isolatedConfig(), trusted: true, registry: registry.url, trustedRoot: root.root, http: { retryBaseMs: 5, timeoutMs: 300 } });
    } finally {
      await registry.stop();
    }
  }

  test("a stripping mirror is reported once, as a fact about the registry, and its packages are unverifiable", async () => {
    await withRegistry({ packages: specs, misbehaviour: { "*": { kind: "stripping-mirror" } } }, async (_registry, options) => {
      const result = await check(new VerificationEngine(options), packages);
      assert.equal(result.notices.length, 1);
      assert.equal(result.notices[0].kind, "no-signatures");
      for (const verdict of result.verdicts.values()) {
        assert.equal(verdict.status, "unverifiable");
        assert.match(verdict.reasons[0], /serves no signatures at all/);
      }
    });
  });

  test("a package answered unsigned before the registry's first signature is judged as the rest: unsigned, not 'no signatures at all'", async () => {
    // One lane: "first" (stripped) is answered before any signature has been seen, so its verdict waits for the end
    // of the check; the others are decided as they arrive. Every order must give the verdicts of the whole registry.
    const local: PackageSpec[] = ["first", "second", "third"].map((name) => ({ name, versions: [{ version: "1.0.0" }] }));
    const locked = local.map((spec) => lockedPackage(spec));
    await withRegistry({ packages: local, misbehaviour: { first: { kind: "strip-signatures" } } }, async (_registry, options) => {
      const result = await check(new VerificationEngine({ ...options, concurrency: 1 }), locked);
      assert.deepEqual(result.notices, []);
      assert.deepEqual([...result.verdicts.keys()], locked.map(packageKey), "in the order of the request");
      assert.deepEqual([...result.verdicts.values()].map((v) => [v.status, v.signature.status]), [["unsigned", "missing"], ["signed", "valid"], ["signed", "valid"]]);
    });
  });

  test("a registry that never answers delays the check by one deadline, not one per package", async () => {
    await withRegistry({ packages: specs, misbehaviour: { "*": { kind: "hang" } } }, async (registry, options) => {
      // Two lanes for three packages: the keys and the first two packuments are asked for together (the keys are not
      // waited for before fetching), and once they time out the third package is not asked for at all.
      const result = await check(new VerificationEngine({ ...options, concurrency: 2 }), packages);
      assert.equal(result.notices.length, 1);
      assert.equal(result.notices[0].kind, "unreachable");
      for (const verdict of result.verdicts.values()) assert.equal(verdict.status, "unverifiable");
      const packumentRequests = registry.requests.filter((r) => !r.url.includes("/-/npm/v1/keys"));
      assert.equal(packages.length, 3);
      assert.ok(packumentRequests.length <= 2, JSON.stringify(registry.requests.map((r) => r.url)));
    });
  });

  test("a token from the project's .npmrc reaches its registry, and never shows in a verdict", async () => {
    const token = "npm_SECRETtoken1234567890";
    await withRegistry({ packages: specs, requireToken: token }, async (registry, options) => {
      const host = new URL(registry.url).host;
      const lockfilePath = projectDir(`//${host}/:_authToken=${token}\n`);
      const result = await check(new VerificationEngine(options), packages, lockfilePath);
      assert.deepEqual([...result.verdicts.values()].map((v) => v.status), ["verified", "signed", "signed"]);
      assert.ok(registry.requests.every((r) => r.headers.authorization === `Bearer ${token}`));
      assert.ok(!JSON.stringify([...result.verdicts.values(), result.notices]).includes(token));
    });
  });

  test("in an untrusted workspace the project's .npmrc is not read (no token, no redirect of requests)", async () => {
    const token = "npm_SECRETtoken1234567890";
    await withRegistry({ packages: specs, requireToken: token }, async (registry, options) => {
      const host = new URL(registry.url).host;
      const lockfilePath = projectDir(`//${host}/:_authToken=${token}\n`);
      const result = await check(new VerificationEngine({ ...options, trusted: false }), packages, lockfilePath);
      assert.ok(registry.requests.every((r) => r.headers.authorization === undefined));
      for (const verdict of result.verdicts.values()) assert.equal(verdict.status, "unverifiable");
    });
  });
});

describe("re-checks within one process", () => {
  test("a re-check re-uses every verdict (signed, unsigned, invalid too) with no request; fresh asks again", async () => {
    const specs: PackageSpec[] = [
      { name: "kept-signed", versions: [{ version: "1.0.0" }] },
      { name: "kept-unsigned", versions: [{ version: "1.0.0" }] },
      { name: "kept-tampered", versions: [{ version: "1.0.0" }] },
    ];
    const registry = await startTestRegistry({
      packages: specs,
      misbehaviour: { "kept-unsigned": { kind: "strip-signatures" }, "kept-tampered@1.0.0": { kind: "tamper-integrity" } },
    });
    try {
      const root = trustedRootFromJSON(JSON.stringify(registry.trustedRoot), "file");
      assert.ok(root.ok);
      const engine = new VerificationEngine({ ...isolatedConfig(), trusted: true, registry: registry.url, trustedRoot: root.root });
      const packages = specs.map((spec) => lockedPackage(spec));
      const lockfilePath = projectDir();
      const first = await check(engine, packages, lockfilePath);
      const seen = registry.requests.length;
      const offline = await engine.check({ lockfilePath, parsed: { format: "npm", lockfileVersion: 3, entries: [], importers: [], problems: [] }, packages, offline: true });
      assert.deepEqual([...offline.verdicts.values()].map((v) => v.status), ["signed", "unsigned", "invalid"], "offline re-uses what this process verified");
      const second = await check(engine, packages, lockfilePath);
      assert.equal(registry.requests.length, seen);
      assert.deepEqual([...second.verdicts], [...first.verdicts]);
      assert.equal(engine.lastStats.fromCache, 3);
      await engine.check({ lockfilePath, parsed: { format: "npm", lockfileVersion: 3, entries: [], importers: [], problems: [] }, packages, offline: false, fresh: true });
      assert.ok(registry.requests.length > seen, "fresh goes to the registry again");
    } finally {
      await registry.stop();
    }
  });
});
