// `provenance-lens check`: find lockfiles, read manifests, parse, check, print. I/O comes in through deps.
import * as path from "node:path";
import { isLockfileName } from "../lockfile/index";
import type { CheckerFactory, CheckerOptions } from "../features/checkerFactory";
import { gitRevisionFileSystem, repositoryPathOf, repositoryPrefix, resolveRevision, type GitOptions } from "../review/git";
import { reviewLockfile } from "../review/reviewLockfile";
import type { Checker } from "../verify/checker";
import { parseKeysResponse } from "../verify/npmKeys";
import { describeTrustedRoot, shippedTrustedRoot, trustedRootFromFile } from "../verify/trustedRoot";
import { analyzeLockfile, type LockfileAnalysis } from "../workspace/analyze";
import { lockfilesIn, readManifests } from "../workspace/discovery";
import type { FileSystem } from "../workspace/fileSystem";
import type { CheckCommand, CliCommand } from "./args";
import { USAGE } from "./args";
import { runBundle, trustBundleOptionsOf } from "./bundleCommand";
import { lockfileCoverageWarning } from "../bundle/reader";
import { formatJson } from "./formatJson";
import { formatMarkdown } from "./formatMarkdown";
import { formatSarif } from "./formatSarif";
import { colorWanted, formatText } from "./formatText";
import { buildReport, exitCodeOf, type Report, type ReviewInput } from "./report";
import { applyPolicy, type PolicyOutcome } from "../policy/index";
import type { LockedPackage } from "../lockfile/model";
import { cliStatusLevels, flagWeakenings, policyProblemOf, readCliPolicy, withPolicyRegistries, type CliPolicy, type ReportPolicyProblem } from "./cliPolicy";
import type { CheckerOptionsReader } from "./bundleCommand";

export interface CliDeps {
  fs: FileSystem;
  createChecker: CheckerFactory;
  cwd: string;
  version: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Aborted on Ctrl-C: stops pending registry work. */
  signal?: AbortSignal;
  /** Terminals get colours (text format) and a progress line on stderr; pipes and CI logs get neither. */
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  /** For NO_COLOR. */
  env?: Record<string, string | undefined>;
  /** How git is run for --base and SARIF paths (deadline, binary). */
  git?: GitOptions;
  /** Clock for the progress line only (never for verdicts). */
  now?: () => number;
  /** Clock that decides whether policy exceptions have expired (default Date.now). */
  clock?: () => number;
}

export type ExitCode = 0 | 1 | 2;

export async function runCli(command: CliCommand, deps: CliDeps): Promise<ExitCode> {
  switch (command.kind) {
    case "help":
      deps.stdout(`${USAGE}\n`);
      return 0;
    case "version":
      deps.stdout(`${deps.version}\n`);
      return 0;
    case "usage-error":
      deps.stderr(`provenance-lens: ${command.message}\n\n${USAGE}\n`);
      return 2;
    case "check":
      return runCheck(command, deps);
    case "bundle": {
      const policy = await policyOf(command.check, policyFolderOf(path.resolve(deps.cwd, command.check.target ?? ".")), deps);
      if (typeof policy === "string") return 2;
      // The bundle records what the check needs: the policy's registries matter, its findings do not (yet).
      for (const p of policy.problems) deps.stderr(`provenance-lens: ${problemLine(p)}\n`);
      return runBundle(command, deps, withPolicy(policy));
    }
  }
}

/** The policy's folder: the DIR argument, or the LOCKFILE's folder. */
function policyFolderOf(target: string): string {
  return isLockfileName(target) ? path.dirname(target) : target;
}

/** Reads the policy and says on stderr where flags overrode it; a string (already printed) means exit 2. */
async function policyOf(command: CheckCommand, folder: string, deps: CliDeps): Promise<CliPolicy | string> {
  const policy = await readCliPolicy(command, folder, deps);
  if (typeof policy === "string") {
    deps.stderr(`provenance-lens: ${policy}\n`);
    return policy;
  }
  for (const note of policy.notes) deps.stderr(`provenance-lens: ${note}\n`);
  return policy;
}

function withPolicy(policy: CliPolicy): CheckerOptionsReader {
  return async (command, deps) => {
    const options = await checkerOptionsOf(command, deps);
    return typeof options === "string" ? options : withPolicyRegistries(options, policy);
  };
}

function problemLine(p: ReportPolicyProblem): string {
  return `${p.path}:${p.line}:${p.column} ${p.severity} [${p.code}] ${p.message}`;
}

/** The engine options a check command asks for, reading the files it names; a string says why it cannot. */
export async function checkerOptionsOf(command: CheckCommand, deps: Pick<CliDeps, "fs" | "cwd">): Promise<CheckerOptions | string> {
  const options: CheckerOptions = {
    offline: command.offline,
    registry: command.registry,
    mirrorsOfNpmjs: command.mirrorOfNpmjs && command.registry !== undefined ? [command.registry] : undefined,
    cacheDir: command.noCache ? null : command.cacheDir === undefined ? undefined : path.resolve(deps.cwd, command.cacheDir),
  };
  if (command.registryKeysFile !== undefined) {
    const file = path.resolve(deps.cwd, command.registryKeysFile);
    let json: unknown;
    try {
      json = JSON.parse(await deps.fs.readFile(file));
    } catch (error) {
      return `cannot read the registry keys ${file}: ${error instanceof Error ? error.message : String(error)}`;
    }
    const parsed = parseKeysResponse(json);
    if (parsed.keys.length === 0) return `${file} holds no usable signing key${parsed.problems.length > 0 ? ` (${parsed.problems.map((p) => p.reason).join("; ")})` : ""}.`;
    options.registryKeys = parsed.keys;
  }
  if (command.trustedRootFile !== undefined) {
    const loaded = await trustedRootFromFile(path.resolve(deps.cwd, command.trustedRootFile));
    if (!loaded.ok) return loaded.reason;
    options.trustedRoot = loaded.root;
  }
  return options;
}

async function runCheck(command: CheckCommand, deps: CliDeps): Promise<ExitCode> {
  const target = path.resolve(deps.cwd, command.target ?? ".");
  const lockfiles = await lockfilesIn(deps.fs, target);
  if (typeof lockfiles === "string") {
    deps.stderr(`provenance-lens: ${lockfiles}\n`);
    return 2;
  }
  const anchor = lockfiles.length === 1 && lockfiles[0] === target ? path.dirname(target) : target;
  const policy = await policyOf(command, anchor, deps);
  if (typeof policy === "string") return 2;
  // Text prints the policy's problems in the report; other formats are for tools, so people see them on stderr.
  if (command.format !== "text") for (const p of policy.problems) deps.stderr(`provenance-lens: ${problemLine(p)}\n`);
  const trustBundleFile = command.trustBundleFile;
  const optionsOf = withPolicy(policy);
  const options = trustBundleFile === undefined ? await optionsOf(command, deps) : await trustBundleOptionsOf({ ...command, trustBundleFile }, deps, optionsOf);
  if (typeof options === "string") {
    deps.stderr(`provenance-lens: ${options}\n`);
    return 2;
  }
  const git: GitOptions = { ...deps.git, signal: deps.signal };
  // Resolve --base before any registry work: an unknown REF is a usage error, said at once.
  const revision = command.base === undefined ? undefined : await resolveRevision(anchor, command.base, git);
  if (revision !== undefined && !revision.ok) {
    deps.stderr(`provenance-lens: --base ${command.base}: ${revision.reason}\n`);
    return 2;
  }
  const engine = deps.createChecker(options);
  const checker = withProgress(engine, deps);
  const analyses: LockfileAnalysis[] = [];
  const review: ReviewInput | undefined = revision === undefined ? undefined : { ref: revision.revision.ref, commit: revision.revision.commit, lockfiles: new Map() };
  const baseFs = revision === undefined ? undefined : gitRevisionFileSystem(revision.revision, git);
  for (const file of lockfiles) {
    let text: string;
    try {
      text = await deps.fs.readFile(file, deps.signal);
    } catch (error) {
      deps.stderr(`provenance-lens: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}\n`);
      return 2;
    }
    const reading = await readManifests(deps.fs, path.dirname(file));
    for (const warning of reading.warnings) deps.stderr(`provenance-lens: ${warning}\n`);
    const uncovered = options.trustBundle === undefined ? undefined : lockfileCoverageWarning(options.trustBundle, path.relative(deps.cwd, file) || file, text);
    if (uncovered !== undefined) deps.stderr(`provenance-lens: warning: ${uncovered}\n`);
    const analysis = await analyzeLockfile({ path: file, text, manifests: reading.manifests, checker, offline: command.offline, includeDev: true, signal: deps.signal });
    analyses.push(analysis);
    if (review === undefined || baseFs === undefined || revision === undefined || !revision.ok) continue;
    if (repositoryPathOf(revision.revision, file) === undefined) {
      deps.stderr(`provenance-lens: ${file} is outside the git repository of ${anchor}: --base cannot read it.\n`);
      return 2;
    }
    try {
      const reviewed = await reviewLockfile({ head: analysis, baseFs, checker, offline: command.offline, signal: deps.signal });
      for (const warning of reviewed.warnings) deps.stderr(`provenance-lens: at ${command.base}: ${warning}\n`);
      review.lockfiles.set(file, reviewed);
    } catch (error) {
      deps.stderr(`provenance-lens: cannot read ${file} at ${command.base}: ${error instanceof Error ? error.message : String(error)}\n`);
      return 2;
    }
  }
  // The policy judges what is reported: with --base only the changed packages, so only they can fail the run.
  const now = (deps.clock ?? Date.now)();
  const statusLevels = cliStatusLevels(command.failOn);
  const outcomes = new Map<string, PolicyOutcome>();
  for (const analysis of analyses) {
    const reviewed = review?.lockfiles.get(analysis.path);
    const shown: LockedPackage[] = reviewed === undefined ? analysis.packages : reviewed.diff.changes.map((c) => c.head.pkg);
    outcomes.set(analysis.path, applyPolicy({ packages: shown, result: analysis.result }, policy.policy, { now, statusLevels }));
  }
  // Facts about the file itself (expired exceptions) are the same for every lockfile: taken once.
  const first = outcomes.values().next().value ?? applyPolicy({ packages: [], result: { verdicts: new Map() } }, policy.policy, { now, statusLevels });
  const problems = [...policy.problems, ...first.policyFindings.map((p) => policyProblemOf(policy.displayPath, p))];
  if (command.format !== "text") for (const p of first.policyFindings) deps.stderr(`provenance-lens: ${problemLine(policyProblemOf(policy.displayPath, p))}\n`);
  const weakenings = [...first.weakenings.map((message) => ({ source: "policy" as const, message })), ...flagWeakenings(command, policy)];
  const report = buildReport(analyses, deps.cwd, engine.describeTrust?.() ?? describeTrustedRoot(options.trustedRoot ?? shippedTrustedRoot()), review, {
    outcomes,
    policy: { path: policy.displayPath, found: policy.loaded.found, fellBack: policy.loaded.fellBack, problems },
    weakenings,
  });
  deps.stdout(await render(report, command, deps, git, policy.policy.severity));
  return exitCodeOf(report, outcomes.values());
}

async function render(report: Report, command: CheckCommand, deps: CliDeps, git: GitOptions, severity: CliPolicy["policy"]["severity"]): Promise<string> {
  switch (command.format) {
    case "json":
      return formatJson(report);
    case "markdown":
      return formatMarkdown(report, { failOn: command.failOn, severity });
    case "sarif": {
      // Report paths are relative to the working directory; code scanning wants them relative to the repository root.
      const prefix = await repositoryPrefix(deps.cwd, git);
      if (typeof prefix !== "string") deps.stderr(`provenance-lens: SARIF paths are relative to ${deps.cwd}: ${prefix.error}\n`);
      return formatSarif(report, { failOn: command.failOn, toolVersion: deps.version, repositoryPrefix: typeof prefix === "string" ? prefix : "", severity });
    }
    case "text":
      return formatText(report, { color: colorWanted(deps.stdoutIsTTY === true, deps.env ?? {}) });
  }
}

/** After this long a check is "long" and a terminal gets a progress line; short checks print nothing extra. */
const PROGRESS_AFTER_MS = 1_000;
const PROGRESS_EVERY_MS = 100;

/** The checker, with a progress line on stderr when stderr is a terminal. Cleared when the check ends. */
export function withProgress(checker: Checker, deps: Pick<CliDeps, "stderr" | "stderrIsTTY" | "now">): Checker {
  if (deps.stderrIsTTY !== true) return checker;
  const now = deps.now ?? Date.now;
  return {
    async check(request) {
      const started = now();
      let last = 0;
      let shown = false;
      const onProgress = (done: number, total: number): void => {
        request.onProgress?.(done, total);
        const t = now();
        if (t - started < PROGRESS_AFTER_MS || t - last < PROGRESS_EVERY_MS) return;
        last = t;
        shown = true;
        deps.stderr(`\rprovenance-lens: checked ${done}/${total} packages of ${path.basename(request.lockfilePath)}`);
      };
      try {
        return await checker.check({ ...request, onProgress });
      } finally {
        if (shown) deps.stderr("\r\u001b[2K");
      }
    },
  };
}

