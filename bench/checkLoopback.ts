// Cold and warm checks of a large lockfile against the loopback test registry (issue #7, benchmarks 2 and 3).
//   node out/bench/checkLoopback.js [--lockfile FILE] [--runs N] [--provenance-every K]
// The registry signs every version of the lockfile and serves provenance for every K-th (default 3: a third).
// Prints medians of wall time, CPU time, requests and peak RSS for cold (empty cache) and warm (cache) checks.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { packagesOf, parseLockfile } from "../server/src/lockfile/index";
import type { Verdict } from "../server/src/protocol/verdicts";
import { VerdictCache } from "../server/src/registry/cache";
import { VerificationEngine } from "../server/src/verify/engine";
import { trustedRootFromJSON } from "../server/src/verify/trustedRoot";
// specs only: the registry itself (and @sigstore/mock, which patches http through nock) runs in its own process.
import { packagesFromLockfileEntries } from "../test/registry/specs";

import { existsSync } from "node:fs";

const REPO = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
const SHARED = process.env.PROVENANCE_LENS_SHARED ?? path.resolve(REPO, "../shared");

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1] ?? fallback;
}

/**
 * The registry runs in its own process so that its work (serving, and building bundles on first request) is not
 * counted as ours. Resolves once every attestation is prewarmed and the URL is printed.
 */
function startRegistryProcess(specFile: string, outDir: string): Promise<{ url: string; child: ChildProcess }> {
  const ext = path.extname(__filename);
  const serve = path.join(__dirname, `../test/registry/serve${ext}`);
  const child = spawn(process.execPath, [...process.execArgv, serve, "--spec", specFile, "--out", outDir, "--prewarm"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve({ url: line.trim(), child });
    });
    child.once("exit", (code) => reject(new Error(`test registry exited ${code}`)));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const lockfile = arg("--lockfile", path.join(SHARED, "corpus/lockfiles/npm-v2-create-react-app-package-lock.json"));
  const runs = Number(arg("--runs", "3"));
  const every = Number(arg("--provenance-every", "3"));
  const text = readFileSync(lockfile, "utf8");
  const parsed = parseLockfile(path.basename(lockfile).includes("package-lock") ? "package-lock.json" : lockfile, text);
  const limit = Number(arg("--limit", "0"));
  const all = packagesOf(parsed).filter((p) => p.source === "registry" && p.integrity !== undefined);
  const packages = limit > 0 ? all.slice(0, limit) : all;
  const specs = packagesFromLockfileEntries(packages, { provenance: (_n, _v, i) => i % every === 0 });
  const home = mkdtempSync(path.join(tmpdir(), "pl-bench-"));
  const specFile = path.join(home, "spec.json");
  writeFileSync(specFile, JSON.stringify(specs));
  const registry = await startRegistryProcess(specFile, home);
  const root = trustedRootFromJSON(readFileSync(path.join(home, "trusted_root.json")), "file");
  if (!root.ok) throw new Error(root.reason);
  const prewarmed = specs.reduce((n, spec) => n + spec.versions.filter((v) => v.provenance === true).length, 0);
  const lockfilePath = path.join(home, "package-lock.json");
  console.log(`${path.basename(lockfile)}: ${packages.length} registry packages, ${prewarmed} with provenance; ${runs} runs each`);
  const rows: { name: string; wall: number[]; cpu: number[]; requests: number[]; verified: number; statuses: string }[] = [];
  for (const kind of ["cold", "warm"] as const) rows.push({ name: kind, wall: [], cpu: [], requests: [], verified: 0, statuses: "" });
  for (let run = 0; run < runs; run++) {
    const cacheDir = mkdtempSync(path.join(home, "cache-"));
    for (const row of rows) {
      const engine = new VerificationEngine({
        workers: Number(arg("--workers", String(Math.min(4, availableParallelism())))),
        env: {}, homeDir: home, globalConfigPath: path.join(home, "none"), trusted: true,
        registry: registry.url, trustedRoot: root.root, cache: new VerdictCache<Verdict>({ dir: cacheDir }),
      });
      const cpu = process.cpuUsage();
      const start = performance.now();
      const result = await engine.check({ lockfilePath, parsed, packages, offline: false });
      row.wall.push(performance.now() - start);
      const used = process.cpuUsage(cpu);
      row.cpu.push((used.user + used.system) / 1000);
      row.requests.push(engine.lastStats.requests);
      row.verified = [...result.verdicts.values()].filter((v) => v.status === "verified").length;
      const counts = new Map<string, number>();
      for (const v of result.verdicts.values()) counts.set(v.status, (counts.get(v.status) ?? 0) + 1);
      row.statuses = [...counts].map(([s, n]) => `${n} ${s}`).join(", ");
    }
    rmSync(cacheDir, { recursive: true, force: true });
  }
  console.log("| check | wall median ms | CPU median ms | requests | verified | peak RSS MiB |");
  console.log("|---|---|---|---|---|---|");
  for (const row of rows) {
    console.log(`| ${row.name} | ${median(row.wall).toFixed(0)} | ${median(row.cpu).toFixed(0)} | ${median(row.requests)} | ${row.verified} | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} |`);
  }
  const [cold, warm] = rows;
  for (const row of rows) console.log(`${row.name}: ${row.statuses}`);
  console.log(`warm/cold wall ratio: ${(median(warm.wall) / median(cold.wall)).toFixed(3)}`);
  registry.child.kill();
  rmSync(home, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
