// Helpers shared by the benchmarks of issue #7: where things are, the test registry in its own process, timing a
// child process, medians and the machine's load. Benchmarks print; nothing here asserts on time.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";

/** The checkout, whether this runs from bench/ (tsx) or from out/bench/ (compiled: tsc copies package.json into out/, so
 * the checkout is found by tsconfig.json). */
export const REPO = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "tsconfig.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
export const SHARED = process.env.PROVENANCE_LENS_SHARED ?? path.resolve(REPO, "../shared");
export const CRA_LOCKFILE = path.join(SHARED, "corpus/lockfiles/npm-v2-create-react-app-package-lock.json");
/** Where bench/setup.sh installs npm 9.5.1 and pnpm 12.21.0 (never inside the repository). */
export const TOOLS = process.env.PROVENANCE_LENS_BENCH_TOOLS ?? path.join(process.env.HOME ?? "/tmp", ".cache/provenance-lens-bench");

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1] ?? fallback;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The 1/5/15-minute load averages, printed next to every number: other engineers share this 2-core machine. */
export function load(): string {
  return loadavg().map((n) => n.toFixed(2)).join(" ");
}

export function ms(value: number): string {
  return Number.isNaN(value) ? "n/a" : value.toFixed(0);
}

export interface RegistryProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts test/registry/serve in its own process, so that its work (serving, signing) is not counted as ours.
 * Resolves once the URL is printed: serve.ts prints it last, after --prewarm and the --out/--project files.
 */
export function startRegistryProcess(args: readonly string[]): Promise<RegistryProcess> {
  const ext = path.extname(__filename);
  const serve = path.join(REPO, ext === ".ts" ? "test/registry/serve.ts" : "out/test/registry/serve.js");
  // --cpu-prof of a profiled benchmark must not profile the registry too.
  const execArgv: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const flag = process.execArgv[i];
    if (!flag.startsWith("--cpu-prof")) execArgv.push(flag);
    else if (!flag.includes("=") && flag !== "--cpu-prof") i += 1; // its value
  }
  const child = spawn(process.execPath, [...execArgv, serve, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = "";
    const onExit = (code: number | null): void => reject(new Error(`test registry exited with ${code} before it was ready`));
    child.once("exit", onExit);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf("\n");
      if (newline === -1) return;
      child.removeListener("exit", onExit);
      child.stdout!.removeAllListeners("data");
      child.stdout!.resume();
      resolve({ url: out.slice(0, newline).trim(), child, stop });
    });
  });
}

export interface TimedRun {
  wallMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Killed at its deadline. */
  timedOut: boolean;
}

/**
 * Runs a command to the end and times it from spawn to exit. Every run has a deadline: a tool that hangs (npm >= 9.9
 * waits ~70 s for Sigstore TUF offline) is killed and reported, never waited on forever.
 */
export function timeCommand(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; deadlineMs: number }): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.deadlineMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ wallMs: performance.now() - start, code, stdout, stderr, timedOut });
    });
  });
}

/** The last non-empty lines of a tool's output, to say why it failed. */
export function tail(text: string, lines = 3): string {
  return text.trim().split("\n").slice(-lines).join(" | ");
}
