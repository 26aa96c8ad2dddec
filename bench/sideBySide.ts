// Side by side (issue #7, benchmark 5): the same project and loopback registry checked by `npm audit signatures`
// (npm 9.5.1), `pnpm audit signatures` (pnpm 12.21.0) and our CLI, interleaved in one run; then ours with provenance
// on top. Registry signatures only in the first part: the same work for all three.
//   node out/bench/sideBySide.js [--packages N (2000)] [--runs R (3)]
// Tools come from bench/setup.sh. A tool that is missing or fails here is reported with its reason, never timed.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import path from "node:path";
import { arg, load, median, ms, REPO, startRegistryProcess, tail, timeCommand, TOOLS, type RegistryProcess, type TimedRun } from "./benchUtil";
import type { PackageSpec } from "../test/registry/types";

const NPM = path.join(TOOLS, "npm-9.5.1/bin/npm");
const PNPM = path.join(TOOLS, "pnpm-12.21.0/node_modules/.bin/pnpm");
const CLI = path.join(REPO, "dist/cli.js");
/** npm 9.5.1 took ~10 s here for 2,000 packages; a run 6x over that is broken, not slow. */
const DEADLINE_MS = 120_000;

interface Contender {
  name: string;
  /** Runs once per round; undefined when the tool cannot run here (with `skipped` saying why). */
  run?: (round: number) => Promise<TimedRun>;
  /** What the tool said it checked, from its output: a count to compare, so no number is of a run that did nothing. */
  checked?: (run: TimedRun) => string;
  skipped?: string;
  times: number[];
  loads: string[];
  said: string;
}

function syntheticSpecs(count: number, provenanceEvery: number): PackageSpec[] {
  const specs: PackageSpec[] = [];
  for (let i = 0; i < count; i++) {
    const provenance = provenanceEvery > 0 && i % provenanceEvery === 0;
    specs.push({ name: `bench-signed-${String(i).padStart(5, "0")}`, versions: [{ version: "1.0.0", provenance }] });
  }
  return specs;
}

/** An .npmrc of our own, so the user's (or this machine's) npm config does not change what is measured. */
function npmEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const npmrc = path.join(home, "npmrc");
  if (!existsSync(npmrc)) writeFileSync(npmrc, "audit=false\nfund=false\nupdate-notifier=false\n");
  return { PATH: process.env.PATH, HOME: home, npm_config_userconfig: npmrc, npm_config_globalconfig: path.join(home, "none"), ...extra };
}

/** Our JSON report's counts by status. */
function ourStatuses(run: TimedRun): string {
  try {
    const report = JSON.parse(run.stdout) as { summary: { byStatus: Record<string, number> } };
    return Object.entries(report.summary.byStatus).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(", ");
  } catch (error) {
    return `unreadable output (${error instanceof Error ? error.message : String(error)}): ${tail(run.stderr)}`;
  }
}

/** Our text report's summary line ("Summary: 1 lockfile, 2000 packages (2000 signed), 0 problems."). */
function ourSummary(run: TimedRun): string {
  return /^Summary: .*$/m.exec(run.stdout)?.[0] ?? `unexpected output: ${tail(run.stdout + run.stderr)}`;
}

async function main(): Promise<void> {
  const count = Number(arg("--packages", "2000"));
  const runs = Number(arg("--runs", "3"));
  const home = mkdtempSync(path.join(tmpdir(), "pl-side-"));
  const registries: RegistryProcess[] = [];
  console.log(`side by side: ${count} signed packages, ${runs} interleaved runs; ${cpus().length} cores (${availableParallelism()} available); load ${load()}`);
  try {
    const signedOnly = path.join(home, "signed.json");
    const withProvenance = path.join(home, "provenance.json");
    writeFileSync(signedOnly, JSON.stringify(syntheticSpecs(count, 0)));
    writeFileSync(withProvenance, JSON.stringify(syntheticSpecs(count, 3)));
    const npmProject = path.join(home, "npm-project");
    const setupStart = performance.now();
    // Two registries: npm 9.5.1 and pnpm verify attestations when a version has them (npm then wants Sigstore's TUF
    // from the internet), so the first serves signatures only and the second adds provenance to a third.
    const [plain, attested] = await Promise.all([
      startRegistryProcess(["--spec", signedOnly, "--out", path.join(home, "plain"), "--project", npmProject]),
      startRegistryProcess(["--spec", withProvenance, "--out", path.join(home, "attested"), "--prewarm"]),
    ]);
    registries.push(plain, attested);
    console.log(`registries ready in ${ms(performance.now() - setupStart)} ms: ${plain.url} (signatures), ${attested.url} (+provenance)`);
    const lockfile = path.join(npmProject, "package-lock.json");

    const contenders: Contender[] = [];
    const add = (c: Omit<Contender, "times" | "loads" | "said">): Contender => {
      const full = { ...c, times: [], loads: [], said: "" };
      contenders.push(full);
      return full;
    };

    // npm 9.5.1: needs the tree installed from this registry first; only the audit is timed.
    if (!existsSync(NPM)) add({ name: "npm 9.5.1 audit signatures (cold)", skipped: `not installed at ${NPM}: run bench/setup.sh` });
    else {
      const install = await timeCommand(NPM, ["install", "--registry", plain.url, "--ignore-scripts", "--no-audit", "--cache", path.join(home, "npm-install-cache")], { cwd: npmProject, env: npmEnv(home), deadlineMs: 600_000 });
      if (install.code !== 0) add({ name: "npm 9.5.1 audit signatures (cold)", skipped: `npm install failed (${install.timedOut ? "deadline" : `exit ${install.code}`}): ${tail(install.stderr)}` });
      else {
        console.log(`npm 9.5.1 install: ${ms(install.wallMs)} ms (not part of any number below)`);
        add({
          name: "npm 9.5.1 audit signatures (cold)",
          // A fresh npm cache each run: npm caches packuments, and a cold audit is what CI runs.
          run: (round) => timeCommand(NPM, ["audit", "signatures", "--registry", plain.url, "--cache", path.join(home, `npm-cache-${round}`)], { cwd: npmProject, env: npmEnv(home), deadlineMs: DEADLINE_MS }),
          checked: (run) => /(\d+) packages? ha(?:ve|s) verified registry signatures?/.exec(run.stdout)?.[0] ?? `unexpected output: ${tail(run.stdout + run.stderr)}`,
        });
      }
    }

    // pnpm 12.21.0: its own tree from its own install; its metadata cache lives in $XDG_CACHE_HOME/pnpm.
    const pnpmProject = path.join(home, "pnpm-project");
    mkdirSync(pnpmProject);
    copyFileSync(path.join(npmProject, "package.json"), path.join(pnpmProject, "package.json"));
    const pnpmEnv = (cache: string): NodeJS.ProcessEnv => npmEnv(home, { XDG_CACHE_HOME: cache, XDG_DATA_HOME: path.join(home, "pnpm-data"), XDG_CONFIG_HOME: path.join(home, "pnpm-config"), CI: "1" });
    const pnpmArgs = ["--registry", plain.url, "--store-dir", path.join(home, "pnpm-store")];
    if (!existsSync(PNPM)) {
      for (const kind of ["cold", "warm"]) add({ name: `pnpm 12.21.0 audit signatures (${kind})`, skipped: `not installed at ${PNPM}: run bench/setup.sh` });
    } else {
      const install = await timeCommand(PNPM, ["install", ...pnpmArgs, "--ignore-scripts"], { cwd: pnpmProject, env: pnpmEnv(path.join(home, "pnpm-install-cache")), deadlineMs: 600_000 });
      if (install.code !== 0) {
        for (const kind of ["cold", "warm"]) add({ name: `pnpm 12.21.0 audit signatures (${kind})`, skipped: `pnpm install failed (${install.timedOut ? "deadline" : `exit ${install.code}`}): ${tail(install.stdout + install.stderr)}` });
      } else {
        console.log(`pnpm 12.21.0 install: ${ms(install.wallMs)} ms (not part of any number below)`);
        const pnpmChecked = (run: TimedRun): string => /\d+ packages? ha(?:ve|s) verified registry signatures?/.exec(run.stdout)?.[0] ?? `unexpected output: ${tail(run.stdout + run.stderr)}`;
        const pnpmCache = (round: number): string => path.join(home, `pnpm-cache-${round}`);
        add({ name: "pnpm 12.21.0 audit signatures (cold)", run: (round) => timeCommand(PNPM, ["audit", "signatures", ...pnpmArgs], { cwd: pnpmProject, env: pnpmEnv(pnpmCache(round)), deadlineMs: DEADLINE_MS }), checked: pnpmChecked });
        add({ name: "pnpm 12.21.0 audit signatures (warm)", run: (round) => timeCommand(PNPM, ["audit", "signatures", ...pnpmArgs], { cwd: pnpmProject, env: pnpmEnv(pnpmCache(round)), deadlineMs: DEADLINE_MS }), checked: pnpmChecked });
      }
    }

    // Ours: the real CLI process (node start-up included, as for the others); a new cache folder each round is cold,
    // the same folder again is warm. Its default text report, as npm and pnpm print theirs; the full JSON report
    // (~1 KB per package: 2 MB here) is timed on its own row.
    const ours = (registry: RegistryProcess, root: string, cache: (round: number) => string, format: "text" | "json" = "text") => (round: number) =>
      timeCommand(process.execPath, [CLI, "check", lockfile, "--format", format, "--fail-on", "invalid", "--registry", registry.url, "--trusted-root", root, "--cache-dir", cache(round)], { cwd: home, env: npmEnv(home), deadlineMs: DEADLINE_MS });
    const oursCache = (round: number): string => path.join(home, `ours-cache-${round}`);
    const oursJsonCache = (round: number): string => path.join(home, `ours-json-cache-${round}`);
    const ourNames = { cold: "provenance-lens check (cold)", warm: "provenance-lens check (warm)", json: "provenance-lens check --format json (cold)" };
    if (!existsSync(CLI)) {
      for (const name of Object.values(ourNames)) add({ name, skipped: `${CLI} missing: run npm run build` });
    } else {
      const plainRoot = path.join(home, "plain/trusted_root.json");
      // Like the installs above, once and untimed: the first run on a machine compiles the CLI and leaves V8's code
      // cache in ~/.cache/provenance-lens (docs/CLI.md); "cold" below means an empty verdict cache, as in CI.
      const first = await ours(plain, plainRoot, () => path.join(home, "ours-first-run"))(0);
      console.log(`provenance-lens first run on this machine (no code cache yet, cold): ${ms(first.wallMs)} ms (not part of any number below)`);
      add({ name: ourNames.cold, run: ours(plain, plainRoot, oursCache), checked: ourSummary });
      add({ name: ourNames.warm, run: ours(plain, plainRoot, oursCache), checked: ourSummary });
      add({ name: ourNames.json, run: ours(plain, plainRoot, oursJsonCache, "json"), checked: ourStatuses });
    }

    for (let round = 0; round < runs; round++) {
      for (const c of contenders) {
        if (c.run === undefined || c.skipped !== undefined) continue;
        const before = load();
        const result = await c.run(round);
        if (result.timedOut || result.code === null || result.code > 1) {
          // Exit 1 is a verdict for npm and ours; anything else (or no exit) is a failure to run.
          c.skipped = `round ${round + 1} failed (${result.timedOut ? `no answer in ${DEADLINE_MS / 1000} s` : `exit ${result.code}`}): ${tail(result.stdout + result.stderr)}`;
          continue;
        }
        c.times.push(result.wallMs);
        c.loads.push(before);
        c.said = c.checked?.(result) ?? "";
      }
    }

    // Ours with provenance on top: a third of the packages carry SLSA provenance + the publish attestation.
    const attestedRoot = path.join(home, "attested/trusted_root.json");
    const provCache = (round: number): string => path.join(home, `prov-cache-${round}`);
    const withProv: Contender[] = existsSync(CLI)
      ? [
          { name: "provenance-lens + provenance (cold)", run: ours(attested, attestedRoot, provCache), checked: ourSummary, times: [], loads: [], said: "" },
          { name: "provenance-lens + provenance (warm)", run: ours(attested, attestedRoot, provCache), checked: ourSummary, times: [], loads: [], said: "" },
        ]
      : [];
    for (let round = 0; round < runs; round++) {
      for (const c of withProv) {
        const before = load();
        const result = await c.run!(round);
        if (result.timedOut || result.code === null || result.code > 1) {
          c.skipped = `failed (${result.timedOut ? "deadline" : `exit ${result.code}`}): ${tail(result.stderr)}`;
          break;
        }
        c.times.push(result.wallMs);
        c.loads.push(before);
        c.said = c.checked!(result);
      }
    }
    contenders.push(...withProv);

    console.log("\n| tool | median wall ms | runs (ms) | load 1/5/15 before each run | what it reported |");
    console.log("|---|---|---|---|---|");
    for (const c of contenders) {
      if (c.skipped !== undefined && c.times.length === 0) console.log(`| ${c.name} | not run | | | ${c.skipped} |`);
      else console.log(`| ${c.name} | ${ms(median(c.times))} | ${c.times.map(ms).join(", ")} | ${c.loads.join("; ")} | ${c.said}${c.skipped ? ` (then ${c.skipped})` : ""} |`);
    }
    const byName = (name: string): number => median(contenders.find((c) => c.name === name)?.times ?? []);
    const coldOurs = byName(ourNames.cold);
    const warmOurs = byName(ourNames.warm);
    const npmCold = byName("npm 9.5.1 audit signatures (cold)");
    const pnpmCold = byName("pnpm 12.21.0 audit signatures (cold)");
    const pnpmWarm = byName("pnpm 12.21.0 audit signatures (warm)");
    const verdict = (ok: boolean): string => (ok ? "PASS" : "FAIL");
    const ratio = (a: number, b: number): string => (Number.isNaN(a) || Number.isNaN(b) ? "n/a" : `${(a / b).toFixed(2)}x`);
    console.log("\nratios (this run; < 1 means ours is faster):");
    console.log(`  ours cold / npm 9.5.1 cold: ${ratio(coldOurs, npmCold)}  target <= 0.10 (10x faster): ${Number.isNaN(npmCold) ? "n/a" : verdict(coldOurs * 10 <= npmCold)}`);
    console.log(`  ours cold / pnpm cold:      ${ratio(coldOurs, pnpmCold)}  target <= 1: ${Number.isNaN(pnpmCold) ? "n/a" : verdict(coldOurs <= pnpmCold)}`);
    console.log(`  ours warm / pnpm warm:      ${ratio(warmOurs, pnpmWarm)}  target < 0.33: ${Number.isNaN(pnpmWarm) ? "n/a" : verdict(warmOurs * 3 < pnpmWarm)}`);
    console.log(`  ours warm / ours cold:      ${ratio(warmOurs, coldOurs)}`);
    console.log(`  ours --format json cold / pnpm cold: ${ratio(byName(ourNames.json), pnpmCold)}`);
    console.log(`load at the end: ${load()}`);
  } finally {
    await Promise.all(registries.map((r) => r.stop()));
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
