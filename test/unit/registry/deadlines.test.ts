// Deadlines: one timer for every request in flight (issue #7), with the behaviour of one timer each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Deadlines } from "../../../server/src/registry/deadlines";

const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;

test("deadlines: each expires once, in order, and not before its time", async () => {
  const deadlines = new Deadlines();
  const fired: [string, number][] = [];
  const start = performance.now();
  for (const [name, ms] of [["b", 60], ["a", 20], ["c", 100]] as const) deadlines.add(ms, () => fired.push([name, performance.now() - start]));
  await sleep(160);
  assert.deepEqual(fired.map(([name]) => name), ["a", "b", "c"]);
  const due: Record<string, number> = { a: 20, b: 60, c: 100 };
  for (const [name, at] of fired) assert.ok(at >= due[name] - 1, `${name} fired at ${at.toFixed(1)} ms`);
  assert.equal(deadlines.size, 0);
});

test("deadlines: a cleared deadline never fires, and the others still do", async () => {
  const deadlines = new Deadlines();
  const fired: string[] = [];
  const first = deadlines.add(20, () => fired.push("first"));
  deadlines.add(40, () => fired.push("second"));
  deadlines.clear(first);
  deadlines.clear(first); // twice is harmless
  await sleep(80);
  assert.deepEqual(fired, ["second"]);
});

test("deadlines: a deadline earlier than the armed one is not held back by it", async () => {
  const deadlines = new Deadlines();
  const fired: string[] = [];
  deadlines.add(10_000, () => fired.push("late"));
  deadlines.add(20, () => fired.push("early"));
  await sleep(80);
  assert.deepEqual(fired, ["early"]);
  assert.equal(deadlines.size, 1);
});

test("deadlines: with nothing pending no timer is left to keep the process alive", () => {
  const before = timers();
  const deadlines = new Deadlines();
  const a = deadlines.add(60_000, () => assert.fail("cleared"));
  const b = deadlines.add(60_000, () => assert.fail("cleared"));
  assert.equal(timers(), before + 1, "one timer for both");
  deadlines.clear(a);
  assert.equal(timers(), before + 1, "still armed for b");
  deadlines.clear(b);
  assert.equal(timers(), before);
});

test("deadlines: a callback may add and clear deadlines", async () => {
  const deadlines = new Deadlines();
  const fired: string[] = [];
  const other = deadlines.add(50, () => fired.push("other"));
  deadlines.add(10, () => {
    fired.push("first");
    deadlines.clear(other);
    deadlines.add(10, () => fired.push("added"));
  });
  await sleep(100);
  assert.deepEqual(fired, ["first", "added"]);
  assert.equal(deadlines.size, 0);
});
