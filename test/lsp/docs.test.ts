// Every diagnostic code links to docs/EDITOR.md#<code>: each one must have its section there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { FINDING_CODES, PACKAGE_STATUSES } from "../../server/src/protocol/verdicts";
import { REPO } from "./harness";

const docs = readFileSync(path.join(REPO, "docs/EDITOR.md"), "utf8");
const sections = new Set([...docs.matchAll(/^### ([a-z-]+)$/gm)].map((m) => m[1]));
const lockfileDir = path.join(REPO, "server/src/lockfile");
const parserCodes = readdirSync(lockfileDir).flatMap((f) => [...readFileSync(path.join(lockfileDir, f), "utf8").matchAll(/code: "([a-z-]+)"/g)].map((m) => m[1]));
// Codes of the policy loader (server/src/policy/) and of the editor's policy and trust bundle diagnostics (features/).
const policyCodes = ["policy/policyFile.ts", "features/policy.ts"].flatMap((f) => [...readFileSync(path.join(REPO, "server/src", f), "utf8").matchAll(/"(policy-[a-z-]+)"/g)].map((m) => m[1]));
const CODES = [...PACKAGE_STATUSES, ...FINDING_CODES, "unverifiable-registry", "unverifiable-offline", "registry-notice", "settings-problem", "internal-error", "trust-bundle-coverage", ...new Set([...parserCodes, ...policyCodes])];

for (const code of CODES) test(`docs/EDITOR.md explains ${code}`, () => assert.ok(sections.has(code), `no "### ${code}" section`));
