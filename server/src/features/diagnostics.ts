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

/** package.json texts of the lockfile's workspace packages, by importer path ("." for the root). */
export type ManifestTexts = ReadonlyMap<string, { uri: string; text: string }>;

export interface DiagnosticContext {
  levels?: Readonly<SeverityLevels>;
  manifests?: ManifestTexts;
  /** The policy's findings for a package (the status first); accepted ones get no diagnostic. `key` is its packageKey. */
  outcomeOf?: (pkg: LockedPackage, key?: string) => PackageOutcome | undefined;
  /** While a review limits diagnostics to changes: the keys of the packages added or changed. */
  only?: ReadonlySet<string>;
  dependents?: DependentsIndex;
  /** The previous checks' diagnostics of this lockfile, re-used where nothing about a package changed. */
  memo?: DiagnosticMemo;
}

/** What a package diagnostic says, apart from where it sits. Shared by every location and every edit. */
type DiagnosticBody = Omit<Diagnostic, "range">;

interface Remembered {
  verdict: Verdict;
  alias: string | undefined;
  findings: readonly Finding[];
  related: DiagnosticRelatedInformation | undefined;
  /** One per shown finding, in order; undefined for a finding that gets none. */
  bodies: (DiagnosticBody | undefined)[];
  /** The diagnostics last built, by finding then location: re-used while their range is the same. */
  built: Diagnostic[][];
  /** The check that last used it (DiagnosticMemo's generation). */
  seen: number;
}

/**
 * Diagnostics kept across the checks of one lockfile (issue #7: an edit re-publishes ~1,900 of them). A package whose
 * verdict, findings and related information are those of the last check keeps its diagnostic objects and messages;
 * only moved ranges get new ones. Entries of packages no longer in the lockfile are dropped after each check.
 */
export class DiagnosticMemo {
  readonly #packages = new Map<string, Remembered>();
  #generation = 0;
  #related = new Map<string, { text: string; uri: string; info: DiagnosticRelatedInformation | undefined }>();

  /** The remembered entry of `key` when it still says the same; else undefined. */
  lookup(key: string, pkg: LockedPackage, verdict: Verdict, findings: readonly Finding[], related: DiagnosticRelatedInformation | undefined): Remembered | undefined {
    const found = this.#packages.get(key);
    if (found === undefined || found.verdict !== verdict || found.alias !== pkg.alias || found.related !== related) return undefined;
    return sameFindings(found.findings, findings) ? found : undefined;
  }

  /** Related information for a manifest key, the same object while the manifest's text is the same. */
  related(cacheKey: string, manifest: { uri: string; text: string }, find: () => DiagnosticRelatedInformation | undefined): DiagnosticRelatedInformation | undefined {
    const found = this.#related.get(cacheKey);
    if (found !== undefined && found.text === manifest.text && found.uri === manifest.uri) return found.info;
    const info = find();
    this.#related.set(cacheKey, { text: manifest.text, uri: manifest.uri, info });
    return info;
  }

  #kept = 0;

  /** A check starts: what it does not keep is dropped at `end`. */
  begin(): void {
    this.#generation++;
    this.#kept = 0;
  }

  /** Remembers `entry` for this check (each package key once per check). */
  keep(key: string, entry: Remembered): void {
    entry.seen = this.#generation;
    this.#kept++;
    if (this.#packages.get(key) !== entry) this.#packages.set(key, entry);
  }

  /**
   * Drops the packages this check did not keep. Updated in place rather than replaced by a new map per check: an
   * edit keeps nearly all of ~2,000 entries, and a new map of them per edit is old-generation garbage (issue #7).
   */
  end(): void {
    if (this.#kept === this.#packages.size) return; // Every remembered package was kept.
    for (const [key, entry] of this.#packages) if (entry.seen !== this.#generation) this.#packages.delete(key);
  }
}

function sameFindings(a: readonly Finding[], b: readonly Finding[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.code !== y.code || x.message !== y.message || x.level !== y.level) return false;
    if (x.accepted?.reason !== y.accepted?.reason || x.accepted?.expires !== y.accepted?.expires || (x.accepted === undefined) !== (y.accepted === undefined)) return false;
  }
  return true;
}

function sameRange(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

/**
 * packageKey(pkg), kept for the package object: an edit that changes no package re-uses the last packages
 * (lockfileCheck.ts), and a key built afresh is a new string to flatten and hash in every map it is looked up in,
 * which was most of this function's time before V8 optimises it.
 */
const packageKeys = new WeakMap<LockedPackage, string>();

function keyOf(pkg: LockedPackage): string {
  let key = packageKeys.get(pkg);
  if (key === undefined) {
    key = packageKey(pkg);
    packageKeys.set(pkg, key);
  }
  return key;
}

/** One diagnostic per location: the last ones as they were while every range is the same, else new ones where moved. */
function builtAt(before: Diagnostic[] | undefined, locations: readonly Range[], body: DiagnosticBody): Diagnostic[] {
  if (before !== undefined && before.length === locations.length) {
    let same = true;
    for (let at = 0; same && at < locations.length; at++) same = sameRange(before[at].range, locations[at]);
    if (same) return before;
  }
  return locations.map((range, at) => {
    const old = before?.[at];
    return old !== undefined && sameRange(old.range, range) ? old : { range, ...body };
  });
}

export function diagnosticsFor(analysis: LockfileAnalysis, context: DiagnosticContext = {}): Diagnostic[] {
  const levels = context.levels ?? DEFAULT_STATUS_LEVELS;
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
  const memo = context.memo;
  const related = context.manifests === undefined || context.manifests.size === 0 ? undefined : relatedFinder(analysis, context.dependents, context.manifests, memo);
  const { outcomeOf, only } = context;
  const verdicts = analysis.result.verdicts;
  const packages = analysis.packages;
  memo?.begin();
  // Index loops and one key per package: an edit runs this over ~2,000 packages before V8 has optimised it (the
  // first edits after opening, issue #7), where every call and iterator step costs.
  for (let i = 0; i < packages.length; i++) {
    const pkg = packages[i];
    const key = keyOf(pkg);
    const verdict = verdicts.get(key);
    if (verdict === undefined) continue;
    // The project's own folders (workspaces, links) are not dependencies someone else published: no noise.
    if (pkg.source === "workspace" || pkg.source === "link") continue;
    if (only !== undefined && !only.has(key)) continue;
    const findings: Finding[] = outcomeOf?.(pkg, key)?.findings ?? [{ code: verdict.status, message: verdict.reasons[0] ?? verdict.status, level: levels[verdict.status] }];
    // A status caused by the registry or by being offline is counted, not shown per package (whatever the memo says).
    const first = findings[0];
    if (first !== undefined && first.accepted === undefined && verdict.cause !== undefined) {
      const bucket = aggregated[verdict.cause];
      bucket.count++;
      bucket.reason ??= verdict.reasons[0];
    }
    const relatedInformation = related?.(pkg);
    const entry = memo?.lookup(key, pkg, verdict, findings, relatedInformation) ?? {
      verdict,
      alias: pkg.alias,
      findings,
      related: relatedInformation,
      bodies: findings.map((finding, index) => bodyOf(pkg, verdict, finding, index === 0, relatedInformation)),
      built: [],
      seen: 0,
    };
    for (let index = 0; index < entry.bodies.length; index++) {
      const body = entry.bodies[index];
      if (body === undefined) continue;
      const built = builtAt(entry.built[index], pkg.locations, body);
      entry.built[index] = built;
      for (let at = 0; at < built.length; at++) diagnostics.push(built[at]);
    }
    memo?.keep(key, entry);
  }
  memo?.end();
  const top = firstEntryRange(analysis);
  const unverifiable = severityOf(levels.unverifiable);
  const aggregate = (code: AggregateCode, severity: DiagnosticSeverity | undefined, message: string) => {
    if (severity !== undefined) diagnostics.push({ range: top, severity, code, codeDescription: { href: docsLink(code) }, source: DIAGNOSTIC_SOURCE, message });
  };
  // What a user's .npmrc gets wrong is a fact to know, not a finding about this lockfile: never louder than information.
  const quiet = unverifiable === undefined ? undefined : (Math.max(unverifiable, DiagnosticSeverity.Information) as DiagnosticSeverity);
  for (const notice of analysis.result.notices) aggregate("registry-notice", notice.kind === "config" ? quiet : unverifiable, notice.message);
  if (aggregated.registry.count > 0) {
    aggregate("unverifiable-registry", unverifiable, `${plural(aggregated.registry.count, "package")} could not be verified because of their registry: ${aggregated.registry.reason ?? "it did not answer."}`);
  }
  if (aggregated.offline.count > 0) {
    // Being offline is a choice, not a finding: never louder than information.
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

/** The text of a package's diagnostic for one finding; undefined when the finding gets no diagnostic. */
function bodyOf(pkg: LockedPackage, verdict: Verdict, finding: Finding, isStatus: boolean, relatedInformation: DiagnosticRelatedInformation | undefined): DiagnosticBody | undefined {
  // Accepted findings are shown greyed in the tree and hovers, with their reason: no diagnostic.
  if (finding.accepted !== undefined) return undefined;
  if (isStatus && verdict.cause !== undefined) return undefined; // aggregated (see diagnosticsFor)
  const severity = severityOf(finding.level);
  if (severity === undefined) return undefined;
  return {
    severity,
    code: finding.code,
    codeDescription: { href: docsLink(finding.code) },
    source: DIAGNOSTIC_SOURCE,
    message: isStatus ? messageOf(pkg, verdict) : `${pkg.alias ?? pkg.name}@${pkg.version}: ${finding.message}`,
    ...(relatedInformation !== undefined ? { relatedInformation: [relatedInformation] } : {}),
  };
}

/** Points a package's diagnostic at the package.json dependency that pulls it in (the top of its chain). */
function relatedFinder(analysis: LockfileAnalysis, given: DependentsIndex | undefined, manifests: ManifestTexts | undefined, memo: DiagnosticMemo | undefined) {
  const found = new Map<string, DiagnosticRelatedInformation | undefined>();
  let dependents = given;
  return (pkg: LockedPackage): DiagnosticRelatedInformation | undefined => {
    if (manifests === undefined || manifests.size === 0) return undefined;
    dependents ??= dependentsIndex(analysis.parsed);
    const root = dependents.rootOf(pkg.entryIds[0]);
    if (root === undefined) return undefined;
    const cacheKey = `${root.importerPath}\n${root.dependency.name}`;
    if (!found.has(cacheKey)) {
      const manifest = manifests.get(root.importerPath);
      const find = (): DiagnosticRelatedInformation | undefined => {
        const at = manifest === undefined ? undefined : findManifestKey(manifest.text, root.dependency.name);
        return manifest === undefined || at === undefined
          ? undefined
          : { location: { uri: manifest.uri, range: at.range }, message: `"${root.dependency.name}" in ${at.field} brings it in` };
      };
      found.set(cacheKey, manifest !== undefined && memo !== undefined ? memo.related(cacheKey, manifest, find) : find());
    }
    return found.get(cacheKey);
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
