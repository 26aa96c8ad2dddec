// `.provenance-lens.json` `exceptions`: findings a person accepted with a reason. Read here, minimally, until the
// policy engine (server/src/policy/) lands and owns the file; the shape is the one agreed with it:
// {"exceptions":[{"package":"foo","versions":"1.2.3","reason":"...","expires":"2027-01-01"}]}
import { applyEdits, modify, parse, type ParseError } from "jsonc-parser";
import semver from "semver";
import type { TextEdit } from "vscode-languageserver";
import type { PolicyException } from "../protocol/messages";
import { positionAt } from "./dependents";

export interface ExceptionsReading {
  exceptions: PolicyException[];
  /** Plain sentences about entries that were skipped. */
  problems: string[];
}

export function readExceptions(text: string | undefined): ExceptionsReading {
  if (text === undefined) return { exceptions: [], problems: [] };
  const errors: ParseError[] = [];
  const doc: unknown = parse(text, errors, { allowTrailingComma: true });
  const problems: string[] = errors.length > 0 ? [`The policy file is not valid JSON (${errors.length} error(s)); what could be read is used.`] : [];
  const list = isRecord(doc) ? doc.exceptions : undefined;
  if (list === undefined) return { exceptions: [], problems };
  if (!Array.isArray(list)) return { exceptions: [], problems: [...problems, "`exceptions` is not an array; no exception applies."] };
  const exceptions: PolicyException[] = [];
  list.forEach((raw, index) => {
    if (!isRecord(raw) || typeof raw.package !== "string" || typeof raw.versions !== "string" || typeof raw.reason !== "string" || raw.reason.trim() === "") {
      problems.push(`exceptions[${index}] needs "package", "versions" and a non-empty "reason"; it is ignored.`);
      return;
    }
    const exception: PolicyException = { package: raw.package, versions: raw.versions, reason: raw.reason };
    if (typeof raw.expires === "string") exception.expires = raw.expires;
    exceptions.push(exception);
  });
  return { exceptions, problems };
}

/** The exception that accepts name@version at `now` (ms), if any. An expired one accepts nothing. */
export function acceptingException(exceptions: readonly PolicyException[], name: string, version: string, now: number): PolicyException | undefined {
  return exceptions.find((e) => {
    if (e.package !== name) return false;
    if (e.expires !== undefined && !(Date.parse(e.expires) > now)) return false;
    return e.versions === version || semver.satisfies(version, e.versions, { includePrerelease: true });
  });
}

/** Edits that add (or replace, for the same package and versions) an exception in the policy file's text. */
export function exceptionTextEdits(existing: string | undefined, exception: PolicyException): { text: string; edits: TextEdit[] } {
  const base = existing === undefined || existing.trim() === "" ? "{}\n" : existing;
  const current = readExceptions(base).exceptions;
  const at = current.findIndex((e) => e.package === exception.package && e.versions === exception.versions);
  const value: PolicyException = { package: exception.package, versions: exception.versions, reason: exception.reason, ...(exception.expires ? { expires: exception.expires } : {}) };
  const doc: unknown = parse(base);
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
