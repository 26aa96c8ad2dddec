// Bundled dependencies come inside their parent's tarball: they are marked, and never judged on their own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { packagesOf, parseLockfile } from "../../../server/src/lockfile/index";
import { parseOnlyChecker } from "../../../server/src/verify/checker";

const LOCKFILE = JSON.stringify(
  {
    name: "app",
    lockfileVersion: 3,
    requires: true,
    packages: {
      "": { name: "app", dependencies: { parent: "^1.0.0" } },
      "node_modules/parent": { version: "1.0.0", integrity: "sha512-AAAA", bundleDependencies: ["child"], dependencies: { child: "^2.0.0" } },
      "node_modules/parent/node_modules/child": { version: "2.0.0", inBundle: true },
    },
  },
  null,
  2,
);

test("inBundle entries are marked and get a not-from-registry verdict that names the parent's tarball", async () => {
  const parsed = parseLockfile("package-lock.json", LOCKFILE);
  const packages = packagesOf(parsed);
  const child = packages.find((p) => p.name === "child");
  assert.equal(child?.inBundle, true);
  assert.equal(packages.find((p) => p.name === "parent")?.inBundle, undefined);
  const result = await parseOnlyChecker.check({ lockfilePath: "/x/package-lock.json", parsed, packages, offline: true });
  const verdict = result.verdicts.get("child@2.0.0");
  assert.equal(verdict?.status, "not-from-registry");
  assert.match(verdict?.reasons[0] ?? "", /parent's tarball/);
});
