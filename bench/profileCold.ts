// Where the time of a cold check goes (issue #7: "profile before optimising"). Runs one cold in-process check of the
// CRA lockfile (bench/checkLoopback.ts --runs 1 --cold-only --no-cli) under `node --cpu-prof`, then sums the
// self time of every profile (main thread and each verify worker) by category: network, JSON, crypto, Sigstore,
// our code, and the rest.
//   node out/bench/profileCold.js [--keep DIR]   (--keep: leave the .cpuprofile files there, for DevTools)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { arg, load, ms, tail, timeCommand } from "./benchUtil";

interface CallFrame {
  functionName: string;
  url: string;
}
interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export type Category =
  | "idle (waiting: network or workers)"
  | "network and streams (node http/net)"
  | "JSON parse/stringify"
  | "crypto (node:crypto)"
  | "Sigstore libraries"
  | "our code (server/src)"
  | "benchmark harness (bench, test registry specs)"
  | "module loading and TS compile (tsx)"
  | "garbage collector"
  | "other node internals"
  | "other libraries"
  | "V8 and native (program, builtins)";

/** The category of a sampled frame, from its URL (file path) and function name. */
export function categoryOf(frame: CallFrame): Category {
  const { url, functionName } = frame;
  if (functionName === "(idle)") return "idle (waiting: network or workers)";
  if (functionName === "(garbage collector)") return "garbage collector";
  if (url === "" && (functionName === "parse" || functionName === "stringify")) return "JSON parse/stringify";
  if (url === "") return "V8 and native (program, builtins)";
  if (/internal\/crypto|node:crypto/.test(url)) return "crypto (node:crypto)";
  if (/_http_|internal\/http|node:http|node:net|internal\/stream|node:stream|node:zlib|internal\/net|node:dns|internal\/dns|undici/.test(url)) return "network and streams (node http/net)";
  if (url.includes("@sigstore/")) return "Sigstore libraries";
  if (url.includes("/server/src/")) return "our code (server/src)";
  if (url.includes("/bench/") || url.includes("/test/")) return "benchmark harness (bench, test registry specs)";
  if (url.includes("/tsx/") || url.includes("/esbuild/") || url.includes("internal/modules")) return "module loading and TS compile (tsx)";
  if (url.startsWith("node:")) return "other node internals";
  return "other libraries";
}

/** Self time (ms) per category: each sample's time delta goes to the frame it sampled. */
export function selfTimeByCategory(profile: CpuProfile): Map<Category, number> {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const totals = new Map<Category, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = frames.get(profile.samples[i]);
    if (frame === undefined) continue;
    const category = categoryOf(frame);
    totals.set(category, (totals.get(category) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return totals;
}

/** The heaviest frames by self time, to say which function inside a category costs most. */
function topFrames(profile: CpuProfile, count: number): { name: string; ms: number }[] {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const totals = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = frames.get(profile.samples[i]);
    if (frame === undefined || frame.functionName === "(idle)") continue;
    const where = frame.url === "" ? "" : ` ${frame.url.replace(/^.*node_modules\//, "").replace(/^.*\/(server|bench|test)\//, "$1/")}`;
    const name = `${frame.functionName || "(anonymous)"}${where}`;
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, t]) => ({ name, ms: t }));
}

async function main(): Promise<void> {
  const keep = arg("--keep", "");
  const dir = keep !== "" ? keep : mkdtempSync(path.join(tmpdir(), "pl-prof-"));
  const ext = path.extname(__filename);
  const script = path.join(__dirname, `checkLoopback${ext}`);
  const loader = ext === ".ts" ? ["--import", "tsx"] : [];
  console.log(`profiling one cold check; load ${load()}`);
  const run = await timeCommand(process.execPath, ["--cpu-prof", "--cpu-prof-dir", dir, ...loader, script, "--runs", "1", "--cold-only", "--no-cli"], { cwd: process.cwd(), deadlineMs: 300_000 });
  if (run.code !== 0) {
    console.log(`the profiled check failed (${run.timedOut ? "deadline" : `exit ${run.code}`}): ${tail(run.stderr)}`);
    process.exitCode = 1;
    return;
  }
  console.log(run.stdout.split("\n").filter((l) => l.startsWith("| in process") || l.includes("registry packages")).join("\n"));
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  const profiles = files.map((f) => ({ file: f, profile: JSON.parse(readFileSync(path.join(dir, f), "utf8")) as CpuProfile }));
  // The main thread's profile is the longest (it spans the whole run); the others are verify workers.
  profiles.sort((a, b) => b.profile.endTime - b.profile.startTime - (a.profile.endTime - a.profile.startTime));
  const sections = [
    { name: "main thread", list: profiles.slice(0, 1) },
    { name: `verify workers (${profiles.length - 1}, summed)`, list: profiles.slice(1) },
  ];
  for (const section of sections) {
    if (section.list.length === 0) continue;
    const totals = new Map<Category, number>();
    for (const { profile } of section.list) for (const [c, t] of selfTimeByCategory(profile)) totals.set(c, (totals.get(c) ?? 0) + t);
    const all = [...totals.values()].reduce((a, b) => a + b, 0);
    const busy = all - (totals.get("idle (waiting: network or workers)") ?? 0);
    console.log(`\n${section.name}: ${ms(all)} ms sampled, ${ms(busy)} ms busy`);
    console.log("| category | self ms | share of busy |");
    console.log("|---|---|---|");
    for (const [c, t] of [...totals].sort((a, b) => b[1] - a[1])) {
      console.log(`| ${c} | ${ms(t)} | ${c.startsWith("idle") ? "" : `${((100 * t) / busy).toFixed(1)}%`} |`);
    }
    const merged = section.list.flatMap(({ profile }) => topFrames(profile, 12));
    const byName = new Map<string, number>();
    for (const f of merged) byName.set(f.name, (byName.get(f.name) ?? 0) + f.ms);
    console.log(`top frames: ${[...byName].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([n, t]) => `${n} ${ms(t)}`).join("; ")}`);
  }
  console.log(`\nprofiles: ${keep !== "" ? dir : "deleted (pass --keep DIR to keep them)"}; load at the end: ${load()}`);
  if (keep === "") rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
