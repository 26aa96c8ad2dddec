// What the server keeps per checked lockfile: the analysis and what goes with it (the package.json texts that
// diagnostics point at, the policy and its outcome, the settings and checker it was checked with, the review).
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { LockedPackage, ParsedLockfile, WorkspaceManifest } from "../lockfile/index";
import type { PackageOutcome, PolicyOutcome } from "../policy/index";
import type { LockfileReview } from "../review/reviewLockfile";
import { packageKey } from "../lockfile/index";
import type { Settings } from "../protocol/settings";
import type { Checker } from "../verify/checker";
import type { LockfileAnalysis } from "../workspace/analyze";
import { errorCode, type FileSystem } from "../workspace/fileSystem";
import { lazyDependentsIndex, type DependentsIndex } from "./dependents";
import type { ManifestTexts } from "./diagnostics";
import { weakeningNotes, type FolderPolicy } from "./policy";

export interface CheckedLockfile {
  uri: string;
  path: string;
  /** The workspace folder holding it (where `.provenance-lens.json` lives), if any. */
  folderUri?: string;
  /** Document version the analysis is for; null when read from disk. */
  version: number | null;
  /** The text that was checked (the next check of an edit re-parses from it and `analysis.parsed`). */
  text?: string;
  analysis: LockfileAnalysis;
  dependents: DependentsIndex;
  manifests: ManifestTexts;
  /** The folder's `.provenance-lens.json` as it was read for this check. */
  policy: FolderPolicy;
  /** applyPolicy's findings per package (the status first). */
  outcome: PolicyOutcome;
  settings: Settings;
  checker: Checker;
  /** Whether the check ran without the network (setting, untrusted workspace or trust bundle). */
  offline: boolean;
  limited: boolean;
  /** Set while a review is active: this lockfile against the review's base. */
  review?: LockfileReview;
  /** `key`, when the caller has it, is packageKey(pkg) (saves building it again for each of thousands of packages). */
  outcomeOf(pkg: LockedPackage, key?: string): PackageOutcome | undefined;
  /** Where the policy or the settings weaken what is shown for the package, in words. */
  notesOf(pkg: LockedPackage): string[];
}

export function checkedLockfile(fields: Omit<CheckedLockfile, "dependents" | "outcomeOf" | "notesOf">): CheckedLockfile {
  const outcomeOf = (pkg: LockedPackage, key?: string) => fields.outcome.packages.get(key ?? packageKey(pkg));
  return {
    ...fields,
    dependents: lazyDependentsIndex(fields.analysis.parsed),
    outcomeOf,
    notesOf: (pkg) =>
      weakeningNotes(pkg, fields.analysis.result.verdicts.get(packageKey(pkg)), outcomeOf(pkg), {
        policy: fields.policy,
        statusLevels: fields.settings.severity,
        offline: fields.offline && fields.settings.trustBundlePath === "",
        limited: fields.limited,
      }),
  };
}

/** The checked text and its parse, for the next check of the same lockfile to re-parse from. */
export function lastParse(state: CheckedLockfile | undefined): { text: string; parsed: ParsedLockfile } | undefined {
  return state?.text === undefined ? undefined : { text: state.text, parsed: state.analysis.parsed };
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
