// The policy file as the CLI uses it (issue #6): found next to what is checked or named with --policy, its problems
// positioned as file:line:column, its `registries` merged into the engine options (flags win), and the status levels
// --fail-on implies. A broken policy never switches a check off: the defaults apply and every problem is reported.
import * as path from "node:path";
import type { CheckerOptions } from "../features/checkerFactory";
import type { ParseProblem } from "../lockfile/model";
import { loadPolicy, policyPathFor, registryOptionsOf, type LoadedPolicy, type Policy, type PolicyCode } from "../policy/index";
import { DEFAULT_STATUS_LEVELS, type DiagnosticLevel } from "../protocol/settings";
import { PACKAGE_STATUSES, type PackageStatus } from "../protocol/verdicts";
import type { FileSystem } from "../workspace/fileSystem";
import type { CheckCommand } from "./args";

/** Where a problem of the policy file is, 1-based, with the file relative to the working directory. */
export interface ReportPolicyProblem {
  path: string;
  line: number;
  column: number;
  severity: ParseProblem["severity"];
  code: string;
  message: string;
}

/** Something that makes this run check less than the defaults would: said once per run, in every format. */
export interface ReportWeakening {
  /** "policy": the policy file; "flag": a command-line option. */
  source: "policy" | "flag";
  message: string;
}

export interface CliPolicy {
  loaded: LoadedPolicy;
  /** The policy applyPolicy gets: the file's, minus severities a --fail-on status overrides. */
  policy: Policy;
  /** Display path of the policy file (relative to the working directory). */
  displayPath: string;
  /** Problems of the file itself and of its registries, positioned in it. */
  problems: ReportPolicyProblem[];
  /** Engine options from `registries`. */
  mirrorsOfNpmjs: string[];
  registryKeys: CheckerOptions["registryKeys"];
  /** Plain sentences for stderr: where a flag overrode the file. */
  notes: string[];
}

const LEVEL_RANK: Record<DiagnosticLevel, number> = { none: 0, hint: 1, information: 2, warning: 3, error: 4 };

/**
 * The per-status levels of a CLI run: a --fail-on status is an error (it fails the run), any other status is at most a
 * warning, so "error" means "fails the run" in every format. The policy's `severity` may raise a status to error.
 */
export function cliStatusLevels(failOn: readonly PackageStatus[]): Record<PackageStatus, DiagnosticLevel> {
  const levels = {} as Record<PackageStatus, DiagnosticLevel>;
  for (const s of PACKAGE_STATUSES) {
    const base = DEFAULT_STATUS_LEVELS[s];
    levels[s] = failOn.includes(s) ? "error" : LEVEL_RANK[base] > LEVEL_RANK.warning ? "warning" : base;
  }
  return levels;
}

/**
 * Reads the policy for a run: `--policy FILE` (relative to the working directory; a missing or unreadable file is a
 * string: exit 2), else `.provenance-lens.json` in `folder`. A string says why the run cannot go on.
 */
export async function readCliPolicy(command: Pick<CheckCommand, "policyFile" | "failOn" | "registryKeysFile">, folder: string, deps: { fs: FileSystem; cwd: string; signal?: AbortSignal }): Promise<CliPolicy | string> {
  const explicit = command.policyFile !== undefined;
  const file = explicit ? path.resolve(deps.cwd, command.policyFile!) : policyPathFor(folder);
  const loaded = await loadPolicy(deps.fs, file, explicit, deps.signal);
  // A folder's policy that exists but cannot be read is as much an error as a named one: it would silently drop rules.
  if (loaded.readError !== undefined) return `${loaded.readError} Fix it or name another with --policy.`;
  const displayPath = displayPathOf(deps.cwd, file);
  const problems: ReportPolicyProblem[] = loaded.problems.map((p) => policyProblemOf(displayPath, p));
  const registries = await registryOptionsOf(loaded.policy, file, deps.fs);
  for (const message of registries.problems) {
    // Each sentence starts with the registry's url: put it on that entry.
    const entry = loaded.policy.registries.find((r) => message.startsWith(`${r.url}:`));
    const at = entry?.range?.start ?? { line: 0, character: 0 };
    problems.push({ path: displayPath, line: at.line + 1, column: at.character + 1, severity: "error", code: "policy-invalid-value", message });
  }
  const notes: string[] = [];
  let registryKeys = registries.registryKeys;
  if (registryKeys !== undefined && command.registryKeysFile !== undefined) {
    notes.push(`--registry-keys ${command.registryKeysFile} is used instead of the keys the policy file ${displayPath} declares (command-line flags win over the file).`);
    registryKeys = undefined;
  }
  // A --fail-on status always fails the run: the file may not lower it (flags win), it may only add statuses.
  const severity = { ...loaded.policy.severity };
  for (const status of command.failOn) {
    const level = severity[status];
    if (level === undefined || level === "error") continue;
    notes.push(`--fail-on ${status} wins over the policy file's severity "${level}" for ${status}: such packages fail the run.`);
    delete severity[status as PolicyCode];
  }
  return { loaded, policy: { ...loaded.policy, severity }, displayPath, problems, mirrorsOfNpmjs: registries.mirrorsOfNpmjs, registryKeys, notes };
}

/** The engine options with the policy's registries: --mirror-of-npmjs adds to its mirrors, --registry-keys replaces its keys. */
export function withPolicyRegistries(options: CheckerOptions, policy: CliPolicy): CheckerOptions {
  const mirrors = [...(options.mirrorsOfNpmjs ?? []), ...policy.mirrorsOfNpmjs.filter((m) => !(options.mirrorsOfNpmjs ?? []).includes(m))];
  return {
    ...options,
    ...(mirrors.length > 0 ? { mirrorsOfNpmjs: mirrors } : {}),
    ...(options.registryKeys === undefined && policy.registryKeys !== undefined ? { registryKeys: policy.registryKeys } : {}),
  };
}

/** What the flags of this run weaken, beside the policy's own weakenings (applyPolicy lists those). */
export function flagWeakenings(command: Pick<CheckCommand, "mirrorOfNpmjs" | "registry" | "failOn">, policy: CliPolicy): ReportWeakening[] {
  const out: ReportWeakening[] = [];
  if (command.mirrorOfNpmjs && command.registry !== undefined) {
    out.push({ source: "flag", message: `--mirror-of-npmjs: ${command.registry} is trusted to serve registry.npmjs.org's packages; its own signatures are not asked for, only npmjs's.` });
  }
  for (const mirror of policy.mirrorsOfNpmjs) {
    out.push({ source: "policy", message: `registries: ${mirror} is declared a mirror of registry.npmjs.org; its own signatures are not asked for, only npmjs's.` });
  }
  if (!command.failOn.includes("invalid")) out.push({ source: "flag", message: `--fail-on ${command.failOn.join(",")}: invalid packages are reported but do not fail the run.` });
  return out;
}

/** A problem positioned in the policy file, as the report prints it. */
export function policyProblemOf(displayPath: string, p: ParseProblem): ReportPolicyProblem {
  return { path: displayPath, line: p.range.start.line + 1, column: p.range.start.character + 1, severity: p.severity, code: p.code, message: p.message };
}

export function displayPathOf(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return (relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? file : relative).split(path.sep).join("/");
}
