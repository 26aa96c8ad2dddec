// The policy file in the editor (issue #6): loaded per workspace folder with the CLI's loader, applied with the CLI's
// applyPolicy (one decision, the same in the Problems panel and in CI), and its own problems and weakenings turned
// into diagnostics in `.provenance-lens.json` itself. Replaces the stop-gap exceptions reader.
import { findNodeAtLocation, parseTree, type Node } from "jsonc-parser";
import { DiagnosticSeverity, type Diagnostic } from "vscode-languageserver";
import type { LockedPackage, ParseProblem, Range } from "../lockfile/index";
import {
  applyPolicy,
  DEFAULT_FINDING_LEVELS,
  defaultPolicy,
  loadPolicy,
  registryOptionsOf,
  type LoadedPolicy,
  type PackageOutcome,
  type PolicyCode,
  type PolicyOutcome,
  type RegistryOptions,
} from "../policy/index";
import type { DiagnosticLevel, SeverityLevels } from "../protocol/settings";
import type { FindingCode, Verdict } from "../protocol/verdicts";
import type { FileSystem } from "../workspace/fileSystem";
import { positionAt } from "./dependents";
import { DIAGNOSTIC_SOURCE, docsLink } from "./diagnostics";

/** Codes of diagnostics in the policy file besides the loader's (`policy-syntax-error`...) and `exception-expired`. */
export type PolicyDiagnosticCode = "policy-unreadable" | "policy-weakening" | "policy-registry-problem" | "policy-registries-ignored";

export interface FolderPolicy {
  /** Absolute path of the policy file looked for. */
  path: string;
  loaded: LoadedPolicy;
  /** The text read (positions of weakenings); undefined when there is no file. */
  text?: string;
  /** The policy's `registries` as engine options; undefined in an untrusted workspace, where they are ignored. */
  registries?: RegistryOptions;
  /** Whether `registries` were ignored because the workspace is not trusted. */
  registriesIgnored: boolean;
}

/**
 * Reads the folder's policy. `fs` should answer with the open editor's text when the file is open, so a policy being
 * edited applies before it is saved. In an untrusted workspace the `registries` (which would point the check at
 * registries and keys files of the project's choosing) are not used; every other rule is.
 */
export async function loadFolderPolicy(fs: FileSystem, file: string, limited: boolean, signal?: AbortSignal): Promise<FolderPolicy> {
  let text: string | undefined;
  const capturing: FileSystem = {
    readFile: async (at, s) => {
      const read = await fs.readFile(at, s);
      if (at === file) text = read;
      return read;
    },
    readDirectory: (at) => fs.readDirectory(at),
  };
  const loaded = await loadPolicy(capturing, file, false, signal);
  const declared = loaded.policy.registries.length > 0;
  if (limited || !declared) return { path: file, loaded, text, registriesIgnored: limited && declared };
  return { path: file, loaded, text, registries: await registryOptionsOf(loaded.policy, file, fs), registriesIgnored: false };
}

export function noPolicy(file: string): FolderPolicy {
  return { path: file, loaded: { path: file, found: false, policy: defaultPolicy(), problems: [], fellBack: false }, registriesIgnored: false };
}

export function outcomeOf(policy: FolderPolicy, input: Parameters<typeof applyPolicy>[0], now: number, statusLevels: Readonly<SeverityLevels>): PolicyOutcome {
  return applyPolicy(input, policy.loaded.policy, { now, statusLevels });
}

/** Status levels with the policy's `severity` on top (the aggregated diagnostics use them). */
export function effectiveLevels(policy: FolderPolicy, statusLevels: Readonly<SeverityLevels>): SeverityLevels {
  const levels = { ...statusLevels };
  for (const status of Object.keys(levels) as (keyof SeverityLevels)[]) levels[status] = policy.loaded.policy.severity[status] ?? levels[status];
  return levels;
}

const RANK: Record<DiagnosticLevel, number> = { none: 0, hint: 1, information: 2, warning: 3, error: 4 };
const PROBLEM_SEVERITY: Record<ParseProblem["severity"], DiagnosticSeverity> = { error: 1, warning: 2, information: 3 };

function baseLevel(code: PolicyCode, statusLevels: Readonly<SeverityLevels>): DiagnosticLevel {
  return (statusLevels as Record<string, DiagnosticLevel | undefined>)[code] ?? DEFAULT_FINDING_LEVELS[code as FindingCode];
}

/**
 * Everything to show in the policy file: its problems at their positions (a broken file says the defaults apply),
 * expired exceptions, registries that cannot be used or are ignored, and one Information per weakening on its line.
 */
export function policyFileDiagnostics(policy: FolderPolicy, statusLevels: Readonly<SeverityLevels>, now: number): Diagnostic[] {
  const out: Diagnostic[] = [];
  const push = (range: Range, severity: DiagnosticSeverity, code: string, message: string) =>
    out.push({ range, severity, code, codeDescription: { href: docsLink(code) }, source: DIAGNOSTIC_SOURCE, message });
  const top: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const { loaded } = policy;
  if (loaded.readError !== undefined) push(top, DiagnosticSeverity.Error, "policy-unreadable", `${loaded.readError} The default checks apply.`);
  for (const problem of loaded.problems) push(problem.range, PROBLEM_SEVERITY[problem.severity], problem.code, problem.message);
  // Expired exceptions depend on the policy and the clock only: asked of applyPolicy with no package.
  for (const finding of applyPolicy({ packages: [], result: { verdicts: new Map() } }, loaded.policy, { now, statusLevels }).policyFindings) {
    push(finding.range, PROBLEM_SEVERITY[finding.severity], finding.code, finding.message);
  }
  if (loaded.fellBack || policy.text === undefined) return out;

  const root = parseTree(policy.text);
  const keyRange = (path: (string | number)[]): Range => {
    const node = root === undefined ? undefined : findNodeAtLocation(root, path);
    const key: Node | undefined = node?.parent?.type === "property" ? node.parent.children?.[0] : node;
    return key === undefined ? top : { start: positionAt(policy.text!, key.offset), end: positionAt(policy.text!, key.offset + key.length) };
  };
  const p = loaded.policy;
  const info = (range: Range, message: string) => push(range, DiagnosticSeverity.Information, "policy-weakening", message);
  for (const [code, level] of Object.entries(p.severity) as [PolicyCode, DiagnosticLevel][]) {
    const base = baseLevel(code, statusLevels);
    if (RANK[level] < RANK[base]) info(keyRange(["severity", code]), `Weakens the checks: "${code}" is shown as ${level} instead of ${base}.`);
  }
  if (p.ignoreDev) info(keyRange(["ignoreDev"]), "Weakens the checks: findings of development-only dependencies are accepted (shown greyed, no diagnostic).");
  if (p.ignorePackages.length > 0) info(keyRange(["ignorePackages"]), `Weakens the checks: findings of ${p.ignorePackages.join(", ")} are accepted (shown greyed, no diagnostic).`);
  if (p.trustedRepositories.length > 0) info(keyRange(["trustedRepositories"]), `Weakens the checks: build-identity drift towards ${p.trustedRepositories.join(", ")} is accepted.`);
  if (p.trustedBuilders.length > 0) info(keyRange(["trustedBuilders"]), `Weakens the checks: build-identity drift towards builders ${p.trustedBuilders.join(", ")} is accepted.`);
  for (const e of p.exceptions) {
    if (e.range === undefined || (e.expires !== undefined && !(Date.parse(e.expires) > now))) continue;
    info(e.range, `Accepts ${e.codes === undefined ? "every finding" : e.codes.join(", ")} of ${e.package}@${e.versions}${e.expires ? ` until ${e.expires}` : ""}: "${e.reason}".`);
  }
  for (const r of p.registries) {
    const range = r.range ?? keyRange(["registries"]);
    if (policy.registriesIgnored) {
      push(range, DiagnosticSeverity.Information, "policy-registries-ignored", `Ignored: this workspace is not trusted, so the policy's registries drive no network request and no keys file is read. Trust the folder to use ${r.url}.`);
    } else if (r.mirrorOf !== undefined) {
      info(range, `Declares ${r.url} a mirror of ${r.mirrorOf}: what it serves is verified with that registry's keys, and trusted as if it came from there.`);
    }
  }
  for (const problem of policy.registries?.problems ?? []) push(keyRange(["registries"]), DiagnosticSeverity.Warning, "policy-registry-problem", problem);
  return out;
}

export interface NoteContext {
  policy: FolderPolicy;
  statusLevels: Readonly<SeverityLevels>;
  offline: boolean;
  limited: boolean;
}

/** Where the policy or the settings weaken what is shown for this package (hover and tree), in words. */
export function weakeningNotes(pkg: LockedPackage, verdict: Verdict | undefined, outcome: PackageOutcome | undefined, context: NoteContext): string[] {
  const notes: string[] = [];
  const seen = new Set<string>();
  const note = (text: string) => {
    if (!seen.has(text)) notes.push(text);
    seen.add(text);
  };
  if (outcome?.ignored !== undefined) note(outcome.ignored);
  for (const finding of outcome?.findings ?? []) {
    if (finding.accepted !== undefined) note(`${finding.code} accepted: ${finding.accepted.reason}${finding.accepted.expires ? ` (until ${finding.accepted.expires})` : ""}`);
    const lowered = context.policy.loaded.policy.severity[finding.code];
    const base = baseLevel(finding.code, context.statusLevels);
    if (lowered !== undefined && RANK[lowered] < RANK[base]) note(`${finding.code} is shown as ${lowered} instead of ${base} (policy "severity").`);
  }
  const mirror = verdict?.registry === undefined ? undefined : context.policy.loaded.policy.registries.find((r) => r.mirrorOf !== undefined && sameRegistry(r.url, verdict.registry!));
  if (mirror !== undefined && !context.policy.registriesIgnored) note(`Fetched from ${mirror.url}, which the policy file declares a mirror of ${mirror.mirrorOf}.`);
  if (context.limited) note("Checked offline: this workspace is not trusted (cached verdicts only; the policy's registries are ignored).");
  else if (context.offline && pkg.source === "registry") note("Checked offline (provenanceLens.offline): cached verdicts and shipped trust material only.");
  return notes;
}

function sameRegistry(a: string, b: string): boolean {
  const slash = (u: string) => (u.endsWith("/") ? u : `${u}/`).toLowerCase();
  return slash(a) === slash(b);
}
