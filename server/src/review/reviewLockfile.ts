// One lockfile against its base revision: read it (and its manifests) from git, check the base side with the same
// Checker as the new side, and diff. The diff itself is pure (diff.ts); this is the I/O around it.
import * as path from "node:path";
import { packageKey, packagesOf, parseLockfile } from "../lockfile/index";
import type { RegistryNotice } from "../protocol/verdicts";
import type { Checker } from "../verify/checker";
import type { LockfileAnalysis } from "../workspace/analyze";
import { readManifests } from "../workspace/discovery";
import { errorCode, type FileSystem } from "../workspace/fileSystem";
import { diffLockfiles, type DiffItem, type LockfileDiff } from "./diff";

export interface LockfileReview {
  existedAtBase: boolean;
  diff: LockfileDiff;
  /** Registry notices from checking the base side (the same registries usually: deduplicated by the report). */
  baseNotices: RegistryNotice[];
  /** Manifest warnings from the base revision, as plain sentences. */
  warnings: string[];
}

export interface ReviewInput {
  /** The new side, already analysed (its path is the work tree's absolute path). */
  head: LockfileAnalysis;
  /** The repository at the base revision (gitRevisionFileSystem), addressed by work-tree paths. */
  baseFs: FileSystem;
  checker: Checker;
  offline: boolean;
  signal?: AbortSignal;
}

/** Rejects only on unexpected git failures; a lockfile missing at the base is `existedAtBase: false`. */
export async function reviewLockfile(input: ReviewInput): Promise<LockfileReview> {
  const headItems = itemsOf(input.head);
  let text: string;
  try {
    text = await input.baseFs.readFile(input.head.path, input.signal);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
    return { existedAtBase: false, diff: diffLockfiles(undefined, headItems), baseNotices: [], warnings: [] };
  }
  const reading = await readManifests(input.baseFs, path.dirname(input.head.path));
  const parsed = parseLockfile(input.head.path, text, { manifests: reading.manifests });
  const basePackages = packagesOf(parsed);
  // Only base packages whose name is still locked can pair with a new one; removed names are just counted, so
  // they are not sent to the registry.
  const headNames = new Set(input.head.packages.map((p) => p.name));
  const needed = basePackages.filter((p) => headNames.has(p.name));
  const result = await input.checker.check({ lockfilePath: input.head.path, parsed, packages: needed, offline: input.offline, signal: input.signal });
  const baseItems: DiffItem[] = basePackages.map((pkg) => ({ pkg, status: result.verdicts.get(packageKey(pkg))?.status ?? "unverifiable" }));
  return { existedAtBase: true, diff: diffLockfiles(baseItems, headItems), baseNotices: result.notices, warnings: reading.warnings };
}

function itemsOf(analysis: LockfileAnalysis): DiffItem[] {
  return analysis.packages.map((pkg) => ({ pkg, status: analysis.result.verdicts.get(packageKey(pkg))?.status ?? "unverifiable" }));
}
