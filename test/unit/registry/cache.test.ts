import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { VerdictCache, defaultCacheDir, type VerdictKey } from "../../../server/src/registry/cache";

interface Sample {
  status: string;
  reasons: string[];
}

const key = (name: string, trust = "trust-1", integrity: string | undefined = `sha512-${name}`): VerdictKey => ({ name, version: "1.0.0", integrity, trustMaterialId: trust });
const verdict = (status: string): Sample => ({ status, reasons: [`because ${status}`] });

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "pl-cache-"));
}

test("verdict cache: round trip through the file", async () => {
  const dir = tempDir();
  try {
    const writer = new VerdictCache<Sample>({ dir });
    writer.set(key("a"), verdict("verified"));
    writer.set(key("@s/b"), verdict("signed"));
    assert.equal(await writer.flush(), true);
    assert.deepEqual(fs.readdirSync(dir), ["verdicts-v1.json"], "no temporary file is left behind");

    const reader = new VerdictCache<Sample>({ dir });
    assert.deepEqual(reader.get(key("a")), verdict("verified"));
    assert.deepEqual(reader.get(key("@s/b")), verdict("signed"));
    assert.equal(reader.get(key("a", "trust-2")), undefined, "other trust material is another verdict");
    assert.equal(reader.get({ ...key("a"), integrity: "sha512-other" }), undefined, "other bytes are another verdict");
    assert.equal(reader.get({ ...key("a"), version: "1.0.1" }), undefined);
    assert.deepEqual(reader.problems, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const corruptFiles: { name: string; text: string; reason: RegExp }[] = [
  { name: "truncated JSON", text: '{"format":"provenance-lens-verdicts","version":1,"entries":[["a', reason: /is not valid JSON/ },
  { name: "binary garbage", text: "\u0000\u0001\u0002", reason: /is not valid JSON/ },
  { name: "someone else's JSON", text: '{"hello":"world"}', reason: /is not a Provenance Lens verdict cache/ },
  { name: "a future version", text: '{"format":"provenance-lens-verdicts","version":2,"entries":[]}', reason: /format version 2, not 1/ },
  { name: "bad entries", text: '{"format":"provenance-lens-verdicts","version":1,"entries":[[1,2]]}', reason: /malformed entry list/ },
];
for (const c of corruptFiles) {
  test(`verdict cache: survives a corrupt file (${c.name})`, async () => {
    const dir = tempDir();
    try {
      fs.writeFileSync(path.join(dir, "verdicts-v1.json"), c.text);
      const cache = new VerdictCache<Sample>({ dir });
      assert.equal(cache.get(key("a")), undefined);
      assert.equal(cache.size, 0);
      assert.equal(cache.problems.length, 1);
      assert.match(cache.problems[0], c.reason);
      assert.match(cache.problems[0], /starting empty/);
      assert.equal(await cache.flush(), true);
      const repaired = new VerdictCache<Sample>({ dir });
      assert.equal(repaired.size, 0);
      assert.deepEqual(repaired.problems, [], "the next flush replaced the bad file");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("verdict cache: bounded, oldest evicted first", () => {
  const cache = new VerdictCache<Sample>({ dir: undefined, maxEntries: 3 });
  for (const name of ["a", "b", "c", "d"]) cache.set(key(name), verdict(name));
  assert.equal(cache.size, 3);
  assert.equal(cache.get(key("a")), undefined);
  cache.set(key("b"), verdict("b2")); // refreshed: now the youngest
  cache.set(key("e"), verdict("e"));
  assert.deepEqual(["b", "c", "d", "e"].map((n) => cache.get(key(n))?.status), ["b2", undefined, "d", "e"]);
});

test("verdict cache: no integrity, no caching", () => {
  const cache = new VerdictCache<Sample>({ dir: undefined });
  cache.set({ ...key("a"), integrity: undefined }, verdict("signed"));
  cache.set({ ...key("b"), integrity: "" }, verdict("signed"));
  assert.equal(cache.size, 0);
  assert.equal(cache.get({ ...key("a"), integrity: undefined }), undefined);
});

test("verdict cache: memory only writes nothing; clear() empties memory and disk", async () => {
  const memory = new VerdictCache<Sample>({ dir: undefined });
  memory.set(key("a"), verdict("verified"));
  assert.equal(await memory.flush(), true);
  assert.equal(memory.file, undefined);

  const dir = tempDir();
  try {
    const cache = new VerdictCache<Sample>({ dir });
    cache.set(key("a"), verdict("verified"));
    await cache.flush();
    await cache.clear();
    assert.equal(cache.get(key("a")), undefined);
    assert.equal(fs.existsSync(path.join(dir, "verdicts-v1.json")), false);
    assert.equal(new VerdictCache<Sample>({ dir }).size, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("verdict cache: a write failure is reported, not thrown", async () => {
  const dir = tempDir();
  try {
    const blocker = path.join(dir, "not-a-folder");
    fs.writeFileSync(blocker, "");
    const cache = new VerdictCache<Sample>({ dir: blocker });
    cache.set(key("a"), verdict("verified"));
    assert.equal(await cache.flush(), false);
    assert.match(cache.problems.join("\n"), /Could not write the verdict cache .*(ENOTDIR|EEXIST)/);
    assert.deepEqual(cache.get(key("a")), verdict("verified"), "memory still serves");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("defaultCacheDir follows XDG, else ~/.cache", () => {
  const table: [Record<string, string>, string][] = [
    [{ XDG_CACHE_HOME: "/xdg" }, "/xdg/provenance-lens"],
    [{ XDG_CACHE_HOME: "relative/ignored" }, "/home/u/.cache/provenance-lens"],
    [{}, "/home/u/.cache/provenance-lens"],
  ];
  for (const [env, expected] of table) assert.equal(defaultCacheDir(env, "/home/u"), expected);
});

test("verdict cache: a folder it creates is the user's alone, its file too", { skip: process.platform === "win32" ? "POSIX modes" : false }, async () => {
  const parent = tempDir();
  try {
    const dir = path.join(parent, "nested", "provenance-lens");
    const cache = new VerdictCache<Sample>({ dir });
    cache.set(key("a"), verdict("verified"));
    assert.equal(await cache.flush(), true);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dir, "verdicts-v1.json")).mode & 0o777, 0o600);
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});
