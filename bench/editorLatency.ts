// Editor latency and memory (issue #7, benchmark 4), against the loopback test registry in its own process:
//   - open the 52,771-line CRA lockfile in a fresh server (empty verdict cache) -> first diagnostics;
//   - edit it (the root "name", so every verdict stays cached) -> diagnostics of that version, several edits;
//   - the server process's RSS with the lockfile open and verified.
//   node out/bench/editorLatency.js [--edits N (7)] [--provenance-every K (3)]
// Two servers: the real `dist/server.js --stdio` process (what editors run; its edit latency includes the server's
// 30 ms typing debounce, and its RSS is the number), and the same server in this process with no debounce, which
// shows the work an edit costs once typing has paused.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";
import { packagesOf, parseLockfile } from "../server/src/lockfile/index";
import { engineFactory } from "../server/src/features/checkerFactory";
import { startInProcess, TestClient } from "../test/lsp/harness";
import { packagesFromLockfileEntries } from "../test/registry/specs";
import { arg, CRA_LOCKFILE, load, median, ms, REPO, startRegistryProcess, type RegistryProcess } from "./benchUtil";

const SERVER_JS = path.join(REPO, "dist/server.js");
/** The real server's edit debounce (server.ts default): an edit waits this long for typing to pause. */
/** server.ts `editDebounceMs` default. */
const SERVER_DEBOUNCE_MS = 30;

interface Measured {
  label: string;
  openMs: number;
  editMs: number[];
  diagnostics: number;
  loads: string[];
  rss?: { afterOpenMiB: number; afterEditsMiB: number; peakMiB: number };
}

/** VmRSS and VmHWM (peak) of a process, in MiB, from /proc (Linux). */
function rssOf(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
  } catch (error) {
    console.log(`RSS of ${pid} not readable (${error instanceof Error ? error.message : String(error)})`);
    return undefined;
  }
}

/** Opens, waits for the first diagnostics, then edits `edits` times, each time waiting for that version's diagnostics. */
async function openAndEdit(client: TestClient, label: string, uri: string, text: string, edits: number, pid?: number): Promise<Measured> {
  await client.initialize();
  const loads = [load()];
  const first = client.next<{ uri: string; diagnostics: unknown[] }>("textDocument/publishDiagnostics", (p) => p.uri === uri);
  const openStart = performance.now();
  await client.open(uri, text, 1);
  const published = await first;
  const openMs = performance.now() - openStart;
  const afterOpen = pid === undefined ? undefined : rssOf(pid);
  const editMs: number[] = [];
  for (let version = 2; version < edits + 2; version++) {
    loads.push(load());
    const edited = text.replace('"name": "create-react-app"', `"name": "create-react-app-edit-${version}"`);
    const seen = client.next("textDocument/publishDiagnostics", (p: { uri: string; version?: number }) => p.uri === uri && p.version === version);
    const start = performance.now();
    await client.change(uri, edited, version);
    await seen;
    editMs.push(performance.now() - start);
  }
  const afterEdits = pid === undefined ? undefined : rssOf(pid);
  const rss = afterOpen !== undefined && afterEdits !== undefined ? { afterOpenMiB: afterOpen.rss, afterEditsMiB: afterEdits.rss, peakMiB: afterEdits.peak } : undefined;
  return { label, openMs, editMs, diagnostics: published.diagnostics.length, loads, ...(rss ? { rss } : {}) };
}

async function spawnedServer(settings: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<{ client: TestClient; pid: number; exited: Promise<void> }> {
  const child = spawn(process.execPath, [SERVER_JS, "--stdio"], { stdio: ["pipe", "pipe", "inherit"], env });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const client = new TestClient(connection, { settings }, () => {
    if (child.exitCode === null) child.kill("SIGTERM");
  });
  if (child.pid === undefined) throw new Error("dist/server.js did not start");
  return { client, pid: child.pid, exited };
}

async function main(): Promise<void> {
  const edits = Number(arg("--edits", "7"));
  const every = Number(arg("--provenance-every", "3"));
  if (!existsSync(CRA_LOCKFILE)) {
    console.log(`skipped: ${CRA_LOCKFILE} missing (set PROVENANCE_LENS_SHARED)`);
    return;
  }
  const text = readFileSync(CRA_LOCKFILE, "utf8");
  const parsed = parseLockfile("package-lock.json", text);
  const packages = packagesOf(parsed).filter((p) => p.source === "registry" && p.integrity !== undefined);
  const specs = packagesFromLockfileEntries(packages, { provenance: (_n, _v, i) => i % every === 0 });
  const home = mkdtempSync(path.join(tmpdir(), "pl-editor-bench-"));
  let registry: RegistryProcess | undefined;
  try {
    const specFile = path.join(home, "spec.json");
    writeFileSync(specFile, JSON.stringify(specs));
    registry = await startRegistryProcess(["--spec", specFile, "--out", home, "--prewarm"]);
    // The lockfile on disk too (the server reads the folder's .npmrc and package.json next to it); a copy in a temp
    // folder, never in the repository.
    const project = path.join(home, "project");
    mkdirSync(project);
    const lockfilePath = path.join(project, "package-lock.json");
    writeFileSync(lockfilePath, text);
    const uri = pathToFileURL(lockfilePath).href;
    const settingsFor = (cache: string): Record<string, unknown> => ({ registry: registry!.url, trustedRootPath: path.join(home, "trusted_root.json"), cachePath: cache });
    console.log(`editor latency: ${path.basename(CRA_LOCKFILE)} (${text.split("\n").length} lines, ${packages.length} registry packages, provenance every ${every}); ${edits} edits; load ${load()}`);

    const results: Measured[] = [];
    if (!existsSync(SERVER_JS)) console.log(`real server: skipped, ${SERVER_JS} missing (npm run build)`);
    else {
      const env = { PATH: process.env.PATH, HOME: home, XDG_CACHE_HOME: path.join(home, "xdg-cache") };
      const server = await spawnedServer(settingsFor(mkdtempSync(path.join(home, "cache-"))), env);
      try {
        results.push(await openAndEdit(server.client, `dist/server.js --stdio (debounce ${SERVER_DEBOUNCE_MS} ms)`, uri, text, edits, server.pid));
        await server.client.connection.sendRequest("shutdown");
        await server.client.connection.sendNotification("exit");
        await server.exited;
      } finally {
        server.client.dispose();
      }
    }
    const inProcess = startInProcess(
      { settings: settingsFor(mkdtempSync(path.join(home, "cache-"))) },
      { createChecker: engineFactory({ env: { HOME: home }, homeDir: homedir() }), editDebounceMs: 0 },
    );
    try {
      results.push(await openAndEdit(inProcess, "in process (no debounce)", uri, text, edits));
    } finally {
      inProcess.dispose();
    }

    console.log("\n| server | open -> first diagnostics ms (cold) | edit -> diagnostics median ms | edits (ms) | diagnostics | RSS after open / after edits / peak MiB | load 1/5/15 at open |");
    console.log("|---|---|---|---|---|---|---|");
    for (const r of results) {
      const rss = r.rss === undefined ? "n/a" : `${r.rss.afterOpenMiB.toFixed(0)} / ${r.rss.afterEditsMiB.toFixed(0)} / ${r.rss.peakMiB.toFixed(0)}`;
      console.log(`| ${r.label} | ${ms(r.openMs)} | ${ms(median(r.editMs))} | ${r.editMs.map(ms).join(", ")} | ${r.diagnostics} | ${rss} | ${r.loads[0]} |`);
    }
    const real = results.find((r) => r.rss !== undefined);
    const direct = results.find((r) => r.rss === undefined);
    console.log("\ntargets:");
    if (direct) console.log(`  edit -> diagnostics <= 100 ms, work after the debounce (in process): ${ms(median(direct.editMs))} ms ${median(direct.editMs) <= 100 ? "PASS" : "FAIL"}`);
    if (real) {
      const endToEnd = median(real.editMs);
      console.log(`  edit -> diagnostics <= 100 ms, real server end to end (its ${SERVER_DEBOUNCE_MS} ms debounce included): ${ms(endToEnd)} ms ${endToEnd <= 100 ? "PASS" : "FAIL"}`);
      console.log(`  RSS <= 200 MB with the lockfile open and verified: peak ${real.rss!.peakMiB.toFixed(0)} MiB (${(real.rss!.peakMiB * 1.048576).toFixed(0)} MB) ${real.rss!.peakMiB * 1.048576 <= 200 ? "PASS" : "FAIL"}`);
    }
    console.log(`load at the end: ${load()}`);
  } finally {
    await registry?.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
