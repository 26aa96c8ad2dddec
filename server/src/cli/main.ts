// Process entry of the CLI proper: bundled to dist/cliMain.js, which dist/cli.js (launch.ts) runs through V8's code cache.
import { homedir } from "node:os";
import { engineFactory } from "../features/checkerFactory";
import { describeError } from "../features/errors";
import { nodeFileSystem } from "../workspace/fileSystem";
import { parseArgs } from "./args";
import { runCli } from "./run";

// A require, not an import: esbuild inlines it into dist/cliMain.js, and tsc then does not copy package.json into out/
// (where tests looking for the repository's package.json would find it instead).
const { version } = require("../../../package.json") as { version: string };

/**
 * Exits once stdout and stderr are flushed. A background trust refresh (issue #3) may still be waiting on the network:
 * the CLI does not wait for it (its files are written atomically, so an interrupted one leaves nothing half done).
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

const controller = new AbortController();
process.once("SIGINT", () => controller.abort(new Error("Interrupted")));

runCli(parseArgs(process.argv.slice(2)), {
  fs: nodeFileSystem,
  // No ETag cache: a CLI run asks for each URL once (requests are shared within a run), so keeping answers for a 304
  // that never comes only cost time and memory (~3 ms per 1,000 packages, and up to 4 MiB held).
  createChecker: engineFactory({ env: process.env, homeDir: homedir(), http: { cacheEntries: 0 } }),
  cwd: process.cwd(),
  version,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: controller.signal,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  env: process.env,
}).then(
  (code) => exitWhenFlushed(code),
  (error: unknown) => {
    process.stderr.write(`provenance-lens: unexpected error: ${describeError(error)}\n`);
    exitWhenFlushed(2);
  },
);
