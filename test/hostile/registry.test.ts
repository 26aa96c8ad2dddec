// The hostile-registry suite (issue #8): the loopback registry misbehaves on purpose, and each attack must give the
// right verdict and reason for the packages it touches while every other package in the same check still verifies.
// Real HTTP, real ECDSA signatures, real Sigstore bundles (mock CA and log), the product's own engine.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { LockedPackage } from "../../server/src/lockfile/model";
import { packageKey } from "../../server/src/lockfile/model";
import type { PackageStatus, Verdict } from "../../server/src/protocol/verdicts";
import { HttpClient } from "../../server/src/registry/http";
import { VerificationEngine, type EngineOptions } from "../../server/src/verify/engine";
import { trustedRootFromJSON } from "../../server/src/verify/trustedRoot";
import { NPMJS_CURRENT_KEYID, routeOf, startTestRegistry, type Misbehaviour, type PackageSpec, type TestRegistry } from "../registry";
import { isolatedConfig, lockedPackage, projectDir, startLoggingServer, type LoggingServer } from "./harness";

const MiB = 1024 * 1024;
/** The response cap the engine is given here; the "oversized" package streams three times as much. */
const CAP = MiB;
const RETRIES = 2;

interface HostileCase {
  attack: string;
  spec: PackageSpec;
  /** Keyed "" for the package, "@<version>" for its first version. */
  misbehaviour?: Partial<Record<"" | `@${string}`, Misbehaviour>>;
  /** What the lockfile says instead of what the registry serves. */
  lock?: Partial<LockedPackage>;
  status: PackageStatus;
  signature?: Verdict["signature"]["status"];
  provenance?: Verdict["provenance"]["status"];
  reason: RegExp;
  /** Requests for this package's packument the registry may see (bounded retries). */
  packumentRequests?: number;
}

const one = (name: string, provenance = false, version = "1.0.0"): PackageSpec => ({ name, versions: [{ version, provenance }] });
const otherIntegrity = "sha512-" + createHash("sha512").update("some other tarball").digest("base64");
const otherSha384 = "sha384-" + createHash("sha384").update("an attacker's tarball").digest("base64");

const CASES: HostileCase[] = [
  { attack: "control: provenance", spec: one("ctl-verified", true), status: "verified", signature: "valid", provenance: "verified", reason: /^Provenance verified: built from https:\/\/github\.com\// },
  { attack: "control: signature only", spec: one("ctl-signed"), status: "signed", signature: "valid", provenance: "absent", reason: /^Registry signature valid/ },
  { attack: "malformed JSON", spec: one("h-malformed"), misbehaviour: { "": { kind: "malformed-json" } }, status: "unverifiable", signature: "not-checked", reason: /is not valid JSON/ },
  { attack: "a response larger than the cap", spec: one("h-oversized"), misbehaviour: { "": { kind: "oversized", bytes: 3 * CAP } }, status: "unverifiable", reason: new RegExp(`larger than ${CAP} bytes`) },
  { attack: "429 storm", spec: one("h-429"), misbehaviour: { "": { kind: "status", status: 429, retryAfterSeconds: 0 } }, status: "unverifiable", reason: /HTTP 429 .* after 3 attempts/, packumentRequests: RETRIES + 1 },
  { attack: "5xx storm", spec: one("h-503"), misbehaviour: { "": { kind: "status", status: 503 } }, status: "unverifiable", reason: /HTTP 503 .* after 3 attempts/, packumentRequests: RETRIES + 1 },
  { attack: "a short 5xx burst is retried through", spec: one("h-502-once"), misbehaviour: { "": { kind: "status", status: 502, times: 2 } }, status: "signed", signature: "valid", reason: /^Registry signature valid/, packumentRequests: 3 },
  { attack: "signature with bad base64", spec: one("h-bad-base64"), misbehaviour: { "@1.0.0": { kind: "signature-bad-base64" } }, status: "invalid", signature: "invalid", reason: /is not base64/ },
  { attack: "signature with bad DER", spec: one("h-bad-der"), misbehaviour: { "@1.0.0": { kind: "signature-bad-der" } }, status: "invalid", signature: "invalid", reason: /not a DER-encoded ECDSA signature/ },
  { attack: "valid signature of another package replayed", spec: one("h-replay-package"), misbehaviour: { "@1.0.0": { kind: "replay-signature", from: "ctl-signed@1.0.0" } }, status: "invalid", signature: "invalid", reason: /does not match h-replay-package@1\.0\.0/ },
  {
    attack: "valid signature of another version replayed",
    spec: { name: "h-replay-version", versions: [{ version: "2.0.0" }, { version: "1.0.0" }] },
    misbehaviour: { "@2.0.0": { kind: "replay-signature", from: "h-replay-version@1.0.0" } },
    status: "invalid", signature: "invalid", reason: /does not match h-replay-version@2\.0\.0/,
  },
  { attack: "a key that expired before publish", spec: one("h-expired"), misbehaviour: { "@1.0.0": { kind: "expired-key" } }, status: "invalid", signature: "expired-key", reason: /after its signing key .* expired/ },
  { attack: "attestation URL pointing at another host", spec: one("h-elsewhere", true), misbehaviour: { "@1.0.0": { kind: "attestation-url-host" } }, status: "verified", provenance: "verified", reason: /attestation URL points at another host \(127\.0\.0\.2:\d+\); the attestations were fetched from the configured registry/ },
  { attack: "attestation with a wrong subject name", spec: one("h-wrong-subject", true), misbehaviour: { "@1.0.0": { kind: "attestation-wrong-name" } }, status: "invalid", provenance: "invalid", reason: /h-wrong-subject-impostor|subject/ },
  { attack: "attestation with a wrong digest", spec: one("h-wrong-digest", true), misbehaviour: { "@1.0.0": { kind: "attestation-wrong-digest" } }, status: "invalid", provenance: "invalid", reason: /digest|sha512/ },
  { attack: "attestation certificate from another CA", spec: one("h-other-ca", true), misbehaviour: { "@1.0.0": { kind: "attestation-other-ca" } }, status: "invalid", provenance: "invalid", reason: /certificate|chain|trusted/i },
  { attack: "attestation with a broken inclusion proof", spec: one("h-broken-proof", true), misbehaviour: { "@1.0.0": { kind: "attestation-broken-inclusion-proof" } }, status: "invalid", provenance: "invalid", reason: /inclusion|proof|tlog|transparency/i },
  { attack: "registry serves an integrity other than the signed one", spec: one("h-registry-tampered"), misbehaviour: { "@1.0.0": { kind: "tamper-integrity" } }, status: "invalid", reason: /differs from the one the registry signed/ },
  { attack: "lockfile integrity differs from the signed one", spec: one("h-lock-tampered", true), lock: { integrity: otherIntegrity }, status: "invalid", reason: /differs from the one the registry signed/ },
  // A lockfile in a pull request swaps the hash for one of an algorithm the registry never signs: npm would install
  // whatever tarball matches it, so nothing ties the locked bytes to the signature.
  { attack: "lockfile integrity in an algorithm the registry does not sign", spec: one("h-lock-sha384"), lock: { integrity: otherSha384 }, status: "invalid", reason: /sha384 integrity of h-lock-sha384@1\.0\.0 cannot be compared with the registry's sha512/ },
  { attack: "lockfile integrity that is not an SRI string", spec: one("h-lock-garbage"), lock: { integrity: "deadbeef" }, status: "invalid", reason: /is not a readable integrity/ },
  { attack: "package in the lockfile, missing from the registry", spec: one("h-missing"), misbehaviour: { "": { kind: "not-found" } }, status: "unverifiable", reason: /Not found: h-missing/ },
  { attack: "version in the lockfile, missing from the registry", spec: one("h-no-such-version"), lock: { version: "9.9.9" }, status: "unverifiable", reason: /has no version 9\.9\.9 of h-no-such-version/ },
];

function loadRoot(registry: TestRegistry) {
  const root = trustedRootFromJSON(JSON.stringify(registry.trustedRoot), "file", "test-registry-root.json");
  assert.ok(root.ok, "the test registry's trusted root loads");
  return root.root;
}

async function check(engine: VerificationEngine, packages: LockedPackage[], lockfilePath = projectDir()) {
  const parsed = { format: "npm" as const, lockfileVersion: 3, entries: [], importers: [], problems: [] };
  return engine.check({ lockfilePath, parsed, packages, offline: false });
}

const packumentRequests = (registry: TestRegistry, name: string): number =>
  registry.requests.filter((r) => {
    const route = routeOf(r.url);
    return route.kind === "packument" && route.name === name;
  }).length;

describe("hostile registry: one check, every attack, controls still verify", () => {
  let registry: TestRegistry;
  let otherHost: LoggingServer;
  let options: EngineOptions;
  const packages = CASES.map((c) => lockedPackage(c.spec, c.lock));

  before(async () => {
    const misbehaviour: Record<string, Misbehaviour> = {};
    for (const c of CASES) {
      for (const [suffix, m] of Object.entries(c.misbehaviour ?? {})) if (m !== undefined) misbehaviour[`${c.spec.name}${suffix}`] = m;
    }
    registry = await startTestRegistry({ packages: CASES.map((c) => c.spec), misbehaviour });
    // The attestation-url-host attack points at 127.0.0.2 on the registry's port: listen there and log.
    otherHost = await startLoggingServer("127.0.0.2", Number(new URL(registry.url).port));
    options = { ...isolatedConfig(), trusted: true, registry: registry.url, trustedRoot: loadRoot(registry), http: { retryBaseMs: 5, timeoutMs: 10_000, retries: RETRIES, maxBytes: CAP } };
  });
  after(async () => {
    await otherHost?.stop();
    await registry?.stop();
  });

  test(`${CASES.length} cases`, async (t) => {
    const result = await check(new VerificationEngine(options), packages);
    const lines: string[] = [];
    const wrong: string[] = [];
    for (const [i, c] of CASES.entries()) {
      const verdict = result.verdicts.get(packageKey(packages[i]));
      assert.ok(verdict, `${c.attack}: a verdict`);
      const problems: string[] = [];
      if (verdict.status !== c.status) problems.push(`status ${verdict.status}, expected ${c.status}`);
      if (c.signature !== undefined && verdict.signature.status !== c.signature) problems.push(`signature ${verdict.signature.status}, expected ${c.signature}`);
      if (c.provenance !== undefined && verdict.provenance.status !== c.provenance) problems.push(`provenance ${verdict.provenance.status}, expected ${c.provenance}`);
      if (!c.reason.test(verdict.reasons.join(" "))) problems.push(`reasons ${JSON.stringify(verdict.reasons)} do not match ${c.reason}`);
      if (c.packumentRequests !== undefined) {
        const seen = packumentRequests(registry, c.spec.name);
        if (seen !== c.packumentRequests) problems.push(`${seen} packument requests, expected ${c.packumentRequests}`);
      }
      lines.push(`${problems.length === 0 ? "ok  " : "FAIL"} ${c.attack}: ${verdict.status} (signature ${verdict.signature.status}, provenance ${verdict.provenance.status}) — ${verdict.reasons[0]}`);
      if (problems.length > 0) wrong.push(`${c.attack}: ${problems.join("; ")}`);
    }
    for (const line of lines) t.diagnostic(line);
    t.diagnostic(`hostile registry: ${CASES.length} cases, ${CASES.length - wrong.length} gave the right verdict and reason, ${wrong.length} did not`);
    assert.deepEqual(wrong, []);
    assert.deepEqual(otherHost.requests, [], "nothing was fetched from the host a packument pointed at");
    // One bad package is not a bad registry: no registry-wide notice drowns the per-package verdicts.
    assert.deepEqual(result.notices, []);
  });
});

// Found by this suite, in engine.ts (not ours to edit): a lockfile entry with no integrity whose `resolved` points at
// another host is "signed", with a note that "the integrity check still pins the bytes", but there is no integrity:
// npm would install whatever that host serves.
test("a lockfile entry with no integrity, resolved from another host, is not reported signed", async () => {
  const spec = one("h-no-integrity");
  const registry = await startTestRegistry({ packages: [spec] });
  try {
    const engine = new VerificationEngine({ ...isolatedConfig(), trusted: true, registry: registry.url, trustedRoot: loadRoot(registry), http: { retryBaseMs: 5 } });
    const pkg = lockedPackage(spec, { integrity: undefined, resolved: "https://evil.example/h-no-integrity/-/h-no-integrity-1.0.0.tgz" });
    const verdict = [...(await check(engine, [pkg])).verdicts.values()][0];
    assert.doesNotMatch(verdict.reasons.join(" "), /integrity check still pins the bytes/, JSON.stringify(verdict));
    assert.notEqual(verdict.status, "signed", JSON.stringify(verdict));
  } finally {
    await registry.stop();
  }
});

describe("hostile registry: attacks on the whole registry", () => {
  const specs: PackageSpec[] = Array.from({ length: 40 }, (_, i) => one(`pkg-${i}`, i === 0));
  const packages = specs.map((s) => lockedPackage(s));

  const NEVER_ANSWERS: { name: string; misbehaviour: Record<string, Misbehaviour> }[] = [
    { name: "nothing answers, keys included", misbehaviour: { "*": { kind: "hang" } } },
    { name: "keys answer, no packument ever does", misbehaviour: Object.fromEntries(specs.map((s) => [s.name, { kind: "hang" } as Misbehaviour])) },
  ];
  for (const scenario of NEVER_ANSWERS) {
    test(`a registry that never answers (${scenario.name}): the check ends at its deadline, every package unverifiable`, async (t) => {
      const registry = await startTestRegistry({ packages: specs, misbehaviour: scenario.misbehaviour });
      try {
        // Per-request deadlines far beyond the check's: only the whole-check deadline can end this check.
        const engine = new VerificationEngine({ ...isolatedConfig(), trusted: true, registry: registry.url, trustedRoot: loadRoot(registry), checkDeadlineMs: 1_500, http: { timeoutMs: 600_000, retryBaseMs: 5 } });
        const result = await check(engine, packages);
        const seenAtEnd = registry.requests.length;
        for (const verdict of result.verdicts.values()) {
          assert.equal(verdict.status, "unverifiable", JSON.stringify(verdict));
          assert.match(verdict.reasons[0], /stopped|did not answer|deadline|Cancelled/i, JSON.stringify(verdict));
        }
        // The engine left nothing running: after a round trip of our own, the log holds only that one more request.
        for (const target of Object.keys(scenario.misbehaviour)) registry.setMisbehaviour(target, undefined);
        const own = await new HttpClient({ timeoutMs: 5_000 }).get(`${registry.url}-/npm/v1/keys`);
        assert.ok(own.ok);
        assert.equal(registry.requests.length, seenAtEnd + 1, JSON.stringify(registry.requests.slice(seenAtEnd).map((r) => r.url)));
        t.diagnostic(`${packages.length} packages, ${seenAtEnd} requests, then silence; notices: ${result.notices.map((n) => n.kind).join(", ") || "none"}`);
      } finally {
        await registry.stop();
      }
    });
  }

  // Found by this suite, in engine.ts (not ours to edit): a check that hit its deadline leaves the registry neither
  // "unreachable" nor anything else, so a registry whose packuments hang is reported as one that strips signatures
  // ("no-signatures", with advice to declare a mirror), and one whose keys hang as "keys-unavailable".
  test("a registry that never answers is reported once as unreachable, not as a mirror that strips signatures", async () => {
    for (const scenario of NEVER_ANSWERS) {
      const registry = await startTestRegistry({ packages: specs, misbehaviour: scenario.misbehaviour });
      try {
        const engine = new VerificationEngine({ ...isolatedConfig(), trusted: true, registry: registry.url, trustedRoot: loadRoot(registry), checkDeadlineMs: 1_000, http: { timeoutMs: 600_000 } });
        const result = await check(engine, packages.slice(0, 4));
        assert.deepEqual(result.notices.map((n) => n.kind), ["unreachable"], scenario.name);
      } finally {
        await registry.stop();
      }
    }
  });

  test("a 5xx storm on every endpoint: each request retried at most twice, every package unverifiable", async (t) => {
    const registry = await startTestRegistry({ packages: specs, misbehaviour: { "*": { kind: "status", status: 500 } } });
    try {
      const engine = new VerificationEngine({ ...isolatedConfig(), trusted: true, registry: registry.url, trustedRoot: loadRoot(registry), http: { retryBaseMs: 1, retries: RETRIES } });
      const result = await check(engine, packages);
      for (const verdict of result.verdicts.values()) assert.equal(verdict.status, "unverifiable", JSON.stringify(verdict));
      const distinct = new Set(registry.requests.map((r) => r.url)).size;
      assert.equal(registry.requests.length, distinct * (RETRIES + 1), "every URL asked exactly 1 + retries times");
      assert.ok(distinct <= packages.length + 1, `${distinct} distinct URLs`);
      t.diagnostic(`${registry.requests.length} requests for ${distinct} URLs`);
    } finally {
      await registry.stop();
    }
  });

  test("a redirect to another host: followed without the token", async () => {
    const token = "npm_HOSTILEredirect0123456789";
    const elsewhere = await startTestRegistry({ packages: specs, host: "127.0.0.2" });
    const registry = await startTestRegistry({ packages: specs, requireToken: token, misbehaviour: { "pkg-1": { kind: "redirect", to: elsewhere.url } } });
    try {
      const lockfilePath = projectDir(`//${new URL(registry.url).host}/:_authToken=${token}\n`);
      const engine = new VerificationEngine({ ...isolatedConfig(), trusted: true, registry: registry.url, trustedRoot: loadRoot(registry), http: { retryBaseMs: 5 } });
      const result = await check(engine, packages.slice(0, 3), lockfilePath);
      assert.ok(elsewhere.requests.length > 0, "the redirect was followed");
      assert.deepEqual(elsewhere.requests.map((r) => r.headers.authorization), elsewhere.requests.map(() => undefined), "no token reached the other host");
      assert.ok(registry.requests.every((r) => r.headers.authorization === `Bearer ${token}`));
      const [first, moved, third] = [...result.verdicts.values()];
      assert.equal(first.status, "verified");
      assert.equal(third.status, "signed");
      // The other host signs with its own key, which the configured registry does not list.
      assert.equal(moved.status, "unverifiable", JSON.stringify(moved));
      assert.equal(moved.signature.status, "unknown-key");
      assert.ok(!JSON.stringify([...result.verdicts.values(), result.notices]).includes(token));
    } finally {
      await registry.stop();
      await elsewhere.stop();
    }
  });

  test("a mirror of npmjs whose keys endpoint offers an attacker's key: ignored, pinned keys only", async () => {
    const specsHere = [one("evil"), one("honest")];
    const registry = await startTestRegistry({ packages: specsHere, misbehaviour: { keys: { kind: "attacker-keys" }, "evil@1.0.0": { kind: "attacker-keys" } } });
    try {
      assert.ok(registry.keysJson.keys.length > 0);
      const engine = new VerificationEngine({ ...isolatedConfig(), trusted: true, registry: registry.url, mirrorsOfNpmjs: [registry.url], trustedRoot: loadRoot(registry), http: { retryBaseMs: 5 } });
      const result = await check(engine, specsHere.map((s) => lockedPackage(s)));
      const [evil, honest] = [...result.verdicts.values()];
      // Signed under npmjs's keyid by a key that is not npmjs's: the pinned key says no.
      assert.equal(evil.signature.keyid, NPMJS_CURRENT_KEYID);
      assert.equal(evil.signature.status, "invalid", JSON.stringify(evil));
      assert.equal(evil.status, "invalid");
      // The mirror's own key does not verify an npmjs package either.
      assert.equal(honest.signature.status, "unknown-key", JSON.stringify(honest));
      assert.equal(honest.status, "unverifiable");
      assert.equal(registry.requests.filter((r) => routeOf(r.url).kind === "keys").length, 0, "the keys endpoint was never asked");
    } finally {
      await registry.stop();
    }
  });
});
