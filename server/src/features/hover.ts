// Hover on a lockfile entry: status in words, then the evidence (registry signature, provenance, integrity) and
// the chain of dependents that brings it in; the trust history line, the policy's findings and where the policy or
// the settings weaken what is shown.
import type { MarkupContent, Position } from "vscode-languageserver";
import { packageKey, type LockEntry, type LockedPackage } from "../lockfile/index";
import type { PackageOutcome } from "../policy/index";
import { historyLine } from "../verify/history";
import type { ProvenanceVerdict, SignatureVerdict, Verdict } from "../protocol/verdicts";
import type { LockfileAnalysis } from "../workspace/analyze";
import type { DependentsIndex } from "./dependents";
import { dependentsIndex } from "./dependents";
import { STATUS_WORDS } from "./diagnostics";

/** The entry whose key range holds the position (the line of the key counts, so hovering past the key works). */
export function entryAt(analysis: LockfileAnalysis, position: Position): LockEntry | undefined {
  let best: LockEntry | undefined;
  for (const entry of analysis.parsed.entries) {
    const { start, end } = entry.range;
    if (position.line < start.line || position.line > end.line) continue;
    if (best === undefined || entry.range.start.character > best.range.start.character) best = entry;
  }
  return best;
}

export interface HoverContext {
  dependents?: DependentsIndex;
  outcomeOf?: (pkg: LockedPackage) => PackageOutcome | undefined;
  notesOf?: (pkg: LockedPackage) => string[];
}

export function hoverFor(analysis: LockfileAnalysis, position: Position, context: HoverContext = {}): { contents: MarkupContent; range: LockEntry["range"] } | undefined {
  const entry = entryAt(analysis, position);
  if (entry === undefined) return undefined;
  const key = packageKey(entry);
  const pkg = analysis.packages.find((p) => packageKey(p) === key);
  const verdict = analysis.result.verdicts.get(key);
  const chain = (context.dependents ?? dependentsIndex(analysis.parsed)).chainOf(entry.id);
  const outcome = pkg === undefined ? undefined : context.outcomeOf?.(pkg);
  const notes = pkg === undefined ? [] : (context.notesOf?.(pkg) ?? []);
  return { contents: { kind: "markdown", value: hoverMarkdown(entry, pkg, verdict, chain, outcome, notes) }, range: entry.range };
}

function hoverMarkdown(entry: LockEntry, pkg: LockedPackage | undefined, verdict: Verdict | undefined, chain: string[], outcome: PackageOutcome | undefined, notes: string[]): string {
  const lines: string[] = [];
  const title = entry.alias !== undefined ? `${entry.alias} → ${entry.name}@${entry.version}` : `${entry.name}@${entry.version}`;
  lines.push(`**${escapeMarkdown(title)}** — ${verdict !== undefined ? verdict.status : "not checked"}`, "");
  if (verdict !== undefined) lines.push(`${STATUS_WORDS[verdict.status]}.`, "");
  const history = verdict === undefined ? undefined : historyLine(verdict);
  if (history !== undefined) lines.push(`History: ${escapeMarkdown(history)}`, "");
  const [status, ...findings] = outcome?.findings ?? [];
  const accepted = status?.accepted;
  if (accepted !== undefined) {
    lines.push(`Accepted in .provenance-lens.json: ${escapeMarkdown(accepted.reason)}${accepted.expires ? ` (until ${escapeMarkdown(accepted.expires)})` : ""}`, "");
  }
  if (findings.length > 0) {
    for (const f of findings) lines.push(`- **${f.code}**${f.accepted ? ` (accepted: ${escapeMarkdown(f.accepted.reason)})` : ""}: ${escapeMarkdown(f.message)}`);
    lines.push("");
  }
  if (notes.length > 0) {
    lines.push(...notes.map((n) => `- Note: ${escapeMarkdown(n)}`), "");
  }
  if (verdict !== undefined && entry.source === "registry") {
    lines.push(`- Registry signature: ${signatureLine(verdict.signature)}`);
    lines.push(`- Provenance: ${provenanceLine(verdict.provenance)}`);
    if (verdict.publishedAt) lines.push(`- Published: ${verdict.publishedAt}`);
    if (verdict.registry) lines.push(`- Registry: ${code(verdict.registry)}`);
  }
  const facts: [string, string | undefined][] = [
    ["Source", entry.source],
    ["Resolved", entry.resolved],
    ["Integrity", entry.integrity],
    ["Checksum", entry.checksum],
    ["Dependency type", [entry.dev ? "dev" : "production", entry.optional ? "optional" : undefined].filter(Boolean).join(", ")],
    ["Direct", pkg?.direct ? "yes" : undefined],
    ["Locked at", pkg !== undefined && pkg.locations.length > 1 ? `${pkg.locations.length} places` : undefined],
  ];
  for (const [label, value] of facts) if (value) lines.push(`- ${label}: ${code(value)}`);
  if (chain.length > 0) lines.push("", `Required by: ${chain.map(escapeMarkdown).join(" → ")}`);
  if (verdict !== undefined && verdict.reasons.length > 0) {
    lines.push("", ...verdict.reasons.map((reason) => `- ${escapeMarkdown(reason)}`));
  }
  return lines.join("\n");
}

function signatureLine(signature: SignatureVerdict): string {
  const parts: string[] = [signature.status];
  if (signature.keyid) parts.push(`key ${code(signature.keyid)}`);
  if (signature.keyExpires !== undefined) parts.push(signature.keyExpires === null ? "key does not expire" : `key expires ${signature.keyExpires}`);
  if (signature.reason && signature.status !== "valid") parts.push(escapeMarkdown(signature.reason));
  return parts.join(", ");
}

function provenanceLine(p: ProvenanceVerdict): string {
  const parts: string[] = [p.status];
  if (p.sourceRepository) {
    const commit = p.sourceCommit ? commitUrl(p.sourceRepository, p.sourceCommit) : undefined;
    parts.push(`built from [${escapeMarkdown(p.sourceRepository.replace(/^https?:\/\//, ""))}](${p.sourceRepository})`);
    if (p.sourceCommit) parts.push(commit ? `commit [${p.sourceCommit.slice(0, 12)}](${commit})` : `commit ${code(p.sourceCommit)}`);
  }
  if (p.sourceRef) parts.push(`ref ${code(p.sourceRef)}`);
  if (p.workflow) parts.push(`workflow ${code(p.workflow)}`);
  if (p.builder) parts.push(`builder ${code(p.builder)}`);
  if (p.logIndex) parts.push(p.logUrl ? `transparency log [entry ${p.logIndex}](${p.logUrl})` : `transparency log entry ${p.logIndex}`);
  if (p.publishAttestation) parts.push(`npm publish attestation ${p.publishAttestation}`);
  if (p.reason && p.status !== "verified") parts.push(escapeMarkdown(p.reason));
  return parts.join(", ");
}

/** A link to the commit on the forge, when the repository URL is one whose commit URLs are known. */
export function commitUrl(repository: string, commit: string): string | undefined {
  if (!/^[0-9a-f]{7,64}$/i.test(commit)) return undefined;
  const base = repository.replace(/\.git$/, "").replace(/\/+$/, "");
  if (/^https:\/\/github\.com\/[^/]+\/[^/]+$/.test(base)) return `${base}/commit/${commit}`;
  if (/^https:\/\/gitlab\.com\//.test(base)) return `${base}/-/commit/${commit}`;
  return undefined;
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]<>#|]/g, "\\$&");
}
