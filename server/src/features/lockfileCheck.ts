// One check of one lockfile in the editor, from its text to what the server keeps and publishes: manifests, the
// folder's policy, trust settings, the engine, the analysis and the policy's outcome. Split out of server.ts, which
// decides when a check runs and what happens to its result.
import * as path from "node:path";
import type { Diagnostic } from "vscode-languageserver";
import { lockfileCoverageWarning } from "../bundle/index";
import type { Settings } from "../protocol/settings";
import type { Checker } from "../verify/checker";
import { analyzeLockfile } from "../workspace/analyze";
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
  const analysis = await analyzeLockfile({
    path: file,
    text,
    manifests: reading.manifests,
    checker: input.withProgress(checker),
    offline: options.offline,
    includeDev: settings.includeDev,
    signal,
  });
  if (signal.aborted) return undefined;
  // Offline nothing was fetched, so "serves no signatures" would be about our own silence (engine reports it anyway).
  if (options.offline) analysis.result.notices = analysis.result.notices.filter((n) => n.kind !== "no-signatures");
  const manifests = await readManifestTexts(input.fs, lockfileDir, reading.manifests);
  if (signal.aborted) return undefined;
  const outcome = outcomeOf(policy, analysis, input.now, settings.severity);
  const state = checkedLockfile({
    uri: input.uri,
    path: file,
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
