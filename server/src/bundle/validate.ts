// Schema check of a trust bundle read from disk: shape only, with the path of the first problem. What the values
// mean (signatures, attestation bundles, keys) is verified later by the engine, like any registry answer.
import { TRUST_BUNDLE_FORMAT, TRUST_BUNDLE_VERSION, isRecord, type TrustBundle } from "./format";

export type BundleParseResult = { ok: true; bundle: TrustBundle } | { ok: false; reason: string };

const ERROR_KINDS = new Set(["timeout", "network", "too-large", "http", "aborted", "bad-url", "not-found", "malformed", "other-host"]);

/** Validates parsed JSON as a trust bundle. Never throws. */
export function validateTrustBundle(doc: unknown): BundleParseResult {
  const problem = problemOf(doc);
  return problem === undefined ? { ok: true, bundle: doc as TrustBundle } : { ok: false, reason: problem };
}

function problemOf(doc: unknown): string | undefined {
  if (!isRecord(doc)) return "it is not a JSON object";
  if (doc.format !== TRUST_BUNDLE_FORMAT) return `its format is ${JSON.stringify(doc.format)}, not "${TRUST_BUNDLE_FORMAT}"`;
  if (doc.version !== TRUST_BUNDLE_VERSION) {
    return `it is version ${JSON.stringify(doc.version)} of the format; this provenance-lens reads version ${TRUST_BUNDLE_VERSION}`;
  }
  if (typeof doc.createdAt !== "string" || Number.isNaN(Date.parse(doc.createdAt))) return "createdAt is not an ISO date";
  if (!isRecord(doc.tool) || typeof doc.tool.name !== "string" || typeof doc.tool.version !== "string") return "tool needs a name and a version";
  if (!isRecord(doc.trustedRoot)) return "trustedRoot is not an object";
  return (
    eachEntry(doc.registries, "registries", registryProblem) ??
    eachEntry(doc.packuments, "packuments", packumentProblem) ??
    eachEntry(doc.attestations, "attestations", attestationsProblem) ??
    lockfilesProblem(doc.lockfiles)
  );
}

function eachEntry(value: unknown, where: string, check: (entry: unknown) => string | undefined): string | undefined {
  if (!isRecord(value)) return `${where} is not an object`;
  for (const [key, entry] of Object.entries(value)) {
    const problem = check(entry);
    if (problem !== undefined) return `${where}[${JSON.stringify(key)}] ${problem}`;
  }
  return undefined;
}

function errorProblem(error: unknown): string | undefined {
  if (!isRecord(error)) return "is not an object";
  if (typeof error.kind !== "string" || !ERROR_KINDS.has(error.kind)) return `has an unknown kind ${JSON.stringify(error.kind)}`;
  if (typeof error.message !== "string") return "has no message";
  if (error.status !== undefined && typeof error.status !== "number") return "has a status that is not a number";
  return undefined;
}

function registryProblem(entry: unknown): string | undefined {
  if (!isRecord(entry)) return "is not an object";
  if (entry.keys !== undefined) {
    // The same shape check as RegistryClient.keys: entries are judged by verify/npmKeys.ts.
    if (!isRecord(entry.keys) || !Array.isArray(entry.keys.keys) || !entry.keys.keys.every(isRecord)) return "has keys without a keys array of objects";
  }
  if (entry.keysError !== undefined) {
    const problem = errorProblem(entry.keysError);
    if (problem !== undefined) return `keysError ${problem}`;
  }
  return undefined;
}

function packumentProblem(entry: unknown): string | undefined {
  if (!isRecord(entry)) return "is not an object";
  if (entry.error !== undefined) {
    const problem = errorProblem(entry.error);
    return problem === undefined ? (entry.versions === undefined ? undefined : "has both an error and versions") : `error ${problem}`;
  }
  if (!isRecord(entry.versions)) return "has no versions object";
  for (const [version, record] of Object.entries(entry.versions)) {
    if (!isRecord(record) || !isRecord(record.dist)) return `version ${JSON.stringify(version)} has no dist object`;
  }
  if (entry.time !== undefined) {
    if (!isRecord(entry.time)) return "has a time field that is not an object";
    for (const [version, time] of Object.entries(entry.time)) {
      if (typeof time !== "string") return `has a time for ${JSON.stringify(version)} that is not a string`;
    }
  }
  return undefined;
}

function attestationsProblem(entry: unknown): string | undefined {
  if (!isRecord(entry)) return "is not an object";
  if (entry.error !== undefined) {
    const problem = errorProblem(entry.error);
    return problem === undefined ? undefined : `error ${problem}`;
  }
  // The same shape check as RegistryClient.attestations.
  if (!Array.isArray(entry.attestations)) return "has no attestations array";
  const bad = entry.attestations.findIndex((a) => !isRecord(a) || typeof a.predicateType !== "string" || !isRecord(a.bundle));
  return bad === -1 ? undefined : `attestation ${bad} has no predicateType or bundle`;
}

function lockfilesProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return "lockfiles is not an array";
  const bad = value.findIndex((l) => !isRecord(l) || typeof l.path !== "string" || typeof l.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(l.sha256));
  return bad === -1 ? undefined : `lockfiles[${bad}] needs a path and a sha256 (64 hex digits)`;
}
