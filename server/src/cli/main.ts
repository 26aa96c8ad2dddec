// Process entry of the CLI (bundled to dist/cli.js, started by bin/provenance-lens.js).
import { homedir } from "node:os";
import { engineFactory } from "../features/checkerFactory";
import { describeError } from "../features/errors";
import { nodeFileSystem } from "../workspace/fileSystem";
import { parseArgs } from "./args";
import { runCli } from "./run";

// A require, not an import: esbuild inlines it into dist/cli.js, and tsc then does not copy package.json into out/
// (where tests looking for the repository's package.json would find it instead).
const { version } = require("../../../package.json") as { version: string };

const controller = new AbortController();
process.once("SIGINT", () => controller.abort(new Error("Interrupted")));

runCli(parseArgs(process.argv.slice(2)), {
  fs: nodeFileSystem,
  createChecker: engineFactory({ env: process.env, homeDir: homedir() }),
  cwd: process.cwd(),
  version,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: controller.signal,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`provenance-lens: unexpected error: ${describeError(error)}\n`);
    process.exitCode = 2;
  },
);
