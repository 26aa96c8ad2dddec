// Trust history (issue #6): how the locked version compares with earlier versions of the same major line. Pure:
// the engine hands in the packument's per-version facts and verified provenance; nothing here fetches.
import semver, { type SemVer } from "semver";
import type { Packument } from "../registry/registryClient";
import type { BuildIdentity, BuildIdentityDrift, DriftKind, ProvenanceStatus, SignatureStatus, Verdict, VerdictHistory } from "../protocol/verdicts";

/** What the packument says about one version, without verifying anything. */
export interface VersionRecord {
  version: string;
  /** The registry lists attestations (provenance) for it: `dist.attestations`. */
  hasProvenance: boolean;
  hasSignature: boolean;
  integrity?: string;
  /** Normalised `repository` of its metadata (full packument only). */
  repository?: string;
  /** `time[version]` (full packument only). */
  publishedAt?: string;
}

// Each record's version parsed once. Packuments of popular packages list thousands of versions, and sorting and
// filtering them with semver's string functions parsed every version again at each comparison: 44 ms of one check of a
// package with 2,000 versions, against ~2 ms parsed once (issue #7).
const parsedVersions = new WeakMap<VersionRecord, SemVer>();

function parsedOf(record: VersionRecord): SemVer | null {
  let parsed = parsedVersions.get(record);
  if (parsed === undefined) {
    const fresh = semver.parse(record.version);
    if (fresh === null) return null;
    parsedVersions.set(record, (parsed = fresh));
  }
  return parsed;
}

const byVersion = (a: VersionRecord, b: VersionRecord): number => parsedOf(a)!.compare(parsedOf(b)!);

/**
 * The packument's versions, oldest first. With `line` (see majorLineOf), only that line's: the history of a version
 * never looks at other lines, and skipping them by their text spares parsing every version of a large packument.
 */
export function versionRecordsOf(packument: Packument, line?: string): VersionRecord[] {
  const records: VersionRecord[] = [];
  const prefix = line === undefined ? undefined : `${line}.`;
  for (const version in packument.versions ?? {}) {
    if (prefix !== undefined && !version.startsWith(prefix)) continue;
    const meta = packument.versions![version];
    const parsed = typeof meta === "object" && meta !== null ? semver.parse(version) : null;
    if (parsed !== null && line !== undefined && lineOf(parsed) !== line) continue;
    if (parsed === null) continue;
    const dist = typeof meta.dist === "object" && meta.dist !== null ? meta.dist : {};
    const repository = repositoryUrlOf(meta.repository);
    const record: VersionRecord = {
      version,
      hasProvenance: typeof dist.attestations === "object" && dist.attestations !== null,
      hasSignature: Array.isArray(dist.signatures) && dist.signatures.length > 0,
      ...(typeof dist.integrity === "string" ? { integrity: dist.integrity } : {}),
      ...(repository === undefined ? {} : { repository }),
      ...(typeof packument.time?.[version] === "string" ? { publishedAt: packument.time[version] } : {}),
    };
    parsedVersions.set(record, parsed);
    records.push(record);
  }
  return records.sort(byVersion);
}

/**
 * The line a version belongs to: its major, or `0.minor` below 1.0.0 (where, as for `^`, each minor may break).
 * A maintenance release of an older line is never compared with a newer line.
 */
export function majorLineOf(version: string): string {
  const v = semver.parse(version);
  return v === null ? version : lineOf(v);
}

function lineOf(v: SemVer): string {
  return v.major === 0 ? `0.${v.minor}` : String(v.major);
}

/** Earlier versions of the locked version's line, oldest first; prereleases only when the locked one is one. */
export function earlierInLine(lockedVersion: string, versions: readonly VersionRecord[]): VersionRecord[] {
  const locked = semver.parse(lockedVersion);
  if (locked === null) return [];
  const line = lineOf(locked);
  const withPrereleases = locked.prerelease.length > 0;
  return versions
    .filter((r) => {
      const v = parsedOf(r);
      return v !== null && lineOf(v) === line && v.compare(locked) < 0 && (withPrereleases || v.prerelease.length === 0);
    })
    .sort(byVersion);
}

/** The highest earlier version of the line whose registry entry lists provenance: the one drift compares with. */
export function previousWithProvenance(lockedVersion: string, versions: readonly VersionRecord[]): VersionRecord | undefined {
  return earlierInLine(lockedVersion, versions).filter((r) => r.hasProvenance).pop();
}

export interface LockedFacts {
  name: string;
  version: string;
  provenance: ProvenanceStatus;
  signature: SignatureStatus;
}

/** Downgrade and "provenance since": no drift (that needs the previous version's verified provenance). */
export function provenanceHistory(locked: LockedFacts, versions: readonly VersionRecord[]): VerdictHistory {
  const earlier = earlierInLine(locked.version, versions);
  const history: VerdictHistory = {};
  const label = `${locked.name}@${locked.version}`;
  if (locked.provenance === "verified") {
    let since = locked.version;
    for (let i = earlier.length - 1; i >= 0 && earlier[i].hasProvenance; i--) since = earlier[i].version;
    history.provenanceSince = since;
    return history;
  }
  // "not-checked": unknown whether it has provenance (offline, no trust material): no claim either way.
  const lacksProvenance = locked.provenance === "absent" || locked.provenance === "invalid";
  const lastProvenance = earlier.filter((r) => r.hasProvenance).pop();
  if (lacksProvenance && lastProvenance !== undefined) {
    history.lastWithProvenance = { version: lastProvenance.version, ...(lastProvenance.publishedAt ? { publishedAt: lastProvenance.publishedAt } : {}) };
    const when = lastProvenance.publishedAt === undefined ? "" : ` (published ${lastProvenance.publishedAt.slice(0, 10)})`;
    const what = locked.provenance === "invalid" ? "provenance that does not verify" : "no provenance";
    history.downgrade = `${label} has ${what}, but ${lastProvenance.version}${when} of the same major line had it: was it published another way?`;
    return history;
  }
  const lastSigned = earlier.filter((r) => r.hasSignature).pop();
  if (locked.signature === "missing" && lastSigned !== undefined) {
    history.downgrade = `${label} has no registry signature, but ${lastSigned.version} of the same major line had one.`;
  }
  return history;
}

/** Compares the verified build identity with the previous verified version's and with the package's own metadata. */
export function buildIdentityDrift(current: BuildIdentity, previous: BuildIdentity | undefined, metadataRepository?: string): BuildIdentityDrift | undefined {
  const kinds: DriftKind[] = [];
  const repo = normaliseRepository(current.repository);
  if (previous !== undefined) {
    if (previous.repository !== undefined && repo !== undefined && normaliseRepository(previous.repository) !== repo) kinds.push("repository");
    if (previous.workflow !== undefined && current.workflow !== undefined && previous.workflow !== current.workflow) kinds.push("workflow");
  }
  const metadata = normaliseRepository(metadataRepository);
  if (metadata !== undefined && repo !== undefined && metadata !== repo) kinds.push("metadata-repository");
  if (kinds.length === 0) return undefined;
  const parts: string[] = [];
  if (kinds.includes("repository") || kinds.includes("workflow")) {
    parts.push(`${current.version} was built by ${identityText(current)}; ${previous!.version} was built by ${identityText(previous!)}.`);
  }
  if (kinds.includes("metadata-repository")) parts.push(`Its provenance names ${repo}, but its package metadata names ${metadata}.`);
  return {
    kinds,
    current,
    ...(previous === undefined || !(kinds.includes("repository") || kinds.includes("workflow")) ? {} : { previous }),
    ...(kinds.includes("metadata-repository") ? { metadataRepository: metadata } : {}),
    message: parts.join(" "),
  };
}

export function identityOf(version: string, provenance: { sourceRepository?: string; workflow?: string; builder?: string }): BuildIdentity {
  const repository = normaliseRepository(provenance.sourceRepository);
  return { version, ...(repository ? { repository } : {}), ...(provenance.workflow ? { workflow: provenance.workflow } : {}), ...(provenance.builder ? { builder: provenance.builder } : {}) };
}

function identityText(identity: BuildIdentity): string {
  return `${shortRepository(identity.repository) ?? "an unknown repository"} ${identity.workflow ?? "(unknown workflow)"}`;
}

/** The short line hovers show: "provenance since 2.1.0; built by org/repo publish.yml". */
export function historyLine(verdict: Verdict): string | undefined {
  const parts: string[] = [];
  const h = verdict.history;
  if (h?.provenanceSince !== undefined) parts.push(`provenance since ${h.provenanceSince}`);
  if (verdict.provenance.status === "verified") {
    const workflow = verdict.provenance.workflow?.replace(/^.*\//, "");
    parts.push(`built by ${shortRepository(normaliseRepository(verdict.provenance.sourceRepository)) ?? "?"}${workflow ? ` ${workflow}` : ""}`);
  }
  if (h?.lastWithProvenance !== undefined) {
    const when = h.lastWithProvenance.publishedAt?.slice(0, 10);
    parts.push(`provenance lost: last in ${h.lastWithProvenance.version}${when ? ` (${when})` : ""}`);
  } else if (h?.downgrade !== undefined) {
    parts.push("signature lost since an earlier version");
  }
  if (h?.drift !== undefined) {
    const before = h.drift.previous;
    parts.push(before !== undefined ? `build identity changed since ${before.version}` : "provenance repository differs from package metadata");
  }
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/** `git+https://github.com/Org/Repo.git`, `git@github.com:org/repo`, `github:org/repo` -> `https://github.com/org/repo`. */
export function normaliseRepository(url: string | undefined): string | undefined {
  if (url === undefined || url.trim() === "") return undefined;
  let u = url.trim().replace(/^git\+/, "");
  const scp = /^(?:ssh:\/\/)?git@([^:/]+)[:/](.+)$/.exec(u);
  if (scp) u = `https://${scp[1]}/${scp[2]}`;
  const shorthand = /^(github|gitlab|bitbucket):(.+)$/.exec(u);
  if (shorthand) u = `https://${shorthand[1]}.${shorthand[1] === "bitbucket" ? "org" : "com"}/${shorthand[2]}`;
  else if (/^[\w.-]+\/[\w.-]+$/.test(u)) u = `https://github.com/${u}`;
  u = u.replace(/^(git|ssh|http):\/\//, "https://").replace(/#.*$/, "").replace(/\.git$/, "").replace(/\/+$/, "");
  // Hosts and GitHub paths are case-insensitive; compare them lowered.
  return u.toLowerCase();
}

function shortRepository(repository: string | undefined): string | undefined {
  return repository?.replace(/^https:\/\/github\.com\//, "");
}

function repositoryUrlOf(field: unknown): string | undefined {
  if (typeof field === "string") return normaliseRepository(field);
  if (typeof field === "object" && field !== null && typeof (field as { url?: unknown }).url === "string") return normaliseRepository((field as { url: string }).url);
  return undefined;
}
