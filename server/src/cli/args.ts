// Command-line arguments -> what to do. Pure, so a table of argv in / command out tests it.
import { PACKAGE_STATUSES, type PackageStatus } from "../protocol/verdicts";
import type { BundleCommand } from "./bundleCommand";

export const OUTPUT_FORMATS = ["text", "json", "sarif", "markdown"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** What makes the exit code 1 unless `--fail-on` says otherwise (issue #5). */
export const DEFAULT_FAIL_ON: readonly PackageStatus[] = ["invalid"];

/** `check` and its options; the registry options are the engine's (features/checkerFactory.ts). */
export interface CheckCommand {
  kind: "check";
  target: string | undefined;
  format: OutputFormat;
  offline: boolean;
  /** `--registry URL`: the default registry, as npm's flag. */
  registry?: string;
  /** `--mirror-of-npmjs`: the registry is a mirror of registry.npmjs.org (verify with npmjs's pinned keys). */
  mirrorOfNpmjs: boolean;
  /** `--registry-keys FILE`: a keys-endpoint-shaped JSON to use for non-npmjs registries. */
  registryKeysFile?: string;
  /** `--trusted-root FILE`: a Sigstore trusted_root.json instead of the shipped public-good root. */
  trustedRootFile?: string;
  /** `--cache-dir DIR`; `--no-cache` keeps verdicts in memory only. */
  cacheDir?: string;
  noCache: boolean;
  /** `--base REF`: report only what changed since the lockfiles as they are at this git revision. */
  base?: string;
  /** `--fail-on STATUS[,STATUS]`: the statuses that make the exit code 1. */
  failOn: readonly PackageStatus[];
  /** `--trust-bundle FILE`: verify from this trust bundle instead of any registry (issue #5). */
  trustBundleFile?: string;
  /** `--policy FILE`: the policy file to apply instead of `.provenance-lens.json` in the checked folder (issue #6). */
  policyFile?: string;
}

export const CHECK_DEFAULTS: Omit<CheckCommand, "kind" | "target"> = { format: "text", offline: false, mirrorOfNpmjs: false, noCache: false, failOn: DEFAULT_FAIL_ON };

export type CliCommand =
  | CheckCommand
  | BundleCommand
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "usage-error"; message: string };

export const USAGE = `Usage: provenance-lens check [DIR|LOCKFILE] [--base REF] [--format text|json|sarif|markdown]
                            [--fail-on STATUS[,STATUS]] [--offline] [--trust-bundle FILE]
                            [--policy FILE]
       provenance-lens bundle [DIR|LOCKFILE] --out FILE [--registry URL ...] [--policy FILE]

Checks every dependency in the JavaScript lockfile(s) of DIR (default: the current folder, searched
below, node_modules excluded) or in one LOCKFILE: where it comes from, and whether its registry
signature and Sigstore provenance verify. \`bundle\` runs the same check online and writes everything
it verified from into one trust bundle FILE, to check later with --trust-bundle on a machine with no
network (it takes check's registry options).

Options:
  --base REF             Report only packages added or changed since git REF (a branch, tag or
                         commit): new packages, version changes and trust changes. Removed
                         packages are counted. The work tree is not touched.
  --format FORMAT        text (default, for people), json (one object for tools), sarif (SARIF
                         2.1.0 for code scanning) or markdown (a pull-request comment).
  --fail-on STATUSES     Comma-separated statuses that make the exit code 1 (default: invalid).
                         Statuses: ${PACKAGE_STATUSES.join(", ")}.
  --policy FILE          The policy file (severities, requireProvenance, exceptions, registries,
                         ignore and trust rules) instead of .provenance-lens.json in DIR (or in
                         the LOCKFILE's folder). Its problems are printed as file:line:column;
                         errors in it make the exit code 1 while the defaults still apply.
  --offline              Never contact a registry: cached verdicts only.
  --registry URL         The registry to check against (default: what npm's config says).
  --mirror-of-npmjs      Declare that registry a mirror of registry.npmjs.org: what it serves is
                         verified with npmjs's keys pinned in the product, never with its own.
  --registry-keys FILE   Signing keys (a /-/npm/v1/keys JSON) for registries other than npmjs.
  --trust-bundle FILE    Verify from a trust bundle (made by \`bundle\`) instead of any registry:
                         no network. Packages it does not cover are unverifiable.
  --out FILE             (bundle) Where to write the trust bundle.
  --trusted-root FILE    A Sigstore trusted_root.json instead of the shipped public-good root.
  --cache-dir DIR        Where verified verdicts are kept (default ~/.cache/provenance-lens).
  --no-cache             Keep verdicts in memory only.
  -h, --help          Show this help.
  -v, --version       Show the version.

Exit codes: 0 nothing to fail on, 1 a reported package has a --fail-on status or a finding at
error level that no exception accepts, or the lockfile or policy file has an error, 2 usage error,
unreadable lockfile or --policy file, unknown --base REF, or an unreadable or malformed trust bundle.

Full reference: docs/CLI.md.`;

export function parseArgs(argv: readonly string[]): CliCommand {
  if (argv.includes("--help") || argv.includes("-h")) return { kind: "help" };
  if (argv.includes("--version") || argv.includes("-v")) return { kind: "version" };
  const [verb, ...rest] = argv;
  if (verb === undefined) return { kind: "usage-error", message: "Missing command: expected `check`." };
  if (verb === "help") return { kind: "help" };
  if (verb !== "check" && verb !== "bundle") return { kind: "usage-error", message: `Unknown command: ${verb}. Expected \`check\` or \`bundle\`.` };
  let out: string | undefined;
  const command: CheckCommand = { kind: "check", target: undefined, ...CHECK_DEFAULTS };
  const valueOf = (i: number, name: string): string | { error: string } => {
    const arg = rest[i];
    const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : rest[i + 1];
    return value === undefined || value === "" ? { error: `${name} needs a value.` } : value;
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const flag = arg.startsWith("--") && arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg;
    const takesValue = ["--format", "--registry", "--registry-keys", "--trusted-root", "--cache-dir", "--base", "--fail-on", "--trust-bundle", "--out", "--policy"].includes(flag);
    if (takesValue) {
      const value = valueOf(i, flag);
      if (typeof value !== "string") {
        return { kind: "usage-error", message: flag === "--format" ? `--format needs a value: ${OUTPUT_FORMATS.join(", ")}.` : value.error };
      }
      if (!arg.includes("=")) i++;
      if (flag === "--format") {
        const format = OUTPUT_FORMATS.find((f) => f === value);
        if (format === undefined) return { kind: "usage-error", message: `Unknown format: ${value}. Expected ${OUTPUT_FORMATS.join(", ")}.` };
        command.format = format;
      } else if (flag === "--base") {
        // A value starting with "-" would be read by git as an option (we pass argument arrays, but git parses them).
        if (value.startsWith("-")) return { kind: "usage-error", message: `--base needs a git revision, not ${value}.` };
        command.base = value;
      } else if (flag === "--fail-on") {
        const statuses = parseStatusList(value);
        if (typeof statuses === "string") return { kind: "usage-error", message: statuses };
        command.failOn = statuses;
      } else if (flag === "--registry") {
        if (!/^https?:\/\//i.test(value)) return { kind: "usage-error", message: `--registry needs an http(s) URL, not ${value}.` };
        command.registry = value;
      } else if (flag === "--registry-keys") command.registryKeysFile = value;
      else if (flag === "--trusted-root") command.trustedRootFile = value;
      else if (flag === "--trust-bundle") command.trustBundleFile = value;
      else if (flag === "--out") out = value;
      else if (flag === "--policy") command.policyFile = value;
      else command.cacheDir = value;
    } else if (arg === "--offline") command.offline = true;
    else if (arg === "--mirror-of-npmjs") command.mirrorOfNpmjs = true;
    else if (arg === "--no-cache") command.noCache = true;
    else if (arg === "--") {
      if (i + 1 < rest.length) {
        if (command.target !== undefined || i + 2 < rest.length) return { kind: "usage-error", message: "Only one DIR or LOCKFILE can be given." };
        command.target = rest[i + 1];
      }
      break;
    } else if (arg.startsWith("-") && arg !== "-") return { kind: "usage-error", message: `Unknown option: ${arg}.` };
    else if (command.target !== undefined) return { kind: "usage-error", message: "Only one DIR or LOCKFILE can be given." };
    else command.target = arg;
  }
  if (command.mirrorOfNpmjs && command.registry === undefined) {
    return { kind: "usage-error", message: "--mirror-of-npmjs declares the --registry URL a mirror: give --registry too." };
  }
  if (verb === "bundle") {
    // `bundle` records an online check: options that make it offline or narrow it make no sense there.
    if (out === undefined) return { kind: "usage-error", message: "bundle needs --out FILE: where to write the trust bundle." };
    const odd = command.offline ? "--offline" : command.trustBundleFile !== undefined ? "--trust-bundle" : command.base !== undefined ? "--base" : undefined;
    if (odd !== undefined) return { kind: "usage-error", message: `${odd} cannot be used with bundle: it records an online check.` };
    return { kind: "bundle", out, check: command };
  }
  if (out !== undefined) return { kind: "usage-error", message: "--out belongs to the bundle command." };
  return command;
}

/** `invalid,unsigned` -> statuses, or why not. Duplicates are dropped; order follows PACKAGE_STATUSES. */
export function parseStatusList(value: string): PackageStatus[] | string {
  const names = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (names.length === 0) return `--fail-on needs at least one status: ${PACKAGE_STATUSES.join(", ")}.`;
  const unknown = names.filter((n) => !(PACKAGE_STATUSES as readonly string[]).includes(n));
  if (unknown.length > 0) return `Unknown status for --fail-on: ${unknown.join(", ")}. Expected ${PACKAGE_STATUSES.join(", ")}.`;
  return PACKAGE_STATUSES.filter((s) => names.includes(s));
}
