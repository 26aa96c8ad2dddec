// Sigstore material for the test registry: a mock Fulcio CA (plus a second, untrusted one), a mock Rekor log,
// the trusted root a verifier needs, and DSSE bundles in the formats npm serves.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { initializeCA, initializeTLog } from "@sigstore/mock";
import { bundleToJSON, toDSSEBundle, type SerializedBundle, type TransparencyLogEntry } from "@sigstore/bundle";
import { dsse, json } from "@sigstore/core";
import type { SigningKey } from "./keys";

type MockCA = Awaited<ReturnType<typeof initializeCA>>;
type MockTLog = Awaited<ReturnType<typeof initializeTLog>>;

/** The verifier matches checkpoint signer names against the tlog's baseUrl, so both use this host. */
export const TLOG_URL = "https://rekor.provenance-lens.test";
const CA_URL = "https://fulcio.provenance-lens.test";
/** Trust material is valid from a fixed past date so bundles verify whatever the publish times say. */
const TRUST_VALID_FROM = "2020-01-01T00:00:00.000Z";
export const GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com";

export interface SigstoreAuthority {
  ca: MockCA;
  /** A second mock CA that is NOT in the trusted root. */
  otherCa: MockCA;
  tlog: MockTLog;
  tlogPrivateKey: KeyObject;
  tlogPublicKeyDer: Buffer;
  /** Sigstore TrustedRoot (protobuf JSON): the mock CA, the mock tlog, no CT logs, no TSAs. */
  trustedRoot: Record<string, unknown>;
}

export async function createSigstoreAuthority(): Promise<SigstoreAuthority> {
  // The mock's SCTs do not parse in @sigstore/core 3, so no CT log: verifiers use ctlogThreshold 0.
  const ca = await initializeCA(generateKeyPairSync("ec", { namedCurve: "P-384" }));
  const otherCa = await initializeCA(generateKeyPairSync("ec", { namedCurve: "P-384" }));
  const tlogKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const tlog = await initializeTLog(TLOG_URL, tlogKeys);
  const tlogPublicKeyDer = tlogKeys.publicKey.export({ format: "der", type: "spki" });
  const trustedRoot = {
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [
      {
        baseUrl: TLOG_URL,
        hashAlgorithm: "SHA2_256",
        publicKey: {
          rawBytes: tlogPublicKeyDer.toString("base64"),
          keyDetails: "PKIX_ECDSA_P256_SHA_256",
          validFor: { start: TRUST_VALID_FROM },
        },
        logId: { keyId: createHash("sha256").update(tlogPublicKeyDer).digest("base64") },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: "sigstore.mock", commonName: "sigstore" },
        uri: CA_URL,
        certChain: { certificates: [{ rawBytes: ca.rootCertificate.toString("base64") }] },
        validFor: { start: TRUST_VALID_FROM },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [],
  };
  return { ca, otherCa, tlog, tlogPrivateKey: tlogKeys.privateKey, tlogPublicKeyDer, trustedRoot };
}

/** The GitHub Actions facts a provenance certificate and statement carry. */
export interface WorkflowRun {
  /** https://github.com/org/repo */
  repository: string;
  workflowPath: string;
  ref: string;
  commit: string;
  runId: string;
}

// Fulcio's OIDs: https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md
function githubExtensions(run: WorkflowRun): { oid: string; value: string; legacy?: boolean }[] {
  const repoPath = run.repository.replace(/^https:\/\/github\.com\//, "");
  const workflowUri = `${run.repository}/${run.workflowPath}@${run.ref}`;
  return [
    { oid: "1.3.6.1.4.1.57264.1.1", value: GITHUB_OIDC_ISSUER, legacy: true },
    { oid: "1.3.6.1.4.1.57264.1.2", value: "push", legacy: true },
    { oid: "1.3.6.1.4.1.57264.1.3", value: run.commit, legacy: true },
    { oid: "1.3.6.1.4.1.57264.1.4", value: "release", legacy: true },
    { oid: "1.3.6.1.4.1.57264.1.5", value: repoPath, legacy: true },
    { oid: "1.3.6.1.4.1.57264.1.6", value: run.ref, legacy: true },
    { oid: "1.3.6.1.4.1.57264.1.8", value: GITHUB_OIDC_ISSUER },
    { oid: "1.3.6.1.4.1.57264.1.9", value: workflowUri },
    { oid: "1.3.6.1.4.1.57264.1.10", value: run.commit },
    { oid: "1.3.6.1.4.1.57264.1.11", value: "github-hosted" },
    { oid: "1.3.6.1.4.1.57264.1.12", value: run.repository },
    { oid: "1.3.6.1.4.1.57264.1.13", value: run.commit },
    { oid: "1.3.6.1.4.1.57264.1.14", value: run.ref },
    { oid: "1.3.6.1.4.1.57264.1.18", value: workflowUri },
    { oid: "1.3.6.1.4.1.57264.1.19", value: run.commit },
    { oid: "1.3.6.1.4.1.57264.1.20", value: "push" },
    { oid: "1.3.6.1.4.1.57264.1.21", value: `${run.repository}/actions/runs/${run.runId}/attempts/1` },
  ];
}

export function workflowIdentity(run: WorkflowRun): string {
  return `${run.repository}/${run.workflowPath}@${run.ref}`;
}

interface DsseEnvelopeParts {
  payloadType: string;
  payload: Buffer;
  sig: Buffer;
  keyid: string;
}

// Rekor "intoto" v0.0.2 body, as Rekor stores it (payload and signature base64 twice). Written here because
// @sigstore/sign keeps its builder internal; the mock's "dsse" bodies do not verify (see fixtures README).
function intotoEntryBody(envelope: DsseEnvelopeParts, publicKeyPem: string): object {
  const sigB64 = envelope.sig.toString("base64");
  const signature: Record<string, string> = { sig: Buffer.from(sigB64).toString("base64"), publicKey: Buffer.from(publicKeyPem).toString("base64") };
  const hashed: Record<string, unknown> = {
    payloadType: envelope.payloadType,
    payload: envelope.payload.toString("base64"),
    signatures: [{ sig: sigB64, publicKey: publicKeyPem, ...(envelope.keyid ? { keyid: envelope.keyid } : {}) }],
  };
  if (envelope.keyid) signature.keyid = envelope.keyid;
  return {
    apiVersion: "0.0.2",
    kind: "intoto",
    spec: {
      content: {
        envelope: {
          payloadType: envelope.payloadType,
          payload: Buffer.from(envelope.payload.toString("base64")).toString("base64"),
          signatures: [signature],
        },
        hash: { algorithm: "sha256", value: createHash("sha256").update(json.canonicalize(hashed)).digest("hex") },
        payloadHash: { algorithm: "sha256", value: createHash("sha256").update(envelope.payload).digest("hex") },
      },
    },
  };
}

interface MockLogEntry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: {
    signedEntryTimestamp: string;
    inclusionProof: { logIndex: number; treeSize: number; rootHash: string; hashes: string[]; checkpoint: string };
  };
}

async function witness(authority: SigstoreAuthority, body: object, breakInclusionProof: boolean): Promise<TransparencyLogEntry> {
  const logged = (await authority.tlog.log(body)) as Record<string, MockLogEntry>;
  const entry = Object.values(logged)[0];
  const canonicalizedBody = Buffer.from(entry.body, "base64");
  const proof = entry.verification.inclusionProof;
  let inclusionProof = {
    logIndex: String(proof.logIndex),
    treeSize: String(proof.treeSize),
    rootHash: Buffer.from(proof.rootHash, "hex"),
    hashes: proof.hashes.map((h) => Buffer.from(h, "hex")),
    checkpoint: { envelope: proof.checkpoint },
  };
  if (breakInclusionProof) inclusionProof = brokenInclusionProof(authority, canonicalizedBody, entry.integratedTime);
  return {
    logIndex: String(entry.logIndex),
    logId: { keyId: Buffer.from(entry.logID, "hex") },
    kindVersion: { kind: "intoto", version: "0.0.2" },
    integratedTime: String(entry.integratedTime),
    inclusionPromise: { signedEntryTimestamp: Buffer.from(entry.verification.signedEntryTimestamp, "base64") },
    inclusionProof,
    canonicalizedBody,
  };
}

/**
 * A correctly signed checkpoint of a two-leaf tree whose proof hands out the wrong sibling: signatures and
 * SET still verify, only the Merkle path does not reach the checkpoint's root.
 */
function brokenInclusionProof(authority: SigstoreAuthority, body: Buffer, integratedTime: number) {
  const leaf = createHash("sha256").update(Buffer.from([0])).update(body).digest();
  const realSibling = createHash("sha256").update(Buffer.from([0])).update("another entry").digest();
  const root = createHash("sha256").update(Buffer.from([1])).update(leaf).update(realSibling).digest();
  const host = new URL(TLOG_URL).host;
  const note = `${host} - 1\n2\n${root.toString("base64")}\nTimestamp: ${integratedTime * 1_000_000_000}\n`;
  const logId = createHash("sha256").update(authority.tlogPublicKeyDer).digest();
  const sig = sign("sha256", Buffer.from(note), authority.tlogPrivateKey);
  const checkpoint = `${note}\n\u2014 ${host} ${Buffer.concat([logId.subarray(0, 4), sig]).toString("base64")}\n`;
  return { logIndex: "0", treeSize: "2", rootHash: root, hashes: [randomBytes(32)], checkpoint: { envelope: checkpoint } };
}

export type DsseSigner =
  | { kind: "key"; key: SigningKey }
  | { kind: "fulcio"; run: WorkflowRun; untrustedCa?: boolean };

export interface DsseBundleOptions {
  statement: object;
  signer: DsseSigner;
  breakInclusionProof?: boolean;
}

const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

/** A DSSE bundle over an in-toto statement, with an intoto tlog entry from the mock log. */
export async function buildDsseBundle(authority: SigstoreAuthority, options: DsseBundleOptions): Promise<SerializedBundle> {
  const payload = Buffer.from(JSON.stringify(options.statement), "utf8");
  const pae = dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload);
  let privateKey: KeyObject;
  let publicKeyPem: string;
  let certificate: Buffer | undefined;
  let keyHint: string | undefined;
  if (options.signer.kind === "key") {
    privateKey = options.signer.key.privateKey;
    publicKeyPem = options.signer.key.publicKeyPem;
    keyHint = options.signer.key.keyid;
  } else {
    // Fulcio-style: an ephemeral key certified for a GitHub workflow identity.
    const ephemeral = generateKeyPairSync("ec", { namedCurve: "P-256" });
    privateKey = ephemeral.privateKey;
    const ca = options.signer.untrustedCa === true ? authority.otherCa : authority.ca;
    certificate = await ca.issueCertificate({
      publicKey: ephemeral.publicKey.export({ format: "der", type: "spki" }),
      subjectAltName: workflowIdentity(options.signer.run),
      extensions: githubExtensions(options.signer.run),
    });
    publicKeyPem = `-----BEGIN CERTIFICATE-----\n${certificate.toString("base64")}\n-----END CERTIFICATE-----\n`;
  }
  const sig = sign("sha256", pae, privateKey);
  // Like npm: publish attestations are v0.2 bundles with a key hint, provenance v0.3 with a single certificate.
  const bundle = toDSSEBundle({ artifact: payload, artifactType: IN_TOTO_PAYLOAD_TYPE, signature: sig, certificate, keyHint, certificateChain: keyHint !== undefined });
  const keyid = bundle.content.dsseEnvelope.signatures[0]?.keyid ?? "";
  const body = intotoEntryBody({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload, sig, keyid }, publicKeyPem);
  bundle.verificationMaterial.tlogEntries = [await witness(authority, body, options.breakInclusionProof === true)];
  return bundleToJSON(bundle);
}
