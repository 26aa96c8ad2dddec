// Where the shared, read-only real-world fixtures live, and a one-line skip reason when they are absent.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../../repoRoot";

export const SHARED_DIR = process.env.PROVENANCE_LENS_SHARED ?? path.resolve(repoRoot(__dirname), "../shared");
export const FIXTURES_DIR = path.join(SHARED_DIR, "fixtures");

/** `false` when the fixtures are there, else the reason the tests that need them skip. */
export const skipWithoutFixtures: string | false = existsSync(FIXTURES_DIR)
  ? false
  : `shared fixtures not found at ${FIXTURES_DIR} (set PROVENANCE_LENS_SHARED)`;

export function readFixture<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, relative), "utf8")) as T;
}

/** One entry of `registry-signatures/signature-vectors.json`: a real npm registry signature. */
export interface SignatureVector {
  name: string;
  version: string;
  integrity: string;
  keyid: string;
  sig: string;
  published?: string;
}
