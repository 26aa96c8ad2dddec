// Compact, reviewable forms of parse results for the npm fixture expectations (*.expected.json).
import * as fs from "node:fs";
import * as path from "node:path";
import type { LockEntry, ParseProblem } from "../../../server/src/lockfile/model";

/** An entry as the expectation files write it: defaults left out, the range as [line, char, line, char]. */
export function compactEntry(e: LockEntry): Record<string, unknown> {
  const out: Record<string, unknown> = { name: e.name, version: e.version, source: e.source };
  if (e.alias !== undefined) out.alias = e.alias;
  if (e.resolved !== undefined) out.resolved = e.resolved;
  if (e.integrity !== undefined) out.integrity = e.integrity;
  if (e.dev === true) out.dev = true;
  if (e.optional === true) out.optional = true;
  out.dependencies = e.dependencies;
  out.range = [e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character];
  return out;
}

/** A problem as [severity, code, line, character]: the message is for people and may be reworded. */
export function compactProblem(p: ParseProblem): [string, string, number, number] {
  return [p.severity, p.code, p.range.start.line, p.range.start.character];
}

/** The repository root, found from this file whether it runs from test/ (tsx) or out/test/ (compiled). */
export function repoRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, "package.json")) || path.basename(dir) === "out") {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** /work/shared (or PROVENANCE_LENS_SHARED), undefined when it is not there. */
export function sharedDir(from: string): string | undefined {
  const dir = process.env.PROVENANCE_LENS_SHARED ?? path.resolve(repoRoot(from), "../shared");
  return fs.existsSync(dir) ? dir : undefined;
}
