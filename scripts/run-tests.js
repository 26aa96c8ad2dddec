#!/usr/bin/env node
// Runs node's test runner over the compiled test files (out/test/**/*.test.js) only. Node 20 treats every .js file
// under a directory argument as a test file, which would also start helpers such as the test registry's CLI.
// Usage: node scripts/run-tests.js [DIR...] [-- extra node --test flags]
"use strict";
const { cpSync, existsSync, readdirSync } = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const args = process.argv.slice(2);
const dashes = args.indexOf("--");
const roots = (dashes === -1 ? args : args.slice(0, dashes)).filter(Boolean);
const extra = dashes === -1 ? [] : args.slice(dashes + 1);

function testFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...testFiles(file));
    else if (entry.name.endsWith(".test.js")) found.push(file);
  }
  return found;
}

// Tests read their fixtures next to themselves; compiled tests live in out/test, so the fixtures go there too.
const repo = path.resolve(__dirname, "..");
if (existsSync(path.join(repo, "out/test"))) {
  cpSync(path.join(repo, "test/fixtures"), path.join(repo, "out/test/fixtures"), { recursive: true });
}

const files = (roots.length > 0 ? roots : ["out/test"]).flatMap(testFiles).sort();
if (files.length === 0) {
  console.error("run-tests: no *.test.js files found; build first (tsc -b).");
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...extra, ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
