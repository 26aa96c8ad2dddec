#!/usr/bin/env node
// Runs node's test runner over the test sources (test/**/*.test.ts) through tsx, after `tsc -b` has type-checked
// them. Tests read fixtures, docs and package.json relative to their own source folder, which only holds for the
// sources; and Node 20 would treat every .js file under a directory argument as a test file (the test registry's
// CLI among them), so the files are listed here.
// Usage: node scripts/run-tests.js [DIR...] [-- extra node --test flags]
"use strict";
const { readdirSync } = require("node:fs");
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
    if (entry.isDirectory() && entry.name !== "fixtures") found.push(...testFiles(file));
    else if (entry.name.endsWith(".test.ts")) found.push(file);
  }
  return found;
}

const files = (roots.length > 0 ? roots : ["test"]).flatMap(testFiles).sort();
if (files.length === 0) {
  console.error("run-tests: no *.test.ts files found.");
  process.exit(1);
}
// Tests never leave 127.0.0.1: the background refresh of npmjs keys and the Sigstore root (which goes to public hosts)
// is off unless a test turns it on with loopback URLs of its own.
const env = { ...process.env, PROVENANCE_LENS_TRUST_REFRESH: process.env.PROVENANCE_LENS_TRUST_REFRESH ?? "off" };
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...extra, ...files], { stdio: "inherit", env });
process.exit(result.status ?? 1);
