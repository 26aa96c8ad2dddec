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
import v8 from "node:v8";
import { codeCacheDir, runWithCodeCache } from "./codeCache";

// V8 optimises a function once it has run "enough"; in a process that lives a second or two, TurboFan compiled ~100
// functions for ~0.5 s of CPU on the second core, which the verification worker and the registry's answers need. Four
// times V8's default budget (67,584) keeps TurboFan for the truly hot code (Sigstore's ASN.1 and X.509 loops): a cold
// check of 2,000 signatures took 1.33-1.49 s of CPU instead of 1.69-1.76 s, main thread unchanged, and one with
// provenance for a third 5.7-6.3 s instead of 6.5-6.8 s (issue #7, docs/BENCHMARKS.md). Set before the bundle is
// compiled so that all of its functions, and the workers', get it; the code cache is made under the same flag.
v8.setFlagsFromString(`--interrupt-budget=${4 * 67_584}`);

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
