import { LineIndex, lineRange } from "./lineIndex";
import type { ParseProblem } from "./model";

const CONFLICT_MARKER = /^(?:<{7}|={7}|>{7})(?: |\r?$)/gm;

/**
 * Git merge-conflict markers, shared by every text format. Reported on the marker lines so the person sees
 * where the conflict is; parsers still read what they can around it.
 */
export function findConflictMarkers(index: LineIndex): ParseProblem[] {
  const problems: ParseProblem[] = [];
  for (const match of index.text.matchAll(CONFLICT_MARKER)) {
    problems.push({
      range: lineRange(index, index.position(match.index ?? 0).line),
      severity: "error",
      code: "merge-conflict",
      message:
        "Unresolved git merge conflict in the lockfile. Resolve it (or re-run the package manager's install) before trusting what is locked here.",
    });
  }
  return problems;
}
