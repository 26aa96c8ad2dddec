// Command-line arguments -> what to do. Pure, so a table of argv in / command out tests it.

export type OutputFormat = "text" | "json";

export type CliCommand =
  | { kind: "check"; target: string | undefined; format: OutputFormat; offline: boolean }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "usage-error"; message: string };

export const USAGE = `Usage: provenance-lens check [DIR|LOCKFILE] [--format text|json] [--offline]

Checks every dependency in the JavaScript lockfile(s) of DIR (default: the current folder, searched
below, node_modules excluded) or in one LOCKFILE: where it comes from, and whether its registry
signature and Sigstore provenance verify.

Options:
  --format text|json  Output for people (default) or one JSON object for tools.
  --offline           Never contact a registry.
  -h, --help          Show this help.
  -v, --version       Show the version.

Exit codes: 0 nothing at error severity, 1 something is (parse errors included), 2 usage error or
unreadable lockfile.`;

export function parseArgs(argv: readonly string[]): CliCommand {
  if (argv.includes("--help") || argv.includes("-h")) return { kind: "help" };
  if (argv.includes("--version") || argv.includes("-v")) return { kind: "version" };
  const [command, ...rest] = argv;
  if (command === undefined) return { kind: "usage-error", message: "Missing command: expected `check`." };
  if (command === "help") return { kind: "help" };
  if (command !== "check") return { kind: "usage-error", message: `Unknown command: ${command}. Expected \`check\`.` };
  let format: OutputFormat = "text";
  let offline = false;
  let target: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === "--offline") offline = true;
    else if (arg === "--format" || arg.startsWith("--format=")) {
      const value = arg === "--format" ? rest[++i] : arg.slice("--format=".length);
      if (value !== "text" && value !== "json") {
        return { kind: "usage-error", message: value === undefined ? "--format needs a value: text or json." : `Unknown format: ${value}. Expected text or json.` };
      }
      format = value;
    } else if (arg === "--") {
      if (i + 1 < rest.length) {
        if (target !== undefined || i + 2 < rest.length) return { kind: "usage-error", message: "Only one DIR or LOCKFILE can be given." };
        target = rest[i + 1];
      }
      break;
    } else if (arg.startsWith("-") && arg !== "-") return { kind: "usage-error", message: `Unknown option: ${arg}.` };
    else if (target !== undefined) return { kind: "usage-error", message: "Only one DIR or LOCKFILE can be given." };
    else target = arg;
  }
  return { kind: "check", target, format, offline };
}
