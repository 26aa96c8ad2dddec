// The pure diff: base packages and new packages with their statuses in, changes out.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { LockedPackage, SourceKind } from "../../server/src/lockfile/model";
import type { PackageStatus } from "../../server/src/protocol/verdicts";
import { diffLockfiles, isTrustDowngrade, type DiffItem } from "../../server/src/review/diff";
import { PACKAGE_STATUSES } from "../../server/src/protocol/verdicts";

/** `name@version status [source resolved] [integrity]`, e.g. `a@1.0.0 signed`, `g@1.0.0 not-from-registry git git+https://x#abc`. */
function item(spec: string): DiffItem {
  const [id, status, source = "registry", resolved, integrity] = spec.split(" ");
  const at = id.lastIndexOf("@");
  const pkg: LockedPackage = {
    name: id.slice(0, at),
    version: id.slice(at + 1),
    source: source as SourceKind,
    resolved: resolved === "-" ? undefined : resolved,
    integrity: integrity ?? `sha512-${id}`,
    dev: false,
    optional: false,
    direct: true,
    entryIds: [id],
    locations: [],
  };
  return { pkg, status: status as PackageStatus };
}

interface Case {
  name: string;
  base: string[] | undefined;
  head: string[];
  /** `kind name: from -> to [aspects]` */
  changes: string[];
  removed: string[];
  unchanged: number;
}

const CASES: Case[] = [
  { name: "nothing changed", base: ["a@1.0.0 signed", "b@2.0.0 verified"], head: ["a@1.0.0 signed", "b@2.0.0 verified"], changes: [], removed: [], unchanged: 2 },
  { name: "lockfile absent at base: all added", base: undefined, head: ["a@1.0.0 signed", "b@2.0.0 verified"], changes: ["added a: -> 1.0.0 signed []", "added b: -> 2.0.0 verified []"], removed: [], unchanged: 0 },
  { name: "empty at base", base: [], head: ["a@1.0.0 unsigned"], changes: ["added a: -> 1.0.0 unsigned []"], removed: [], unchanged: 0 },
  { name: "version bump, same trust", base: ["a@1.0.0 signed"], head: ["a@1.1.0 signed"], changes: ["changed a: 1.0.0 signed -> 1.1.0 signed [version]"], removed: [], unchanged: 0 },
  { name: "version bump loses provenance", base: ["a@1.0.0 verified"], head: ["a@1.1.0 signed"], changes: ["changed a: 1.0.0 verified -> 1.1.0 signed [version,status]"], removed: [], unchanged: 0 },
  { name: "same version, trust changed (registry stopped signing)", base: ["a@1.0.0 signed"], head: ["a@1.0.0 unsigned"], changes: ["changed a: 1.0.0 signed -> 1.0.0 unsigned [status]"], removed: [], unchanged: 0 },
  {
    name: "same version, other integrity",
    base: ["a@1.0.0 signed registry - sha512-one"],
    head: ["a@1.0.0 invalid registry - sha512-two"],
    changes: ["changed a: 1.0.0 signed -> 1.0.0 invalid [integrity,status]"],
    removed: [],
    unchanged: 0,
  },
  { name: "removed package", base: ["a@1.0.0 signed", "gone@1.0.0 signed"], head: ["a@1.0.0 signed"], changes: [], removed: ["gone@1.0.0"], unchanged: 1 },
  {
    name: "registry package replaced by a git dependency",
    base: ["a@1.0.0 verified"],
    head: ["a@1.0.0 not-from-registry git git+https://example.com/a.git#abc"],
    changes: ["changed a: 1.0.0 verified -> 1.0.0 not-from-registry [source,status]"],
    removed: [],
    unchanged: 0,
  },
  {
    name: "git dependency moved to another commit",
    base: ["g@1.0.0 not-from-registry git git+https://x/g.git#aaa -"],
    head: ["g@1.0.0 not-from-registry git git+https://x/g.git#bbb -"],
    changes: ["changed g: 1.0.0 not-from-registry -> 1.0.0 not-from-registry [source]"],
    removed: [],
    unchanged: 0,
  },
  {
    name: "several versions of one name: exact matches kept, the rest paired low to low",
    base: ["a@1.0.0 signed", "a@2.0.0 signed", "a@3.0.0 verified"],
    head: ["a@2.0.0 signed", "a@3.1.0 signed", "a@1.5.0 signed", "a@4.0.0 unsigned"],
    changes: ["changed a: 3.0.0 verified -> 3.1.0 signed [version,status]", "changed a: 1.0.0 signed -> 1.5.0 signed [version]", "added a: -> 4.0.0 unsigned []"],
    removed: [],
    unchanged: 1,
  },
  {
    name: "semver order, not string order, pairs versions",
    base: ["a@9.0.0 signed", "a@10.0.0 signed"],
    head: ["a@10.1.0 signed", "a@9.1.0 signed"],
    changes: ["changed a: 10.0.0 signed -> 10.1.0 signed [version]", "changed a: 9.0.0 signed -> 9.1.0 signed [version]"],
    removed: [],
    unchanged: 0,
  },
  { name: "a new name and a removed name are not paired", base: ["old@1.0.0 signed"], head: ["new@1.0.0 signed"], changes: ["added new: -> 1.0.0 signed []"], removed: ["old@1.0.0"], unchanged: 0 },
];

for (const c of CASES) {
  test(`diffLockfiles: ${c.name}`, () => {
    const diff = diffLockfiles(c.base?.map(item), c.head.map(item));
    const changes = diff.changes.map((ch) =>
      ch.base === undefined
        ? `${ch.kind} ${ch.head.pkg.name}: -> ${ch.head.pkg.version} ${ch.head.status} [${ch.aspects}]`
        : `${ch.kind} ${ch.head.pkg.name}: ${ch.base.pkg.version} ${ch.base.status} -> ${ch.head.pkg.version} ${ch.head.status} [${ch.aspects}]`,
    );
    assert.deepEqual(changes, c.changes);
    assert.deepEqual(diff.removed.map((p) => `${p.name}@${p.version}`), c.removed);
    assert.equal(diff.unchanged, c.unchanged);
  });
}

const DOWNGRADES: [PackageStatus, PackageStatus, boolean][] = [
  ["verified", "signed", true],
  ["signed", "unsigned", true],
  ["signed", "invalid", true],
  ["verified", "not-from-registry", true],
  ["signed", "verified", false],
  ["unsigned", "signed", false],
  ["not-from-registry", "unsigned", false],
  ["verified", "verified", false],
];
for (const [from, to, expected] of DOWNGRADES) {
  test(`isTrustDowngrade(${from} -> ${to}) is ${expected}`, () => assert.equal(isTrustDowngrade(from, to, PACKAGE_STATUSES), expected));
}
