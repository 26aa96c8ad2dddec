// V8's code cache for the CLI bundle (see launch.ts for why).
//
// The vm.Script cachedData technique of v8-compile-cache, for one file. The cache lives in the user's own cache folder,
// never in a workspace, and its file name carries a hash of the bundle's text and the Node version, so it is never
// applied to another bundle; V8 also rejects data made by another V8 or flag set, and the bundle is then compiled as
// usual and the cache rewritten.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import Module from "node:module";
import path from "node:path";
import vm from "node:vm";

const PREFIX = "cli-code-";

/**
 * Where the code cache goes: the user's cache folder ($XDG_CACHE_HOME/provenance-lens, else ~/.cache/provenance-lens),
 * whatever `--cache-dir` says: that option moves the verdicts, which are data about packages, while this is about the
 * program (like Node's own NODE_COMPILE_CACHE), so a check with an empty verdict folder still starts fast. None with
 * `--no-cache` (nothing written to disk) or PROVENANCE_LENS_CODE_CACHE=off.
 */
export function codeCacheDir(argv: readonly string[], env: NodeJS.ProcessEnv, homeDir: string): string | undefined {
  if (env.PROVENANCE_LENS_CODE_CACHE === "off" || argv.includes("--no-cache")) return undefined;
  const xdg = env.XDG_CACHE_HOME;
  return xdg !== undefined && path.isAbsolute(xdg) ? path.join(xdg, "provenance-lens") : path.join(homeDir, ".cache", "provenance-lens");
}

/** The cache file of this exact bundle text on this Node and architecture. */
export function codeCacheFile(dir: string, source: string): string {
  const hash = createHash("sha256").update(source).update(process.version).update(process.arch).digest("hex").slice(0, 20);
  return path.join(dir, `${PREFIX}${hash}.bin`);
}

/** Runs the CommonJS file `bundle` as a module, through the code cache of `cacheDir` when given. */
export function runWithCodeCache(bundle: string, cacheDir: string | undefined, writeAfterRun: boolean): void {
  const source = readFileSync(bundle, "utf8");
  const file = cacheDir === undefined ? undefined : codeCacheFile(cacheDir, source);
  let cachedData: Buffer | undefined;
  if (file !== undefined) {
    try {
      cachedData = readFileSync(file);
    } catch {
      // No cache yet (first run, or a new version): compiled as usual, and the cache is written at exit.
    }
  }
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
  const rewrite = file !== undefined && writeAfterRun && (cachedData === undefined || script.cachedDataRejected === true);
  if (rewrite) process.once("exit", () => writeCodeCache(file, script));
  const dirname = path.dirname(bundle);
  const loaded = new Module(bundle, module);
  loaded.filename = bundle;
  loaded.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname);
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  wrapper.call(loaded.exports, loaded.exports, Module.createRequire(bundle), loaded, bundle, dirname);
}

/** Atomically (temp file + rename), dropping the caches of earlier bundles; a failure only costs the next start-up. */
function writeCodeCache(file: string, script: vm.Script): void {
  const dir = path.dirname(file);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
    renameSync(temp, file);
    for (const name of readdirSync(dir)) {
      if (name.startsWith(PREFIX) && path.join(dir, name) !== file && !name.endsWith(".tmp")) rmSync(path.join(dir, name), { force: true });
    }
  } catch (error) {
    // A read-only or full cache folder must not turn a finished check into a failure; say it only when asked to.
    if (process.env.PROVENANCE_LENS_DEBUG !== undefined) process.stderr.write(`provenance-lens: code cache not written: ${String(error)}\n`);
  }
}
