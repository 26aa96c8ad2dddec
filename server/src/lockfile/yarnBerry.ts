// Yarn Berry (2+) yarn.lock: `__metadata`, then one entry per resolved package keyed by all the descriptors
// that resolve to it. See https://yarnpkg.com/advanced/lockfile (protocols: https://yarnpkg.com/protocols).
import type { Importer, ImporterDependency, LockEntry, ParsedLockfile, ParseProblem, Range, SourceKind } from "./model";
import type { ParseOptions, WorkspaceManifest } from "./index";
import type { LineIndex } from "./lineIndex";
import { maxSatisfying } from "semver";
import { type BerryMap, type BerryRecord, parseBerryYamlWithLibrary, scanBerryYaml } from "./yarnBerryYaml";
import { type Edge, aliasOf, isGitSpec, markDevAndOptional, splitDescriptor } from "./yarnShared";

/** `__metadata.version` values Yarn 2 to 4 have written. */
const KNOWN_VERSIONS = new Set(["4", "5", "6", "7", "8", "9", "10"]);

/** Records from the hand scanner, or from the `yaml` library when the file leaves the scanner's subset. */
export function readBerryRecords(text: string, index: LineIndex, problems: ParseProblem[]): BerryRecord[] {
  const scanProblems: ParseProblem[] = [];
  const scanned = scanBerryYaml(text, scanProblems);
  if (Array.isArray(scanned)) {
    problems.push(...scanProblems);
    return scanned;
  }
  return parseBerryYamlWithLibrary(text, index, problems);
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

function stringField(map: BerryMap, key: string): string | undefined {
  const v = map[key];
  return typeof v === "string" ? v : undefined;
}

function mapField(map: BerryMap, key: string): BerryMap | undefined {
  const v = map[key];
  return typeof v === "object" ? v : undefined;
}

export function parseYarnBerry(text: string, index: LineIndex, options: ParseOptions, problems: ParseProblem[]): ParsedLockfile {
  const records = readBerryRecords(text, index, problems);
  const rangeOf = (r: BerryRecord): Range => ({ start: { line: r.line, character: r.keyStart }, end: { line: r.line, character: r.keyEnd } });
  let lockfileVersion: string | number | undefined;
  const entries: LockEntry[] = [];
  const maps: BerryMap[] = [];
  const resolutions: string[] = [];
  const byDescriptor = new Map<string, string>();
  // Descriptors without their `::locator=` suffix, for link:/portal:/file: dependencies written without it.
  const byBareDescriptor = new Map<string, string>();
  // Yarn applies its builtin compat patches (fsevents, resolve, typescript) in place of the plain descriptor.
  const builtinPatchOf = new Map<string, string>();
  // Entries by the names their descriptors use: the last resort for `resolutions` overrides and `catalog:` ranges.
  const byName = new Map<string, string[]>();
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
    const descriptors = record.key.split(/,\s*/);
    const resolved = splitDescriptor(resolution);
    const source = sourceOfReference(resolved.range);
    const name = source === "patch" ? splitDescriptor(patchedDescriptor(resolved.range) ?? resolution).name : resolved.name;
    const entry: LockEntry = { id: record.key, name, version, source, resolved: resolution, range: rangeOf(record), dependencies: [] };
    const alias = aliasOf(descriptors.map((d) => splitDescriptor(d).name), name);
    if (alias !== undefined) entry.alias = alias;
    // Berry's `checksum` (`10/<hex>`, `10c0/<hex>`) hashes Yarn's own zip of the package, not the registry
    // tarball, so it is never an `integrity`: npm signatures and provenance cannot be checked against it.
    const checksum = stringField(map, "checksum");
    if (checksum !== undefined) entry.checksum = checksum;
    for (const descriptor of descriptors) {
      if (byDescriptor.has(descriptor)) {
        problems.push({ range: entry.range, severity: "warning", code: "duplicate-key", message: `\`${descriptor}\` is locked twice; the first entry is used.` });
        continue;
      }
      byDescriptor.set(descriptor, entry.id);
      const named = byName.get(splitDescriptor(descriptor).name);
      if (named === undefined) byName.set(splitDescriptor(descriptor).name, [entry.id]);
      else if (!named.includes(entry.id)) named.push(entry.id);
      const locator = descriptor.indexOf("::locator=");
      if (locator !== -1 && !byBareDescriptor.has(descriptor.slice(0, locator))) byBareDescriptor.set(descriptor.slice(0, locator), entry.id);
      const d = splitDescriptor(descriptor);
      if (d.range.startsWith("patch:") && d.range.includes("builtin<")) {
        const base = patchedDescriptor(d.range);
        if (base !== undefined) builtinPatchOf.set(base, entry.id);
      }
    }
    entries.push(entry);
    maps.push(map);
    resolutions.push(resolution);
  }

  const versionOf = new Map(entries.map((e) => [e.id, e.version]));
  const resolve = (name: string, range: string, parentResolution: string): string | undefined => {
    const candidates = [`${name}@${range}`];
    // Older lockfiles (and manifests) write `^1.0.0` where keys say `npm:^1.0.0`.
    if (!/^[a-z]+:/i.test(range)) candidates.push(`${name}@npm:${range}`);
    for (const d of candidates) {
      const found = builtinPatchOf.get(d) ?? byDescriptor.get(d);
      if (found !== undefined) return found;
    }
    const linked = byDescriptor.get(`${name}@${range}::locator=${encodeURIComponent(parentResolution)}`) ?? byBareDescriptor.get(`${name}@${range}`);
    if (linked !== undefined) return linked;
    // The descriptor was rewritten before locking (package.json `resolutions`, `.yarnrc.yml` catalogs), and the
    // lockfile does not record how: take the only entry of that name, or the highest version the range allows.
    const named = byName.get(name);
    if (named === undefined) return undefined;
    if (named.length === 1) return named[0];
    const semverRange = range.startsWith("npm:") ? range.slice(4) : range;
    const versions = named.map((id) => versionOf.get(id) ?? "");
    const best = maxSatisfying(versions, semverRange);
    return best === null ? undefined : named[versions.indexOf(best)];
  };

  const edges = new Map<string, Edge[]>();
  const workspaceDeps = new Map<string, ImporterDependency[]>();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const map = maps[i];
    const out: Edge[] = [];
    const meta = mapField(map, "dependenciesMeta");
    const deps = mapField(map, "dependencies") ?? {};
    const declared: ImporterDependency[] = [];
    for (const depName in deps) {
      const range = deps[depName];
      if (typeof range !== "string") continue;
      const to = resolve(depName, range, resolutions[i]);
      const depMeta = meta && mapField(meta, depName);
      const optional = depMeta !== undefined && stringField(depMeta, "optional") === "true";
      declared.push(optional ? { name: depName, spec: range, entryId: to, optional } : { name: depName, spec: range, entryId: to });
      if (to === undefined && !byName.has(depName)) {
        problems.push({
          range: entry.range,
          severity: "warning",
          code: "unresolved-dependency",
          message: `${entry.name}@${entry.version} depends on \`${depName}@${range}\`, which no entry locks. Run \`yarn install\` to update the lockfile.`,
        });
        continue;
      }
      if (to === undefined) continue;
      if (!entry.dependencies.includes(to)) entry.dependencies.push(to);
      out.push({ to, optional });
    }
    if (entry.source === "patch") {
      const base = patchedDescriptor(splitDescriptor(entry.id.split(/,\s*/)[0]).range);
      const to = base === undefined ? undefined : byDescriptor.get(base);
      if (to !== undefined && to !== entry.id) {
        entry.dependencies.push(to);
        out.push({ to, optional: false });
      }
    }
    if (entry.source === "workspace") workspaceDeps.set(entry.id, declared);
    edges.set(entry.id, out);
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
  markDevAndOptional(entries, edges, importers);
  return { format: "yarn-berry", lockfileVersion, entries, importers, problems };
}
