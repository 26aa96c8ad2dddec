// Hover on a lockfile entry: what is locked, where it comes from, why it is there and what verification said.
import type { MarkupContent, Position } from "vscode-languageserver";
import { dependencyChain, packageKey, type LockEntry, type LockedPackage } from "../lockfile/index";
import type { Verdict } from "../protocol/verdicts";
import type { LockfileAnalysis } from "../workspace/analyze";

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

export function hoverFor(analysis: LockfileAnalysis, position: Position): { contents: MarkupContent; range: LockEntry["range"] } | undefined {
  const entry = entryAt(analysis, position);
  if (entry === undefined) return undefined;
  const key = packageKey(entry);
  const pkg = analysis.packages.find((p) => packageKey(p) === key);
  const verdict = analysis.result.verdicts.get(key);
  return { contents: { kind: "markdown", value: hoverMarkdown(analysis, entry, pkg, verdict) }, range: entry.range };
}

function hoverMarkdown(analysis: LockfileAnalysis, entry: LockEntry, pkg: LockedPackage | undefined, verdict: Verdict | undefined): string {
  const lines: string[] = [];
  const title = entry.alias !== undefined ? `${entry.alias} → ${entry.name}@${entry.version}` : `${entry.name}@${entry.version}`;
  lines.push(`**${escapeMarkdown(title)}**${verdict !== undefined ? ` — ${verdict.status}` : ""}`, "");
  const facts: [string, string | undefined][] = [
    ["Source", entry.source],
    ["Resolved", entry.resolved],
    ["Integrity", entry.integrity],
    ["Checksum", entry.checksum],
    ["Dependency type", [entry.dev ? "dev" : "production", entry.optional ? "optional" : undefined].filter(Boolean).join(", ")],
    ["Direct", pkg?.direct ? "yes" : undefined],
    ["Locked at", pkg !== undefined && pkg.locations.length > 1 ? `${pkg.locations.length} places` : undefined],
  ];
  for (const [label, value] of facts) if (value) lines.push(`- ${label}: \`${value.replace(/`/g, "'")}\``);
  const chain = dependencyChain(analysis.parsed, entry.id);
  if (chain.length > 0) lines.push("", `Required by: ${chain.map(escapeMarkdown).join(" → ")}`);
  if (verdict !== undefined && verdict.reasons.length > 0) {
    lines.push("", ...verdict.reasons.map((reason) => `- ${escapeMarkdown(reason)}`));
  }
  return lines.join("\n");
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]<>#|]/g, "\\$&");
}
