// The repository's root, found from a test's own folder whether it runs from the sources (tsx) or compiled into
// out/: the nearest folder with a tsconfig.json (tsc copies no tsconfig.json into out/).
import { existsSync } from "node:fs";
import path from "node:path";

export function repoRoot(from: string): string {
  let dir = from;
  while (!existsSync(path.join(dir, "tsconfig.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
