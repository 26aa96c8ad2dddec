// Verification on worker threads gives exactly the verdicts of the main thread (the engine uses the pool for
// large checks).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { AttestationPool, workerScript } from "../../../server/src/verify/attestationPool";
import { verifyAttestations } from "../../../server/src/verify/provenance";
import { prepareTrust, trustedRootFromJSON, type LoadedTrustedRoot } from "../../../server/src/verify/trustedRoot";
import { parseKeysResponse } from "../../../server/src/verify/npmKeys";
import { integrityOf, startTestRegistry, type PackageSpec, type TestRegistry } from "../../registry";

const SPECS: PackageSpec[] = [
  { name: "pool-good", versions: [{ version: "1.0.0", provenance: true }] },
  { name: "pool-wrong-digest", versions: [{ version: "1.0.0", provenance: true }] },
];

let registry: TestRegistry;
let root: LoadedTrustedRoot;

before(async () => {
  registry = await startTestRegistry({ packages: SPECS, misbehaviour: { "pool-wrong-digest@1.0.0": { kind: "attestation-wrong-digest" } } });
  const loaded = trustedRootFromJSON(JSON.stringify(registry.trustedRoot), "file");
  assert.ok(loaded.ok);
  root = loaded.root;
});
after(() => registry.stop());

test("worker verdicts equal main-thread verdicts, valid and tampered alike", { skip: workerScript() === undefined ? "no worker script next to the module" : false }, async () => {
  const keys = parseKeysResponse(registry.keysJson).keys;
  const pool = new AttestationPool(2);
  pool.warm(); // as the engine does for a large check: the first worker starts before any task
  try {
    for (const spec of SPECS) {
      const version = spec.versions[0];
      const pkg = { name: spec.name, version: version.version, integrity: integrityOf(spec.name, version) };
      const doc = await (await fetch(`${registry.url}-/npm/v1/attestations/${spec.name}@${version.version}`)).json();
      const inline = verifyAttestations(pkg, doc, { trust: prepareTrust(root, keys) });
      const pooled = await pool.verify(pkg, doc, root, keys);
      assert.deepEqual(pooled, inline, spec.name);
    }
    assert.equal(pool.unavailable, undefined);
  } finally {
    await pool.close();
  }
});
