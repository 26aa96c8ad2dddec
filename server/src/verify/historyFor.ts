// The trust history of one locked version, given what the engine already has at hand (the abbreviated packument and
// the verified provenance) and two ways to learn more, used only when needed: the full packument (publish dates, only
// for a downgrade about to be reported) and the verified provenance of the previous version (for drift; the engine
// fetches and verifies it through its own EvidenceSource and caches it).
import type { Packument } from "../registry/registryClient";
import type { ProvenanceVerdict, VerdictHistory } from "../protocol/verdicts";
import { buildIdentityDrift, identityOf, majorLineOf, previousWithProvenance, provenanceHistory, versionRecordsOf, type LockedFacts, type VersionRecord } from "./history";

export interface HistorySources {
  /** The full packument; undefined when it cannot be had (the date is then left out, not guessed). */
  fullPackument?: () => Promise<Packument | undefined>;
  /** The verified provenance of an earlier version; undefined when it cannot be fetched or does not verify. */
  verifiedProvenance: (record: VersionRecord) => Promise<ProvenanceVerdict | undefined>;
}

export async function historyFor(locked: LockedFacts & { provenanceVerdict: ProvenanceVerdict }, packument: Packument, sources: HistorySources): Promise<VerdictHistory | undefined> {
  // Only the locked version's line matters (earlier versions of it, and the locked version's own metadata).
  const line = majorLineOf(locked.version);
  let records = versionRecordsOf(packument, line);
  let history = provenanceHistory(locked, records);
  if (history.lastWithProvenance !== undefined && history.lastWithProvenance.publishedAt === undefined && sources.fullPackument !== undefined) {
    const full = await sources.fullPackument();
    if (full !== undefined) {
      records = versionRecordsOf(full, line);
      history = provenanceHistory(locked, records);
    }
  }
  if (locked.provenance === "verified") {
    const previous = previousWithProvenance(locked.version, records);
    const verified = previous === undefined ? undefined : await sources.verifiedProvenance(previous);
    const previousIdentity = previous !== undefined && verified?.status === "verified" ? identityOf(previous.version, verified) : undefined;
    // `repository` is in the full packument only: compared when the engine had it anyway, never fetched for this.
    const metadataRepository = records.find((r) => r.version === locked.version)?.repository;
    const drift = buildIdentityDrift(identityOf(locked.version, locked.provenanceVerdict), previousIdentity, metadataRepository);
    if (drift !== undefined) history.drift = drift;
  }
  return Object.keys(history).length > 0 ? history : undefined;
}
