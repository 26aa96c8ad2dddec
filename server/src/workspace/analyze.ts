// One lockfile, from text to verdicts: the pipeline the language server and the CLI share.
import { packagesOf, parseLockfile, type LockedPackage, type ParsedLockfile, type WorkspaceManifest } from "../lockfile/index";
import type { Checker, CheckResult } from "../verify/checker";

export interface AnalyzeInput {
  /** Absolute path; its base name decides the format. */
  path: string;
  text: string;
  manifests: WorkspaceManifest[];
  checker: Checker;
  offline: boolean;
  /** When false, packages that are only needed for development are left out (not checked, not reported). */
  includeDev: boolean;
  signal?: AbortSignal;
}

export interface LockfileAnalysis {
  path: string;
  parsed: ParsedLockfile;
  /** The packages that were checked (dev-only ones dropped when includeDev is off). */
  packages: LockedPackage[];
  result: CheckResult;
}

export async function analyzeLockfile(input: AnalyzeInput): Promise<LockfileAnalysis> {
  const parsed = parseLockfile(input.path, input.text, { manifests: input.manifests });
  const all = packagesOf(parsed);
  const packages = input.includeDev ? all : all.filter((p) => !p.dev);
  input.signal?.throwIfAborted();
  const result = await input.checker.check({
    lockfilePath: input.path,
    parsed,
    packages,
    offline: input.offline,
    signal: input.signal,
  });
  return { path: input.path, parsed, packages, result };
}
