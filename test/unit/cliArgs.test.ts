// argv in, command out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CHECK_DEFAULTS, parseArgs, type CheckCommand, type CliCommand } from "../../server/src/cli/args";

const check = (fields: Partial<CheckCommand>): CheckCommand => ({ kind: "check", target: undefined, ...CHECK_DEFAULTS, ...fields });

const CASES: { argv: string[]; expected: CliCommand | "usage-error" }[] = [
  { argv: ["check"], expected: check({ target: undefined, format: "text", offline: false, failOn: ["invalid"] }) },
  { argv: ["check", "some/dir"], expected: check({ target: "some/dir", format: "text", offline: false }) },
  { argv: ["check", "--format", "json", "a/yarn.lock"], expected: check({ target: "a/yarn.lock", format: "json", offline: false }) },
  { argv: ["check", "--format=text", "--offline"], expected: check({ target: undefined, format: "text", offline: true }) },
  { argv: ["check", ".", "--offline", "--format", "json"], expected: check({ target: ".", format: "json", offline: true }) },
  { argv: ["check", "--", "-odd-name"], expected: check({ target: "-odd-name", format: "text", offline: false }) },
  { argv: ["check", "--registry", "http://127.0.0.1:4873/", "--mirror-of-npmjs"], expected: check({ registry: "http://127.0.0.1:4873/", mirrorOfNpmjs: true }) },
  { argv: ["check", "--registry-keys=k.json", "--trusted-root", "root.json", "--no-cache"], expected: check({ registryKeysFile: "k.json", trustedRootFile: "root.json", noCache: true }) },
  { argv: ["check", "--cache-dir", "/tmp/c", "."], expected: check({ cacheDir: "/tmp/c", target: "." }) },
  { argv: ["check", "--base", "origin/main"], expected: check({ base: "origin/main" }) },
  { argv: ["check", "--base=HEAD~1", "--format", "sarif"], expected: check({ base: "HEAD~1", format: "sarif" }) },
  { argv: ["check", "--format", "markdown"], expected: check({ format: "markdown" }) },
  { argv: ["check", "--fail-on", "unsigned,invalid"], expected: check({ failOn: ["invalid", "unsigned"] }) },
  { argv: ["check", "--fail-on=verified, signed ,signed"], expected: check({ failOn: ["signed", "verified"] }) },
  { argv: ["check", "--fail-on", "not-from-registry"], expected: check({ failOn: ["not-from-registry"] }) },
  { argv: ["check", "--fail-on", "invalid,trusted"], expected: "usage-error" },
  { argv: ["check", "--fail-on", ","], expected: "usage-error" },
  { argv: ["check", "--fail-on"], expected: "usage-error" },
  { argv: ["check", "--base"], expected: "usage-error" },
  { argv: ["check", "--base", "--upload-pack=evil"], expected: "usage-error" },
  { argv: ["check", "--format", "html"], expected: "usage-error" },
  { argv: ["check", "--mirror-of-npmjs"], expected: "usage-error" },
  { argv: ["check", "--registry", "ftp://x"], expected: "usage-error" },
  { argv: ["check", "--registry"], expected: "usage-error" },
  { argv: ["check", "--trusted-root"], expected: "usage-error" },
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
