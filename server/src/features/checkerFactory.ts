// The one place that decides which verification engine the server and the CLI use.
import type { LoadedBundle } from "../bundle/reader";
import { defaultCacheDir, VerdictCache } from "../registry/cache";
import { proxyEnvironment, proxyFor } from "../registry/proxy";
import type { Verdict } from "../protocol/verdicts";
import { parseOnlyChecker, type Checker } from "../verify/checker";
import { VerificationEngine, type EngineOptions, type EvidenceSource } from "../verify/engine";
import type { RegistryKey } from "../verify/npmKeys";
import type { LoadedTrustedRoot } from "../verify/trustedRoot";
import { TrustRefresher } from "../verify/trustRefresh";

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
  /**
   * A trust bundle (issue #5): its evidence is verified instead of asking any registry, also offline. Verdicts are
   * then neither read from nor written to the cache, so they are exactly what the bundle proves.
   */
  trustBundle?: LoadedBundle;
  /** Sees every piece of evidence fetched (the `bundle` command records a trust bundle with it). A fresh engine. */
  record?: (evidence: EvidenceSource) => EvidenceSource;
}

export type CheckerFactory = (options: CheckerOptions) => Checker;

export interface EngineEnvironment {
  env: Record<string, string | undefined>;
  homeDir: string;
  /** HTTP client settings of every engine made (defaults: the engine's). */
  http?: EngineOptions["http"];
}

/**
 * The background refresh of npmjs's keys and the Sigstore root (issue #3), one per cache folder, so one per process
 * in practice. `PROVENANCE_LENS_TRUST_REFRESH=off` turns it off (pinned keys and the shipped root only);
 * `PROVENANCE_LENS_NPM_KEYS_URL` and `PROVENANCE_LENS_TUF_URL` point it at a mirror of the public-good TUF
 * repository or, in tests, at loopback.
 */
function refresherFor(dir: string | undefined, env: Record<string, string | undefined>, refreshers: Map<string, TrustRefresher>): TrustRefresher | undefined {
  // The process environment can also turn it off: the test runner does, so that no test reaches a public host
  // through a factory whose injected environment forgot to.
  if (env.PROVENANCE_LENS_TRUST_REFRESH === "off" || (process.env.PROVENANCE_LENS_TRUST_REFRESH === "off" && env.PROVENANCE_LENS_TRUST_REFRESH !== "on")) return undefined;
  const key = dir ?? "";
  let refresher = refreshers.get(key);
  if (refresher === undefined) {
    // Shared by every project using this cache folder, so no project's .npmrc decides its proxy: the environment's
    // proxy variables do (HTTPS_PROXY, NO_PROXY), as for the TUF client underneath.
    const proxy = { env: proxyEnvironment(env) };
    refresher = new TrustRefresher({ cacheDir: dir, keysUrl: env.PROVENANCE_LENS_NPM_KEYS_URL || undefined, tufMirrorUrl: env.PROVENANCE_LENS_TUF_URL || undefined, proxyFor: (url) => proxyFor(url, proxy) });
    refreshers.set(key, refresher);
  }
  return refresher;
}

/**
 * Engines are kept per distinct options: their keep-alive sockets, ETag cache and loaded verdict cache are what
 * make a re-check on every edit cheap.
 */
export function engineFactory(environment: EngineEnvironment): CheckerFactory & { engines: Map<string, VerificationEngine> } {
  const engines = new Map<string, VerificationEngine>();
  const refreshers = new Map<string, TrustRefresher>();
  const factory = (options: CheckerOptions): VerificationEngine => {
    const key = JSON.stringify([
      options.trusted ?? true,
      options.registry,
      options.mirrorsOfNpmjs,
      options.registryKeys?.map((k) => k.keyid),
      options.trustedRoot?.digest,
      options.cacheDir,
      options.trustBundle?.digest,
    ]);
    let engine = options.record === undefined ? engines.get(key) : undefined;
    if (engine === undefined) {
      const dir = options.cacheDir === null ? undefined : options.cacheDir ?? defaultCacheDir(environment.env, environment.homeDir);
      engine = new VerificationEngine({
        env: environment.env,
        homeDir: environment.homeDir,
        ...(environment.http !== undefined ? { http: environment.http } : {}),
        trusted: options.trusted ?? true,
        registry: options.registry,
        mirrorsOfNpmjs: options.mirrorsOfNpmjs,
        registryKeys: options.registryKeys,
        trustedRoot: options.trustedRoot,
        // Only when the user gave no root of their own; not while recording a trust bundle, which carries the root
        // it was made with (the shipped one unless given) and so must verify with that one.
        refresher: options.trustedRoot === undefined && options.record === undefined ? refresherFor(dir, environment.env, refreshers) : undefined,
        cache: options.trustBundle === undefined && options.record === undefined ? new VerdictCache<Verdict>({ dir }) : undefined,
        evidence: options.trustBundle?.evidence,
        record: options.record,
      });
      if (options.record === undefined) engines.set(key, engine);
    }
    return engine;
  };
  return Object.assign(factory, { engines });
}

/** No registry at all: what is known from the lockfile alone (tests of the front ends use it). */
export const parseOnlyFactory: CheckerFactory = () => parseOnlyChecker;
