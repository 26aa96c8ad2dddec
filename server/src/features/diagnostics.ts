// Lockfile analysis -> LSP diagnostics. Levels come from the policy's findings (applyPolicy: the policy's `severity`
// over the `provenanceLens.severity` setting over the defaults); without a policy outcome, from the level table.
import { Diagnostic, DiagnosticSeverity, type DiagnosticRelatedInformation } from "vscode-languageserver";
import { packageKey, type LockedPackage, type ProblemSeverity, type Range } from "../lockfile/index";
import type { PackageOutcome } from "../policy/index";
import { DEFAULT_STATUS_LEVELS, type DiagnosticLevel, type SeverityLevels } from "../protocol/settings";
import type { Finding, PackageStatus, Verdict } from "../protocol/verdicts";
import type { LockfileAnalysis } from "../workspace/analyze";
import { dependentsIndex, findManifestKey, type DependentsIndex } from "./dependents";

export const DIAGNOSTIC_SOURCE = "Provenance Lens";

/** Where each diagnostic code is explained (a section of docs/EDITOR.md per code). */
export const DOCS_BASE = "https://github.com/provenance-lens/provenance-lens/blob/main/docs/EDITOR.md";

/** Codes besides the status names and the parsers' problem codes. */
export type AggregateCode = "unverifiable-registry" | "unverifiable-offline" | "registry-notice";

export function docsLink(code: string): string {
  return `${DOCS_BASE}#${code}`;
}

const PROBLEM_SEVERITY: Record<ProblemSeverity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

export function severityOf(level: DiagnosticLevel): DiagnosticSeverity | undefined {
  switch (level) {
    case "error":
      return DiagnosticSeverity.Error;
    case "warning":
      return DiagnosticSeverity.Warning;
    case "information":
      return DiagnosticSeverity.Information;
    case "hint":
      return DiagnosticSeverity.Hint;
    case "none":
      return undefined;
  }
}

/** Attached to package diagnostics so code actions can find the package again. */
export interface PackageDiagnosticData {
  packageKey: string;
}

/** package.json texts of the lockfile's workspace packages, by importer path ("." for the root). */
export type ManifestTexts = ReadonlyMap<string, { uri: string; text: string }>;

export interface DiagnosticContext {
  levels?: Readonly<SeverityLevels>;
  manifests?: ManifestTexts;
  /** The policy's findings for a package (the status first); accepted ones get no diagnostic. */
  outcomeOf?: (pkg: LockedPackage) => PackageOutcome | undefined;
  /** While a review limits diagnostics to changes: the keys of the packages added or changed. */
  only?: ReadonlySet<string>;
  dependents?: DependentsIndex;
}

export function diagnosticsFor(analysis: LockfileAnalysis, context: DiagnosticContext = {}): Diagnostic[] {
  const levels = context.levels ?? DEFAULT_STATUS_LEVELS;
  const dependents = context.dependents ?? dependentsIndex(analysis.parsed);
  const diagnostics: Diagnostic[] = analysis.parsed.problems.map((problem) => ({
    range: problem.range,
    severity: PROBLEM_SEVERITY[problem.severity],
    code: problem.code,
    codeDescription: { href: docsLink(problem.code) },
    source: DIAGNOSTIC_SOURCE,
    message: problem.message,
  }));
  // Verdicts caused by the registry or by being offline are said once for the lockfile, not once per entry.
  const aggregated: Record<"registry" | "offline", { count: number; reason?: string }> = { registry: { count: 0 }, offline: { count: 0 } };
  const related = relatedFinder(analysis, dependents, context.manifests);
  for (const pkg of analysis.packages) {
    const key = packageKey(pkg);
    const verdict = analysis.result.verdicts.get(key);
    if (verdict === undefined) continue;
    // The project's own folders (workspaces, links) are not dependencies someone else published: no noise.
    if (pkg.source === "workspace" || pkg.source === "link") continue;
    if (context.only !== undefined && !context.only.has(key)) continue;
    const findings: Finding[] = context.outcomeOf?.(pkg)?.findings ?? [{ code: verdict.status, message: verdict.reasons[0] ?? verdict.status, level: levels[verdict.status] }];
    findings.forEach((finding, index) => {
      // Accepted findings are shown greyed in the tree and hovers, with their reason: no diagnostic.
      if (finding.accepted !== undefined) return;
      const isStatus = index === 0;
      if (isStatus && verdict.cause !== undefined) {
        const bucket = aggregated[verdict.cause];
        bucket.count++;
        bucket.reason ??= verdict.reasons[0];
        return;
      }
      const severity = severityOf(finding.level);
      if (severity === undefined) return;
      const data: PackageDiagnosticData = { packageKey: key };
      const relatedInformation = related(pkg);
      for (const range of pkg.locations) {
        diagnostics.push({
          range,
          severity,
          code: finding.code,
          codeDescription: { href: docsLink(finding.code) },
          source: DIAGNOSTIC_SOURCE,
          message: isStatus ? messageOf(pkg, verdict) : `${pkg.alias ?? pkg.name}@${pkg.version}: ${finding.message}`,
          data,
          ...(relatedInformation.length > 0 ? { relatedInformation } : {}),
        });
      }
    });
  }
  const top = firstEntryRange(analysis);
  const unverifiable = severityOf(levels.unverifiable);
  const aggregate = (code: AggregateCode, severity: DiagnosticSeverity | undefined, message: string) => {
    if (severity !== undefined) diagnostics.push({ range: top, severity, code, codeDescription: { href: docsLink(code) }, source: DIAGNOSTIC_SOURCE, message });
  };
  for (const notice of analysis.result.notices) aggregate("registry-notice", unverifiable, notice.message);
  if (aggregated.registry.count > 0) {
    aggregate("unverifiable-registry", unverifiable, `${plural(aggregated.registry.count, "package")} could not be verified because of their registry: ${aggregated.registry.reason ?? "it did not answer."}`);
  }
  if (aggregated.offline.count > 0) {
    // Being offline is a choice, not a finding: never louder than information.
    const quiet = unverifiable === undefined ? undefined : Math.max(unverifiable, DiagnosticSeverity.Information) as DiagnosticSeverity;
    aggregate("unverifiable-offline", quiet, `${plural(aggregated.offline.count, "package")} not verified: offline, and no verdict for them is cached. ${aggregated.offline.reason ?? ""}`.trim());
  }
  return diagnostics;
}

/** The lockfile's first entry (the aggregated diagnostics' place), else the first line. */
function firstEntryRange(analysis: LockfileAnalysis): Range {
  let first: Range | undefined;
  for (const entry of analysis.parsed.entries) {
    if (first === undefined || entry.range.start.line < first.start.line) first = entry.range;
  }
  return first ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
}

/** Points a package's diagnostic at the package.json dependency that pulls it in (the top of its chain). */
function relatedFinder(analysis: LockfileAnalysis, dependents: DependentsIndex, manifests: ManifestTexts | undefined) {
  const found = new Map<string, DiagnosticRelatedInformation | undefined>();
  return (pkg: LockedPackage): DiagnosticRelatedInformation[] => {
    if (manifests === undefined) return [];
    const root = dependents.rootOf(pkg.entryIds[0]);
    if (root === undefined) return [];
    const cacheKey = `${root.importerPath}\n${root.dependency.name}`;
    if (!found.has(cacheKey)) {
      const manifest = manifests.get(root.importerPath);
      const at = manifest === undefined ? undefined : findManifestKey(manifest.text, root.dependency.name);
      found.set(
        cacheKey,
        manifest === undefined || at === undefined
          ? undefined
          : { location: { uri: manifest.uri, range: at.range }, message: `"${root.dependency.name}" in ${at.field} brings it in` },
      );
    }
    const info = found.get(cacheKey);
    return info === undefined ? [] : [info];
  };
}

/** Status in words: what a person reads first in a hover, a diagnostic or the tree. */
export const STATUS_WORDS: Readonly<Record<PackageStatus, string>> = {
  invalid: "Invalid: a signature or attestation fails, or the lockfile's integrity differs from what the registry signed",
  unsigned: "Unsigned: the registry signs packages, but not this version",
  unverifiable: "Unverifiable: it could not be decided",
  signed: "Signed: the registry signature verifies; no provenance",
  verified: "Verified: provenance and registry signature verify",
  "not-from-registry": "Not from a registry: no registry signature or provenance applies",
};

function messageOf(pkg: LockedPackage, verdict: Verdict): string {
  const label = `${pkg.alias ?? pkg.name}@${pkg.version}`;
  if (verdict.status === "not-from-registry") {
    return `${label} comes from ${pkg.source}${pkg.resolved ? `: ${pkg.resolved}` : ""}. No registry signature or provenance applies.`;
  }
  return `${label}: ${verdict.status}. ${verdict.reasons[0] ?? ""}`.trim();
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}
