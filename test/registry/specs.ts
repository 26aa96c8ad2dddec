// Package specs as data: the demo set, and specs made from an existing lockfile's entries.
import type { Misbehaviour, PackageSpec } from "./types";

/** Groups `{name, version, integrity}` entries into specs that sign the given integrity (no tarballs). */
export function packagesFromLockfileEntries(
  entries: { name: string; version: string; integrity?: string }[],
  options: { provenance?: (name: string, version: string, index: number) => boolean } = {},
): PackageSpec[] {
  const byName = new Map<string, PackageSpec>();
  const seen = new Set<string>();
  let index = 0;
  for (const entry of entries) {
    const key = `${entry.name}@${entry.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let spec = byName.get(entry.name);
    if (spec === undefined) {
      spec = { name: entry.name, versions: [] };
      byName.set(entry.name, spec);
    }
    spec.versions.push({
      version: entry.version,
      ...(entry.integrity !== undefined ? { integrity: entry.integrity } : {}),
      provenance: options.provenance?.(entry.name, entry.version, index) ?? false,
    });
    index += 1;
  }
  return [...byName.values()];
}

/** A small set for the README quick start: provenance, signature only, scoped, and a dependency edge. */
export const DEMO_PACKAGES: PackageSpec[] = [
  { name: "left-pad-verified", versions: [{ version: "1.3.0", provenance: true, repository: "https://github.com/provenance-lens-demo/left-pad-verified" }] },
  { name: "@demo/scoped-provenance", versions: [{ version: "2.0.1", provenance: true, dependencies: { "signed-only": "^1.0.0" } }] },
  { name: "signed-only", versions: [{ version: "1.0.0" }, { version: "1.1.0", publishedAt: "2025-02-01T00:00:00.000Z" }] },
  { name: "tampered-pkg", versions: [{ version: "0.4.2", provenance: true }] },
  { name: "unsigned-pkg", versions: [{ version: "3.1.4" }] },
  { name: "unknown-key-pkg", versions: [{ version: "0.9.0" }] },
];

/** What misbehaves in the demo, so the quick start shows every kind of verdict. */
export const DEMO_MISBEHAVIOUR: Record<string, Misbehaviour> = {
  "tampered-pkg@0.4.2": { kind: "tamper-integrity" },
  "unsigned-pkg": { kind: "strip-signatures" },
  "unknown-key-pkg@0.9.0": { kind: "unknown-key" },
};
