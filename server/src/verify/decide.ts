// The one place where facts about a package become its overall status (issue #3, "Verdicts"). Pure.
import type { PackageStatus, ProvenanceVerdict, SignatureVerdict, Verdict, VerdictHistory } from "../protocol/verdicts";

export interface PackageFacts {
  signature: SignatureVerdict;
  provenance: ProvenanceVerdict;
  /** Set when the lockfile's integrity differs from the one the registry signed. */
  integrityMismatch?: string;
  /** Why the package could not be checked at all (registry unreachable, version unknown...). */
  blocker?: string;
  /** The blocker is a condition of the whole registry or run, said once elsewhere. */
  blockerCause?: "registry" | "offline";
  /** Whether the registry serves signatures in general (false: a registry that strips or never had them). */
  registryServesSignatures: boolean;
  /** Facts worth saying that do not change the status (e.g. `resolved` on another host). */
  notes: string[];
  registry?: string;
  publishedAt?: string;
  /** Trust history among earlier versions (issue #6): carried into the verdict as is. */
  history?: VerdictHistory;
}

export function decideVerdict(facts: PackageFacts): Verdict {
  const { signature, provenance } = facts;
  const reasons: string[] = [];
  let status: PackageStatus;
  if (facts.integrityMismatch !== undefined) {
    status = "invalid";
    reasons.push(facts.integrityMismatch);
  } else if (signature.status === "invalid" || signature.status === "expired-key") {
    status = "invalid";
    reasons.push(signature.reason ?? "The registry signature does not verify.");
  } else if (provenance.status === "invalid") {
    status = "invalid";
    reasons.push(provenance.reason ?? "The provenance attestation does not verify.");
  } else if (facts.blocker !== undefined) {
    status = "unverifiable";
    reasons.push(facts.blocker);
  } else if (signature.status === "unknown-key") {
    status = "unverifiable";
    reasons.push(signature.reason ?? "The signature names a key the registry does not publish.");
  } else if (provenance.status === "verified") {
    status = "verified";
    reasons.push(provenanceSentence(provenance));
    if (signature.status === "valid") reasons.push(`Registry signature valid (key ${signature.keyid ?? "?"}).`);
    else if (signature.reason !== undefined) reasons.push(signature.reason);
  } else if (signature.status === "valid") {
    status = "signed";
    reasons.push(
      provenance.status === "not-checked"
        ? `Registry signature valid (key ${signature.keyid ?? "?"}); its provenance was not checked.`
        : `Registry signature valid (key ${signature.keyid ?? "?"}); no provenance attestation was published for this version.`,
    );
  } else if (signature.status === "missing" && facts.registryServesSignatures) {
    status = "unsigned";
    reasons.push(signature.reason ?? "The registry serves signatures for other packages, but none for this version.");
  } else {
    status = "unverifiable";
    reasons.push(
      !facts.registryServesSignatures && signature.status === "missing"
        ? `${facts.registry ?? "The registry"} serves no signatures at all (a mirror or proxy that strips them?), so nothing can be verified.`
        : signature.reason ?? provenance.reason ?? "It could not be decided.",
    );
  }
  if (provenance.status === "not-checked" && provenance.reason !== undefined && status !== "invalid" && !reasons.includes(provenance.reason)) {
    reasons.push(provenance.reason);
  }
  reasons.push(...facts.notes);
  const cause =
    status === "unverifiable"
      ? facts.blocker !== undefined
        ? facts.blockerCause
        : !facts.registryServesSignatures && signature.status === "missing"
          ? "registry"
          : undefined
      : undefined;
  return {
    status,
    signature,
    provenance,
    reasons,
    ...(facts.registry === undefined ? {} : { registry: facts.registry }),
    ...(facts.publishedAt === undefined ? {} : { publishedAt: facts.publishedAt }),
    ...(cause === undefined ? {} : { cause }),
    ...(facts.history === undefined ? {} : { history: facts.history }),
  };
}

function provenanceSentence(p: ProvenanceVerdict): string {
  const where = p.sourceRepository === undefined ? "" : ` from ${p.sourceRepository}${p.sourceCommit === undefined ? "" : `@${p.sourceCommit.slice(0, 12)}`}`;
  const how = p.workflow === undefined ? "" : ` by ${p.workflow}`;
  return `Provenance verified: built${where}${how}.`;
}
