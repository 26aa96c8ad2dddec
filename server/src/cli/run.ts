// `provenance-lens check`: find lockfiles, read manifests, parse, check, print. I/O comes in through deps.
import * as path from "node:path";
import { isLockfileName, LOCKFILE_NAMES } from "../lockfile/index";
import type { CheckerFactory, CheckerOptions } from "../features/checkerFactory";
import { parseKeysResponse } from "../verify/npmKeys";
import { describeTrustedRoot, shippedTrustedRoot, trustedRootFromFile } from "../verify/trustedRoot";
import { analyzeLockfile, type LockfileAnalysis } from "../workspace/analyze";
import { findLockfiles, readManifests } from "../workspace/discovery";
import { errorCode, type FileSystem } from "../workspace/fileSystem";
import type { CheckCommand, CliCommand } from "./args";
import { USAGE } from "./args";
import { formatJson } from "./formatJson";
import { formatText } from "./formatText";
import { buildReport, exitCodeOf } from "./report";

export interface CliDeps {
  fs: FileSystem;
  createChecker: CheckerFactory;
  cwd: string;
  version: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Aborted on Ctrl-C: stops pending registry work. */
  signal?: AbortSignal;
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
  }
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
  const lockfiles = await lockfilesOf(target, deps);
  if (typeof lockfiles === "string") {
    deps.stderr(`provenance-lens: ${lockfiles}\n`);
    return 2;
  }
  const options = await checkerOptionsOf(command, deps);
  if (typeof options === "string") {
    deps.stderr(`provenance-lens: ${options}\n`);
    return 2;
  }
  const analyses: LockfileAnalysis[] = [];
  const checker = deps.createChecker(options);
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
    analyses.push(
      await analyzeLockfile({ path: file, text, manifests: reading.manifests, checker, offline: command.offline, includeDev: true, signal: deps.signal }),
    );
  }
  const report = buildReport(analyses, deps.cwd, describeTrustedRoot(options.trustedRoot ?? shippedTrustedRoot()));
  deps.stdout(command.format === "json" ? formatJson(report) : formatText(report));
  return exitCodeOf(report);
}

/** The lockfiles to check, or why there are none (a usage error). */
async function lockfilesOf(target: string, deps: CliDeps): Promise<string[] | string> {
  try {
    const found = await findLockfiles(deps.fs, target);
    return found.length > 0 ? found : `No lockfile found in ${target} (node_modules is not searched).`;
  } catch (error) {
    const code = errorCode(error);
    // Not a folder: then it must name a lockfile, read (and reported if unreadable) by the caller.
    if (code === "ENOTDIR" && isLockfileName(target)) return [target];
    if (code === "ENOTDIR") return `${target} is not a lockfile: expected one of ${LOCKFILE_NAMES.join(", ")}.`;
    if (code === "ENOENT") return `${target} does not exist.`;
    return `cannot read ${target}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
