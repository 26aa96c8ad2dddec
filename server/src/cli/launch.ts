// Process entry of the CLI (bundled to dist/cli.js, started by bin/provenance-lens.js): runs the CLI bundle,
// dist/cliMain.js, through V8's code cache.
//
// Why: starting Node takes ~130 ms on a 2-core CI machine, and compiling the 0.5 MB bundle, then each function as it is
// first called, took another ~50-100 ms of every run, while a warm check is mostly start-up (issue #7: it must take
// under a third of pnpm's time). Node >= 22.1 has a compile cache built in (module.enableCompileCache); Node 20, which
// the product supports, does not. Kept tiny on purpose: it is compiled on every start.
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { codeCacheDir, runWithCodeCache } from "./codeCache";

const argv = process.argv.slice(2);
const bundle = path.join(__dirname, "cliMain.js");
if (!existsSync(bundle)) {
  // A partial install or an interrupted build: say what is missing and how to get it, exit as for unusable input.
  process.stderr.write(`provenance-lens: ${bundle} is missing; reinstall the package, or run \`npm run build\` in a clone.\n`);
  process.exitCode = 2;
} else {
  // Written after a check only, so that the functions a check compiles lazily are in it; other commands only read it.
  runWithCodeCache(bundle, codeCacheDir(argv, process.env, os.homedir()), argv[0] === "check");
}
