// argv in, command out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseArgs, type CliCommand } from "../../server/src/cli/args";

const CASES: { argv: string[]; expected: CliCommand | "usage-error" }[] = [
  { argv: ["check"], expected: { kind: "check", target: undefined, format: "text", offline: false } },
  { argv: ["check", "some/dir"], expected: { kind: "check", target: "some/dir", format: "text", offline: false } },
  { argv: ["check", "--format", "json", "a/yarn.lock"], expected: { kind: "check", target: "a/yarn.lock", format: "json", offline: false } },
  { argv: ["check", "--format=text", "--offline"], expected: { kind: "check", target: undefined, format: "text", offline: true } },
  { argv: ["check", ".", "--offline", "--format", "json"], expected: { kind: "check", target: ".", format: "json", offline: true } },
  { argv: ["check", "--", "-odd-name"], expected: { kind: "check", target: "-odd-name", format: "text", offline: false } },
  { argv: ["--help"], expected: { kind: "help" } },
  { argv: ["check", "-h"], expected: { kind: "help" } },
  { argv: ["help"], expected: { kind: "help" } },
  { argv: ["--version"], expected: { kind: "version" } },
  { argv: ["-v"], expected: { kind: "version" } },
  { argv: [], expected: "usage-error" },
  { argv: ["verify"], expected: "usage-error" },
  { argv: ["check", "--format"], expected: "usage-error" },
  { argv: ["check", "--format", "xml"], expected: "usage-error" },
  { argv: ["check", "--frobnicate"], expected: "usage-error" },
  { argv: ["check", "a", "b"], expected: "usage-error" },
  { argv: ["check", "a", "--", "b"], expected: "usage-error" },
];

for (const { argv, expected } of CASES) {
  test(`parseArgs(${JSON.stringify(argv)})`, () => {
    const actual = parseArgs(argv);
    if (expected === "usage-error") {
      assert.equal(actual.kind, "usage-error");
      assert.ok(actual.kind === "usage-error" && actual.message.length > 0);
    } else assert.deepEqual(actual, expected);
  });
}
