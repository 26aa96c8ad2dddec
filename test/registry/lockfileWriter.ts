// Writes a project (package.json + package-lock.json v3) whose lockfile matches a registry spec, for tests and
// the demo. Like this machine's npm, the lockfile has no `resolved` fields.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildTarball } from "./tarball";
import { tarballManifest } from "./content";
import type { PackageSpec } from "./types";

export interface WrittenProject {
  packageJsonPath: string;
  lockfilePath: string;
}

/** The integrity the test registry serves for a version (tarballs are deterministic, so this can be computed). */
export function integrityOf(name: string, spec: PackageSpec["versions"][number]): string {
  if (spec.integrity !== undefined) return spec.integrity;
  return buildTarball(tarballManifest(name, spec)).integrity;
}

/** Each package's first version is a direct dependency at the top level; its other versions are served, not locked. */
export function writeProjectForSpec(dir: string, packages: PackageSpec[], projectName = "provenance-lens-demo"): WrittenProject {
  mkdirSync(dir, { recursive: true });
  const dependencies: Record<string, string> = {};
  const lockPackages: Record<string, unknown> = {};
  for (const pkg of packages) {
    const first = pkg.versions[0];
    if (first === undefined) continue;
    dependencies[pkg.name] = first.version;
    lockPackages[`node_modules/${pkg.name}`] = {
      version: first.version,
      integrity: integrityOf(pkg.name, first),
      license: "MIT",
      ...(first.dependencies ? { dependencies: first.dependencies } : {}),
    };
  }
  const packageJson = { name: projectName, version: "1.0.0", private: true, dependencies };
  const lockfile = {
    name: projectName,
    version: "1.0.0",
    lockfileVersion: 3,
    requires: true,
    packages: { "": { name: projectName, version: "1.0.0", dependencies }, ...lockPackages },
  };
  const packageJsonPath = path.join(dir, "package.json");
  const lockfilePath = path.join(dir, "package-lock.json");
  writeFileSync(packageJsonPath, JSON.stringify(packageJson, null, 2) + "\n");
  writeFileSync(lockfilePath, JSON.stringify(lockfile, null, 2) + "\n");
  return { packageJsonPath, lockfilePath };
}
