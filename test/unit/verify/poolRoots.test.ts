// The pool sends a trusted root's text to each worker once and tasks in batches (issue #7): tasks for several roots,
// spread over the workers all at once, must each be verified with their own root, exactly as on the main thread; a
// worker that dies fails every task it owed, the batch it was working on and the tasks queued behind it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { AttestationPool, workerScript } from "../../../server/src/verify/attestationPool";
import { parseKeysResponse, type RegistryKey } from "../../../server/src/verify/npmKeys";
import { verifyAttestations } from "../../../server/src/verify/provenance";
import { prepareTrust, trustedRootFromJSON, type LoadedTrustedRoot } from "../../../server/src/verify/trustedRoot";
import { integrityOf, startTestRegistry, type PackageSpec, type TestRegistry } from "../../registry";

const SPECS: PackageSpec[] = ["roots-a", "roots-b", "roots-c"].map((name) => ({ name, versions: [{ version: "1.0.0", provenance: true }] }));

let registry: TestRegistry;
let other: TestRegistry;
let keys: RegistryKey[];
const docs: unknown[] = [];

before(async () => {
  registry = await startTestRegistry({ packages: SPECS });
  // A second registry: its own mock CA and log, so its root verifies none of the first registry's bundles.
  other = await startTestRegistry({ packages: [] });
  keys = parseKeysResponse(registry.keysJson).keys;
  for (const spec of SPECS) {
    const response = await fetch(`${registry.url}-/npm/v1/attestations/${spec.name}@1.0.0`, { signal: AbortSignal.timeout(10_000) });
    docs.push(await response.json());
  }
});
after(async () => {
  await registry.stop();
  await other.stop();
});

function load(json: unknown, indent?: number): LoadedTrustedRoot {
  const loaded = trustedRootFromJSON(JSON.stringify(json, null, indent), "file");
  assert.ok(loaded.ok);
  return loaded.root;
}

test("tasks for three roots at once, over two workers, each verify with their own root", { skip: workerScript() === undefined ? "no worker script next to the module" : false }, async () => {
  // The same root written twice (two digests, same trust) and a foreign root, interleaved.
  const roots: [LoadedTrustedRoot, string][] = [
    [load(registry.trustedRoot), "verified"],
    [load(registry.trustedRoot, 2), "verified"],
    [load(other.trustedRoot), "invalid"],
  ];
  assert.notEqual(roots[0][0].digest, roots[1][0].digest);
  const pool = new AttestationPool(2);
  try {
    const tasks = [];
    for (let round = 0; round < 3; round++) {
      for (const [root, expected] of roots) {
        for (let i = 0; i < SPECS.length; i++) {
          const pkg = { name: SPECS[i].name, version: "1.0.0", integrity: integrityOf(SPECS[i].name, SPECS[i].versions[0]) };
          tasks.push({ pkg, doc: docs[i], root, expected, pooled: pool.verify(pkg, docs[i], root, keys) });
        }
      }
    }
    for (const task of tasks) {
      const pooled = await task.pooled;
      assert.equal(pooled.status, task.expected, `${task.pkg.name} with root ${task.root.digest.slice(0, 8)}: ${pooled.reason ?? ""}`);
      assert.deepEqual(pooled, verifyAttestations(task.pkg, task.doc, { trust: prepareTrust(task.root, keys) }));
    }
    assert.equal(pool.unavailable, undefined);
  } finally {
    await pool.close();
  }
});

test("a worker that dies fails the batch it had and the tasks queued behind it, and the pool says why", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "provenance-lens-pool-"));
  const script = path.join(dir, "dyingWorker.js");
  // Exits on its first batch without answering, as a worker that crashed mid-verification would.
  await writeFile(script, `require("node:worker_threads").parentPort.on("message", () => process.exit(3));\n`);
  const pool = new AttestationPool(1, script);
  try {
    const root = load(registry.trustedRoot);
    const pkg = { name: SPECS[0].name, version: "1.0.0", integrity: integrityOf(SPECS[0].name, SPECS[0].versions[0]) };
    const first = pool.verify(pkg, docs[0], root, keys);
    const firstSettled = Promise.allSettled([first]);
    await new Promise<void>((resolve) => setImmediate(resolve)); // the first batch is posted
    const queued = Promise.allSettled([1, 2].map((i) => pool.verify(pkg, docs[i], root, keys)));
    const outcomes = [...(await firstSettled), ...(await queued)];
    assert.equal(outcomes.length, 3);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, "rejected");
      if (outcome.status === "rejected") assert.match(String(outcome.reason), /exited with code 3/);
    }
    assert.match(pool.unavailable ?? "", /a verification worker failed \(exited with code 3\)/);
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
});
