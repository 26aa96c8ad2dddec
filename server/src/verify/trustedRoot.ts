// The Sigstore trusted root (Fulcio CAs, Rekor logs, CT logs, TSAs) and the verifier built from it once.
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { crypto as sigstoreCrypto, type ASN1Obj, type X509Certificate } from "@sigstore/core";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { Verifier, VerificationError, toTrustMaterial, type TrustMaterial, type VerifierOptions } from "@sigstore/verify";
// esbuild inlines this JSON into the bundle, so the shipped root needs no node_modules at run time.
import seeds from "@sigstore/tuf/seeds.json";
import type { RegistryKey } from "./npmKeys";

export type TrustedRootSource = "shipped" | "file";

export interface LoadedTrustedRoot {
  root: TrustedRoot;
  source: TrustedRootSource;
  /** The file it was read from (source "file"). */
  path?: string;
  /** SHA-256 hex of the root document's bytes. */
  digest: string;
  /** The document as read (verification worker threads rebuild the root from it). */
  text: string;
  /** The newest `validFor.start` among its logs and authorities (ISO): how recent the root is. */
  newestValidFrom?: string;
  /** Public-good roots list CT logs and Fulcio certificates carry SCTs; a private or mock root may list none. */
  hasCtLogs: boolean;
}

export type TrustedRootResult = { ok: true; root: LoadedTrustedRoot } | { ok: false; reason: string };

const TRUSTED_ROOT_MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\+json;version=0\.1|\.v0\.[12]\+json)$/;

function newestStart(root: TrustedRoot): string | undefined {
  const starts: Date[] = [];
  for (const log of [...root.tlogs, ...root.ctlogs]) if (log.publicKey?.validFor?.start) starts.push(log.publicKey.validFor.start);
  for (const ca of [...root.certificateAuthorities, ...root.timestampAuthorities]) if (ca.validFor?.start) starts.push(ca.validFor.start);
  const times = starts.map((d) => d.getTime()).filter((t) => !Number.isNaN(t));
  return times.length === 0 ? undefined : new Date(Math.max(...times)).toISOString();
}

/** Reads a trusted root document. Never throws: a bad document comes back with the reason. */
export function trustedRootFromJSON(text: string | Buffer, source: TrustedRootSource, path?: string): TrustedRootResult {
  const where = path === undefined ? `The ${source} Sigstore trusted root` : `The Sigstore trusted root ${path}`;
  let json: unknown;
  try {
    json = JSON.parse(text.toString());
  } catch (error) {
    return { ok: false, reason: `${where} is not JSON (${error instanceof Error ? error.message : String(error)}).` };
  }
  if (typeof json !== "object" || json === null) return { ok: false, reason: `${where} is not a JSON object.` };
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== "string" || !TRUSTED_ROOT_MEDIA_TYPE.test(mediaType)) {
    return { ok: false, reason: `${where} has media type ${JSON.stringify(mediaType)}, not a Sigstore trusted root.` };
  }
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(json);
    // Parses every certificate and key now, so a broken root is reported here and not at the first package.
    toTrustMaterial(root);
  } catch (error) {
    return { ok: false, reason: `${where} cannot be used: ${error instanceof Error ? error.message : String(error)}.` };
  }
  if (root.tlogs.length === 0) return { ok: false, reason: `${where} lists no transparency log, so no bundle could verify.` };
  if (root.certificateAuthorities.length === 0) return { ok: false, reason: `${where} lists no certificate authority, so no provenance could verify.` };
  return {
    ok: true,
    root: {
      root,
      source,
      path,
      digest: createHash("sha256").update(text).digest("hex"),
      text: text.toString(),
      newestValidFrom: newestStart(root),
      hasCtLogs: root.ctlogs.length > 0,
    },
  };
}

/** A user-given trusted root (e.g. the test registry's mock root, or a private Sigstore instance). */
export async function trustedRootFromFile(path: string): Promise<TrustedRootResult> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (error) {
    return { ok: false, reason: `The Sigstore trusted root ${path} cannot be read (${error instanceof Error ? error.message : String(error)}).` };
  }
  return trustedRootFromJSON(text, "file", path);
}

const SIGSTORE_TUF_URL = "https://tuf-repo-cdn.sigstore.dev";
let shipped: LoadedTrustedRoot | undefined;

/**
 * The Sigstore public-good trusted root shipped with the product: the `trusted_root.json` target embedded in
 * `@sigstore/tuf`'s seeds. No TUF refresh happens here (the seeds' TUF root itself expired on 2026-11-20);
 * `describeTrustedRoot` tells people how old it is instead.
 */
export function shippedTrustedRoot(): LoadedTrustedRoot {
  if (shipped !== undefined) return shipped;
  const target = seeds[SIGSTORE_TUF_URL].targets["trusted_root.json"];
  const result = trustedRootFromJSON(Buffer.from(target, "base64"), "shipped");
  // The seeds are part of the build: a broken one is a packaging bug, not a user's problem.
  if (!result.ok) throw new Error(`Shipped Sigstore trusted root is unusable: ${result.reason}`);
  shipped = result.root;
  return shipped;
}

/** e.g. "Sigstore trusted root from 2025-09-23 (shipped)". */
export function describeTrustedRoot(root: LoadedTrustedRoot): string {
  const date = root.newestValidFrom === undefined ? "of unknown date" : `from ${root.newestValidFrom.slice(0, 10)}`;
  return `Sigstore trusted root ${date} (${root.source === "shipped" ? "shipped" : root.path ?? "file"})`;
}

/** A verifier ready for bundles, built once per (trusted root, registry keys) pair. */
export interface PreparedTrust {
  /** Stable across runs: changes when the root document or the registry keys change (for the verdict cache). */
  trustMaterialId: string;
  root: LoadedTrustedRoot;
  /** The registry keys that may sign npm publish attestations, by keyid. */
  keys: ReadonlyMap<string, RegistryKey>;
  verifier: Verifier;
  thresholds: Required<Pick<VerifierOptions, "tlogThreshold" | "ctlogThreshold" | "timestampThreshold">>;
}

const prepared = new Map<string, PreparedTrust>();
const MAX_PREPARED = 16;

export function trustMaterialIdOf(root: LoadedTrustedRoot, keys: readonly RegistryKey[]): string {
  const hash = createHash("sha256").update(root.digest);
  // Code-unit order, not localeCompare: its first call loads ICU's collator (~12 ms of every CLI start), and the id
  // only needs an order that does not depend on the order the keys came in.
  for (const key of [...keys].sort((a, b) => (a.keyid < b.keyid ? -1 : a.keyid > b.keyid ? 1 : 0))) hash.update(`\n${key.keyid} ${key.key} ${key.expires ?? "never"}`);
  return hash.digest("hex").slice(0, 32);
}

function keyFinderOf(keys: ReadonlyMap<string, RegistryKey>): TrustMaterial["publicKey"] {
  const objects = new Map<string, KeyObject>();
  return (hint) => {
    const key = keys.get(hint);
    if (key === undefined) {
      throw new VerificationError({ code: "PUBLIC_KEY_ERROR", message: `key ${hint || "(none)"} is not one of the registry's keys` });
    }
    let object = objects.get(hint);
    if (object === undefined) {
      object = createPublicKey({ key: Buffer.from(key.key, "base64"), format: "der", type: "spki" });
      objects.set(hint, object);
    }
    const expires = key.expires === null ? undefined : Date.parse(key.expires);
    // The date is the log's integration time: the key must not have expired before the attestation was logged.
    return { publicKey: object, validFor: (date: Date) => expires === undefined || date.getTime() < expires };
  };
}

// Hot path (issue #7: profiled with bench/verifyBundles.ts). @sigstore/core re-encodes a certificate's parsed ASN.1
// tree to DER on every X509Certificate.equals, publicKey read and signature check, allocating two 1 KiB buffers per
// node: 43% of a provenance bundle's verification time, and the same trusted CA certificates are re-encoded and their
// signatures re-checked for every bundle. These are pure functions of objects nothing mutates (the library clones a
// certificate before the one edit it makes, for SCTs), so each instance keeps its first answer (encodings by
// encodeDer, the library's exact bytes; signature checks by the library): every check still runs, on the same bytes,
// at least once per certificate.

/** Bytes of a DER length (`ASN1Obj.toDER`'s encodeLength: one byte below 128, else 0x80|n and n big-endian bytes). */
function lengthSize(length: number): number {
  let size = 1;
  if (length >= 128) for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) size++;
  return size;
}

/**
 * Byte for byte what `ASN1Obj.toDER()` returns (its tag byte, minimal length, then the value or, for a node with
 * children, their encodings), written into one buffer sized in advance: the library grows a stream in 1 KiB blocks
 * for every node. Hand-written because it is the hot part of certificate handling; tested against the library.
 */
export function encodeDer(node: ASN1Obj): Buffer {
  const contentSizes = new Map<ASN1Obj, number>();
  const sizeOf = (n: ASN1Obj): number => {
    let content = 0;
    if (n.subs.length > 0) for (const sub of n.subs) content += sizeOf(sub);
    else content = n.value.length;
    contentSizes.set(n, content);
    return 1 + lengthSize(content) + content;
  };
  const out = Buffer.allocUnsafe(sizeOf(node));
  const write = (n: ASN1Obj, at: number): number => {
    const content = contentSizes.get(n)!;
    out[at++] = n.tag.toDER();
    if (content < 128) out[at++] = content;
    else {
      const bytes = lengthSize(content) - 1;
      out[at++] = 0x80 | bytes;
      for (let i = bytes - 1, rest = content; i >= 0; i--, rest = Math.floor(rest / 256)) out[at + i] = rest % 256;
      at += bytes;
    }
    if (n.subs.length === 0) return at + n.value.copy(out, at);
    for (const sub of n.subs) at = write(sub, at);
    return at;
  };
  write(node, 0);
  return out;
}

/** Key objects of trusted certificates, made on first use: `createPublicKey` per bundle was 6% of its time. */
const trustedKeys = new WeakMap<X509Certificate, KeyObject>();

function trustedKeyOf(cert: X509Certificate): KeyObject | undefined {
  if (!trustedCertificates.has(cert)) return undefined;
  let key = trustedKeys.get(cert);
  if (key === undefined) trustedKeys.set(cert, (key = sigstoreCrypto.createPublicKey(cert.publicKey)));
  return key;
}

const trustedCertificates = new WeakSet<X509Certificate>();

/**
 * Makes a parsed certificate encode its public key, its TBS part and its whole DER once each (a bundle's leaf: the
 * chain check, the signer's key and the SCT check all read them). Checked against a trusted issuer, it uses that issuer's key object instead of parsing the key again: the
 * same check as X509Certificate.verify (signature over the TBS DER, by the issuer's key, with its own algorithm).
 */
export function memoizeCertificateEncoding(cert: X509Certificate): void {
  let encodings: { publicKey: Buffer; tbs: ASN1Obj; tbsDer: Buffer; der: Buffer };
  try {
    const tbs = cert.tbsCertificate;
    encodings = { publicKey: cert.publicKey, tbs, tbsDer: encodeDer(tbs), der: encodeDer(cert.root) };
  } catch (error) {
    // Not shaped like a certificate (fields missing): left untouched, so that the library rejects it with its own
    // reason (a failed chain) rather than with this TypeError. Nothing is lost: nothing here is a check.
    if (error instanceof TypeError) return;
    throw error;
  }
  const { publicKey, tbs, tbsDer, der } = encodings;
  Object.defineProperty(cert, "publicKey", { value: publicKey, configurable: true });
  Object.defineProperty(tbs, "toDER", { value: () => tbsDer, configurable: true });
  Object.defineProperty(cert.root, "toDER", { value: () => der, configurable: true });
  const verify = cert.verify.bind(cert);
  const verifyWithKnownKey = (issuer?: X509Certificate): boolean => {
    const key = issuer === undefined ? undefined : trustedKeyOf(issuer);
    if (key === undefined) return verify(issuer);
    return sigstoreCrypto.verify(cert.tbsCertificate.toDER(), key, cert.signatureValue, cert.signatureAlgorithm);
  };
  Object.defineProperty(cert, "verify", { value: verifyWithKnownKey, configurable: true });
  // The SCT check clones the certificate, removes the SCT extension from the clone and encodes the clone's TBS part:
  // that one encoding is made here too (never remembered: the clone is edited before it is encoded).
  const clone = cert.clone.bind(cert);
  const cloneWithFastEncoding = (): X509Certificate => {
    const copy = clone();
    const tbs = copy.tbsCertificate;
    Object.defineProperty(tbs, "toDER", { value: () => encodeDer(tbs), configurable: true });
    return copy;
  };
  Object.defineProperty(cert, "clone", { value: cloneWithFastEncoding, configurable: true });
}

/**
 * A trusted CA certificate (from the root document, kept for the verifier's life) also remembers whether its
 * signature verified under each issuer it was checked with: a self-signed Fulcio root, or an intermediate under its
 * root, is otherwise verified again (ECDSA P-384) for every bundle. Issuers are remembered by identity, weakly: a
 * bundle's own certificate offered as an issuer is a new object each time and is checked each time.
 */
function memoizeTrustedCertificate(cert: X509Certificate): void {
  memoizeCertificateEncoding(cert);
  trustedCertificates.add(cert);
  const verify = cert.verify.bind(cert);
  let self: boolean | undefined;
  const byIssuer = new WeakMap<X509Certificate, boolean>();
  const remembered = (issuer?: X509Certificate): boolean => {
    if (issuer === undefined) return (self ??= verify());
    let verdict = byIssuer.get(issuer);
    if (verdict === undefined) byIssuer.set(issuer, (verdict = verify(issuer)));
    return verdict;
  };
  Object.defineProperty(cert, "verify", { value: remembered, configurable: true });
}

/** The library's trust material, with the trusted certificates' work memoized (see memoizeTrustedCertificate). */
function trustMaterialOf(root: TrustedRoot, keys: ReadonlyMap<string, RegistryKey>): TrustMaterial {
  const material = toTrustMaterial(root, keyFinderOf(keys));
  for (const authority of [...material.certificateAuthorities, ...material.timestampAuthorities]) {
    for (const cert of authority.certChain) memoizeTrustedCertificate(cert);
  }
  return material;
}

/**
 * The verifier for a root and the registry keys that may sign publish attestations (for npmjs packages pass ONLY
 * the pinned keys). Built once and cached: parsing the root's certificates is the costly part.
 */
export function prepareTrust(root: LoadedTrustedRoot, keys: readonly RegistryKey[]): PreparedTrust {
  const id = trustMaterialIdOf(root, keys);
  const cached = prepared.get(id);
  if (cached !== undefined) return cached;
  const entry = createPreparedTrust(root, keys);
  if (prepared.size >= MAX_PREPARED) prepared.delete(prepared.keys().next().value as string);
  prepared.set(id, entry);
  return entry;
}

/** A new verifier every call, outside prepareTrust's cache (benchmarks start each round from nothing). */
export function createPreparedTrust(root: LoadedTrustedRoot, keys: readonly RegistryKey[]): PreparedTrust {
  const byId = new Map(keys.map((k) => [k.keyid, k]));
  const thresholds = {
    tlogThreshold: 1,
    // Public-good Fulcio certificates embed SCTs from the CT logs the root lists, and they must be checked. A root
    // that lists no CT log (a private instance, the @sigstore/mock CA) cannot check any, so none are required.
    ctlogThreshold: root.hasCtLogs ? 1 : 0,
    // The Rekor entry's signed integration time is the timestamp every bundle we accept carries.
    timestampThreshold: 1,
  };
  return {
    trustMaterialId: trustMaterialIdOf(root, keys),
    root,
    keys: byId,
    verifier: new Verifier(trustMaterialOf(root.root, byId), thresholds),
    thresholds,
  };
}
