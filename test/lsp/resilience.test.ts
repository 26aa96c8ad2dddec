// Server resilience (issue #8): rapid edits cancel superseded checks (waiting and running ones), and the server's memory
// and per-document state stay bounded over 1,000 edits. The real server over the harness's in-memory stream pair.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import type { CheckerFactory } from "../../server/src/features/checkerFactory";
import { TREE_REQUEST, type TreeResult } from "../../server/src/protocol/messages";
import { parseOnlyChecker, type CheckRequest, type CheckResult } from "../../server/src/verify/checker";
import { ManualClock, startInProcess, type TestClient } from "./harness";

const CHECKED = "provenanceLens/checked";
const PACKAGES = 300;
const EDITS = 1_000;
/** The clock fires (typing pauses) once every this many edits. */
const PAUSE_EVERY = 50;
/** Generous: the server holds one parsed lockfile of 300 entries (well under 1 MB); a leak of one result per edit is far more. */
const HEAP_GROWTH_LIMIT = 30 * 1024 * 1024;

/** A package-lock v3 of `count` registry packages; `variant` changes every version, so each edit is a real change. */
function generatedLockfile(count: number, variant: number): string {
  const names = Array.from({ length: count }, (_, i) => `pkg-${String(i).padStart(3, "0")}`);
  const packages: Record<string, unknown> = {
    "": { name: "resilience", version: "1.0.0", dependencies: Object.fromEntries(names.map((n) => [n, `^1.0.${variant}`])) },
  };
  for (const name of names) {
    const version = `1.0.${variant}`;
    packages[`node_modules/${name}`] = {
      version,
      resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz`,
      integrity: `sha512-${createHash("sha512").update(`${name}@${version}`).digest("base64")}`,
      license: "MIT",
    };
  }
  return JSON.stringify({ name: "resilience", version: "1.0.0", lockfileVersion: 3, requires: true, packages }, null, 2) + "\n";
}

/** A folder with a package.json and the lockfile's uri in it (the file itself exists only in the editor). */
function workspace(): { uri: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), "provenance-lens-resilience-"));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "resilience", version: "1.0.0" }));
  return { uri: pathToFileURL(path.join(dir, "package-lock.json")).href, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The collector, whether or not node was started with --expose-gc (the test runner is not). */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

function heapAfterGc(gc: () => void): number {
  gc();
  gc(); // A second pass collects what the first one's finalizers released.
  return process.memoryUsage().heapUsed;
}

/** Every notification sent before it has been handled: requests are answered in order. */
async function handled(client: TestClient, uri: string): Promise<void> {
  await client.hover(uri, 0, 0);
}

test("1,000 rapid edits: superseded checks never run, memory and per-document state stay bounded", async (t) => {
  const gc = collector();
  const clock = new ManualClock();
  let checksRun = 0;
  const createChecker: CheckerFactory = () => ({
    check(request) {
      checksRun++;
      return parseOnlyChecker.check(request);
    },
  });
  const texts = [generatedLockfile(PACKAGES, 0), generatedLockfile(PACKAGES, 1)];
  const { uri, remove } = workspace();
  const client = startInProcess({}, { clock, createChecker });
  try {
    await client.initialize();
    let pauses = 0;
    /** Typing pauses: the one check still waiting runs; resolves with its checked notification. */
    const pause = async (version: number) => {
      await handled(client, uri);
      assert.equal(clock.waiting, 1, `one check waiting at version ${version}: the older ones were cancelled`);
      const checked = client.next(CHECKED, (p: any) => p.uri === uri);
      clock.fireAll();
      pauses++;
      const params = await checked;
      assert.equal(params.version, version, "the newest version is the one checked");
      assert.equal(params.packages, PACKAGES);
    };

    await client.open(uri, texts[0]!, 1);
    await pause(1);
    let baseline = 0;
    for (let version = 2; version <= EDITS + 1; version++) {
      await client.change(uri, texts[version % 2]!, version);
      if ((version - 1) % PAUSE_EVERY !== 0) continue;
      await pause(version);
      // What the test client records is the test's memory, not the server's: drop it at every measurement alike.
      client.received.length = 0;
      client.logs.length = 0;
      if (version - 1 === PAUSE_EVERY) baseline = heapAfterGc(gc);
    }
    const after = heapAfterGc(gc);
    const growth = after - baseline;
    t.diagnostic(`heap after ${PAUSE_EVERY} edits ${(baseline / 2 ** 20).toFixed(1)} MB, after ${EDITS}: ${(after / 2 ** 20).toFixed(1)} MB (growth ${(growth / 2 ** 20).toFixed(2)} MB); checks run: ${checksRun} for ${EDITS + 1} versions`);
    assert.ok(growth < HEAP_GROWTH_LIMIT, `heap grew ${(growth / 2 ** 20).toFixed(1)} MB over ${EDITS - PAUSE_EVERY} edits`);

    // Superseded checks never started: one per pause, far below one per edit.
    assert.equal(checksRun, pauses);
    assert.equal(pauses, 1 + EDITS / PAUSE_EVERY);
    assert.equal(clock.waiting, 0);

    // One result for the one open document, nothing pending, and it answers for the current text.
    const tree: TreeResult = await client.connection.sendRequest(TREE_REQUEST, {});
    assert.deepEqual([tree.lockfiles.length, tree.state], [1, "idle"]);
    assert.equal(tree.lockfiles[0]?.uri, uri);
    const line = texts[(EDITS + 1) % 2]!.split("\n").findIndex((l) => l.includes('"node_modules/pkg-007"'));
    const hover = await client.hover(uri, line, 8);
    assert.ok(hover?.contents.value.includes(`pkg-007@1.0.${(EDITS + 1) % 2}`), JSON.stringify(hover));
  } finally {
    client.dispose();
    remove();
  }
});

/** A checker whose checks wait until the test releases them, or until they are aborted. */
class GatedChecker {
  readonly started: { request: CheckRequest; release: () => void }[] = [];
  private onStart: (() => void) | undefined;

  readonly factory: CheckerFactory = () => ({
    check: (request: CheckRequest) =>
      new Promise<CheckResult>((resolve, reject) => {
        request.signal?.addEventListener("abort", () => reject(request.signal?.reason), { once: true });
        this.started.push({ request, release: () => void parseOnlyChecker.check(request).then(resolve, reject) });
        this.onStart?.();
      }),
  });

  /** Resolves once `count` checks have started. */
  startedCount(count: number): Promise<void> {
    if (this.started.length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.onStart = () => {
        if (this.started.length < count) return;
        this.onStart = undefined;
        resolve();
      };
    });
  }
}

test("an edit aborts the check still running for the version before it", async () => {
  const clock = new ManualClock();
  const gated = new GatedChecker();
  const { uri, remove } = workspace();
  const client = startInProcess({}, { clock, createChecker: gated.factory });
  try {
    await client.initialize();
    await client.open(uri, generatedLockfile(20, 0), 1);
    await handled(client, uri);
    clock.fireAll();
    await gated.startedCount(1);
    const first = gated.started[0]!.request.signal;
    assert.equal(first?.aborted, false);

    await client.change(uri, generatedLockfile(20, 1), 2);
    await handled(client, uri);
    assert.equal(first?.aborted, true, "the running check of version 1 was aborted by the edit");
    assert.match(String(first?.reason), /Superseded/);

    const checked = client.next(CHECKED, (p: any) => p.uri === uri);
    const idle = client.next("provenanceLens/status", (p: any) => p.state === "idle");
    clock.fireAll();
    await gated.startedCount(2);
    gated.started[1]!.release();
    assert.equal((await checked).version, 2);
    await idle;
    // The aborted check said nothing: no result, no "checked", no diagnostics for version 1.
    const checkedVersions = client.received.filter((r) => r.method === CHECKED).map((r) => r.params.version);
    assert.deepEqual(checkedVersions, [2]);
    const published = client.received.filter((r) => r.method === "textDocument/publishDiagnostics" && r.params.uri === uri).map((r) => r.params.version);
    assert.deepEqual(published, [2]);
    assert.equal(client.logs.filter((l) => /failed/i.test(l)).length, 0, client.logs.join("\n"));
  } finally {
    client.dispose();
    remove();
  }
});
