// Where the shared, read-only real-world fixtures live, and a one-line skip reason when they are absent.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

function repoRoot(): string {
  // Works from the sources (tsx) and from the compiled tests in out/: walk up to the project's package.json.
  let dir = __dirname;
  while (!existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

export const SHARED_DIR = process.env.PROVENANCE_LENS_SHARED ?? path.resolve(repoRoot(), "../shared");
export const FIXTURES_DIR = path.join(SHARED_DIR, "fixtures");

/** `false` when the fixtures are there, else the reason the tests that need them skip. */
export const skipWithoutFixtures: string | false = existsSync(FIXTURES_DIR)
  ? false
  : `shared fixtures not found at ${FIXTURES_DIR} (set PROVENANCE_LENS_SHARED)`;

export function readFixture<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, relative), "utf8")) as T;
}
