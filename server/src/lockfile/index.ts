import type { LockfileFormat, ParsedLockfile } from "./model";
import { parseNpmLockfile } from "./npm";
import { parseYarnLockfile } from "./yarn";
import { parsePnpmLockfile } from "./pnpm";
import { parseBunLockfile, binaryBunLockfile } from "./bun";

export * from "./model";

/** A workspace package's declared dependencies, from its package.json (for formats without importers). */
export interface WorkspaceManifest {
  /** Folder relative to the lockfile, "." for the root, POSIX separators. */
  path: string;
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export interface ParseOptions {
  /** package.json of the root and of each workspace, when known. Formats without importers need them. */
  manifests?: WorkspaceManifest[];
}

/** File names the product reads, in the order a folder's lockfiles are preferred. */
export const LOCKFILE_NAMES = [
  "package-lock.json",
  "npm-shrinkwrap.json",
  "yarn.lock",
  "pnpm-lock.yaml",
  "bun.lock",
  "bun.lockb",
] as const;

export function isLockfileName(fileName: string): boolean {
  const base = fileName.replace(/^.*[\\/]/, "");
  return (LOCKFILE_NAMES as readonly string[]).includes(base);
}

/** The format a lockfile name implies; Yarn classic and Berry share a name and are told apart by content. */
export function formatOfName(fileName: string): LockfileFormat | undefined {
  const base = fileName.replace(/^.*[\\/]/, "");
  switch (base) {
    case "package-lock.json":
    case "npm-shrinkwrap.json":
      return "npm";
    case "yarn.lock":
      return "yarn-classic";
    case "pnpm-lock.yaml":
      return "pnpm";
    case "bun.lock":
    case "bun.lockb":
      return "bun";
    default:
      return undefined;
  }
}

/**
 * Parses any supported lockfile. Never throws on bad input: problems come back in `problems`, with as many
 * entries as could be read.
 */
export function parseLockfile(fileName: string, text: string, options: ParseOptions = {}): ParsedLockfile {
  const base = fileName.replace(/^.*[\\/]/, "");
  if (base === "bun.lockb") return binaryBunLockfile();
  switch (formatOfName(base)) {
    case "npm":
      return parseNpmLockfile(text, options);
    case "yarn-classic":
    case "yarn-berry":
      return parseYarnLockfile(text, options);
    case "pnpm":
      return parsePnpmLockfile(text, options);
    case "bun":
      return parseBunLockfile(text, options);
    default:
      throw new Error(`Not a supported lockfile name: ${base}`);
  }
}
