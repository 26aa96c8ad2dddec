// The one place that decides which verification engine the server and the CLI use.
import { defaultCacheDir, VerdictCache } from "../registry/cache";
import type { Verdict } from "../protocol/verdicts";
import { parseOnlyChecker, type Checker } from "../verify/checker";
import { VerificationEngine } from "../verify/engine";
import type { RegistryKey } from "../verify/npmKeys";
import type { LoadedTrustedRoot } from "../verify/trustedRoot";

export interface CheckerOptions {
  offline: boolean;
  /** false in a restricted (untrusted) workspace: the project's .npmrc is not read. Default true. */
  trusted?: boolean;
  /** Overrides the default registry (`--registry`). */
  registry?: string;
  /** Registries declared mirrors of registry.npmjs.org: verified with npmjs's pinned keys. */
  mirrorsOfNpmjs?: readonly string[];
  /** Keys for registries other than npmjs (`--registry-keys`). */
  registryKeys?: readonly RegistryKey[];
  /** A Sigstore trusted root to use instead of the shipped public-good one. */
  trustedRoot?: LoadedTrustedRoot;
  /** Verdict cache folder; undefined: the default folder; null: memory only. */
  cacheDir?: string | null;
}

export type CheckerFactory = (options: CheckerOptions) => Checker;

export interface EngineEnvironment {
  env: Record<string, string | undefined>;
  homeDir: string;
}

/**
 * Engines are kept per distinct options: their keep-alive sockets, ETag cache and loaded verdict cache are what
 * make a re-check on every edit cheap.
 */
export function engineFactory(environment: EngineEnvironment): CheckerFactory & { engines: Map<string, VerificationEngine> } {
  const engines = new Map<string, VerificationEngine>();
  const factory = (options: CheckerOptions): VerificationEngine => {
    const key = JSON.stringify([
      options.trusted ?? true,
      options.registry,
      options.mirrorsOfNpmjs,
      options.registryKeys?.map((k) => k.keyid),
      options.trustedRoot?.digest,
      options.cacheDir,
    ]);
    let engine = engines.get(key);
    if (engine === undefined) {
      const dir = options.cacheDir === null ? undefined : options.cacheDir ?? defaultCacheDir(environment.env, environment.homeDir);
      engine = new VerificationEngine({
        env: environment.env,
        homeDir: environment.homeDir,
        trusted: options.trusted ?? true,
        registry: options.registry,
        mirrorsOfNpmjs: options.mirrorsOfNpmjs,
        registryKeys: options.registryKeys,
        trustedRoot: options.trustedRoot,
        cache: new VerdictCache<Verdict>({ dir }),
      });
      engines.set(key, engine);
    }
    return engine;
  };
  return Object.assign(factory, { engines });
}

/** No registry at all: what is known from the lockfile alone (tests of the front ends use it). */
export const parseOnlyFactory: CheckerFactory = () => parseOnlyChecker;
