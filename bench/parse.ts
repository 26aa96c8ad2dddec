// Parse benchmark: every lockfile of the shared corpus through the product's dispatcher, timed side by side
// with a baseline in the same run. Prints a markdown table; never asserts (timing depends on the machine).
//
//   npm run bench:parse          (builds, then runs out/bench/parse.js)
//   node --import tsx bench/parse.ts --runs 41 --only bun
//   PROVENANCE_LENS_SHARED=/path/to/shared BENCH_RUNS=25 node --import tsx bench/parse.ts
//
// --runs N: timed runs per file (default 15, or BENCH_RUNS); --only TEXT: only corpus files whose name has TEXT.
// Each run times the baseline and our parse back to back (alternating which goes first), so both see the same
// machine load; the ratio is of the two medians, and the p25-p75 column is the spread of the per-run ratios. A
// young-generation collection runs before each timed parse (untimed), so that neither pays for the other's garbage:
// js-yaml leaves several times more than our parse, and a collection of it landed inside ~30% of our timed YAML
// parses (2-4 ms of a ~9 ms parse). Collections a parse's own allocation causes still count for it. Not a full
// collection: that shrinks the young generation, and every parse after it then paid for growing it again (all times
// ~3x, for the baselines too).

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import * as yaml from "js-yaml";
import { parseLockfile } from "../server/src/lockfile/index";

const WARMUP_RUNS = 5;

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const RUNS = Math.max(1, Math.floor(Number(flag("--runs") ?? process.env.BENCH_RUNS ?? 15)) || 15);
const ONLY = flag("--only");

interface Baseline {
  name: string;
  run: () => unknown;
  /** Largest acceptable parse/baseline ratio; undefined when the ratio is only for information. */
  target?: number;
  note?: string;
}

function repoRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
  return dir;
}

/** The lockfile name a corpus file stands for (the corpus prefixes names with their origin). */
function lockfileName(file: string): string | undefined {
  return ["package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock"].find((name) => file.endsWith(name));
}

/** bun.lock is JSONC with trailing commas; JSON.parse needs them gone. Skips string contents. */
function withoutTrailingCommas(text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === ",") {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j])) j++;
      if (text[j] === "}" || text[j] === "]") {
        out += text.slice(from, i);
        from = i + 1;
      }
    }
  }
  return out + text.slice(from);
}

function baselineFor(name: string, text: string): Baseline {
  if (name === "package-lock.json" || name === "npm-shrinkwrap.json") {
    return { name: "JSON.parse", run: () => JSON.parse(text), target: 2 };
  }
  if (name === "bun.lock") {
    const json = withoutTrailingCommas(text);
    return { name: "JSON.parse (trailing commas removed beforehand)", run: () => JSON.parse(json), target: 2 };
  }
  if (name === "pnpm-lock.yaml" || (name === "yarn.lock" && !text.includes("# yarn lockfile v1"))) {
    return { name: "js-yaml load", run: () => yaml.load(text), target: 0.25 };
  }
  // Yarn classic is not YAML. @yarnpkg/lockfile is not a dependency here, so the ratio to JSON.parse of a JSON
  // rendering of the parsed entries is printed for information only.
  const rendering = JSON.stringify(parseLockfile(name, text).entries);
  return {
    name: "JSON.parse of a JSON rendering",
    run: () => JSON.parse(rendering),
    note: `@yarnpkg/lockfile not installed; information only (${rendering.length.toLocaleString("en")} bytes of JSON)`,
  };
}

/** The q-quantile (0..1) by linear interpolation between the sorted values. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

const median = (values: number[]): number => quantile(values, 0.5);

// `gc` without --expose-gc on the command line (npm run bench:parse runs plain node).
v8.setFlagsFromString("--expose-gc");
const gcFunction = vm.runInNewContext("gc") as (options: { type: "minor" | "major" }) => void;
const collectGarbage = (): void => gcFunction({ type: "minor" });

function time(run: () => unknown): number {
  collectGarbage();
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function main(): void {
  const shared = process.env.PROVENANCE_LENS_SHARED ?? path.resolve(repoRoot(__dirname), "../shared");
  const corpus = path.join(shared, "corpus/lockfiles");
  if (!fs.existsSync(corpus)) {
    console.log(`No corpus at ${corpus}: nothing to measure. Set PROVENANCE_LENS_SHARED to the shared folder.`);
    return;
  }
  const [load1] = os.loadavg();
  console.log(`# Parse benchmark\n`);
  console.log(`Node ${process.version}, ${os.cpus().length} CPUs, load average ${load1.toFixed(2)} at start; ${WARMUP_RUNS} warm-up + ${RUNS} timed runs, parse and baseline interleaved (alternating which goes first), a young-generation GC before each.\n`);
  console.log("| File | Lines | Entries | Baseline | Baseline median ms | Ours median ms | Ratio | Run ratios p25-p75 | Target | Result |");
  console.log("|---|---:|---:|---|---:|---:|---:|---:|---:|---|");
  const notes: string[] = [];
  for (const file of fs.readdirSync(corpus).sort()) {
    const name = lockfileName(file);
    if (name === undefined || (ONLY !== undefined && !file.includes(ONLY))) continue;
    const text = fs.readFileSync(path.join(corpus, file), "utf8");
    const baseline = baselineFor(name, text);
    const parse = (): unknown => parseLockfile(name, text);
    let entries = 0;
    for (let i = 0; i < WARMUP_RUNS; i++) {
      baseline.run();
      entries = parseLockfile(name, text).entries.length;
    }
    const parseTimes: number[] = [];
    const baseTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      if (i % 2 === 0) {
        baseTimes.push(time(baseline.run));
        parseTimes.push(time(parse));
      } else {
        parseTimes.push(time(parse));
        baseTimes.push(time(baseline.run));
      }
    }
    const base = median(baseTimes);
    const parsed = median(parseTimes);
    const ratio = parsed / base;
    const runRatios = parseTimes.map((t, i) => t / baseTimes[i]);
    const spread = `${quantile(runRatios, 0.25).toFixed(2)}-${quantile(runRatios, 0.75).toFixed(2)}`;
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    const result = baseline.target === undefined ? "info" : ratio <= baseline.target ? "PASS" : "FAIL";
    const stub = entries === 0 ? " (parser returns no entries: still a stub?)" : "";
    console.log(
      `| ${file} | ${lines.toLocaleString("en")} | ${entries.toLocaleString("en")}${stub} | ${baseline.name} | ${base.toFixed(2)} | ${parsed.toFixed(2)} | ${ratio.toFixed(2)} | ${spread} | ${baseline.target === undefined ? "-" : `<= ${baseline.target}`} | ${result} |`,
    );
    if (baseline.note !== undefined) notes.push(`- ${file}: ${baseline.note}`);
  }
  if (notes.length > 0) console.log(`\n${notes.join("\n")}`);
  console.log(`\nLoad average at end ${os.loadavg()[0].toFixed(2)}. Ratios on a busy machine are noisy; rerun before drawing conclusions.`);
}

main();
