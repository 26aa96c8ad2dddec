// One check of one lockfile in the editor, from its text to what the server keeps and publishes: manifests, the
// folder's policy, trust settings, the engine, the analysis and the policy's outcome. Split out of server.ts, which
// decides when a check runs and what happens to its result.
import * as path from "node:path";
import type { Diagnostic } from "vscode-languageserver";
import { lockfileCoverageWarning } from "../bundle/index";
import type { Settings } from "../protocol/settings";
import type { Checker } from "../verify/checker";
import { packagesOf, reparseLockfile, type LockedPackage, type ParsedLockfile, type WorkspaceManifest } from "../lockfile/index";
import type { LockfileAnalysis } from "../workspace/analyze";
import { readManifests } from "../workspace/discovery";
import type { FileSystem } from "../workspace/fileSystem";
import type { CheckerFactory, CheckerOptions } from "./checkerFactory";
import type { TrustFiles } from "./checkerOptions";
import { DIAGNOSTIC_SOURCE, docsLink } from "./diagnostics";
import { checkedLockfile, readManifestTexts, type CheckedLockfile } from "./lockfileState";
import { loadFolderPolicy, outcomeOf, type FolderPolicy } from "./policy";

export interface LockfileCheckInput {
  uri: string;
  /** Absolute path of the lockfile. */
  file: string;
  text: string;
  /** The last checked text of the same lockfile and its parse, when kept: the parse of `text` may start from it. */
  previous?: { text: string; parsed: ParsedLockfile };
  /** Document version checked; null when read from disk. */
  version: number | null;
  folderUri?: string;
  settings: Settings;
  limited: boolean;
  /** The `.provenance-lens.json` that governs this lockfile. */
  policyFile: string;
  signal: AbortSignal;
  /** Milliseconds since the epoch (exception expiry). */
  now: number;
  fs: FileSystem;
  /** Answers with the open editor's text for an open policy file. */
  policyFs: FileSystem;
  trustFiles: TrustFiles;
  createChecker: CheckerFactory;
  /** The checker as the server runs it (with its progress shown). */
  withProgress(checker: Checker): Checker;
  /** Called as soon as the policy is read (its own diagnostics are published from it). */
  onPolicy(policy: FolderPolicy): void;
  log(kind: "warn" | "info", message: string): void;
  /** A line for the output channel said once per server (which trust bundle and root are used). */
  logOnce(message: string): void;
}

export interface LockfileCheckResult {
  state: CheckedLockfile;
  /** Lockfile-level diagnostics (settings problems, trust bundle coverage) published with the package ones. */
  extra: Diagnostic[];
}

/** Undefined when the signal aborted it (superseded or cancelled); throws on unexpected errors. */
export async function checkLockfile(input: LockfileCheckInput): Promise<LockfileCheckResult | undefined> {
  const { file, text, settings, signal } = input;
  const lockfileDir = path.dirname(file);
  const reading = await readManifests(input.fs, lockfileDir);
  for (const warning of reading.warnings) input.log("warn", warning);
  const policy = await loadFolderPolicy(input.policyFs, input.policyFile, input.limited, signal);
  input.onPolicy(policy);
  const trust = await input.trustFiles.optionsFor(settings, input.limited);
  for (const line of trust.info) input.logOnce(line);
  const options = withPolicyRegistries(trust.options, policy);
  const extra = trust.problems.map((problem) => lockfileDiagnostic("settings-problem", problem, 2));
  const uncovered = options.trustBundle === undefined ? undefined : lockfileCoverageWarning(options.trustBundle, file, text);
  if (uncovered !== undefined) {
    // Said once per lockfile: one diagnostic on its first line, and once in the output.
    extra.push(lockfileDiagnostic("trust-bundle-coverage", uncovered, 2));
    input.logOnce(uncovered);
  }
  const checker = input.createChecker(options);
  const analysis = await analyze(input, reading.manifests, input.withProgress(checker), options.offline);
  if (signal.aborted) return undefined;
  // Offline nothing was fetched, so "serves no signatures" would be about our own silence (engine reports it anyway).
  if (options.offline) analysis.result.notices = analysis.result.notices.filter((n) => n.kind !== "no-signatures");
  const manifests = await readManifestTexts(input.fs, lockfileDir, reading.manifests);
  if (signal.aborted) return undefined;
  const outcome = outcomeOf(policy, analysis, input.now, settings.severity);
  const state = checkedLockfile({
    uri: input.uri,
    path: file,
    // Kept for the editor's next edit only: a lockfile read from disk is read again, and its text need not stay in memory.
    ...(input.version !== null ? { text } : {}),
    folderUri: input.folderUri,
    version: input.version,
    analysis,
    manifests,
    policy,
    outcome,
    settings,
    checker,
    offline: options.offline,
    limited: input.limited,
  });
  return { state, extra };
}

/**
 * workspace/analyze.ts's pipeline (parse, packages, check), with the parse made from the last checked text where an
 * edit allows it (lockfile/index.ts reparseLockfile; issue #7: a full parse is most of an edit's work).
 */
async function analyze(input: LockfileCheckInput, manifests: WorkspaceManifest[], checker: Checker, offline: boolean): Promise<LockfileAnalysis> {
  const { file, text, signal } = input;
  const parsed = reparseLockfile(file, text, input.previous, { manifests });
  const all = packagesAfterEdit(input.previous?.parsed, parsed);
  const packages = input.settings.includeDev ? all : all.filter((p) => !p.dev);
  signal.throwIfAborted();
  const result = await checker.check({ lockfilePath: file, parsed, packages, offline, signal });
  return { path: file, parsed, packages, result };
}

/** Every package of each parse the editor keeps (before the includeDev filter), for the next edit to re-use. */
const packagesOfParse = new WeakMap<ParsedLockfile, LockedPackage[]>();

/**
 * packagesOf(parsed), re-using the last parse's packages when nothing they are made of changed (an edit of a value
 * packages do not carry, the root name, whitespace): the same objects, so nothing new survives the edit.
 */
function packagesAfterEdit(previous: ParsedLockfile | undefined, parsed: ParsedLockfile): LockedPackage[] {
  const last = previous === undefined ? undefined : packagesOfParse.get(previous);
  const packages = last !== undefined && previous !== undefined && samePackageInputs(previous, parsed) ? last : packagesOf(parsed);
  packagesOfParse.set(parsed, packages);
  return packages;
}

/** Whether packagesOf would give the same for both: the same entries (as packages see them) and direct dependencies. */
function samePackageInputs(a: ParsedLockfile, b: ParsedLockfile): boolean {
  if (a.entries.length !== b.entries.length || a.importers.length !== b.importers.length) return false;
  for (let i = 0; i < a.importers.length; i++) if (a.importers[i].dependencies !== b.importers[i].dependencies) return false;
  for (let i = 0; i < a.entries.length; i++) {
    const x = a.entries[i];
    const y = b.entries[i];
    if (x === y) continue;
    if (x.id !== y.id || x.name !== y.name || x.alias !== y.alias || x.version !== y.version || x.source !== y.source || x.resolved !== y.resolved) return false;
    if (x.integrity !== y.integrity || x.checksum !== y.checksum || x.dev !== y.dev || x.optional !== y.optional || x.inBundle !== y.inBundle) return false;
    const r = x.range;
    const s = y.range;
    if (r.start.line !== s.start.line || r.start.character !== s.start.character || r.end.line !== s.end.line || r.end.character !== s.end.character) return false;
  }
  return true;
}

/** The policy's registries on top of the settings' (untrusted workspaces never get here: loadFolderPolicy drops them). */
function withPolicyRegistries(options: CheckerOptions, policy: FolderPolicy): CheckerOptions {
  const declared = policy.registries;
  if (declared === undefined || options.trustBundle !== undefined) return options;
  const mirrors = [...(options.mirrorsOfNpmjs ?? []), ...declared.mirrorsOfNpmjs];
  const keys = [...(options.registryKeys ?? []), ...(declared.registryKeys ?? [])];
  return { ...options, ...(mirrors.length > 0 ? { mirrorsOfNpmjs: mirrors } : {}), ...(keys.length > 0 ? { registryKeys: keys } : {}) };
}

/** A diagnostic about the whole lockfile, on its first line. */
export function lockfileDiagnostic(code: string, message: string, severity: 1 | 2): Diagnostic {
  return { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity, code, codeDescription: { href: docsLink(code) }, source: DIAGNOSTIC_SOURCE, message };
}
