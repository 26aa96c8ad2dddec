// Sigstore attestations of an npm version: the SLSA provenance (Fulcio certificate) and the npm publish attestation
// (signed by the registry's key), as `GET /-/npm/v1/attestations/<name>@<version>` returns them.
// https://docs.npmjs.com/generating-provenance-statements, https://github.com/npm/attestation/tree/main/specs
import { bundleFromJSON, type Bundle } from "@sigstore/bundle";
import { toSignedEntity, type Signer } from "@sigstore/verify";
import type { ProvenanceVerdict } from "../protocol/verdicts";
import { memoizeCertificateEncoding, type PreparedTrust } from "./trustedRoot";

export const PUBLISH_PREDICATE_TYPE = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
export const SLSA_V02_PREDICATE_TYPE = "https://slsa.dev/provenance/v0.2";
export const SLSA_V1_PREDICATE_TYPE = "https://slsa.dev/provenance/v1";
const SLSA_PREDICATE_TYPES: readonly string[] = [SLSA_V02_PREDICATE_TYPE, SLSA_V1_PREDICATE_TYPE];
const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
const PUBLIC_GOOD_REKOR = "https://rekor.sigstore.dev";

export interface AttestedVersion {
  name: string;
  version: string;
  /** The lockfile's SRI integrity; its sha512 must be the attested subject digest. */
  integrity: string | undefined;
}

export interface ProvenanceContext {
  /** From prepareTrust(root, keys): for npmjs packages, built with the pinned keys only. */
  trust: PreparedTrust;
}

/** `pkg:npm/<name>@<version>`, a scope's `@` written `%40` (package-url). */
export function npmPurl(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, "%40")}@${version}`;
}

/** Hex of the sha512 in an SRI string (`sha512-<base64>`, possibly among other hashes), undefined without one. */
export function sha512HexOf(integrity: string | undefined): string | undefined {
  for (const token of (integrity ?? "").trim().split(/\s+/)) {
    if (!token.startsWith("sha512-")) continue;
    const bytes = Buffer.from(token.slice("sha512-".length).replace(/\?.*$/, ""), "base64");
    if (bytes.length === 64) return bytes.toString("hex");
  }
  return undefined;
}

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
const at = (value: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, key) => (isRecord(v) ? v[key] : undefined), value);

interface VerifiedAttestation {
  predicateType: string;
  statement: Json;
  bundle: Bundle;
  signer: Signer;
}

type AttestationOutcome = { ok: true; value: VerifiedAttestation } | { ok: false; reason: string };

function fail(reason: string): AttestationOutcome {
  return { ok: false, reason };
}

function describePredicate(predicateType: string): string {
  if (predicateType === PUBLISH_PREDICATE_TYPE) return "npm publish attestation";
  if (SLSA_PREDICATE_TYPES.includes(predicateType)) return "SLSA provenance";
  return `attestation ${predicateType}`;
}

function checkSubject(statement: Json, purl: string, digestHex: string): string | undefined {
  const subjects = Array.isArray(statement.subject) ? statement.subject.filter(isRecord) : [];
  const named = subjects.find((s) => s.name === purl);
  if (named === undefined) {
    const names = subjects.map((s) => String(s.name)).join(", ") || "nothing";
    return `is about ${names}, not ${purl}`;
  }
  const attested = str(at(named, "digest", "sha512"));
  if (attested === undefined) return `names ${purl} without a sha512 digest`;
  if (attested.toLowerCase() !== digestHex) {
    return `attests sha512 ${attested.slice(0, 16)}… but the lockfile's integrity is sha512 ${digestHex.slice(0, 16)}…: the tarball differs`;
  }
  return undefined;
}

function verifyAttestation(raw: unknown, purl: string, digestHex: string, ctx: ProvenanceContext): AttestationOutcome {
  if (!isRecord(raw) || str(raw.predicateType) === undefined) return fail("has no predicateType");
  const predicateType = raw.predicateType as string;
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(raw.bundle);
  } catch (error) {
    return fail(`is not a valid Sigstore bundle (${error instanceof Error ? error.message : String(error)})`);
  }
  if (bundle.content.$case !== "dsseEnvelope") return fail("is not a DSSE envelope");
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return fail(`has payload type ${JSON.stringify(envelope.payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  if (envelope.signatures.length !== 1) return fail(`carries ${envelope.signatures.length} signatures instead of one`);
  const keyid = envelope.signatures[0].keyid;
  const material = bundle.verificationMaterial.content;

  if (predicateType === PUBLISH_PREDICATE_TYPE) {
    // Only the registry signs publish attestations, with a key it publishes (for npmjs: the pinned keys).
    if (material.$case !== "publicKey") return fail("is signed by a certificate, not by the registry's key");
    if (keyid === "") return fail("names no keyid");
    if (material.publicKey.hint !== keyid) return fail(`names key ${keyid} in its signature but ${material.publicKey.hint} in its verification material`);
    if (!ctx.trust.keys.has(keyid)) return fail(`is signed with key ${keyid}, which is not one of the registry's keys`);
  } else {
    // Provenance is signed by a build's Fulcio certificate; a keyid there names nothing we could trust.
    if (SLSA_PREDICATE_TYPES.includes(predicateType) && material.$case === "publicKey") return fail("is signed by a bare key, not by a build's certificate");
    if (keyid !== "" && !ctx.trust.keys.has(keyid)) return fail(`names key ${keyid}, which is not one of the registry's keys`);
  }

  // The subject is checked before the (costlier) signature so that a mismatch is reported as what it is; nothing is
  // accepted from the payload until the signature has verified below.
  let statement: unknown;
  try {
    statement = JSON.parse(envelope.payload.toString("utf8"));
  } catch (error) {
    return fail(`has a payload that is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isRecord(statement)) return fail("has a payload that is not an in-toto statement");
  if (statement.predicateType !== predicateType) {
    return fail(`is listed as ${predicateType} but its statement says ${JSON.stringify(statement.predicateType)}`);
  }
  const subjectProblem = checkSubject(statement, purl, digestHex);
  if (subjectProblem !== undefined) return fail(subjectProblem);

  let signer: Signer;
  // @sigstore/core's ASN.1 parser throws and catches an error for every OCTET STRING that does not hold DER (SCT
  // lists, key identifiers): several per certificate, each capturing a stack nobody reads. Only the message of an
  // error from here is ever used, so no stack is captured while the library runs (restored before returning).
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const entity = toSignedEntity(bundle);
    if (entity.key.$case === "certificate") memoizeCertificateEncoding(entity.key.certificate);
    signer = ctx.trust.verifier.verify(entity);
  } catch (error) {
    const code = isRecord(error) && typeof error.code === "string" ? ` [${error.code}]` : "";
    return fail(`does not verify${code}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  return { ok: true, value: { predicateType, statement, bundle, signer } };
}

/** Splits `git+https://github.com/org/repo@refs/heads/main` into the repository URL and the ref. */
function splitConfigSource(uri: string): { repository: string; ref?: string } {
  const bare = uri.replace(/^git\+/, "");
  const atSign = bare.lastIndexOf("@");
  return atSign > bare.indexOf("://") + 3 ? { repository: bare.slice(0, atSign), ref: bare.slice(atSign + 1) } : { repository: bare };
}

function provenanceFacts(verified: VerifiedAttestation, ctx: ProvenanceContext): Omit<ProvenanceVerdict, "status"> {
  const predicate = verified.statement.predicate;
  const facts: Omit<ProvenanceVerdict, "status"> = { predicateType: verified.predicateType };
  if (verified.predicateType === SLSA_V02_PREDICATE_TYPE) {
    const uri = str(at(predicate, "invocation", "configSource", "uri"));
    if (uri !== undefined) {
      const { repository, ref } = splitConfigSource(uri);
      facts.sourceRepository = repository;
      facts.sourceRef = ref;
    }
    facts.sourceCommit = str(at(predicate, "invocation", "configSource", "digest", "sha1"));
    facts.workflow = str(at(predicate, "invocation", "configSource", "entryPoint"));
    facts.builder = str(at(predicate, "builder", "id"));
  } else {
    const workflow = at(predicate, "buildDefinition", "externalParameters", "workflow");
    facts.sourceRepository = str(at(workflow, "repository"));
    facts.workflow = str(at(workflow, "path"));
    facts.sourceRef = str(at(workflow, "ref"));
    const dependencies = at(predicate, "buildDefinition", "resolvedDependencies");
    if (Array.isArray(dependencies)) facts.sourceCommit = dependencies.map((d) => str(at(d, "digest", "gitCommit"))).find((c) => c !== undefined);
    facts.builder = str(at(predicate, "runDetails", "builder", "id"));
  }
  facts.issuer = verified.signer.identity?.extensions?.issuer;
  facts.signerIdentity = verified.signer.identity?.subjectAlternativeName;
  const entry = verified.bundle.verificationMaterial.tlogEntries[0];
  if (entry !== undefined) {
    facts.logIndex = entry.logIndex;
    const log = ctx.trust.root.root.tlogs.find((t) => t.logId !== undefined && Buffer.compare(t.logId.keyId, entry.logId.keyId) === 0);
    // search.sigstore.dev only knows the public-good Rekor (v1) log; a private log gets no link rather than a wrong one.
    if (log?.baseUrl === PUBLIC_GOOD_REKOR) facts.logUrl = `https://search.sigstore.dev/?logIndex=${entry.logIndex}`;
  }
  for (const key of Object.keys(facts) as (keyof typeof facts)[]) if (facts[key] === undefined) delete facts[key];
  return facts;
}

/**
 * Verifies every attestation bundle of one version and reports its provenance. Never throws: a malformed response or
 * a failing bundle is `invalid` with the reason; a version without SLSA provenance is `absent`.
 */
export function verifyAttestations(pkg: AttestedVersion, attestationsResponse: unknown, ctx: ProvenanceContext): ProvenanceVerdict {
  const subject = `${pkg.name}@${pkg.version}`;
  const list = at(attestationsResponse, "attestations");
  if (!Array.isArray(list)) return { status: "invalid", reason: `The attestations response for ${subject} has no attestations list.` };
  if (list.length === 0) return { status: "absent", publishAttestation: "absent", reason: `${subject} has no attestations.` };
  const digestHex = sha512HexOf(pkg.integrity);
  if (digestHex === undefined) {
    return { status: "not-checked", reason: `${subject} has no sha512 integrity in the lockfile, so its attestations cannot be tied to its tarball.` };
  }
  const purl = npmPurl(pkg.name, pkg.version);
  let provenance: VerifiedAttestation | undefined;
  let publish: VerifiedAttestation | undefined;
  const failures: string[] = [];
  for (const raw of list) {
    const predicateType = str(at(raw, "predicateType")) ?? "(no predicate type)";
    const outcome = verifyAttestation(raw, purl, digestHex, ctx);
    if (!outcome.ok) {
      failures.push(`The ${describePredicate(predicateType)} of ${subject} ${outcome.reason}.`);
      continue;
    }
    if (SLSA_PREDICATE_TYPES.includes(outcome.value.predicateType)) provenance ??= outcome.value;
    if (outcome.value.predicateType === PUBLISH_PREDICATE_TYPE) publish ??= outcome.value;
  }
  // Every bundle must verify; all failures are told, since each may point at a different problem.
  if (failures.length > 0) return { status: "invalid", reason: failures.join(" ") };
  const publishAttestation = publish === undefined ? "absent" : "verified";
  if (provenance === undefined) {
    return { status: "absent", publishAttestation, reason: `${subject} was published without provenance.` };
  }
  return { status: "verified", ...provenanceFacts(provenance, ctx), publishAttestation };
}
