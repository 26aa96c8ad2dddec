import type { LockedPackage, ParsedLockfile } from "../lockfile/model";
import { packageKey } from "../lockfile/model";
import type { RegistryNotice, Verdict } from "../protocol/verdicts";

/** What the language server and the CLI ask of the verification engine. */
export interface CheckRequest {
  /** Absolute path of the lockfile (its folder decides which .npmrc and policy apply). */
  lockfilePath: string;
  parsed: ParsedLockfile;
  packages: LockedPackage[];
  /** No network at all: cached verdicts and shipped trust material only. */
  offline: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Ignore every cached verdict (the results are still cached). */
  fresh?: boolean;
}

export interface CheckResult {
  /** Keyed by packageKey(package). Every package of the request has one. */
  verdicts: Map<string, Verdict>;
  /** Facts about whole registries, each said once (e.g. a mirror that strips signatures). */
  notices: RegistryNotice[];
}

export interface Checker {
  check(request: CheckRequest): Promise<CheckResult>;
  /** The trust material in use, in words (e.g. "Sigstore trusted root from 2025-09-23 (shipped)"), when it has any. */
  describeTrust?(): string;
}

/** The verdict of a package that verification never looks at, or cannot yet. */
export function staticVerdict(pkg: LockedPackage): Verdict | undefined {
  if (pkg.source === "registry" && pkg.inBundle === true) {
    return {
      status: "not-from-registry",
      signature: { status: "not-checked" },
      provenance: { status: "not-checked" },
      reasons: ["Bundled inside its parent's tarball (bundleDependencies): it is never downloaded on its own, so the parent's integrity, signature and provenance cover it."],
    };
  }
  if (pkg.source !== "registry") {
    return {
      status: "not-from-registry",
      signature: { status: "not-checked" },
      provenance: { status: "not-checked" },
      reasons: [`Comes from a ${pkg.source} source${pkg.resolved ? ` (${pkg.resolved})` : ""}, not from a registry: no registry signature or provenance applies.`],
    };
  }
  return undefined;
}

/** Parse-only checking: what is known without any registry. */
export const parseOnlyChecker: Checker = {
  async check(request) {
    const verdicts = new Map<string, Verdict>();
    for (const pkg of request.packages) {
      verdicts.set(
        packageKey(pkg),
        staticVerdict(pkg) ?? {
          status: "unverifiable",
          signature: { status: "not-checked" },
          provenance: { status: "not-checked" },
          reasons: ["Not checked against a registry."],
        },
      );
    }
    return { verdicts, notices: [] };
  },
};
