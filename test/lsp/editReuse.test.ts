// Edits re-use what the last check built (issue #7): the diagnostics published after an edit must be exactly those a
// fresh server publishes for the edited text, and an edit after a pause is checked at once while a burst waits.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { engineFactory } from "../../server/src/features/checkerFactory";
import type { Clock } from "../../server/src/server";
import { integrityOf, startTestRegistry, type PackageSpec, type TestRegistry } from "../registry";
import { startInProcess, type TestClient } from "./harness";

const PACKAGES: PackageSpec[] = [
  { name: "verified-a", versions: [{ version: "1.0.0", provenance: true, repository: "https://github.com/provenance-lens-test/verified-a", dependencies: { "signed-b": "^1.0.0" } }] },
  { name: "signed-b", versions: [{ version: "1.0.0" }, { version: "1.1.0" }] },
  { name: "tampered-c", versions: [{ version: "1.0.0" }] },
];

let registry: TestRegistry;
let settings: Record<string, unknown>;
const home = mkdtempSync(path.join(tmpdir(), "pl-reuse-home-"));
const environment = { env: { npm_config_globalconfig: path.join(home, "no-global-npmrc"), npm_config_userconfig: path.join(home, "no-npmrc") }, homeDir: home };

before(async () => {
  registry = await startTestRegistry({ packages: PACKAGES, misbehaviour: { "tampered-c@1.0.0": { kind: "tamper-integrity" } } });
  settings = { registry: registry.url, trustedRootPath: registry.writeTrustedRoot(home), cachePath: mkdtempSync(path.join(tmpdir(), "pl-reuse-cache-")) };
});
after(() => registry.stop());

/** A project whose lockfile locks `versions` (name -> version); package.json declares verified-a and tampered-c. */
function lockText(versions: Record<string, string>, rootName = "reuse-fixture"): string {
  const dependencies = { "verified-a": "^1.0.0", "tampered-c": "^1.0.0" };
  const packages: Record<string, unknown> = { "": { name: rootName, version: "1.0.0", dependencies } };
  for (const [name, version] of Object.entries(versions)) {
    const spec = PACKAGES.find((p) => p.name === name)!.versions.find((v) => v.version === version)!;
    packages[`node_modules/${name}`] = { version, integrity: integrityOf(name, spec), ...(spec.dependencies ? { dependencies: spec.dependencies } : {}) };
  }
  return JSON.stringify({ name: rootName, version: "1.0.0", lockfileVersion: 3, requires: true, packages }, null, 2) + "\n";
}

function project(text: string): { lockfileUri: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "pl-reuse-"));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "reuse-fixture", version: "1.0.0", dependencies: { "verified-a": "^1.0.0", "tampered-c": "^1.0.0" } }, null, 2));
  writeFileSync(path.join(dir, "package-lock.json"), text);
  return { lockfileUri: pathToFileURL(path.join(dir, "package-lock.json")).href };
}

async function withClient<T>(fn: (client: TestClient) => Promise<T>, clock?: Clock): Promise<T> {
  const client = startInProcess({ settings }, { createChecker: engineFactory(environment), ...(clock ? { clock } : {}) });
  try {
    await client.initialize();
    return await fn(client);
  } finally {
    client.dispose();
  }
}

function published(client: TestClient, uri: string, version: number): Promise<any[]> {
  return client.next("textDocument/publishDiagnostics", (p: any) => p.uri === uri && p.version === version).then((p: any) => p.diagnostics);
}

/** What a server that never saw the earlier versions publishes for `text`. */
function fresh(uri: string, text: string): Promise<any[]> {
  return withClient(async (client) => {
    const diagnostics = published(client, uri, 1);
    await client.open(uri, text, 1);
    return diagnostics;
  });
}

// Each edit: the lockfile text after it. Together they move ranges, keep verdicts, and change a verdict.
const EDITS: { name: string; versions: Record<string, string>; rootName?: string; prefix?: string }[] = [
  { name: "root name edited (nothing moves)", versions: { "verified-a": "1.0.0", "signed-b": "1.0.0", "tampered-c": "1.0.0" }, rootName: "reuse-fixture-edited" },
  { name: "lines inserted above every entry (every range moves)", versions: { "verified-a": "1.0.0", "signed-b": "1.0.0", "tampered-c": "1.0.0" }, prefix: "\n\n" },
  { name: "a version changed (its verdict changes)", versions: { "verified-a": "1.0.0", "signed-b": "1.1.0", "tampered-c": "1.0.0" } },
  { name: "an entry removed", versions: { "verified-a": "1.0.0", "signed-b": "1.1.0" } },
];

describe("edits re-use the last check's diagnostics", () => {
  test("each edit publishes what a fresh server publishes for the edited text", async () => {
    const first = lockText({ "verified-a": "1.0.0", "signed-b": "1.0.0", "tampered-c": "1.0.0" });
    const { lockfileUri } = project(first);
    const afterEdits = await withClient(async (client) => {
      const opened = published(client, lockfileUri, 1);
      await client.open(lockfileUri, first, 1);
      assert.ok((await opened).length >= 2, "the fixture has diagnostics to re-use");
      const out: any[][] = [];
      for (const [index, edit] of EDITS.entries()) {
        const version = index + 2;
        const seen = published(client, lockfileUri, version);
        await client.change(lockfileUri, (edit.prefix ?? "") + lockText(edit.versions, edit.rootName), version);
        out.push(await seen);
      }
      return out;
    });
    for (const [index, edit] of EDITS.entries()) {
      const expected = await fresh(lockfileUri, (edit.prefix ?? "") + lockText(edit.versions, edit.rootName));
      assert.deepEqual(afterEdits[index], expected, edit.name);
    }
    // The edits did what they say: ranges moved by two lines, and signed-b's diagnostic follows its new version.
    const line = (ds: any[], code: string) => ds.find((d) => d.code === code)?.range.start.line;
    assert.equal(line(afterEdits[1], "invalid"), line(afterEdits[0], "invalid") + 2);
    assert.match(afterEdits[2].find((d: any) => d.message.startsWith("signed-b@"))?.message ?? "", /^signed-b@1\.1\.0/);
  });
});

/** A ranged change that turns `before` into `after` (the span between their common start and end), as an editor sends it. */
function rangedChange(before: string, after: string): { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string } {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let tail = 0;
  while (tail < before.length - start && tail < after.length - start && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail++;
  const position = (offset: number) => {
    const lines = before.slice(0, offset).split("\n");
    return { line: lines.length - 1, character: lines[lines.length - 1].length };
  };
  return { range: { start: position(start), end: position(before.length - tail) }, text: after.slice(start, after.length - tail) };
}

// Ranged edits of the kinds the npm re-parse does from the last parse (lockfile/npmIncremental.ts), one after another.
const RANGED: { name: string; edit: (text: string) => string }[] = [
  { name: "the top-level name typed in", edit: (t) => t.replace('"name": "reuse-fixture",\n  "version"', '"name": "reuse-fixture-x",\n  "version"') },
  { name: "a field line added inside an entry (later ranges move)", edit: (t) => t.replace('"version": "1.0.0",\n      "integrity"', '"version": "1.0.0",\n      "dev": true,\n      "integrity"') },
  { name: "a version changed in place (its verdict changes)", edit: (t) => t.replace('"node_modules/signed-b": {\n      "version": "1.0.0"', '"node_modules/signed-b": {\n      "version": "1.1.0"') },
  { name: "the field line removed again", edit: (t) => t.replace('\n      "dev": true,', "") },
  { name: "a space typed at the end of a line", edit: (t) => t.replace('"version": "1.1.0",', '"version": "1.1.0", ') },
];

describe("ranged edits re-parse from the last parse", () => {
  test("each publishes what a fresh server publishes for the edited text", async () => {
    const first = lockText({ "verified-a": "1.0.0", "signed-b": "1.0.0", "tampered-c": "1.0.0" });
    const { lockfileUri } = project(first);
    const texts: string[] = [];
    const afterEdits = await withClient(async (client) => {
      const opened = published(client, lockfileUri, 1);
      await client.open(lockfileUri, first, 1);
      await opened;
      const out: any[][] = [];
      let text = first;
      for (const [index, edit] of RANGED.entries()) {
        const next = edit.edit(text);
        assert.notEqual(next, text, `${edit.name}: the edit applies`);
        const change = rangedChange(text, next);
        const seen = published(client, lockfileUri, index + 2);
        await client.changeRange(lockfileUri, change.range, change.text, index + 2);
        out.push(await seen);
        texts.push(next);
        text = next;
      }
      return out;
    });
    for (const [index, edit] of RANGED.entries()) assert.deepEqual(afterEdits[index], await fresh(lockfileUri, texts[index]), edit.name);
    const line = (ds: any[], prefix: string) => ds.find((d) => d.message.startsWith(prefix))?.range.start.line;
    assert.equal(line(afterEdits[1], "tampered-c@"), line(afterEdits[0], "tampered-c@") + 1);
  });
});

/** Records the delay of every scheduled check; timers run at once. Its time is set by the test. */
class RecordingClock implements Clock {
  readonly delays: number[] = [];
  time = 1_000_000;
  schedule(callback: () => void, ms: number): () => void {
    this.delays.push(ms);
    const handle = setImmediate(callback);
    return () => clearImmediate(handle);
  }
  now(): number {
    return this.time;
  }
}

describe("when an edit is checked", () => {
  test("after a pause at once; in a burst after the debounce", async () => {
    const text = lockText({ "verified-a": "1.0.0", "signed-b": "1.0.0", "tampered-c": "1.0.0" });
    const { lockfileUri } = project(text);
    const clock = new RecordingClock();
    const delays = await withClient(async (client) => {
      const opened = published(client, lockfileUri, 1);
      await client.open(lockfileUri, text, 1);
      await opened;
      clock.delays.length = 0;
      clock.time += 5_000; // a pause
      let seen = published(client, lockfileUri, 2);
      await client.change(lockfileUri, lockText({ "verified-a": "1.0.0", "signed-b": "1.0.0", "tampered-c": "1.0.0" }, "a"), 2);
      await seen;
      clock.time += 5; // typed 5 ms later: a burst
      seen = published(client, lockfileUri, 3);
      await client.change(lockfileUri, lockText({ "verified-a": "1.0.0", "signed-b": "1.0.0", "tampered-c": "1.0.0" }, "ab"), 3);
      await seen;
      return clock.delays;
    }, clock);
    assert.deepEqual(delays, [0, 20]);
  });
});
