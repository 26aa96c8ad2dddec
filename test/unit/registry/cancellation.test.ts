import assert from "node:assert/strict";
import { test } from "node:test";
import { Cancellation } from "../../../server/src/registry/cancellation";

test("cancel runs each callback once, in the order added; removed ones and later cancels run nothing", () => {
  const cancel = new Cancellation();
  const calls: string[] = [];
  const a = (): void => void calls.push("a");
  const b = (): void => void calls.push("b");
  const c = (): void => void calls.push("c");
  cancel.onCancel(a);
  cancel.onCancel(b);
  cancel.onCancel(c);
  cancel.offCancel(b);
  assert.equal(cancel.aborted, false);
  cancel.cancel();
  cancel.cancel();
  assert.equal(cancel.aborted, true);
  assert.deepEqual(calls, ["a", "c"]);
  cancel.onCancel(a); // after the fact: not called, not held
  cancel.cancel();
  assert.deepEqual(calls, ["a", "c"]);
});

test("a callback that removes another, or adds one, during cancel does not change that cancel", () => {
  const cancel = new Cancellation();
  const calls: string[] = [];
  const second = (): void => void calls.push("second");
  cancel.onCancel(() => {
    calls.push("first");
    cancel.offCancel(second);
    cancel.onCancel(() => calls.push("late"));
  });
  cancel.onCancel(second);
  cancel.cancel();
  assert.deepEqual(calls, ["first", "second"]);
});

test("an AbortSignal is adapted once, follows its abort, and an aborted one arrives aborted", () => {
  assert.equal(Cancellation.of(undefined), undefined);
  const own = new Cancellation();
  assert.equal(Cancellation.of(own), own);

  const controller = new AbortController();
  const adapted = Cancellation.of(controller.signal);
  assert.ok(adapted !== undefined);
  assert.equal(Cancellation.of(controller.signal), adapted, "one Cancellation (and one listener) per signal");
  let called = 0;
  adapted.onCancel(() => called++);
  controller.abort();
  assert.equal(adapted.aborted, true);
  assert.equal(called, 1);

  assert.equal(Cancellation.of(AbortSignal.abort())?.aborted, true);
});
