// joinPosix resolves every `link:` reference of a pnpm lockfile; its fast path (leading `../`, then a clean path) must
// give what the segment walk gives for every form, clean or not. Expected values are the segment walk's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { joinPosix } from "../../../server/src/lockfile/pnpmBunShared";

const CASES: [folder: string, relative: string, expected: string][] = [
  [".", "x", "x"],
  [".", "../x", "x"],
  ["a/b", "../c", "a/c"],
  ["a/b", "../../c", "c"],
  ["a/b", "../../../c", "c"],
  ["pkg-manager/core", "../../packages/types", "packages/types"],
  ["pkg-manager/core", "../types", "pkg-manager/types"],
  ["a/b/c", "../../x/y", "a/x/y"],
  ["a", "x/../y", "a/y"],
  ["a", "./x", "a/x"],
  ["a", "../x/./y", "x/y"],
  ["a", "x//y", "a/x/y"],
  ["a", "x/", "a/x"],
  ["a", "../.hidden/x", ".hidden/x"],
  ["a", "..", "."],
  ["a", "", "a"],
  [".", ".", "."],
  ["a/b", "../../a/..", "."],
  ["x/y", "....", "x/y/...."],
];

for (const [folder, relative, expected] of CASES) {
  test(`joinPosix(${JSON.stringify(folder)}, ${JSON.stringify(relative)}) is ${JSON.stringify(expected)}`, () => {
    assert.equal(joinPosix(folder, relative), expected);
  });
}
