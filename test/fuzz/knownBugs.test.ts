// Parser bugs the fuzzer found, each as its minimal input (issue #8). They live in files owned by others, so they
// are todo tests here: each fails today and passes once its bug is fixed. parsers.test.ts counts fuzz failures of
// these kinds (KNOWN_BUG_CLASSES) instead of failing on them; remove both when a bug is fixed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkParse, invariantFailures, lineLengths } from "./invariants";

interface KnownBug {
  name: string;
  fileName: string;
  text: string;
  /** Which class of parsers.test.ts it belongs to, and why it is a bug. */
  todo: string;
}

const DEEP = 20_000;

const KNOWN_BUGS: KnownBug[] = [
  {
    name: "npm: a lone CR ends a line, but problem positions count lines by LF",
    fileName: "package-lock.json",
    text: '{\r  "lockfileVersion": 3,\r  "packages": {\r    "": {}, x\r  }\r}\r',
    todo: "lone-cr-lines: LSP and VS Code split lines at CR too; the problem lands at line 0, character 54 (line 0 is 1 long)",
  },
  {
    name: "pnpm: a lone CR ends a line, but problem positions count lines by LF",
    fileName: "pnpm-lock.yaml",
    text: "lockfileVersion: '9.0'\r\rpackages:\r\r  a@1.0.0:\r    resolution: {integrity: sha512-x}\r",
    todo: "lone-cr-lines: the `truncated` problem ends at line 0, character 83 (line 0 is 22 long)",
  },
  {
    name: "bun: a lone CR ends a line, but problem positions count lines by LF",
    fileName: "bun.lock",
    text: '{\r  "lockfileVersion": 1,\r  "packages": {\r    "a": ["a@1.0.0", "", {}, "sha512-x"],,\r  }\r}\r',
    todo: "lone-cr-lines: the JSONC problems start at line 0, character 83 (line 0 is 1 long)",
  },
  {
    name: "yarn classic: a lone CR ends a line, but problem positions count lines by LF",
    fileName: "yarn.lock",
    text: '# yarn lockfile v1\n\n"a@^1.0.0":\r  version "1.0.0"\n   bad indentation "x"\n',
    todo: "lone-cr-lines: the header problem ends at line 2, character 29 (line 2 is 11 long)",
  },
  {
    name: "yarn berry: a lone CR ends a line, but problem positions count lines by LF (minimised by the fuzzer)",
    fileName: "yarn.lock",
    text: "__metadata:\n      optional: true\r  bin:\r    babel: ./bin/babel.js\r  chec\n",
    todo: "lone-cr-lines: a YAML problem lands past the end of its line",
  },
  {
    name: "pnpm: an unclosed quote at the end gives a range one past the end of the file",
    fileName: "pnpm-lock.yaml",
    text: "lockfileVersion: '9.0'\n\npackages:\n\n  a@1.0.0:\n    resolution: {integrity: \"sha512-x}\n",
    todo: "one-past-line-end: 'Missing closing \"quote' ends at line 6, character 1; line 6 is empty (the yaml library's end offset is past the text)",
  },
  {
    name: "yarn berry: an unclosed quote at the end gives a range one past the end of the file",
    fileName: "yarn.lock",
    text: '__metadata:\n  version: 6\n\n"a@npm:^1.0.0":\n  version: 1.0.0\n  resolution: "a@npm:1.0.0\n',
    todo: "one-past-line-end: MISSING_CHAR ends at line 6, character 1; line 6 is empty",
  },
  {
    name: "npm: deeply nested arrays overflow the stack in the jsonc-parser fallback and the RangeError escapes",
    fileName: "package-lock.json",
    text: `{"lockfileVersion": 3, "packages": {"": {}, "node_modules/a": ${"[".repeat(DEEP)}}}`,
    todo: "deep-nesting-stack-overflow: parseLockfile throws RangeError (Maximum call stack size exceeded) instead of a parse-error problem",
  },
  {
    name: "bun: deeply nested arrays overflow the stack and the RangeError escapes",
    fileName: "bun.lock",
    text: "[".repeat(DEEP),
    todo: "deep-nesting-stack-overflow: parseLockfile throws RangeError (Maximum call stack size exceeded)",
  },
];

// Fixed: lone CR (parseLockfile turns a lone CR into LF, same length, so positions match the editor's lines) and
// deep nesting (a positioned too-deeply-nested problem). What is still open stays a todo.
const FIXED = new Set(["lone-cr-lines", "deep-nesting-stack-overflow", "one-past-line-end"]);

for (const bug of KNOWN_BUGS) {
  const fixed = FIXED.has(bug.todo.slice(0, bug.todo.indexOf(":")));
  test(fixed ? `${bug.name} (fixed)` : bug.name, fixed ? {} : { todo: bug.todo }, () => {
    assert.deepEqual(checkParse(bug.fileName, bug.text).failures, []);
  });
}

// The checker itself must be able to fail, or a green fuzz run proves nothing.
const range = (line: number, character: number, endLine = line, endCharacter = character) => ({ start: { line, character }, end: { line: endLine, character: endCharacter } });
const CHECKER_CASES: { name: string; text: string; problems: { range: ReturnType<typeof range>; message: string }[]; expect: RegExp | undefined }[] = [
  { name: "in range", text: "ab\ncd", problems: [{ range: range(1, 0, 1, 2), message: "m" }], expect: undefined },
  { name: "line past the end", text: "ab\ncd", problems: [{ range: range(2, 0), message: "m" }], expect: /line 2 is outside the text/ },
  { name: "character past the line (CRLF)", text: "ab\r\ncd", problems: [{ range: range(0, 3), message: "m" }], expect: /character 3 is outside line 0/ },
  { name: "lone CR is a line end", text: "ab\rcd", problems: [{ range: range(1, 2), message: "m" }], expect: undefined },
  { name: "start after end", text: "abc", problems: [{ range: range(0, 2, 0, 1), message: "m" }], expect: /is after end/ },
  { name: "empty message", text: "abc", problems: [{ range: range(0, 0), message: " " }], expect: /empty message/ },
];

for (const c of CHECKER_CASES) {
  test(`invariant checker: ${c.name}`, () => {
    const parsed = {
      format: "npm" as const,
      lockfileVersion: 3,
      entries: [],
      importers: [],
      problems: c.problems.map((p) => ({ ...p, severity: "error" as const, code: "parse-error" })),
    };
    const failures = invariantFailures(c.text, parsed);
    if (c.expect === undefined) assert.deepEqual(failures, []);
    else assert.match(failures.join("\n"), c.expect);
  });
}

test("line lengths count CRLF, CR and LF as line ends", () => {
  assert.deepEqual(lineLengths("a\r\nbc\rdef\n"), [1, 2, 3, 0]);
  assert.deepEqual(lineLengths(""), [0]);
});
