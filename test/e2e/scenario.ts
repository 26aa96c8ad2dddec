// The e2e (and integration) scenario as data: what the loopback registry serves, what misbehaves, and what the
// editor must then show. One package per status, so a wrong grouping or line cannot pass.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Misbehaviour, PackageSpec } from "../registry/index";
import { writeProjectForSpec } from "../registry/index";
import type { PackageStatus } from "../../server/src/protocol/verdicts";

export const SCENARIO_PACKAGES: PackageSpec[] = [
  { name: "verified-pkg", versions: [{ version: "1.3.0", provenance: true, repository: "https://github.com/provenance-lens-e2e/verified-pkg" }] },
  { name: "signed-pkg", versions: [{ version: "2.0.0" }] },
  { name: "unsigned-pkg", versions: [{ version: "3.1.4" }] },
  // The locked 1.0.0 is tampered with; 1.1.0 verifies: the quick fix pins it.
  {
    name: "pin-me",
    versions: [
      { version: "1.0.0", provenance: true },
      { version: "1.1.0", provenance: true, publishedAt: "2025-02-01T00:00:00.000Z", repository: "https://github.com/provenance-lens-e2e/pin-me" },
    ],
  },
  { name: "unknown-key-pkg", versions: [{ version: "0.9.0" }] },
];

export const SCENARIO_MISBEHAVIOUR: Record<string, Misbehaviour> = {
  "pin-me@1.0.0": { kind: "tamper-integrity" },
  "unsigned-pkg": { kind: "strip-signatures" },
  "unknown-key-pkg@0.9.0": { kind: "unknown-key" },
};

export interface ExpectedPackage {
  name: string;
  version: string;
  status: PackageStatus;
  /** Words the hover must contain besides name and status. */
  hoverHas: string[];
}

export const EXPECTED: ExpectedPackage[] = [
  { name: "verified-pkg", version: "1.3.0", status: "verified", hoverHas: ["github.com/provenance-lens-e2e/verified-pkg", "registry signature", "transparency log"] },
  { name: "signed-pkg", version: "2.0.0", status: "signed", hoverHas: ["signature"] },
  { name: "unsigned-pkg", version: "3.1.4", status: "unsigned", hoverHas: [] },
  { name: "pin-me", version: "1.0.0", status: "invalid", hoverHas: ["integrity"] },
  { name: "unknown-key-pkg", version: "0.9.0", status: "unverifiable", hoverHas: [] },
];

/** The quick fix the test applies, and what package.json must then say. */
export const EXPECTED_PIN = { name: "pin-me", from: "1.0.0", to: "1.1.0", titleStartsWith: "Pin pin-me to 1.1.0" };

export interface ScenarioWorkspace {
  folder: string;
  packageJsonPath: string;
  lockfilePath: string;
  /** 1-based line of each package's entry key in package-lock.json, as the Problems panel counts. */
  lineOf: Map<string, number>;
}

/**
 * Writes the fixture workspace: package.json + package-lock.json for the scenario, and .vscode/settings.json that
 * points the extension at the loopback registry and its trusted root, with a private verdict cache.
 */
export function writeScenarioWorkspace(folder: string, registry: { url: string; trustedRootPath: string }, cacheDir: string): ScenarioWorkspace {
  const written = writeProjectForSpec(folder, SCENARIO_PACKAGES, "provenance-lens-e2e");
  mkdirSync(path.join(folder, ".vscode"), { recursive: true });
  const settings = {
    "provenanceLens.registry": registry.url,
    "provenanceLens.trustedRootPath": registry.trustedRootPath,
    "provenanceLens.cachePath": cacheDir,
  };
  writeFileSync(path.join(folder, ".vscode/settings.json"), JSON.stringify(settings, null, 2) + "\n");
  // npm's own configuration names the loopback registry too: whatever the settings do, nothing leaves 127.0.0.1.
  writeFileSync(path.join(folder, ".npmrc"), `registry=${registry.url}\n`);
  const lines = readFileSync(written.lockfilePath, "utf8").split("\n");
  const lineOf = new Map<string, number>();
  for (const pkg of EXPECTED) {
    const index = lines.findIndex((line) => line.includes(`"node_modules/${pkg.name}":`));
    if (index < 0) throw new Error(`the written lockfile has no entry for ${pkg.name}`);
    lineOf.set(pkg.name, index + 1);
  }
  return { folder, packageJsonPath: written.packageJsonPath, lockfilePath: written.lockfilePath, lineOf };
}

