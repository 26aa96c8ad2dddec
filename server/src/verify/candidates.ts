// Versions to pin a dependency to, each one ACTUALLY verified: its signature and provenance are checked by the
// engine, exactly as a locked package would be (integrity = what the registry signed for it), not read off a
// metadata flag. Used by the "Pin foo to X (provenance verified)" quick fixes.
import * as path from "node:path";
import semver from "semver";
import type { LockedPackage, ParsedLockfile } from "../lockfile/model";
import { packageKey } from "../lockfile/model";
import type { Verdict } from "../protocol/verdicts";
import { HttpClient } from "../registry/http";
import { loadNpmConfig } from "../registry/npmConfig";
import { RegistryClient } from "../registry/registryClient";
import type { VerificationEngine } from "./engine";

export interface CandidateQuery {
  /** The lockfile whose folder decides the npm configuration (registry, scopes, auth). */
  lockfilePath: string;
  name: string;
  /** The range versions must satisfy for the first offer (package.json's); undefined: no in-range offer. */
  range?: string;
  /** The locked version (never offered). */
  current: string;
  signal?: AbortSignal;
  /** Versions verified at most, per offer, newest first (each one is a packument + attestation check). Default 6. */
  maxTries?: number;
}

export interface VerifiedCandidate {
  version: string;
  verdict: Verdict;
}

export interface CandidateAnswer {
  /** Highest version satisfying `range` whose provenance verifies. */
  inRange?: VerifiedCandidate;
  /** Newest version overall whose provenance verifies, when not the same as inRange. */
  newest?: VerifiedCandidate;
  /** Versions tried that did not verify, with why. */
  skipped: { version: string; status: string; reason: string }[];
  /** Why nothing could be looked up (registry down, package unknown...). */
  problem?: string;
}

/** A packument is looked up with its own short-lived client: the engine's are private to it. */
const LOOKUP_TIMEOUT_MS = 10_000;

export async function findVerifiedCandidates(engine: VerificationEngine, query: CandidateQuery): Promise<CandidateAnswer> {
  const options = engine.options;
  const config = loadNpmConfig({
    projectDir: path.dirname(query.lockfilePath),
    env: options.env,
    homeDir: options.homeDir,
    globalConfigPath: options.globalConfigPath,
    trusted: options.trusted,
    overrides: options.registry === undefined ? {} : { registry: options.registry },
  });
  const http = new HttpClient({ ...options.http, timeoutMs: Math.min(options.http?.timeoutMs ?? LOOKUP_TIMEOUT_MS, LOOKUP_TIMEOUT_MS), authHeaderFor: (url) => config.authHeaderFor(url), proxyFor: (url) => config.proxyFor(url), tls: config.tls });
  const signal = query.signal === undefined ? AbortSignal.timeout(30_000) : AbortSignal.any([query.signal, AbortSignal.timeout(30_000)]);
  const skipped: CandidateAnswer["skipped"] = [];
  try {
    const answer = await new RegistryClient(http).packument(query.name, { registry: config.registryFor(query.name), signal });
    if (!answer.ok) return { skipped, problem: answer.error.message };
    const versions = Object.entries(answer.value.versions)
      .filter(([version, meta]) => semver.valid(version) !== null && semver.prerelease(version) === null && version !== query.current && typeof meta === "object" && meta !== null && meta.deprecated === undefined)
      .map(([version, meta]) => ({ version, integrity: typeof meta.dist?.integrity === "string" ? meta.dist.integrity : undefined }))
      .sort((a, b) => semver.rcompare(a.version, b.version));
    const verdicts = new Map<string, Verdict>();
    const verify = async (version: string, integrity: string | undefined): Promise<Verdict> => {
      let verdict = verdicts.get(version);
      if (verdict === undefined) {
        verdict = await verifyOne(engine, query, version, integrity, signal);
        verdicts.set(version, verdict);
        if (verdict.status !== "verified") skipped.push({ version, status: verdict.status, reason: verdict.reasons[0] ?? "" });
      }
      return verdict;
    };
    const firstVerified = async (list: typeof versions): Promise<VerifiedCandidate | undefined> => {
      for (const { version, integrity } of list.slice(0, query.maxTries ?? 6)) {
        if (signal.aborted) return undefined;
        const verdict = await verify(version, integrity);
        if (verdict.status === "verified") return { version, verdict };
      }
      return undefined;
    };
    const range = query.range !== undefined && semver.validRange(query.range) !== null ? query.range : undefined;
    const inRange = range === undefined ? undefined : await firstVerified(versions.filter((v) => semver.satisfies(v.version, range)));
    const newest = await firstVerified(versions);
    return { ...(inRange ? { inRange } : {}), ...(newest && newest.version !== inRange?.version ? { newest } : {}), skipped };
  } finally {
    http.close();
  }
}

async function verifyOne(engine: VerificationEngine, query: CandidateQuery, version: string, integrity: string | undefined, signal: AbortSignal): Promise<Verdict> {
  const pkg: LockedPackage = {
    name: query.name,
    version,
    source: "registry",
    ...(integrity !== undefined ? { integrity } : {}),
    dev: false,
    optional: false,
    direct: true,
    entryIds: [],
    locations: [],
  };
  const parsed: ParsedLockfile = { format: "npm", lockfileVersion: undefined, entries: [], importers: [], problems: [] };
  const result = await engine.check({ lockfilePath: query.lockfilePath, parsed, packages: [pkg], offline: false, signal });
  return result.verdicts.get(packageKey(pkg)) ?? { status: "unverifiable", signature: { status: "not-checked" }, provenance: { status: "not-checked" }, reasons: ["No verdict."] };
}
