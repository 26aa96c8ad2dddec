// Cold and warm checks of a large lockfile against the loopback test registry (issue #7, benchmarks 2 and 3).
//   node out/bench/checkLoopback.js [--lockfile FILE] [--runs N] [--provenance-every K] [--limit N] [--workers N]
//     [--no-cli] [--cold-only]
// The registry signs every version of the lockfile and serves provenance for every K-th (default 3: a third).
// Prints medians of wall time, CPU time (and how much of it was the main thread vs the verify workers, and how long
// the main thread sat waiting), requests and peak RSS for cold (empty cache) and warm (cache) checks in this process,
// then the same through the real CLI process (dist/cli.js), and the targets with PASS/FAIL.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { packagesOf, parseLockfile } from "../server/src/lockfile/index";
import type { Verdict } from "../server/src/protocol/verdicts";
import { VerdictCache } from "../server/src/registry/cache";
import { VerificationEngine } from "../server/src/verify/engine";
import { trustedRootFromJSON } from "../server/src/verify/trustedRoot";
// specs only: the registry itself (and @sigstore/mock, which patches http through nock) runs in its own process.
import { packagesFromLockfileEntries } from "../test/registry/specs";
import { arg, CRA_LOCKFILE, load, median, ms, REPO, startRegistryProcess, tail, timeCommand } from "./benchUtil";

const CLI = path.join(REPO, "dist/cli.js");
const TARGETS = { coldMs: 5000, warmCliMs: 300 };

interface Row {
  name: string;
  wall: number[];
  cpu: number[];
  /** Main-thread time spent running JavaScript (event loop active); the rest of `cpu` ran on worker threads. */
  mainActive: number[];
  /** Main-thread time with nothing to run: waiting for the network or for the workers. */
  mainIdle: number[];
  requests: number[];
  loads: string[];
  statuses: string;
}

function newRow(name: string): Row {
  return { name, wall: [], cpu: [], mainActive: [], mainIdle: [], requests: [], loads: [], statuses: "" };
}

function countStatuses(statuses: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(", ");
}

async function main(): Promise<void> {
  const lockfile = arg("--lockfile", CRA_LOCKFILE);
  if (!existsSync(lockfile)) {
    console.log(`skipped: ${lockfile} missing (set PROVENANCE_LENS_SHARED or pass --lockfile)`);
    return;
  }
  const runs = Number(arg("--runs", "3"));
  const every = Number(arg("--provenance-every", "3"));
  const withCli = !process.argv.includes("--no-cli") && existsSync(CLI);
  const coldOnly = process.argv.includes("--cold-only");
  const text = readFileSync(lockfile, "utf8");
  const parsed = parseLockfile(path.basename(lockfile).includes("package-lock") ? "package-lock.json" : lockfile, text);
  const limit = Number(arg("--limit", "0"));
  const all = packagesOf(parsed).filter((p) => p.source === "registry" && p.integrity !== undefined);
  const packages = limit > 0 ? all.slice(0, limit) : all;
  const specs = packagesFromLockfileEntries(packages, { provenance: (_n, _v, i) => i % every === 0 });
  const home = mkdtempSync(path.join(tmpdir(), "pl-bench-"));
  const specFile = path.join(home, "spec.json");
  writeFileSync(specFile, JSON.stringify(specs));
  const registry = await startRegistryProcess(["--spec", specFile, "--out", home, "--prewarm"]).catch((error: unknown) => {
    rmSync(home, { recursive: true, force: true });
    throw error;
  });
  try {
    const rootPath = path.join(home, "trusted_root.json");
    const root = trustedRootFromJSON(readFileSync(rootPath), "file");
    if (!root.ok) throw new Error(root.reason);
    const prewarmed = specs.reduce((n, spec) => n + spec.versions.filter((v) => v.provenance === true).length, 0);
    // The CLI reads the lockfile from disk; the engine only uses its folder (for .npmrc). A temp copy, never the repo.
    const lockfilePath = path.join(home, "package-lock.json");
    writeFileSync(lockfilePath, text);
    const workers = Number(arg("--workers", String(Math.min(4, availableParallelism()))));
    console.log(`${path.basename(lockfile)}: ${packages.length} registry packages, ${prewarmed} with provenance; ${runs} runs each; ${workers} verify workers; load ${load()}`);
    const kinds = coldOnly ? (["cold"] as const) : (["cold", "warm"] as const);
    const rows = kinds.map((kind) => newRow(`in process, ${kind}`));
    // The CLI's default text report, as CI prints it; then, for information, a warm run with the full JSON report
    // (~1 KB per package, 2.5 MB here, read by this process through a pipe).
    const cliRows = withCli ? [...kinds.map((kind) => newRow(`dist/cli.js process, ${kind}`)), ...(coldOnly ? [] : [newRow("dist/cli.js process, warm, --format json")])] : [];
    for (let run = 0; run < runs; run++) {
      const cacheDir = mkdtempSync(path.join(home, "cache-"));
      for (const row of rows) {
        const engine = new VerificationEngine({
          workers,
          env: {}, homeDir: home, globalConfigPath: path.join(home, "none"), trusted: true,
          registry: registry.url, trustedRoot: root.root, cache: new VerdictCache<Verdict>({ dir: cacheDir }),
        });
        row.loads.push(load());
        const cpu = process.cpuUsage();
        const elu = performance.eventLoopUtilization();
        const start = performance.now();
        const result = await engine.check({ lockfilePath, parsed, packages, offline: false });
        row.wall.push(performance.now() - start);
        const used = process.cpuUsage(cpu);
        const loop = performance.eventLoopUtilization(elu);
        row.cpu.push((used.user + used.system) / 1000);
        row.mainActive.push(loop.active);
        row.mainIdle.push(loop.idle);
        row.requests.push(engine.lastStats.requests);
        row.statuses = countStatuses([...result.verdicts.values()].map((v) => v.status));
      }
      // The CLI as CI runs it: a new process, node start-up and parse included; a new cache folder is cold.
      const cliCache = mkdtempSync(path.join(home, "cli-cache-"));
      for (const row of cliRows) {
        row.loads.push(load());
        const json = row.name.endsWith("--format json");
        const result = await timeCommand(process.execPath, [CLI, "check", lockfilePath, "--format", json ? "json" : "text", "--registry", registry.url, "--trusted-root", rootPath, "--cache-dir", cliCache], { cwd: home, env: { PATH: process.env.PATH, HOME: home }, deadlineMs: 120_000 });
        if (result.timedOut || result.code === null || result.code > 1) {
          console.log(`${row.name}: failed (${result.timedOut ? "deadline" : `exit ${result.code}`}): ${tail(result.stderr)}`);
          continue;
        }
        row.wall.push(result.wallMs);
        if (!json) {
          row.statuses = /^Summary: .*$/m.exec(result.stdout)?.[0] ?? `unexpected report: ${tail(result.stdout + result.stderr)}`;
          continue;
        }
        try {
          const report = JSON.parse(result.stdout) as { summary: { byStatus: Record<string, number> } };
          row.statuses = Object.entries(report.summary.byStatus).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(", ");
        } catch (error) {
          row.statuses = `unreadable report (${error instanceof Error ? error.message : String(error)})`;
        }
      }
      rmSync(cacheDir, { recursive: true, force: true });
      rmSync(cliCache, { recursive: true, force: true });
    }
    const peak = (process.resourceUsage().maxRSS / 1024).toFixed(0);
    console.log("\n| check | wall median ms | runs (ms) | CPU median ms | main thread busy / idle ms | requests | load 1/5/15 before each run |");
    console.log("|---|---|---|---|---|---|---|");
    for (const row of [...rows, ...cliRows]) {
      const inProcess = row.cpu.length > 0;
      console.log(`| ${row.name} | ${ms(median(row.wall))} | ${row.wall.map(ms).join(", ")} | ${inProcess ? ms(median(row.cpu)) : "n/a"} | ${inProcess ? `${ms(median(row.mainActive))} / ${ms(median(row.mainIdle))}` : "n/a"} | ${inProcess ? median(row.requests) : "n/a"} | ${row.loads.join("; ")} |`);
    }
    for (const row of [...rows, ...cliRows]) console.log(`${row.name}: ${row.statuses}`);
    console.log(`peak RSS of this process (engine, workers, and the in-process runs): ${peak} MiB`);
    const [cold, warm] = rows;
    if (warm !== undefined) console.log(`warm/cold wall ratio (in process): ${(median(warm.wall) / median(cold.wall)).toFixed(3)}`);
    console.log("\ntargets:");
    const pass = (ok: boolean): string => (ok ? "PASS" : "FAIL");
    console.log(`  cold check <= ${TARGETS.coldMs} ms (in process): ${ms(median(cold.wall))} ms ${pass(median(cold.wall) <= TARGETS.coldMs)}`);
    if (warm !== undefined) console.log(`  warm check makes no request: ${median(warm.requests)} requests ${pass(median(warm.requests) === 0)}`);
    const cliCold = cliRows[0];
    const cliWarm = cliRows[1];
    if (cliCold !== undefined && cliCold.wall.length > 0) console.log(`  cold check <= ${TARGETS.coldMs} ms (CLI process): ${ms(median(cliCold.wall))} ms ${pass(median(cliCold.wall) <= TARGETS.coldMs)}`);
    if (cliWarm !== undefined && cliWarm.wall.length > 0) console.log(`  warm check <= ${TARGETS.warmCliMs} ms (CLI process): ${ms(median(cliWarm.wall))} ms ${pass(median(cliWarm.wall) <= TARGETS.warmCliMs)}`);
    if (!withCli) console.log(`  CLI runs skipped (${existsSync(CLI) ? "--no-cli" : `${CLI} missing: npm run build`})`);
    console.log(`load at the end: ${load()}`);
  } finally {
    await registry.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
