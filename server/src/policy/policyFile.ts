// `.provenance-lens.json`: read with positions so that every mistake is a diagnostic in the file itself. A field that
// does not validate falls back to its default and is reported; a file that does not parse falls back to the defaults
// as a whole. Nothing here silently disables a check (issue #6, "Policy file"). Pure: text in, policy + problems out.
import { parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import semver from "semver";
import type { ParseProblem, Range } from "../lockfile/model";
import { DIAGNOSTIC_LEVELS, type DiagnosticLevel } from "../protocol/settings";
import { FINDING_CODES, PACKAGE_STATUSES, type FindingCode, type PackageStatus } from "../protocol/verdicts";
import { LineIndex } from "../lockfile/lineIndex";

export const POLICY_FILE = ".provenance-lens.json";

export type RequireProvenance = "none" | "direct" | "production" | "all";
export const REQUIRE_PROVENANCE: readonly RequireProvenance[] = ["none", "direct", "production", "all"];

/** What `severity` and exception `codes` may name: a package status or a finding code. */
export type PolicyCode = PackageStatus | FindingCode;
export const POLICY_CODES: readonly PolicyCode[] = [...PACKAGE_STATUSES, ...FINDING_CODES];

export interface PolicyException {
  /** A package name or a glob (`@scope/*`). */
  package: string;
  /** A version or a semver range. */
  versions: string;
  /** The codes it accepts; all of them when absent. */
  codes?: PolicyCode[];
  reason: string;
  /** Date (YYYY-MM-DD or ISO) from which it no longer applies. */
  expires?: string;
  /** Where it is written in the policy file. */
  range?: Range;
}

export interface PolicyRegistry {
  url: string;
  /** The registry it mirrors; `https://registry.npmjs.org/` makes it verified with npmjs's pinned keys. */
  mirrorOf?: string;
  /** A keys-endpoint-shaped JSON file (relative to the policy file) or the key entries themselves. */
  keys?: string | Record<string, unknown>[];
  range?: Range;
}

export interface Policy {
  severity: Partial<Record<PolicyCode, DiagnosticLevel>>;
  requireProvenance: RequireProvenance;
  exceptions: PolicyException[];
  registries: PolicyRegistry[];
  ignoreDev: boolean;
  ignorePackages: string[];
  trustedBuilders: string[];
  trustedRepositories: string[];
}

export const POLICY_KEYS = ["$schema", "severity", "requireProvenance", "exceptions", "registries", "ignoreDev", "ignorePackages", "trustedBuilders", "trustedRepositories"] as const;

export function defaultPolicy(): Policy {
  return { severity: {}, requireProvenance: "none", exceptions: [], registries: [], ignoreDev: false, ignorePackages: [], trustedBuilders: [], trustedRepositories: [] };
}

/** Codes of problems in the policy file itself. */
export type PolicyProblemCode = "policy-syntax-error" | "policy-unknown-key" | "policy-invalid-value";

export interface PolicyReading {
  policy: Policy;
  /** Positioned in the policy file. */
  problems: ParseProblem[];
  /** The text did not parse: every field is at its default. */
  fellBack: boolean;
}

export function parsePolicy(text: string): PolicyReading {
  const lines = new LineIndex(text);
  const rangeOf = (offset: number, length: number): Range => lines.range(offset, offset + length);
  const problems: ParseProblem[] = [];
  const problem = (node: { offset: number; length: number }, code: PolicyProblemCode, message: string, severity: ParseProblem["severity"] = "error"): void => {
    problems.push({ range: rangeOf(node.offset, node.length), severity, code, message });
  };

  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || root === undefined) {
    for (const e of errors) problem({ offset: e.offset, length: Math.max(e.length, 1) }, "policy-syntax-error", `Not valid JSON here (${printParseErrorCode(e.error)}). Until it is fixed, the whole policy file is ignored and the default checks apply.`);
    if (root === undefined && errors.length === 0) problem({ offset: 0, length: 0 }, "policy-syntax-error", "The policy file is empty. The default checks apply.", "warning");
    return { policy: defaultPolicy(), problems, fellBack: true };
  }
  if (root.type !== "object") {
    problem(root, "policy-invalid-value", "The policy file must hold one JSON object. The default checks apply.");
    return { policy: defaultPolicy(), problems, fellBack: true };
  }

  const policy = defaultPolicy();
  const fallback = "; the default applies.";
  for (const property of root.children ?? []) {
    const [keyNode, value] = property.children ?? [];
    if (keyNode === undefined || value === undefined) continue;
    const key = String(keyNode.value);
    switch (key) {
      case "$schema":
        break;
      case "severity":
        if (value.type !== "object") { problem(value, "policy-invalid-value", `"severity" must be an object of code -> level${fallback}`); break; }
        for (const entry of value.children ?? []) {
          const [codeNode, levelNode] = entry.children ?? [];
          if (codeNode === undefined || levelNode === undefined) continue;
          const code = String(codeNode.value);
          if (!(POLICY_CODES as readonly string[]).includes(code)) {
            problem(codeNode, "policy-unknown-key", `Unknown status or finding code "${code}". Known: ${POLICY_CODES.join(", ")}.`);
          } else if (levelNode.type !== "string" || !(DIAGNOSTIC_LEVELS as readonly string[]).includes(levelNode.value)) {
            problem(levelNode, "policy-invalid-value", `The level of "${code}" must be one of ${DIAGNOSTIC_LEVELS.join(", ")}${fallback}`);
          } else {
            policy.severity[code as PolicyCode] = levelNode.value as DiagnosticLevel;
          }
        }
        break;
      case "requireProvenance":
        if (value.type === "string" && (REQUIRE_PROVENANCE as readonly string[]).includes(value.value)) policy.requireProvenance = value.value as RequireProvenance;
        else problem(value, "policy-invalid-value", `"requireProvenance" must be one of ${REQUIRE_PROVENANCE.join(", ")}; "none" applies until it is fixed.`);
        break;
      case "ignoreDev":
        if (value.type === "boolean") policy.ignoreDev = value.value as boolean;
        else problem(value, "policy-invalid-value", `"ignoreDev" must be true or false; dev dependencies stay checked.`);
        break;
      case "ignorePackages":
      case "trustedBuilders":
      case "trustedRepositories":
        policy[key] = stringList(value, key, problem);
        break;
      case "exceptions":
        if (value.type !== "array") { problem(value, "policy-invalid-value", `"exceptions" must be an array; no exception applies.`); break; }
        for (const item of value.children ?? []) {
          const exception = readException(item, problem, rangeOf);
          if (exception !== undefined) policy.exceptions.push(exception);
        }
        break;
      case "registries":
        if (value.type !== "array") { problem(value, "policy-invalid-value", `"registries" must be an array; none is declared.`); break; }
        for (const item of value.children ?? []) {
          const registry = readRegistry(item, problem, rangeOf);
          if (registry !== undefined) policy.registries.push(registry);
        }
        break;
      default:
        problem(keyNode, "policy-unknown-key", `Unknown key "${key}" (ignored). Known keys: ${POLICY_KEYS.filter((k) => k !== "$schema").join(", ")}.`, "warning");
    }
  }
  return { policy, problems, fellBack: false };
}

type Report = (node: { offset: number; length: number }, code: PolicyProblemCode, message: string, severity?: ParseProblem["severity"]) => void;

function stringList(value: Node, key: string, problem: Report): string[] {
  if (value.type !== "array") {
    problem(value, "policy-invalid-value", `"${key}" must be an array of patterns; it is ignored.`);
    return [];
  }
  const out: string[] = [];
  for (const item of value.children ?? []) {
    if (item.type === "string" && item.value.trim() !== "") out.push(item.value.trim());
    else problem(item, "policy-invalid-value", `Each entry of "${key}" must be a non-empty string; this one is ignored.`);
  }
  return out;
}

function objectFields(node: Node): Map<string, { key: Node; value: Node }> {
  const fields = new Map<string, { key: Node; value: Node }>();
  for (const property of node.children ?? []) {
    const [key, value] = property.children ?? [];
    if (key !== undefined && value !== undefined) fields.set(String(key.value), { key, value });
  }
  return fields;
}

const EXCEPTION_KEYS = ["package", "versions", "codes", "reason", "expires"];

function readException(item: Node, problem: Report, rangeOf: (offset: number, length: number) => Range): PolicyException | undefined {
  // An exception that does not validate is dropped: what it would accept stays a finding (stricter, never weaker).
  const skipped = "; the exception is ignored.";
  if (item.type !== "object") { problem(item, "policy-invalid-value", `An exception must be an object {package, versions, reason, expires?, codes?}${skipped}`); return undefined; }
  const fields = objectFields(item);
  for (const [name, { key }] of fields) if (!EXCEPTION_KEYS.includes(name)) problem(key, "policy-unknown-key", `Unknown exception key "${name}". Known: ${EXCEPTION_KEYS.join(", ")}.`, "warning");
  const text = (name: string): string | undefined => {
    const v = fields.get(name)?.value;
    return v?.type === "string" && v.value.trim() !== "" ? (v.value as string).trim() : undefined;
  };
  const pkg = text("package");
  const versions = text("versions");
  const reason = text("reason");
  const missing = [pkg === undefined ? "package" : "", versions === undefined ? "versions" : "", reason === undefined ? "reason" : ""].filter((s) => s !== "");
  if (missing.length > 0) {
    problem(fields.get(missing[0])?.value ?? item, "policy-invalid-value", `An exception needs a non-empty ${missing.map((m) => `"${m}"`).join(", ")}${skipped}`);
    return undefined;
  }
  if (semver.validRange(versions!) === null) {
    problem(fields.get("versions")!.value, "policy-invalid-value", `"${versions}" is not a version or semver range${skipped}`);
    return undefined;
  }
  const exception: PolicyException = { package: pkg!, versions: versions!, reason: reason!, range: rangeOf(item.offset, item.length) };
  const expires = fields.get("expires")?.value;
  if (expires !== undefined) {
    if (expires.type !== "string" || !/^\d{4}-\d{2}-\d{2}/.test(expires.value) || Number.isNaN(Date.parse(expires.value))) {
      problem(expires, "policy-invalid-value", `"expires" must be a date such as 2027-01-01${skipped}`);
      return undefined;
    }
    exception.expires = expires.value;
  }
  const codes = fields.get("codes")?.value;
  if (codes !== undefined) {
    const list = codes.type === "array" ? codes.children ?? [] : [];
    const bad = codes.type !== "array" ? codes : list.find((c) => c.type !== "string" || !(POLICY_CODES as readonly string[]).includes(c.value));
    if (bad !== undefined || list.length === 0) {
      problem(bad ?? codes, "policy-invalid-value", `"codes" must be a non-empty array of ${POLICY_CODES.join(", ")}${skipped}`);
      return undefined;
    }
    exception.codes = list.map((c) => c.value as PolicyCode);
  }
  return exception;
}

function readRegistry(item: Node, problem: Report, rangeOf: (offset: number, length: number) => Range): PolicyRegistry | undefined {
  const skipped = "; the registry entry is ignored.";
  if (item.type !== "object") { problem(item, "policy-invalid-value", `A registry must be an object {url, mirrorOf?, keys?}${skipped}`); return undefined; }
  const fields = objectFields(item);
  for (const [name, { key }] of fields) if (!["url", "mirrorOf", "keys"].includes(name)) problem(key, "policy-unknown-key", `Unknown registry key "${name}". Known: url, mirrorOf, keys.`, "warning");
  const url = fields.get("url")?.value;
  if (url?.type !== "string" || !isHttpUrl(url.value)) { problem(url ?? item, "policy-invalid-value", `A registry needs "url", an http(s) URL${skipped}`); return undefined; }
  const registry: PolicyRegistry = { url: url.value, range: rangeOf(item.offset, item.length) };
  const mirrorOf = fields.get("mirrorOf")?.value;
  if (mirrorOf !== undefined) {
    if (mirrorOf.type !== "string" || !isHttpUrl(mirrorOf.value)) { problem(mirrorOf, "policy-invalid-value", `"mirrorOf" must be an http(s) URL${skipped}`); return undefined; }
    registry.mirrorOf = mirrorOf.value;
  }
  const keys = fields.get("keys")?.value;
  if (keys !== undefined) {
    if (keys.type === "string" && keys.value.trim() !== "") registry.keys = keys.value.trim();
    else if (keys.type === "array" && (keys.children ?? []).every((k) => k.type === "object")) registry.keys = (keys.children ?? []).map(plainValue) as Record<string, unknown>[];
    else { problem(keys, "policy-invalid-value", `"keys" must be a file path or an array of key entries as the registry's /-/npm/v1/keys serves them${skipped}`); return undefined; }
  }
  return registry;
}

function plainValue(node: Node): unknown {
  switch (node.type) {
    case "object":
      return Object.fromEntries((node.children ?? []).map((p) => [String(p.children?.[0]?.value), p.children?.[1] === undefined ? null : plainValue(p.children[1])]));
    case "array":
      return (node.children ?? []).map(plainValue);
    default:
      return node.value;
  }
}

function isHttpUrl(value: unknown): boolean {
  return typeof value === "string" && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}
