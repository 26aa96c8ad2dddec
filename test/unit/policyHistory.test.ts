// Trust history end to end: the loopback test registry serves several versions per package (some with provenance,
// each with its own repository and workflow), the real engine verifies them, and each case states the history the
// locked version must get. Then the policy file is applied on top, as the CLI and the server do.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { packageKey, type LockedPackage } from "../../server/src/lockfile/model";
import type { DriftKind, Verdict } from "../../server/src/protocol/verdicts";
import { VerificationEngine, type EngineOptions } from "../../server/src/verify/engine";
import { prepareTrust, trustedRootFromJSON } from "../../server/src/verify/trustedRoot";
import { parseKeysResponse } from "../../server/src/verify/npmKeys";
import { verifyAttestations } from "../../server/src/verify/provenance";
import { HttpClient } from "../../server/src/registry/http";
import { RegistryClient } from "../../server/src/registry/registryClient";
import { applyPolicy, historyLine, majorLineOf, normaliseRepository, parsePolicy, versionRecordsOf } from "../../server/src/policy/index";
import { historyFor } from "../../server/src/verify/historyFor";
import { DEFAULT_PUBLISHED_AT, integrityOf, startTestRegistry, type Misbehaviour, type PackageSpec, type TestRegistry, type VersionSpec } from "../registry";

interface Case {
  name: string;
  versions: VersionSpec[];
  locked: string;
  /** Misbehaviour on the locked version. */
  misbehaviour?: Misbehaviour;
  downgrade?: { last?: string; publishedAt?: string; message: RegExp };
  since?: string;
  drift?: DriftKind[];
  line?: string;
}

const A = "https://github.com/org-a/lib";
const B = "https://github.com/org-b/lib";
const CASES: Case[] = [
  {
    name: "down-minor",
    versions: [{ version: "1.0.0", provenance: true }, { version: "1.1.0", provenance: true, publishedAt: "2024-03-01T10:00:00.000Z" }, { version: "1.2.0" }, { version: "2.0.0", provenance: true }],
    locked: "1.2.0",
    downgrade: { last: "1.1.0", publishedAt: "2024-03-01T10:00:00.000Z", message: /down-minor@1\.2\.0 has no provenance, but 1\.1\.0 \(published 2024-03-01\)/ },
    line: "provenance lost: last in 1.1.0 (2024-03-01)",
  },
  { name: "across-major", versions: [{ version: "1.0.0", provenance: true }, { version: "2.0.0" }], locked: "2.0.0" },
  { name: "maintenance-of-old-major", versions: [{ version: "1.0.0" }, { version: "2.0.0", provenance: true }, { version: "1.0.1" }], locked: "1.0.1" },
  { name: "zero-minor-lines", versions: [{ version: "0.1.0", provenance: true }, { version: "0.2.0" }], locked: "0.2.0" },
  { name: "prerelease-ignored", versions: [{ version: "2.0.0-beta.1", provenance: true }, { version: "2.0.0" }], locked: "2.0.0" },
  {
    name: "prerelease-locked",
    versions: [{ version: "3.0.0-rc.1", provenance: true }, { version: "3.0.0-rc.2" }],
    locked: "3.0.0-rc.2",
    downgrade: { last: "3.0.0-rc.1", publishedAt: DEFAULT_PUBLISHED_AT, message: /3\.0\.0-rc\.1/ },
  },
  {
    name: "signature-lost",
    versions: [{ version: "1.0.0" }, { version: "1.1.0" }],
    locked: "1.1.0",
    misbehaviour: { kind: "strip-signatures" },
    downgrade: { message: /has no registry signature, but 1\.0\.0/ },
    line: "signature lost since an earlier version",
  },
  {
    name: "since",
    versions: [{ version: "1.0.0" }, { version: "1.1.0", provenance: true }, { version: "1.2.0", provenance: true }],
    locked: "1.2.0",
    since: "1.1.0",
    line: "provenance since 1.1.0; built by provenance-lens-test/since release.yml",
  },
  {
    name: "drift-repository",
    versions: [{ version: "1.0.0", provenance: true, repository: A }, { version: "1.1.0", provenance: true, repository: B }],
    locked: "1.1.0",
    since: "1.0.0",
    drift: ["repository"],
    line: "provenance since 1.0.0; built by org-b/lib release.yml; build identity changed since 1.0.0",
  },
  {
    name: "drift-workflow",
    versions: [{ version: "1.0.0", provenance: true, repository: A }, { version: "1.1.0", provenance: true, repository: A, workflow: ".github/workflows/publish.yml" }],
    locked: "1.1.0",
    since: "1.0.0",
    drift: ["workflow"],
  },
  // The previous version of the line is the one compared with, not an older one that differs.
  { name: "drift-healed", versions: [{ version: "1.0.0", provenance: true, repository: B }, { version: "1.1.0", provenance: true, repository: A }, { version: "1.2.0", provenance: true, repository: A }], locked: "1.2.0", since: "1.0.0" },
];

function lockedOf(c: Case): LockedPackage {
  const spec = c.versions.find((v) => v.version === c.locked)!;
  const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };
  return { name: c.name, version: c.locked, source: "registry", integrity: integrityOf(c.name, spec), dev: false, optional: false, direct: true, entryIds: [c.name], locations: [range] };
}

describe("trust history against the loopback registry", () => {
  let registry: TestRegistry;
  let options: EngineOptions;
  const packages = CASES.map(lockedOf);
  let verdicts: Map<string, Verdict>;
  const engineVerdicts = new Map<string, Verdict>();

  before(async () => {
    const misbehaviour: Record<string, Misbehaviour> = {};
    for (const c of CASES) if (c.misbehaviour) misbehaviour[`${c.name}@${c.locked}`] = c.misbehaviour;
    const specs: PackageSpec[] = CASES.map((c) => ({ name: c.name, versions: c.versions }));
    registry = await startTestRegistry({ packages: specs, misbehaviour });
    const root = trustedRootFromJSON(JSON.stringify(registry.trustedRoot), "file");
    assert.ok(root.ok);
    const home = mkdtempSync(path.join(tmpdir(), "pl-policy-home-"));
    options = { env: {}, homeDir: home, globalConfigPath: path.join(home, "none"), trusted: true, registry: registry.url, trustedRoot: root.root, http: { retryBaseMs: 5, timeoutMs: 5_000 } };
    const project = mkdtempSync(path.join(tmpdir(), "pl-policy-project-"));
    writeFileSync(path.join(project, "package.json"), "{}\n");
    const parsed = { format: "npm" as const, lockfileVersion: 3, entries: [], importers: [], problems: [] };
    const result = await new VerificationEngine(options).check({ lockfilePath: path.join(project, "package-lock.json"), parsed, packages, offline: false });
    // The history each locked version gets from the sources the engine uses: the registry's packuments, and earlier
    // versions' attestations verified with the same code and trust.
    const client = new RegistryClient(new HttpClient({ retryBaseMs: 5, timeoutMs: 5_000 }));
    const keys = await client.keys(registry.url);
    assert.ok(keys.ok);
    const trust = prepareTrust(root.root, parseKeysResponse(keys.value).keys);
    verdicts = new Map();
    for (const pkg of packages) {
      const verdict = result.verdicts.get(packageKey(pkg))!;
      const packument = await client.packument(pkg.name, { registry: registry.url });
      assert.ok(packument.ok);
      const history = await historyFor(
        { name: pkg.name, version: pkg.version, provenance: verdict.provenance.status, signature: verdict.signature.status, provenanceVerdict: verdict.provenance },
        packument.value,
        {
          fullPackument: async () => {
            const full = await client.packument(pkg.name, { registry: registry.url, full: true });
            return full.ok ? full.value : undefined;
          },
          verifiedProvenance: async (record) => {
            const doc = await client.attestations(`${registry.url}-/npm/v1/attestations/${pkg.name}@${record.version}`, { registry: registry.url });
            return doc.ok ? verifyAttestations({ name: pkg.name, version: record.version, integrity: record.integrity }, doc.value, { trust }) : undefined;
          },
        },
      );
      engineVerdicts.set(packageKey(pkg), verdict);
      verdicts.set(packageKey(pkg), history === undefined ? verdict : { ...verdict, history });
    }
  });
  after(() => registry.stop());

  for (const [i, c] of CASES.entries()) {
    test(`history: ${c.name} (locked ${c.locked})`, () => {
      const verdict = verdicts.get(packageKey(packages[i]));
      assert.ok(verdict);
      const detail = JSON.stringify(verdict, null, 1);
      const h = verdict.history;
      if (c.downgrade === undefined) assert.equal(h?.downgrade, undefined, detail);
      else {
        assert.match(h?.downgrade ?? "", c.downgrade.message, detail);
        assert.equal(h?.lastWithProvenance?.version, c.downgrade.last, detail);
        assert.equal(h?.lastWithProvenance?.publishedAt, c.downgrade.publishedAt, detail);
      }
      assert.equal(h?.provenanceSince, c.since, detail);
      assert.deepEqual(h?.drift?.kinds, c.drift, detail);
      if (c.line !== undefined) assert.equal(historyLine(verdict), c.line);
    });
  }

  test("the engine carries the same history in its verdicts", () => {
    for (const pkg of packages) assert.deepEqual(engineVerdicts.get(packageKey(pkg))?.history, verdicts.get(packageKey(pkg))?.history, pkg.name);
  });

  test("drift shows both identities", () => {
    const drift = verdicts.get(packageKey(packages[CASES.findIndex((c) => c.name === "drift-workflow")]))!.history!.drift!;
    assert.deepEqual(drift.previous, { version: "1.0.0", repository: A, workflow: ".github/workflows/release.yml", builder: "https://github.com/actions/runner/github-hosted" });
    assert.equal(drift.current.workflow, ".github/workflows/publish.yml");
    assert.match(drift.message, /1\.1\.0 was built by org-a\/lib \.github\/workflows\/publish\.yml; 1\.0\.0 was built by org-a\/lib \.github\/workflows\/release\.yml/);
  });

  test("the policy file turns history into findings: trusted drift accepted, downgrade an error, an exception with its reason", () => {
    const policy = parsePolicy(JSON.stringify({
      severity: { "provenance-downgrade": "error" },
      trustedRepositories: ["https://github.com/org-a/**"],
      exceptions: [{ package: "prerelease-locked", versions: ">=3.0.0-rc.0", codes: ["provenance-downgrade"], reason: "rc built locally", expires: "2099-01-01" }],
    })).policy;
    const outcome = applyPolicy({ packages, result: { verdicts } }, policy, { now: Date.parse("2026-01-01") });
    const codes = (name: string) => outcome.packages.get(packageKey(packages[CASES.findIndex((c) => c.name === name)]))!.findings.slice(1).map((f) => `${f.code}:${f.level}${f.accepted ? `:accepted(${f.accepted.reason})` : ""}`);
    assert.deepEqual(codes("down-minor"), ["provenance-downgrade:error"]);
    assert.deepEqual(codes("prerelease-locked"), ["provenance-downgrade:error:accepted(rc built locally)"]);
    assert.deepEqual(codes("drift-workflow"), ['build-identity-drift:warning:accepted(The new build identity is trusted by the policy file (trustedRepositories "https://github.com/org-a/**").)']);
    assert.deepEqual(codes("drift-repository"), ["build-identity-drift:warning"]);
    assert.deepEqual(codes("across-major"), []);
  });
});

test("major lines and repository spellings", () => {
  assert.deepEqual(["1.2.3", "1.0.0-rc.1", "0.3.9", "0.0.4", "12.0.0"].map(majorLineOf), ["1", "1", "0.3", "0.0", "12"]);
  const same = ["git+https://github.com/Org/Repo.git", "git@github.com:org/repo.git", "github:org/repo", "org/repo", "https://github.com/org/repo/", "git://github.com/org/repo#main"];
  assert.deepEqual(new Set(same.map(normaliseRepository)), new Set(["https://github.com/org/repo"]));
});

test("version records of one line: that line only, oldest first, by semver not by text", () => {
  const versions = Object.fromEntries(["1.10.0", "1.2.0", "10.0.0", "1.2.0-rc.1", "2.0.0", "1.9.9", "0.1.0", "not-a-version", "1.0.0"].map((v) => [v, { dist: {} }]));
  const packument = { name: "p", versions } as unknown as Parameters<typeof versionRecordsOf>[0];
  assert.deepEqual(versionRecordsOf(packument, "1").map((r) => r.version), ["1.0.0", "1.2.0-rc.1", "1.2.0", "1.9.9", "1.10.0"]);
  assert.deepEqual(versionRecordsOf(packument, "0.1").map((r) => r.version), ["0.1.0"]);
  assert.deepEqual(versionRecordsOf(packument).map((r) => r.version), ["0.1.0", "1.0.0", "1.2.0-rc.1", "1.2.0", "1.9.9", "1.10.0", "2.0.0", "10.0.0"]);
});
