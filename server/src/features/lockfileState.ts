// What the server keeps per checked lockfile: the analysis and what goes with it (the package.json texts that
// diagnostics point at, the accepted exceptions, the settings and checker it was checked with).
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { LockedPackage, WorkspaceManifest } from "../lockfile/index";
import type { PolicyException } from "../protocol/messages";
import type { Settings } from "../protocol/settings";
import type { Checker } from "../verify/checker";
import type { LockfileAnalysis } from "../workspace/analyze";
import { errorCode, type FileSystem } from "../workspace/fileSystem";
import { dependentsIndex, type DependentsIndex } from "./dependents";
import type { ManifestTexts } from "./diagnostics";
import { acceptingException } from "./exceptions";

export interface CheckedLockfile {
  uri: string;
  path: string;
  /** The workspace folder holding it (where `.provenance-lens.json` lives), if any. */
  folderUri?: string;
  /** Document version the analysis is for; null when read from disk. */
  version: number | null;
  analysis: LockfileAnalysis;
  dependents: DependentsIndex;
  manifests: ManifestTexts;
  exceptions: readonly PolicyException[];
  settings: Settings;
  checker: Checker;
  acceptedBy(pkg: LockedPackage): PolicyException | undefined;
}

export function checkedLockfile(fields: Omit<CheckedLockfile, "dependents" | "acceptedBy">, now: () => number): CheckedLockfile {
  return {
    ...fields,
    dependents: dependentsIndex(fields.analysis.parsed),
    acceptedBy: (pkg) => acceptingException(fields.exceptions, pkg.name, pkg.version, now()),
  };
}

/** package.json texts of the root and workspaces, by importer path, for pointing diagnostics at them. */
export async function readManifestTexts(fs: FileSystem, lockfileDir: string, manifests: readonly WorkspaceManifest[], signal?: AbortSignal): Promise<Map<string, { uri: string; text: string }>> {
  const texts = new Map<string, { uri: string; text: string }>();
  for (const manifest of manifests) {
    const file = path.join(lockfileDir, manifest.path, "package.json");
    const text = await readOptional(fs, file, signal);
    if (text !== undefined) texts.set(manifest.path, { uri: pathToFileURL(file).href, text });
  }
  return texts;
}

/** A file's text, undefined when it does not exist or cannot be read (the caller treats both as "absent"). */
export async function readOptional(fs: FileSystem, file: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    return await fs.readFile(file, signal);
  } catch (error) {
    if (errorCode(error) === undefined) throw error;
    return undefined;
  }
}
