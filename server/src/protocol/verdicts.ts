// Status names and verdict shapes: declared once here, used by the engine, server, client and CLI.

/** What the registry signature over `${name}@${version}:${integrity}` says. */
export type SignatureStatus = "valid" | "invalid" | "missing" | "unknown-key" | "expired-key" | "not-checked";

/** What the Sigstore attestations (SLSA provenance, npm publish attestation) say. */
export type ProvenanceStatus = "verified" | "invalid" | "absent" | "not-checked";

/** The one overall verdict of a package. */
export type PackageStatus = "invalid" | "unsigned" | "unverifiable" | "signed" | "verified" | "not-from-registry";

/** Problems first: the order lists, trees and reports use. */
export const PACKAGE_STATUSES: readonly PackageStatus[] = [
  "invalid",
  "unsigned",
  "unverifiable",
  "signed",
  "verified",
  "not-from-registry",
];

export interface SignatureVerdict {
  status: SignatureStatus;
  /** The keyid that verified (or that was asked for). */
  keyid?: string;
  /** When that key expires (ISO), null when it never does. */
  keyExpires?: string | null;
  reason?: string;
}

export interface ProvenanceVerdict {
  status: ProvenanceStatus;
  /** e.g. https://github.com/org/repo */
  sourceRepository?: string;
  sourceCommit?: string;
  sourceRef?: string;
  /** Workflow path, e.g. .github/workflows/release.yml */
  workflow?: string;
  /** Builder / runner id (SLSA builder.id or the certificate's runner environment). */
  builder?: string;
  predicateType?: string;
  /** Transparency-log index of the provenance bundle's entry. */
  logIndex?: string;
  /** A link a person can open for that entry. */
  logUrl?: string;
  /** The certificate's OIDC issuer and SAN, as verified. */
  issuer?: string;
  signerIdentity?: string;
  /** Whether the npm publish attestation (signed by the registry key) verified too. */
  publishAttestation?: "verified" | "absent";
  reason?: string;
}

export interface Verdict {
  status: PackageStatus;
  signature: SignatureVerdict;
  provenance: ProvenanceVerdict;
  /** Plain words, first the one that decided the status. */
  reasons: string[];
  /** Registry base URL the package was checked against. */
  registry?: string;
  /** Publish time of the version (ISO), when known. */
  publishedAt?: string;
  /**
   * Set when the status comes from a condition of the whole registry or run (a registry that strips signatures or
   * does not answer, offline without a cached verdict), not from this package: shown once, not once per entry.
   */
  cause?: "registry" | "offline";
  /** How the locked version compares with earlier versions of its major line (issue #6). Absent: not looked at. */
  history?: VerdictHistory;
}

/** Who built a version, as its verified provenance says. */
export interface BuildIdentity {
  version: string;
  /** Normalised source repository, e.g. https://github.com/org/repo */
  repository?: string;
  /** Workflow path, e.g. .github/workflows/release.yml */
  workflow?: string;
  builder?: string;
}

export type DriftKind = "repository" | "workflow" | "metadata-repository";

/** The verified build identity differs from the previous verified version's, or from the package's own metadata. */
export interface BuildIdentityDrift {
  kinds: DriftKind[];
  current: BuildIdentity;
  /** The highest earlier version of the major line whose provenance verified. */
  previous?: BuildIdentity;
  /** The `repository` field of the locked version's metadata, when it differs from the provenance's. */
  metadataRepository?: string;
  message: string;
}

export interface VerdictHistory {
  /** First version of the unbroken run of versions with provenance that ends at the locked one. */
  provenanceSince?: string;
  /** On a downgrade: the last earlier version of the same major line that had provenance. */
  lastWithProvenance?: { version: string; publishedAt?: string };
  /** Plain sentence when the locked version lacks provenance (or a signature) an earlier version of its line had. */
  downgrade?: string;
  drift?: BuildIdentityDrift;
}

/** Codes of findings beyond the package status itself; declared once, used by policy, editor and CLI. */
export type FindingCode = "provenance-downgrade" | "build-identity-drift" | "provenance-required" | "exception-expired";

export const FINDING_CODES: readonly FindingCode[] = ["provenance-downgrade", "build-identity-drift", "provenance-required", "exception-expired"];

/** Something to show about a package after the policy is applied: its status, or a finding with its own code. */
export interface Finding {
  code: FindingCode | PackageStatus;
  message: string;
  /** error | warning | information | hint | none, from the policy file or the settings. */
  level: "error" | "warning" | "information" | "hint" | "none";
  /** Set when a policy exception accepts it: shown greyed with the reason, never silently dropped. */
  accepted?: { reason: string; expires?: string };
}

/** A fact about a whole registry, reported once instead of once per package. */
export interface RegistryNotice {
  registry: string;
  /** "config": npm's configuration has problems (an unreadable .npmrc, an unset ${VAR}, an unusable proxy or cafile). */
  kind: "no-signatures" | "unreachable" | "keys-unavailable" | "auth-required" | "config";
  message: string;
}
