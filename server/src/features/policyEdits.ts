// The "Accept with a reason" quick fix's edit to `.provenance-lens.json`: an exception in the shape the policy module
// (server/src/policy/) and the CLI read: {"exceptions":[{"package":"foo","versions":"1.2.3","reason":"...","expires":"2027-01-01"}]}
// Reading and applying the file is the policy module's (features/policy.ts); this only writes.
import { applyEdits, modify, parse } from "jsonc-parser";
import type { TextEdit } from "vscode-languageserver";
import type { PolicyException } from "../protocol/messages";
import { positionAt } from "./dependents";

/** Edits that add (or replace, for the same package and versions) an exception in the policy file's text. */
export function exceptionTextEdits(existing: string | undefined, exception: PolicyException): { text: string; edits: TextEdit[] } {
  const base = existing === undefined || existing.trim() === "" ? "{}\n" : existing;
  const doc: unknown = parse(base, [], { allowTrailingComma: true });
  const list: unknown[] = isRecord(doc) && Array.isArray(doc.exceptions) ? doc.exceptions : [];
  const at = list.findIndex((e) => isRecord(e) && e.package === exception.package && e.versions === exception.versions);
  const value: PolicyException = { package: exception.package, versions: exception.versions, reason: exception.reason, ...(exception.expires ? { expires: exception.expires } : {}) };
  const hasList = isRecord(doc) && Array.isArray(doc.exceptions);
  const jsonPath = hasList ? ["exceptions", at === -1 ? -1 : at] : ["exceptions"];
  const edits = modify(base, jsonPath, hasList ? value : [value], {
    formattingOptions: { insertSpaces: true, tabSize: 2, eol: "\n" },
    isArrayInsertion: hasList && at === -1,
  });
  const text = applyEdits(base, edits);
  if (base !== existing) {
    // A new or blank file: its whole text is written.
    const end = positionAt(existing ?? "", (existing ?? "").length);
    return { text, edits: [{ range: { start: { line: 0, character: 0 }, end }, newText: text }] };
  }
  return { text, edits: edits.map((e) => ({ range: { start: positionAt(base, e.offset), end: positionAt(base, e.offset + e.length) }, newText: e.content })) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
