// What a change does to a lockfile's trust: packages added, changed (version, source, integrity, status) and removed,
// between the lockfile at a base revision and now. Pure: both sides come in already parsed and checked.
import semver from "semver";
import { packageKey, type LockedPackage } from "../lockfile/model";
import type { PackageStatus } from "../protocol/verdicts";

/** One side's package with the status the shared Checker gave it. */
export interface DiffItem {
  pkg: LockedPackage;
  status: PackageStatus;
}

/** What differs between the base and the new package it was paired with. "status" is a trust change. */
export type ChangeAspect = "version" | "source" | "integrity" | "status";

export interface PackageChange {
  kind: "added" | "changed";
  /** The package as it is now. */
  head: DiffItem;
  /** As it was at the base revision; absent when added. */
  base?: DiffItem;
  /** Empty for "added". */
  aspects: ChangeAspect[];
}

export interface LockfileDiff {
  /** In the order the new lockfile lists its packages. */
  changes: PackageChange[];
  /** Base packages with no counterpart now, in base order. */
  removed: LockedPackage[];
  /** Packages identical on both sides (same name, version, source, integrity and status). */
  unchanged: number;
}

/**
 * Pairs packages by registry name: the same name@version@source is the same package (changed only if its integrity,
 * resolved URL or status differs); what remains of a name on both sides is paired lowest version to lowest version (a
 * version bump, or a move from the registry to git); what remains after that was added or removed.
 * `base` undefined means the lockfile did not exist at the base revision: everything is added.
 */
export function diffLockfiles(base: readonly DiffItem[] | undefined, head: readonly DiffItem[]): LockfileDiff {
  const baseByName = groupByName(base ?? []);
  const pairOf = new Map<DiffItem, DiffItem | undefined>();
  const pairedBase = new Set<DiffItem>();
  for (const [name, headItems] of groupByName(head)) {
    const baseItems = baseByName.get(name) ?? [];
    const baseByKey = new Map(baseItems.map((item) => [packageKey(item.pkg), item]));
    const unpairedHead: DiffItem[] = [];
    for (const item of headItems) {
      const same = baseByKey.get(packageKey(item.pkg));
      if (same !== undefined && !pairedBase.has(same)) {
        pairOf.set(item, same);
        pairedBase.add(same);
      } else unpairedHead.push(item);
    }
    const unpairedBase = baseItems.filter((item) => !pairedBase.has(item)).sort(byVersion);
    unpairedHead.sort(byVersion);
    for (const [i, item] of unpairedHead.entries()) {
      const counterpart = unpairedBase[i];
      pairOf.set(item, counterpart);
      if (counterpart !== undefined) pairedBase.add(counterpart);
    }
  }
  const changes: PackageChange[] = [];
  let unchanged = 0;
  for (const item of head) {
    const counterpart = pairOf.get(item);
    if (counterpart === undefined) {
      changes.push({ kind: "added", head: item, aspects: [] });
      continue;
    }
    const aspects = aspectsOf(counterpart, item);
    if (aspects.length === 0) unchanged++;
    else changes.push({ kind: "changed", head: item, base: counterpart, aspects });
  }
  const removed = (base ?? []).filter((item) => !pairedBase.has(item)).map((item) => item.pkg);
  return { changes, removed, unchanged };
}

export function aspectsOf(before: DiffItem, after: DiffItem): ChangeAspect[] {
  const aspects: ChangeAspect[] = [];
  const versionChanged = before.pkg.version !== after.pkg.version;
  if (versionChanged) aspects.push("version");
  if (before.pkg.source !== after.pkg.source || (before.pkg.resolved !== undefined && after.pkg.resolved !== undefined && before.pkg.resolved !== after.pkg.resolved && !versionChanged)) {
    aspects.push("source");
  }
  // Same version, other tarball: the lockfile now trusts different bytes under the same name. Worth a reviewer's eye.
  if (!versionChanged && before.pkg.integrity !== after.pkg.integrity && (before.pkg.integrity !== undefined || after.pkg.integrity !== undefined)) {
    aspects.push("integrity");
  }
  if (before.status !== after.status) aspects.push("status");
  return aspects;
}

function groupByName(items: readonly DiffItem[]): Map<string, DiffItem[]> {
  const groups = new Map<string, DiffItem[]>();
  for (const item of items) {
    const group = groups.get(item.pkg.name);
    if (group === undefined) groups.set(item.pkg.name, [item]);
    else group.push(item);
  }
  return groups;
}

function byVersion(a: DiffItem, b: DiffItem): number {
  const va = semver.valid(a.pkg.version, { loose: true });
  const vb = semver.valid(b.pkg.version, { loose: true });
  if (va !== null && vb !== null) return semver.compare(va, vb, { loose: true });
  return a.pkg.version < b.pkg.version ? -1 : a.pkg.version > b.pkg.version ? 1 : 0;
}

/** Whether a status change makes things worse, by PACKAGE_STATUSES order (problems first); registry moves aside. */
export function isTrustDowngrade(before: PackageStatus, after: PackageStatus, order: readonly PackageStatus[]): boolean {
  if (after === "not-from-registry") return before !== "not-from-registry";
  if (before === "not-from-registry") return false;
  return order.indexOf(after) < order.indexOf(before);
}
