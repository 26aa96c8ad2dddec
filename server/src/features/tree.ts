// The data of the "Dependency Trust" tree and the lockfile's summary CodeLens. The client only groups and filters
// what it is given: verdicts are decided here, on the server.
import type { CodeLens } from "vscode-languageserver";
import { packageKey, type LockedPackage } from "../lockfile/index";
import type { PackageOutcome } from "../policy/index";
import { emptyByStatus, formatSummary, type TreeLockfile, type TreePackage } from "../protocol/messages";
import { historyLine } from "../verify/history";
import type { PackageStatus } from "../protocol/verdicts";
import { npmPurl } from "../verify/provenance";
import type { LockfileAnalysis } from "../workspace/analyze";
import type { DependentsIndex } from "./dependents";
import { commitUrl } from "./hover";

/** Client command the summary CodeLens runs (reveals the tree). */
export const SHOW_TREE_COMMAND = "provenanceLens.showTree";

export function treeLockfileOf(
  analysis: LockfileAnalysis,
  uri: string,
  folderUri: string | undefined,
  dependents: DependentsIndex,
  outcomeOf: (pkg: LockedPackage) => PackageOutcome | undefined,
  notesOf: (pkg: LockedPackage) => string[] = () => [],
): TreeLockfile {
  const packages: TreePackage[] = [];
  for (const pkg of analysis.packages) {
    const key = packageKey(pkg);
    const verdict = analysis.result.verdicts.get(key);
    if (verdict === undefined) continue;
    const [status, ...findings] = outcomeOf(pkg)?.findings ?? [];
    const accepted = status?.accepted;
    const history = historyLine(verdict);
    const weakenings = notesOf(pkg);
    const provenance = verdict.provenance;
    const commit = provenance.sourceRepository && provenance.sourceCommit ? commitUrl(provenance.sourceRepository, provenance.sourceCommit) : undefined;
    packages.push({
      key,
      name: pkg.name,
      ...(pkg.alias !== undefined ? { alias: pkg.alias } : {}),
      version: pkg.version,
      source: pkg.source,
      status: verdict.status,
      ...(accepted !== undefined ? { accepted: { reason: accepted.reason, ...(accepted.expires ? { expires: accepted.expires } : {}) } } : {}),
      ...(findings.length > 0 ? { findings } : {}),
      ...(history !== undefined ? { history } : {}),
      ...(weakenings.length > 0 ? { weakenings } : {}),
      direct: pkg.direct,
      dev: pkg.dev,
      optional: pkg.optional,
      ...(pkg.integrity !== undefined ? { integrity: pkg.integrity } : {}),
      ...(pkg.resolved !== undefined ? { resolved: pkg.resolved } : {}),
      verdict,
      chain: dependents.chainOf(pkg.entryIds[0]),
      range: pkg.locations[0],
      ...(pkg.source === "registry" ? { purl: npmPurl(pkg.name, pkg.version) } : {}),
      ...(commit !== undefined ? { commitUrl: commit } : {}),
    });
  }
  return { uri, ...(folderUri !== undefined ? { folderUri } : {}), format: analysis.parsed.format, packages, notices: analysis.result.notices };
}

export function countsOf(analysis: LockfileAnalysis): Record<PackageStatus, number> {
  const byStatus = emptyByStatus();
  for (const verdict of analysis.result.verdicts.values()) byStatus[verdict.status]++;
  return byStatus;
}

/** One lens on the first line: "Provenance Lens: 1,204 verified · 37 signed · 2 invalid", opening the tree. */
export function summaryLens(analysis: LockfileAnalysis, uri: string): CodeLens {
  return {
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    command: { title: `Provenance Lens: ${formatSummary(countsOf(analysis))}`, command: SHOW_TREE_COMMAND, arguments: [uri] },
  };
}
