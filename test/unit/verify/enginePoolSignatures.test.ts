// A check large enough for the worker pool (more than 64 packages) verifies registry signatures there (issue #7) and
// reaches exactly the verdicts of a check on the main thread alone, tampered, unknown-key and expired-key included
// (the expired key needs the full packument's publish time: the retry goes through the pool too).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { LockedPackage } from "../../../server/src/lockfile/model";
import { packageKey } from "../../../server/src/lockfile/model";
import { workerScript } from "../../../server/src/verify/attestationPool";
import { VerificationEngine, type EngineOptions } from "../../../server/src/verify/engine";
import { trustedRootFromJSON } from "../../../server/src/verify/trustedRoot";
import { startTestRegistry, type Misbehaviour, type PackageSpec, type TestRegistry } from "../../registry";
import { isolatedConfig, lockedPackage, projectDir } from "../../hostile/harness";

const ODD: { name: string; misbehaviour: Misbehaviour; status: string; signature: string }[] = [
  { name: "sig-tampered", misbehaviour: { kind: "tamper-integrity" }, status: "invalid", signature: "invalid" },
  { name: "sig-unknown-key", misbehaviour: { kind: "unknown-key" }, status: "unverifiable", signature: "unknown-key" },
  { name: "sig-expired-key", misbehaviour: { kind: "expired-key" }, status: "invalid", signature: "expired-key" },
  { name: "sig-replayed", misbehaviour: { kind: "replay-signature", from: "sig-good-0@1.0.0" }, status: "invalid", signature: "invalid" },
  { name: "sig-bad-base64", misbehaviour: { kind: "signature-bad-base64" }, status: "invalid", signature: "invalid" },
  { name: "sig-stripped", misbehaviour: { kind: "strip-signatures" }, status: "unsigned", signature: "missing" },
];
const GOOD = Array.from({ length: 70 }, (_, i) => `sig-good-${i}`);
const SPECS: PackageSpec[] = [...GOOD, ...ODD.map((o) => o.name)].map((name) => ({ name, versions: [{ version: "1.0.0" }] }));

let registry: TestRegistry;
let options: EngineOptions;
const packages: LockedPackage[] = SPECS.map((spec) => lockedPackage(spec));

before(async () => {
  const misbehaviour: Record<string, Misbehaviour> = {};
  for (const o of ODD) misbehaviour[`${o.name}@1.0.0`] = o.misbehaviour;
  registry = await startTestRegistry({ packages: SPECS, misbehaviour });
  const root = trustedRootFromJSON(JSON.stringify(registry.trustedRoot), "file", "test-registry-root.json");
  assert.ok(root.ok);
  options = { ...isolatedConfig(), trusted: true, registry: registry.url, trustedRoot: root.root, http: { retryBaseMs: 5, timeoutMs: 5_000 } };
});
after(() => registry.stop());

async function verdictsWith(workers: number) {
  const engine = new VerificationEngine({ ...options, workers });
  const parsed = { format: "npm" as const, lockfileVersion: 3, entries: [], importers: [], problems: [] };
  return (await engine.check({ lockfilePath: projectDir(), parsed, packages, offline: false })).verdicts;
}

test("pooled signature checks give the main thread's verdicts", { skip: workerScript() === undefined ? "no worker script next to the module" : false }, async () => {
  const pooled = await verdictsWith(2);
  const inline = await verdictsWith(0);
  for (const pkg of packages) assert.deepEqual(pooled.get(packageKey(pkg)), inline.get(packageKey(pkg)), pkg.name);
  for (const name of GOOD) assert.equal(pooled.get(`${name}@1.0.0`)?.status, "signed", name);
  for (const o of ODD) {
    const verdict = pooled.get(packageKey(packages.find((p) => p.name === o.name)!));
    assert.equal(verdict?.status, o.status, `${o.name}: ${JSON.stringify(verdict)}`);
    assert.equal(verdict?.signature.status, o.signature, `${o.name}: ${JSON.stringify(verdict)}`);
  }
});
