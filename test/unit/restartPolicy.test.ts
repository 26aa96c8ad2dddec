// The restart policy as data: a sequence of events (server deaths at given times, connection errors, a person's
// restart) in, the actions and messages out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RESTART_COMMAND_TITLE, RestartPolicy, type RestartPolicyOptions } from "../../client/src/restartPolicy";

const MIN = 60_000;

type Event = { closedAt: number } | { errorCount: number | undefined; at?: number } | { resetAt: number };

/** What each event gave: the action, and "said" when it came with a message (undefined: nothing said). */
type Outcome = [action: string, said: "said" | undefined];

interface Case {
  name: string;
  options?: Omit<RestartPolicyOptions, "now">;
  events: Event[];
  expected: Outcome[];
}

const CASES: Case[] = [
  { name: "one crash restarts and says so", events: [{ closedAt: 0 }], expected: [["restart", "said"]] },
  {
    name: "three crashes within five minutes restart; the fourth stops, said once",
    events: [{ closedAt: 0 }, { closedAt: 1 * MIN }, { closedAt: 2 * MIN }, { closedAt: 3 * MIN }, { closedAt: 3 * MIN + 1 }],
    expected: [["restart", "said"], ["restart", "said"], ["restart", "said"], ["stop", "said"], ["stop", undefined]],
  },
  {
    name: "crashes spread wider than the window keep restarting",
    events: [0, 4, 8, 12, 16, 20, 24].map((m) => ({ closedAt: m * MIN })),
    expected: Array.from({ length: 7 }, (): Outcome => ["restart", "said"]),
  },
  {
    name: "a crash leaves the window exactly five minutes later",
    events: [{ closedAt: 0 }, { closedAt: 1 }, { closedAt: 2 }, { closedAt: 5 * MIN }],
    expected: [["restart", "said"], ["restart", "said"], ["restart", "said"], ["restart", "said"]],
  },
  {
    name: "one millisecond inside the window still counts",
    events: [{ closedAt: 0 }, { closedAt: 1 }, { closedAt: 2 }, { closedAt: 5 * MIN - 1 }],
    expected: [["restart", "said"], ["restart", "said"], ["restart", "said"], ["stop", "said"]],
  },
  {
    name: "the Restart Server command resets the count",
    events: [{ closedAt: 0 }, { closedAt: 1 }, { closedAt: 2 }, { closedAt: 3 }, { resetAt: 4 }, { closedAt: 5 }, { closedAt: 6 }, { closedAt: 7 }, { closedAt: 8 }],
    expected: [["restart", "said"], ["restart", "said"], ["restart", "said"], ["stop", "said"], ["reset", undefined], ["restart", "said"], ["restart", "said"], ["restart", "said"], ["stop", "said"]],
  },
  {
    name: "a clock set back does not count crashes from the future",
    events: [{ closedAt: 10 * MIN }, { closedAt: 10 * MIN + 1 }, { closedAt: 10 * MIN + 2 }, { closedAt: 1 * MIN }],
    expected: [["restart", "said"], ["restart", "said"], ["restart", "said"], ["restart", "said"]],
  },
  {
    name: "a bound of 1 in one minute",
    options: { maxRestarts: 1, windowMs: 1 * MIN },
    events: [{ closedAt: 0 }, { closedAt: 30_000 }],
    expected: [["restart", "said"], ["stop", "said"]],
  },
  {
    name: "no restarts allowed: the first crash stops",
    options: { maxRestarts: 0 },
    events: [{ closedAt: 0 }],
    expected: [["stop", "said"]],
  },
  {
    name: "a few connection errors pass; the fourth shuts down, said once",
    events: [{ errorCount: 1 }, { errorCount: 2 }, { errorCount: 3 }, { errorCount: 4 }, { errorCount: 5 }],
    expected: [["continue", undefined], ["continue", undefined], ["continue", undefined], ["shutdown", "said"], ["shutdown", undefined]],
  },
  {
    name: "an error without a count shuts down",
    events: [{ errorCount: undefined }],
    expected: [["shutdown", "said"]],
  },
  {
    name: "after a shutdown for errors, a close does not restart (nor say it again)",
    events: [{ errorCount: 9 }, { closedAt: 0 }],
    expected: [["shutdown", "said"], ["stop", undefined]],
  },
];

function run(c: Case): { outcomes: Outcome[]; messages: string[] } {
  let now = 0;
  const policy = new RestartPolicy({ ...c.options, now: () => now });
  const outcomes: Outcome[] = [];
  const messages: string[] = [];
  for (const event of c.events) {
    let decision: { action: string; message?: string };
    if ("closedAt" in event) {
      now = event.closedAt;
      decision = policy.serverClosed();
    } else if ("resetAt" in event) {
      now = event.resetAt;
      policy.reset();
      decision = { action: "reset" };
    } else {
      decision = policy.connectionError(event.errorCount);
    }
    outcomes.push([decision.action, decision.message === undefined ? undefined : "said"]);
    if (decision.message !== undefined) messages.push(decision.message);
  }
  return { outcomes, messages };
}

for (const c of CASES) {
  test(`restart policy: ${c.name}`, () => assert.deepEqual(run(c).outcomes, c.expected));
}

test("restart messages count the restarts and name the bound", () => {
  const { messages } = run(CASES[1]!);
  assert.deepEqual(messages.slice(0, 3), [
    "The Provenance Lens server stopped unexpectedly and was restarted (1st restart within 5 minutes; at most 3).",
    "The Provenance Lens server stopped unexpectedly and was restarted (2nd restart within 5 minutes; at most 3).",
    "The Provenance Lens server stopped unexpectedly and was restarted (3rd restart within 5 minutes; at most 3).",
  ]);
});

test("the give-up message says what happened and what to do", () => {
  const { messages } = run(CASES[1]!);
  const giveUp = messages[3]!;
  assert.match(giveUp, /stopped unexpectedly 4 times within 5 minutes and will not be restarted/);
  assert.ok(giveUp.includes(`"${RESTART_COMMAND_TITLE}"`), giveUp);
  const { messages: errors } = run(CASES[9]!);
  assert.ok(errors[0]!.includes(`"${RESTART_COMMAND_TITLE}"`), errors[0]);
});

test("stopped is true from the give-up until a reset", () => {
  let now = 0;
  const policy = new RestartPolicy({ maxRestarts: 1, now: () => now });
  policy.serverClosed();
  assert.equal(policy.stopped, false);
  now = 1;
  policy.serverClosed();
  assert.equal(policy.stopped, true);
  policy.reset();
  assert.equal(policy.stopped, false);
});
