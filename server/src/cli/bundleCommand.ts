// `provenance-lens bundle` (record a trust bundle with a normal online check) and the `check --trust-bundle` options
// (verify from one). Issue #5, "Offline trust bundles"; the format and the reader are in ../bundle.
import * as path from "node:path";
import { BundleRecorder, bundledLockfileOf, chooseTrustedRoot, describeBundle, loadTrustBundle, trustedRootJsonOf, writeTrustBundle, type BundledLockfile } from "../bundle/index";
import type { CheckerOptions } from "../features/checkerFactory";
import { packagesOf, parseLockfile, type LockedPackage, type ParsedLockfile } from "../lockfile/index";
import { PACKAGE_STATUSES, type PackageStatus, type RegistryNotice } from "../protocol/verdicts";
import { isNpmjsRegistry } from "../verify/npmKeys";
import { shippedTrustedRoot } from "../verify/trustedRoot";
import { lockfilesIn, readManifests } from "../workspace/discovery";
import type { CheckCommand } from "./args";
import type { CliDeps, ExitCode } from "./run";

/** `bundle [DIR|LOCKFILE] --out FILE` with check's registry options (kept in `check`). */
export interface BundleCommand {
  kind: "bundle";
  out: string;
  check: CheckCommand;
}

/** How check options are read from files (run.ts's checkerOptionsOf, passed in so this file does not import run.ts). */
export type CheckerOptionsReader = (command: CheckCommand, deps: Pick<CliDeps, "fs" | "cwd">) => Promise<CheckerOptions | string>;

const TOOL_NAME = "provenance-lens";

export async function runBundle(command: BundleCommand, deps: CliDeps, optionsOf: CheckerOptionsReader): Promise<ExitCode> {
  const fail = (message: string): ExitCode => {
    deps.stderr(`provenance-lens: ${message}\n`);
    return 2;
  };
  const target = path.resolve(deps.cwd, command.check.target ?? ".");
  const lockfiles = await lockfilesIn(deps.fs, target);
  if (typeof lockfiles === "string") return fail(lockfiles);
  const options = await optionsOf(command.check, deps);
  if (typeof options === "string") return fail(options);

  const read: { file: string; text: string; parsed: ParsedLockfile; packages: LockedPackage[] }[] = [];
  const wanted = new Map<string, Set<string>>();
  for (const file of lockfiles) {
    let text: string;
    try {
      text = await deps.fs.readFile(file, deps.signal);
    } catch (error) {
      return fail(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const reading = await readManifests(deps.fs, path.dirname(file));
    for (const warning of reading.warnings) deps.stderr(`provenance-lens: ${warning}\n`);
    const parsed = parseLockfile(file, text, { manifests: reading.manifests });
    const packages = packagesOf(parsed);
    for (const p of packages) if (p.source === "registry") (wanted.get(p.name) ?? wanted.set(p.name, new Set()).get(p.name)!).add(p.version);
    read.push({ file, text, parsed, packages });
  }

  const recorder = new BundleRecorder(wanted);
  // A fresh engine (no cache, no session): everything the verdicts rest on is fetched, so all of it is recorded.
  const checker = deps.createChecker({ ...options, offline: false, trustBundle: undefined, record: recorder.wrap });
  const counts = new Map<PackageStatus, number>();
  const notices: RegistryNotice[] = [];
  const bundled: BundledLockfile[] = [];
  for (const { file, text, parsed, packages } of read) {
    const result = await checker.check({ lockfilePath: file, parsed, packages, offline: false, fresh: true, signal: deps.signal });
    for (const verdict of result.verdicts.values()) counts.set(verdict.status, (counts.get(verdict.status) ?? 0) + 1);
    for (const notice of result.notices) if (!notices.some((n) => n.registry === notice.registry && n.kind === notice.kind)) notices.push(notice);
    bundled.push(bundledLockfileOf(displayPath(deps.cwd, file), text));
  }
  if (deps.signal?.aborted) return fail("interrupted: no trust bundle was written.");
  if (options.registryKeys !== undefined) {
    // Keys the person gave (--registry-keys) were never fetched; the bundle carries them for the same registries.
    for (const url of recorder.registries()) if (!isNpmjsRegistry(url) && !(options.mirrorsOfNpmjs ?? []).some((m) => sameRegistry(m, url))) recorder.addKeys(url, { keys: options.registryKeys.map((k) => ({ ...k })) });
  }

  const bundle = recorder.toBundle({
    createdAt: new Date().toISOString(),
    tool: { name: TOOL_NAME, version: deps.version },
    trustedRoot: trustedRootJsonOf(options.trustedRoot ?? shippedTrustedRoot()),
    lockfiles: bundled,
  });
  const out = path.resolve(deps.cwd, command.out);
  let bytes: number;
  try {
    bytes = await writeTrustBundle(out, bundle);
  } catch (error) {
    return fail(`cannot write the trust bundle ${out}: ${error instanceof Error ? error.message : String(error)}`);
  }
  for (const notice of notices) deps.stderr(`provenance-lens: warning: ${notice.message}\n`);
  const stats = recorder.stats;
  if (stats.failures > 0) {
    deps.stderr(`provenance-lens: warning: ${stats.failures} registry answer${stats.failures === 1 ? " was an error" : "s were errors"}; recorded as they were, so those packages stay unverifiable offline too.\n`);
  }
  const byStatus = PACKAGE_STATUSES.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`).join(", ");
  deps.stdout(
    `Wrote trust bundle ${displayPath(deps.cwd, out)} (${bytes} bytes): ${stats.versions} package versions from ${stats.registries} registr${stats.registries === 1 ? "y" : "ies"}, ` +
      `${stats.attestations} attestation documents, for ${bundled.length} lockfile${bundled.length === 1 ? "" : "s"}.\n` +
      `Online verdicts recorded: ${byStatus || "none"}.\n` +
      `Verify later with: provenance-lens check --trust-bundle ${displayPath(deps.cwd, out)} --offline\n`,
  );
  return 0;
}

/**
 * The check options with `--trust-bundle FILE`: the bundle's evidence instead of any registry, and the root to
 * verify with (the configured one; the bundle's only when identical, or when --trusted-root names the bundle).
 * Says on stderr which bundle and root are used and how old they are. A string says why it cannot (exit 2).
 */
export async function trustBundleOptionsOf(command: CheckCommand & { trustBundleFile: string }, deps: Pick<CliDeps, "fs" | "cwd" | "stderr">, optionsOf: CheckerOptionsReader): Promise<CheckerOptions | string> {
  const file = path.resolve(deps.cwd, command.trustBundleFile);
  const useBundleRoot = command.trustedRootFile !== undefined && path.resolve(deps.cwd, command.trustedRootFile) === file;
  const base = await optionsOf(useBundleRoot ? { ...command, trustedRootFile: undefined } : command, deps);
  if (typeof base === "string") return base;
  const loaded = await loadTrustBundle(file);
  if (!loaded.ok) return loaded.reason;
  const choice = chooseTrustedRoot(loaded.loaded, base.trustedRoot ?? shippedTrustedRoot(), useBundleRoot);
  deps.stderr(`provenance-lens: ${describeBundle(loaded.loaded)}\n`);
  deps.stderr(`provenance-lens: ${choice.warning ? "warning: " : ""}${choice.message}\n`);
  if (command.registry !== undefined && !Object.keys(loaded.loaded.bundle.registries).some((r) => sameRegistry(r, command.registry!))) {
    deps.stderr(`provenance-lens: warning: the trust bundle holds nothing from ${command.registry} (it has ${Object.keys(loaded.loaded.bundle.registries).join(", ") || "no registry"}); pass the --registry it was made with.\n`);
  }
  // A bundle never needs the network: checking from it is offline whatever --offline says.
  return { ...base, offline: true, trustedRoot: choice.root, trustBundle: loaded.loaded };
}


function displayPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return (relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? file : relative).split(path.sep).join("/");
}

function sameRegistry(a: string, b: string): boolean {
  const slash = (u: string): string => (u.endsWith("/") ? u : `${u}/`);
  try {
    return new URL(slash(a)).href === new URL(slash(b)).href;
  } catch {
    return slash(a) === slash(b);
  }
}
