// Yarn Berry (2+) yarn.lock: `__metadata`, then one entry per resolved package keyed by all the descriptors
// that resolve to it. See https://yarnpkg.com/advanced/lockfile (protocols: https://yarnpkg.com/protocols).
import type { Importer, ImporterDependency, LockEntry, ParsedLockfile, ParseProblem, Range, SourceKind } from "./model";
import type { ParseOptions, WorkspaceManifest } from "./index";
import type { LineIndex } from "./lineIndex";
import { maxSatisfying } from "semver";
import { type BerryMap, type BerryRecord, type BerryValue, parseBerryYamlWithLibrary, scanBerryYaml } from "./yarnBerryYaml";
import { type OptionalEdges, addOptionalEdge, aliasOf, isGitSpec, markDevAndOptional, splitDescriptor } from "./yarnShared";

/** `__metadata.version` values Yarn 2 to 4 have written. */
const KNOWN_VERSIONS = new Set(["4", "5", "6", "7", "8", "9", "10"]);

/** Records from the hand scanner, or from the `yaml` library when the file leaves the scanner's subset. */
export function readBerryRecords(text: string, lines: () => LineIndex, problems: ParseProblem[]): BerryRecord[] {
  const scanProblems: ParseProblem[] = [];
  const scanned = scanBerryYaml(text, scanProblems);
  if (Array.isArray(scanned)) {
    problems.push(...scanProblems);
    return scanned;
  }
  return parseBerryYamlWithLibrary(text, lines(), problems);
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

class DescriptorMap {
  private readonly byName = new Map<string, Map<string, string>>();

  ranges(name: string): Map<string, string> | undefined {
    return this.byName.get(name);
  }

  get(name: string, range: string): string | undefined {
    return this.byName.get(name)?.get(range);
  }

  set(name: string, range: string, id: string): void {
    const ranges = this.byName.get(name);
    if (ranges === undefined) this.byName.set(name, new Map([[range, id]]));
    else ranges.set(range, id);
  }

  setFirst(name: string, range: string, id: string): void {
    if (this.get(name, range) === undefined) this.set(name, range, id);
  }
}

function stringField(map: BerryMap, key: string): string | undefined {
  const v = map.get(key);
  return typeof v === "string" ? v : undefined;
}

function mapField(map: BerryMap, key: string): BerryMap | undefined {
  const v = map.get(key);
  return typeof v === "object" ? v : undefined;
}

export function parseYarnBerry(text: string, lines: () => LineIndex, options: ParseOptions, problems: ParseProblem[]): ParsedLockfile {
  const records = readBerryRecords(text, lines, problems);
  const rangeOf = (r: BerryRecord): Range => ({ start: { line: r.line, character: r.keyStart }, end: { line: r.line, character: r.keyEnd } });
  let lockfileVersion: string | number | undefined;
  const entries: LockEntry[] = [];
  const maps: BerryMap[] = [];
  const resolutions: string[] = [];
  // Descriptors as name -> range -> entry id. Two levels so lookups never build `name@range` strings: on a
  // 20k-line file the concatenations and their hashing were most of the interpretation time.
  const byDescriptor = new DescriptorMap();
  // Ranges without their `::locator=` suffix, for link:/portal:/file: dependencies written without it.
  const byBareDescriptor = new DescriptorMap();
  // Yarn applies its builtin compat patches (fsevents, resolve, typescript) in place of the plain descriptor.
  const builtinPatchOf = new DescriptorMap();
  for (const record of records) {
    if (record.key === "__metadata") {
      const version = typeof record.value === "object" ? stringField(record.value, "version") : undefined;
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
    const map = typeof record.value === "object" ? record.value : undefined;
    const resolution = map && stringField(map, "resolution");
    const version = map && stringField(map, "version");
    if (map === undefined || resolution === undefined || version === undefined) {
      problems.push({
        range: rangeOf(record),
        severity: "error",
        code: "incomplete-entry",
        message: "This entry has no `resolution` or `version` (the file may be cut short); it is left out.",
      });
      continue;
    }
    const descriptors = record.key.split(", ").map(splitDescriptor);
    const resolved = splitDescriptor(resolution);
    const source = sourceOfReference(resolved.range);
    const name = source === "patch" ? splitDescriptor(patchedDescriptor(resolved.range) ?? resolution).name : resolved.name;
    const entry: LockEntry = { id: record.key, name, version, source, resolved: resolution, range: rangeOf(record), dependencies: [] };
    const alias = aliasOf(descriptors.map((d) => d.name), name);
    if (alias !== undefined) entry.alias = alias;
    // Berry's `checksum` (`10/<hex>`, `10c0/<hex>`) hashes Yarn's own zip of the package, not the registry
    // tarball, so it is never an `integrity`: npm signatures and provenance cannot be checked against it.
    const checksum = stringField(map, "checksum");
    if (checksum !== undefined) entry.checksum = checksum;
    for (const d of descriptors) {
      if (byDescriptor.get(d.name, d.range) !== undefined) {
        problems.push({
          range: entry.range,
          severity: "warning",
          code: "duplicate-key",
          message: `\`${d.name}@${d.range}\` is locked twice; the first entry is used.`,
        });
        continue;
      }
      byDescriptor.set(d.name, d.range, entry.id);
      const locator = d.range.indexOf("::locator=");
      if (locator !== -1) byBareDescriptor.setFirst(d.name, d.range.slice(0, locator), entry.id);
      if (d.range.startsWith("patch:") && d.range.includes("builtin<")) {
        const base = patchedDescriptor(d.range);
        if (base !== undefined) {
          const b = splitDescriptor(base);
          builtinPatchOf.set(b.name, b.range, entry.id);
        }
      }
    }
    entries.push(entry);
    maps.push(map);
    resolutions.push(resolution);
  }

  const versionOf = new Map(entries.map((e) => [e.id, e.version]));
  const resolve = (name: string, range: string, parentResolution: string): string | undefined => {
    const ranges = byDescriptor.ranges(name);
    if (ranges === undefined) return undefined;
    const found = builtinPatchOf.get(name, range) ?? ranges.get(range);
    if (found !== undefined) return found;
    // Older lockfiles (and manifests) write `^1.0.0` where keys say `npm:^1.0.0`.
    if (!/^[a-z]+:/i.test(range)) {
      const npm = builtinPatchOf.get(name, `npm:${range}`) ?? ranges.get(`npm:${range}`);
      if (npm !== undefined) return npm;
    } else if (!range.startsWith("npm:")) {
      const linked = ranges.get(`${range}::locator=${encodeURIComponent(parentResolution)}`) ?? byBareDescriptor.get(name, range);
      if (linked !== undefined) return linked;
    }
    // The descriptor was rewritten before locking (package.json `resolutions`, `.yarnrc.yml` catalogs), and the
    // lockfile does not record how: take the only entry of that name, or the highest version the range allows.
    const named = [...new Set(ranges.values())];
    if (named.length === 1) return named[0];
    const semverRange = range.startsWith("npm:") ? range.slice(4) : range;
    // `catalog:`, `workspace:`...: no semver range, and semver would throw and catch inside for each one.
    if (/^[a-z]+:/i.test(semverRange)) return undefined;
    const versions = named.map((id) => versionOf.get(id) ?? "");
    const best = maxSatisfying(versions, semverRange);
    return best === null ? undefined : named[versions.indexOf(best)];
  };

  const optionalEdges: OptionalEdges = new Map();
  const workspaceDeps = new Map<string, ImporterDependency[]>();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const map = maps[i];
    const meta = mapField(map, "dependenciesMeta");
    const deps = mapField(map, "dependencies");
    // Only workspaces become importers; other entries need just their edges.
    const declared: ImporterDependency[] | undefined = entry.source === "workspace" ? [] : undefined;
    if (deps !== undefined) {
      for (const [depName, range] of deps) {
        if (typeof range !== "string") continue;
        const to = resolve(depName, range, resolutions[i]);
        const depMeta = meta && mapField(meta, depName);
        const optional = depMeta !== undefined && stringField(depMeta, "optional") === "true";
        if (declared !== undefined) {
          const dep: ImporterDependency = { name: depName, spec: range };
          if (to !== undefined) dep.entryId = to;
          if (optional) dep.optional = true;
          declared.push(dep);
        }
        if (to === undefined) {
          if (byDescriptor.ranges(depName) === undefined) {
            problems.push({
              range: entry.range,
              severity: "warning",
              code: "unresolved-dependency",
              message: `${entry.name}@${entry.version} depends on \`${depName}@${range}\`, which no entry locks. Run \`yarn install\` to update the lockfile.`,
            });
          }
          continue;
        }
        if (!entry.dependencies.includes(to)) entry.dependencies.push(to);
        if (optional) addOptionalEdge(optionalEdges, entry.id, to);
      }
    }
    if (entry.source === "patch") {
      const base = patchedDescriptor(splitDescriptor(entry.id.split(", ")[0]).range);
      const b = base === undefined ? undefined : splitDescriptor(base);
      const to = b === undefined ? undefined : byDescriptor.get(b.name, b.range);
      if (to !== undefined && to !== entry.id) entry.dependencies.push(to);
    }
    if (declared !== undefined) workspaceDeps.set(entry.id, declared);
  }

  const manifests = new Map<string, WorkspaceManifest>((options.manifests ?? []).map((m) => [m.path, m]));
  const importers: Importer[] = [];
  for (const entry of entries) {
    if (entry.source !== "workspace") continue;
    const path = splitDescriptor(entry.resolved ?? "").range.slice("workspace:".length) || ".";
    const dependencies = workspaceDeps.get(entry.id) ?? [];
    const manifest = manifests.get(path);
    // The lockfile merges a workspace's dependencies and devDependencies; only its package.json tells them apart.
    if (manifest !== undefined) {
      for (const dep of dependencies) {
        if (manifest.devDependencies?.[dep.name] !== undefined && manifest.dependencies?.[dep.name] === undefined) dep.dev = true;
        if (manifest.optionalDependencies?.[dep.name] !== undefined) dep.optional = true;
      }
    }
    importers.push({ path, name: entry.name, dependencies });
  }
  markDevAndOptional(entries, optionalEdges, importers);
  return { format: "yarn-berry", lockfileVersion, entries, importers, problems };
}
