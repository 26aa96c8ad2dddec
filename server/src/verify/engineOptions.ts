// The engine's public inputs: where evidence comes from and how a VerificationEngine is configured (engine.ts).
import type { Verdict } from "../protocol/verdicts";
import type { VerdictCache } from "../registry/cache";
import type { HttpClientOptions } from "../registry/http";
import type { AttestationsDocument, CallOptions, KeysDocument, Packument, RegistryResult } from "../registry/registryClient";
import type { RegistryKey } from "./npmKeys";
import type { LoadedTrustedRoot } from "./trustedRoot";
import type { TrustRefresh } from "./trustRefresh";

/**
 * Where the signed facts come from: the registry over HTTP (RegistryClient), or a trust bundle read from a file
 * for air-gapped checks. Either way everything is verified the same way: a source is never trusted.
 */
export interface EvidenceSource {
  packument(name: string, options: CallOptions & { registry: string; full?: boolean }): Promise<RegistryResult<Packument>>;
  keys(registry: string, options?: CallOptions): Promise<RegistryResult<KeysDocument>>;
  attestations(url: string, options: CallOptions & { registry: string }): Promise<RegistryResult<AttestationsDocument>>;
}

export interface EngineOptions {
  env: Record<string, string | undefined>;
  homeDir: string;
  globalConfigPath?: string;
  /** false in a restricted workspace: the project's .npmrc is not read. */
  trusted: boolean;
  /** Overrides the default registry, as `--registry` does for npm. */
  registry?: string;
  /** Registries declared to be mirrors of registry.npmjs.org: verified with npmjs's pinned keys. */
  mirrorsOfNpmjs?: readonly string[];
  /** Keys to use for registries other than npmjs (a keys-endpoint-shaped document), instead of their endpoint. */
  registryKeys?: readonly RegistryKey[];
  /** Default: the refresher's refreshed root when newer than the shipped one, else the shipped public-good root. */
  trustedRoot?: LoadedTrustedRoot;
  /**
   * Background refresh of npmjs's keys and the Sigstore root (issue #3): npmjs-like registries verify with its keys
   * (pinned plus refreshed additions), and an online check of one starts it without waiting for it.
   */
  refresher?: TrustRefresh;
  /** Persistent verdicts; only decided, content-addressed verdicts (verified, signed) are stored. */
  cache?: VerdictCache<Verdict>;
  http?: Omit<HttpClientOptions, "authHeaderFor" | "tls">;
  /** A check in which no package completes for this long is stopped (a registry that never answers). Default 30 s. */
  checkDeadlineMs?: number;
  /**
   * Packages being checked at once. Default 64: each waits for its packument and then for its signature on the
   * verification worker, while sockets are bounded apart (the HTTP client's 16); with 32, lanes sat waiting for
   * verification (a cold check of 2,000 signatures: median 1,204 ms with 32, 1,159 ms with 64, 8 interleaved runs).
   */
  concurrency?: number;
  /**
   * A fixed source of evidence used instead of the network, also when checking offline (a trust bundle). When
   * absent, each check fetches from the configured registries.
   */
  evidence?: EvidenceSource;
  /** Sees every piece of evidence fetched from the network (to write a trust bundle). */
  record?: (evidence: EvidenceSource) => EvidenceSource;
  /**
   * Worker threads for Sigstore verification in large checks (more than WORKER_THRESHOLD packages); 0 verifies on the
   * main thread. Default: the machine's cores, at most 4.
   */
  workers?: number;
}

/** Below this many packages, starting workers costs more than it saves. */

/** What one check cost, for benchmarks and the output channel. */
export interface CheckStats {
  packages: number;
  fromCache: number;
  requests: number;
}
