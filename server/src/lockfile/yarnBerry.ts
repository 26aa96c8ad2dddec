// Yarn Berry (2+) yarn.lock: `__metadata`, then one entry per resolved package keyed by all the descriptors
// that resolve to it. See https://yarnpkg.com/advanced/lockfile (protocols: https://yarnpkg.com/protocols).
import type { Importer, ImporterDependency, LockEntry, ParsedLockfile, ParseProblem, Range, SourceKind } from "./model";
import type { ParseOptions, WorkspaceManifest } from "./index";
import type { LineIndex } from "./lineIndex";
import { maxSatisfying } from "semver";
import { type BerryRecord, scanBerryYaml } from "./yarnBerryYaml";
import { parseBerryYamlWithLibrary } from "./yarnBerryLibrary";
import * as shared from "./yarnShared";
import { type Root, isGitSpec, markReached } from "./yarnShared";

// Called for every descriptor. Under tsx (bench/parse.ts, the tests) an imported binding is an export-getter call
// at each use; bound once, it is a plain call.
const { splitDescriptor } = shared;

/** `__metadata.version` values Yarn 2 to 4 have written. */
const KNOWN_VERSIONS = new Set(["4", "5", "6", "7", "8", "9", "10"]);

/** Records from the hand scanner, or from the `yaml` library when the file leaves the scanner's subset. */
export function readBerryRecords(text: string, lines: () => LineIndex, problems: ParseProblem[], scanned?: ScanResult): BerryRecord[] {
  const scanProblems: ParseProblem[] = [];
  const result = scanned ?? { records: scanBerryYaml(text, scanProblems), problems: scanProblems };
  if (Array.isArray(result.records)) {
    problems.push(...result.problems);
    return result.records;
  }
  return parseBerryYamlWithLibrary(text, lines(), problems);
}

/** A scan already made by the caller (it scans first to learn whether the file has conflict markers). */
export interface ScanResult {
  records: ReturnType<typeof scanBerryYaml>;
  problems: ParseProblem[];
}

export function sourceOfReference(reference: string): SourceKind {
  if (reference.startsWith("npm:")) return "registry";
  if (reference.startsWith("workspace:")) return "workspace";
  if (reference.startsWith("patch:")) return "patch";
  if (reference.startsWith("link:") || reference.startsWith("portal:")) return "link";
  if (reference.startsWith("file:") || reference.startsWith("exec:")) return "file";
  if (isGitSpec(reference)) return "git";
  if (/^https?:/.test(reference)) return "tarball";
  // A bare path (`./vendor/x.tgz`) is Yarn's file: shorthand.
  return "file";
}

/** `patch:fsevents@npm%3A^2.3.3#optional!builtin<compat/fsevents>` -> `fsevents@npm:^2.3.3`. */
export function patchedDescriptor(reference: string): string | undefined {
  if (!reference.startsWith("patch:")) return undefined;
  const hash = reference.indexOf("#");
  const inner = reference.slice(6, hash === -1 ? reference.length : hash);
  try {
    return decodeURIComponent(inner);
  } catch (error) {
    // A malformed escape: use it as written, the lookup will just not find it.
    return inner.length > 0 ? inner : String(error);
  }
}


/**
 * One name's descriptors: its first range and entry inline (most names have one), the others in `more`. The first
 * range is compared, not looked up: hashing each freshly sliced range for a Map lookup was a tenth of a Berry parse.
 * One class for every name, so the lookups on every dependency see one object shape.
 */
class NameSlot {
  more: Map<string, number> | undefined = undefined;
  /**
   * Yarn's builtin compat patches (fsevents, resolve, typescript) by the plain range they replace, when this name has
   * one: attached after filing, so the usual dependency pays one field check instead of a lookup in another map.
   */
  builtin: Map<string, number> | undefined = undefined;
  /**
   * The last range a dependency found among this name's other ranges (`more`), and its entry: half the dependencies of
   * the Berry corpus file name another range than the first, and a third of those the same one as the name's last
   * dependency (`workspace:^` from every workspace); compared, it saves a hash of the range and a lookup.
   */
  hitRange: string | undefined = undefined;
  hitIndex = -1;
  constructor(readonly range: string, readonly index: number) {}
}

function findRange(slot: NameSlot, range: string): number | undefined {
  return slot.range === range ? slot.index : slot.more === undefined ? undefined : slot.more.get(range);
}

/** Descriptors as name -> range -> entry index. Two levels so lookups never build `name@range` strings. */
class DescriptorMap {
  readonly byName = new Map<string, NameSlot>();

  get(name: string, range: string): number | undefined {
    const slot = this.byName.get(name);
    return slot === undefined ? undefined : findRange(slot, range);
  }

  /** Files the descriptor, replacing an earlier entry for it. */
  set(name: string, range: string, index: number): void {
    const slot = this.byName.get(name);
    this.lastSlot = undefined;
    if (slot === undefined || slot.range === range) {
      const replaced = new NameSlot(range, index);
      if (slot !== undefined) (replaced.more = slot.more), (replaced.builtin = slot.builtin);
      this.byName.set(name, replaced);
    } else (slot.more ??= new Map<string, number>()).set(range, index);
  }

  setFirst(name: string, range: string, index: number): void {
    if (this.get(name, range) === undefined) this.set(name, range, index);
  }

  /**
   * The name add() filed last and its slot. Keys come sorted, so a name's versions are consecutive entries and a key's
   * descriptors usually share their name: those descriptors skip the name lookup (~1,100 of ~2,500 on the Berry corpus
   * file), the same name being compared instead of hashed and looked up. Cleared by set(), which replaces slots.
   */
  private lastName = "";
  private lastSlot: NameSlot | undefined = undefined;

  /** Files the descriptor unless it is already there; false then (one name lookup instead of a get and a set). */
  add(name: string, range: string, index: number): boolean {
    const slot = this.lastSlot !== undefined && name === this.lastName ? this.lastSlot : this.byName.get(name);
    this.lastName = name;
    if (slot === undefined) {
      this.byName.set(name, (this.lastSlot = new NameSlot(range, index)));
      return true;
    }
    this.lastSlot = slot;
    if (slot.range === range) return false;
    if (slot.more === undefined) slot.more = new Map<string, number>();
    else if (slot.more.has(range)) return false;
    slot.more.set(range, index);
    return true;
  }
}

/** The distinct entries a name's descriptors resolve to, in the order they were filed. */
function entriesOf(slot: NameSlot): number[] {
  return slot.more === undefined ? [slot.index] : [...new Set([slot.index, ...slot.more.values()])];
}

const PROTOCOL = /^[a-z]+:/i;

/** Shared by every entry without dependencies; the walk only reads it. */
const NO_EDGES: number[] = [];

/**
 * The `dependencies` of every entry without any: one frozen list instead of an array per entry (nothing writes to a
 * parsed entry's list; frozen, a writer would fail loudly instead of changing every entry).
 */
const NO_DEPENDENCIES = Object.freeze([]) as unknown as string[];

/** Whether `to` is among the first n values (an entry lists a target once). */
function firstOf(values: number[], n: number, to: number): boolean {
  for (let k = 0; k < n; k++) if (values[k] === to) return true;
  return false;
}

/** The first n targets as an entry's edges, and their ids as its dependencies. */
function edgesOf(entry: LockEntry, targets: number[], n: number, entries: LockEntry[]): number[] {
  const edges = new Array<number>(n);
  const ids = new Array<string>(n);
  for (let k = 0; k < n; k++) {
    edges[k] = targets[k];
    ids[k] = entries[targets[k]].id;
  }
  entry.dependencies = ids;
  return edges;
}

export function parseYarnBerry(text: string, lines: () => LineIndex, options: ParseOptions, problems: ParseProblem[], scanned?: ScanResult): ParsedLockfile {
  const records = readBerryRecords(text, lines, problems, scanned);
  const rangeOf = (r: BerryRecord): Range => ({ start: { line: r.line, character: r.keyStart }, end: { line: r.line, character: r.keyEnd } });
  let lockfileVersion: string | number | undefined;
  const entries: LockEntry[] = [];
  const kept: BerryRecord[] = [];
  const byDescriptor = new DescriptorMap();
  // Ranges without their `::locator=` suffix, for link:/portal:/file: dependencies written without it.
  const byBareDescriptor = new DescriptorMap();
  // Yarn applies its builtin compat patches (fsevents, resolve, typescript) in place of the plain descriptor.
  const builtinPatchOf = new DescriptorMap();
  // The last descriptor name, kept across entries (a name's versions are consecutive keys): the same string object
  // then, so its hash is computed once and byDescriptor.add compares it by identity.
  let lastName = "";
  for (const record of records) {
    if (record.key === "__metadata") {
      const version = record.version;
      // Written as a YAML number (`version: 10`); kept a string only if it is not one.
      lockfileVersion = version !== undefined && /^\d+$/.test(version) ? Number(version) : version;
      if (version === undefined || !KNOWN_VERSIONS.has(version)) {
        problems.push({
          range: rangeOf(record),
          severity: "information",
          code: "unknown-lockfile-version",
          message: `Yarn lockfile version ${version ?? "(missing)"} is not one this reader knows (4 to 10); it is read as the newest.`,
        });
      }
      continue;
    }
    const { resolution, version } = record;
    if (!record.fields || resolution === undefined || version === undefined) {
      problems.push({
        range: rangeOf(record),
        severity: "error",
        code: "incomplete-entry",
        message: "This entry has no `resolution` or `version` (the file may be cut short); it is left out.",
      });
      continue;
    }
    const resolved = splitDescriptor(resolution);
    const source = sourceOfReference(resolved.range);
    const name = source === "patch" ? splitDescriptor(patchedDescriptor(resolved.range) ?? resolution).name : resolved.name;
    const key = record.key;
    const range = rangeOf(record);
    // Berry's `checksum` (`10/<hex>`, `10c0/<hex>`) hashes Yarn's own zip of the package, not the registry
    // tarball, so it is never an `integrity`: npm signatures and provenance cannot be checked against it.
    // One literal per shape: a field added afterwards allocated a property store for nearly every entry.
    const entry: LockEntry =
      record.checksum === undefined
        ? { id: key, name, version, source, resolved: resolution, range, dependencies: NO_DEPENDENCIES }
        : { id: key, name, version, source, resolved: resolution, checksum: record.checksum, range, dependencies: NO_DEPENDENCIES };
    const at = entries.length;
    // The key's descriptors (`a@npm:^1, a@npm:^1.2`) walked in place: no array of split objects per entry.
    let alias: string | undefined;
    let ownName = false;
    for (let from = 0; from <= key.length; ) {
      let stop = key.indexOf(", ", from);
      if (stop === -1) stop = key.length;
      const sep = key.indexOf("@", from + 1);
      let dName = sep === -1 || sep >= stop ? key.slice(from, stop) : key.slice(from, sep);
      const dRange = sep === -1 || sep >= stop ? "" : key.slice(sep + 1, stop);
      from = stop + 2;
      // A key's descriptors usually share one name: the same string object then, hashed once for the lookups.
      if (dName === lastName) dName = lastName;
      else lastName = dName;
      // Installed under another name than its own only when no descriptor uses the real name.
      if (dName === name) ownName = true;
      else alias ??= dName;
      if (!byDescriptor.add(dName, dRange, at)) {
        problems.push({
          range,
          severity: "warning",
          code: "duplicate-key",
          message: `\`${dName}@${dRange}\` is locked twice; the first entry is used.`,
        });
        continue;
      }
      const locator = dRange.indexOf("::locator=");
      if (locator !== -1) byBareDescriptor.setFirst(dName, dRange.slice(0, locator), at);
      if (dRange.startsWith("patch:") && dRange.includes("builtin<")) {
        const base = patchedDescriptor(dRange);
        if (base !== undefined) {
          const b = splitDescriptor(base);
          builtinPatchOf.set(b.name, b.range, at);
        }
      }
    }
    if (!ownName && alias !== undefined) entry.alias = alias;
    entries.push(entry);
    kept.push(record);
  }

  // Each builtin patch is looked up through the slot of the name it patches (a field check on every other name).
  for (const [patched, slot] of builtinPatchOf.byName) {
    const target = byDescriptor.byName.get(patched);
    if (target === undefined) continue;
    target.builtin = new Map<string, number>().set(slot.range, slot.index);
    if (slot.more !== undefined) for (const [r, i] of slot.more) target.builtin.set(r, i);
  }

  /** A dependency's entry beyond the usual exact descriptor (the caller tries that first). */
  const resolve = (slot: NameSlot, name: string, range: string, parentResolution: string): number | undefined => {
    const builtin = slot.builtin;
    if (builtin === undefined) {
      const found = findRange(slot, range);
      if (found !== undefined) {
        slot.hitRange = range;
        slot.hitIndex = found;
        return found;
      }
    } else {
      const found = builtin.get(range) ?? findRange(slot, range);
      if (found !== undefined) return found;
    }
    // Older lockfiles (and manifests) write `^1.0.0` where keys say `npm:^1.0.0`.
    if (!PROTOCOL.test(range)) {
      const npmRange = `npm:${range}`;
      const npm = (builtin === undefined ? undefined : builtin.get(npmRange)) ?? findRange(slot, npmRange);
      if (npm !== undefined) return npm;
    } else if (!range.startsWith("npm:")) {
      const linked = findRange(slot, `${range}::locator=${encodeURIComponent(parentResolution)}`) ?? byBareDescriptor.get(name, range);
      if (linked !== undefined) return linked;
    }
    // The descriptor was rewritten before locking (package.json `resolutions`, `.yarnrc.yml` catalogs), and the
    // lockfile does not record how: take the only entry of that name, or the highest version the range allows.
    const named = entriesOf(slot);
    if (named.length === 1) return named[0];
    const semverRange = range.startsWith("npm:") ? range.slice(4) : range;
    // `catalog:`, `workspace:`...: no semver range, and semver would throw and catch inside for each one.
    if (PROTOCOL.test(semverRange)) return undefined;
    const versions = named.map((i) => entries[i].version);
    const best = maxSatisfying(versions, semverRange);
    return best === null ? undefined : named[versions.indexOf(best)];
  };

  // The graph by entry index, for the dev/optional walk (no id -> index map needed).
  const children: number[][] = [];
  const optionalTargets: (number[] | undefined)[] = [];
  const roots: Root[] = [];
  const workspaceDeps = new Map<number, ImporterDependency[]>();
  // The entry index of each declared dependency of a workspace (-1: unresolved), in the same order.
  const workspaceTargets = new Map<number, number[]>();
  const manifests = new Map<string, WorkspaceManifest>((options.manifests ?? []).map((m) => [m.path, m]));
  const byName = byDescriptor.byName;
  // An entry's edges are gathered here, then copied into arrays of their final size: arrays grown by push were a
  // third of what a parse allocates (the GC work that follows lands in whatever runs next).
  const scratch: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const record = kept[i];
    let n = 0;
    let optionalOut: number[] | undefined;
    // Only workspaces become importers; other entries need just their edges.
    const declared: ImporterDependency[] | undefined = entry.source === "workspace" ? [] : undefined;
    const targets: number[] | undefined = declared === undefined ? undefined : [];
    const deps = record.dependencies;
    for (let k = 0; k < deps.length; k += 2) {
      const depName = deps[k];
      const range = deps[k + 1];
      // The usual dependency names its descriptor's first (often only) range: one name lookup and one comparison.
      const slot = byName.get(depName);
      const usual = slot === undefined || slot.builtin !== undefined ? undefined : slot.range === range ? slot.index : slot.hitRange === range ? slot.hitIndex : undefined;
      const to = usual ?? (slot === undefined ? undefined : resolve(slot, depName, range, record.resolution ?? ""));
      const optional = record.optional.length > 0 && record.optional.includes(depName);
      if (declared !== undefined) {
        const dep: ImporterDependency = { name: depName, spec: range };
        if (to !== undefined) dep.entryId = entries[to].id;
        if (optional) dep.optional = true;
        declared.push(dep);
        targets!.push(to ?? -1);
      }
      if (to === undefined) {
        if (slot === undefined) {
          problems.push({
            range: entry.range,
            severity: "warning",
            code: "unresolved-dependency",
            message: `${entry.name}@${entry.version} depends on \`${depName}@${range}\`, which no entry locks. Run \`yarn install\` to update the lockfile.`,
          });
        }
        continue;
      }
      if (!firstOf(scratch, n, to)) scratch[n++] = to;
      if (optional) (optionalOut ??= []).push(to);
    }
    if (entry.source === "patch") {
      const base = patchedDescriptor(splitDescriptor(entry.id.split(", ")[0]).range);
      const b = base === undefined ? undefined : splitDescriptor(base);
      const to = b === undefined ? undefined : byDescriptor.get(b.name, b.range);
      if (to !== undefined && to !== i) scratch[n++] = to;
    }
    children.push(n === 0 ? NO_EDGES : edgesOf(entry, scratch, n, entries));
    optionalTargets.push(optionalOut);
    if (declared !== undefined) {
      workspaceDeps.set(i, declared);
      workspaceTargets.set(i, targets!);
    }
  }

  const importers: Importer[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (entry.source !== "workspace") continue;
    const path = splitDescriptor(entry.resolved ?? "").range.slice("workspace:".length) || ".";
    const dependencies = workspaceDeps.get(i) ?? [];
    const manifest = manifests.get(path);
    // The lockfile merges a workspace's dependencies and devDependencies; only its package.json tells them apart.
    if (manifest !== undefined) {
      for (const dep of dependencies) {
        if (manifest.devDependencies?.[dep.name] !== undefined && manifest.dependencies?.[dep.name] === undefined) dep.dev = true;
        if (manifest.optionalDependencies?.[dep.name] !== undefined) dep.optional = true;
      }
    }
    importers.push({ path, name: entry.name, dependencies });
    const targets = workspaceTargets.get(i) ?? [];
    dependencies.forEach((dep, k) => {
      if (targets[k] >= 0) roots.push({ index: targets[k], dev: dep.dev === true, optional: dep.optional === true });
    });
    // Workspace entries are importers themselves: whatever they reach counts as reached.
    roots.push({ index: i, dev: true, optional: true, workspace: true });
  }
  if (importers.length > 0) markReached(entries, children, optionalTargets, roots);
  return { format: "yarn-berry", lockfileVersion, entries, importers, problems };
}
