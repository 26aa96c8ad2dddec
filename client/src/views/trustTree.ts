// The "Dependency Trust" tree: the server's verdicts (TREE_REQUEST), grouped by status with problems first and
// filtered by the toggles. Nothing here decides a verdict.
import * as path from "node:path";
import * as vscode from "vscode";
import { type ReviewChange, type ReviewLockfile, type ReviewResult, type TreeLockfile, type TreePackage, type TreeResult } from "../../../server/src/protocol/messages";
import { PACKAGE_STATUSES, type PackageStatus } from "../../../server/src/protocol/verdicts";

export const TREE_VIEW_ID = "provenanceLens.trust";

export type FilterName = "problemsOnly" | "directOnly" | "productionOnly";

const PROBLEMS: ReadonlySet<PackageStatus> = new Set(["invalid", "unsigned", "unverifiable"]);

const STATUS_ICONS: Record<PackageStatus, [string, string]> = {
  invalid: ["error", "errorForeground"],
  unsigned: ["warning", "editorWarning.foreground"],
  unverifiable: ["question", "editorWarning.foreground"],
  signed: ["pass", "editorInfo.foreground"],
  verified: ["verified-filled", "testing.iconPassed"],
  "not-from-registry": ["package", "descriptionForeground"],
};

export type TrustNode =
  | { kind: "lockfile"; lockfile: TreeLockfile }
  | { kind: "group"; lockfile: TreeLockfile; status: PackageStatus; packages: TreePackage[] }
  | { kind: "package"; lockfile: TreeLockfile; pkg: TreePackage }
  | { kind: "chain"; pkg: TreePackage }
  | { kind: "review"; review: ReviewResult }
  | { kind: "reviewLockfile"; review: ReviewResult; lockfile: ReviewLockfile }
  | { kind: "change"; lockfile: ReviewLockfile; change: ReviewChange }
  | { kind: "fact"; label: string; description?: string; tooltip?: string };

export class TrustTreeProvider implements vscode.TreeDataProvider<TrustNode> {
  readonly #changed = new vscode.EventEmitter<TrustNode | undefined>();
  readonly onDidChangeTreeData = this.#changed.event;
  readonly filters: Record<FilterName, boolean> = { problemsOnly: false, directOnly: false, productionOnly: false };
  #data: TreeResult = { lockfiles: [], limited: false, state: "idle" };

  constructor(private readonly fetch: () => Promise<TreeResult | undefined>) {}

  async refresh(): Promise<void> {
    const data = await this.fetch();
    if (data === undefined) return;
    this.#data = data;
    await vscode.commands.executeCommand("setContext", "provenanceLens.noLockfiles", data.lockfiles.length === 0 && data.state === "idle");
    this.#changed.fire(undefined);
  }

  async setFilter(name: FilterName, on: boolean): Promise<void> {
    this.filters[name] = on;
    await vscode.commands.executeCommand("setContext", `provenanceLens.${name}`, on);
    this.#changed.fire(undefined);
  }

  getChildren(node?: TrustNode): TrustNode[] {
    if (node === undefined) {
      const lockfiles = this.#data.lockfiles;
      // One lockfile: its groups at the top; several (multi-root, several per folder): one node per lockfile.
      const top: TrustNode[] = lockfiles.length === 1 ? this.#groups(lockfiles[0]) : lockfiles.map((lockfile) => ({ kind: "lockfile", lockfile }));
      // A review's changes come first: what a pull request does to the project's trust.
      return this.#data.review !== undefined ? [{ kind: "review", review: this.#data.review }, ...top] : top;
    }
    switch (node.kind) {
      case "review": {
        const problems: TrustNode[] = node.review.problems.map((p) => ({ kind: "fact", label: "$(warning) Not reviewed", description: p, tooltip: p }));
        const [only, ...more] = node.review.lockfiles;
        if (only !== undefined && more.length === 0) return [...problems, ...changesOf(only)];
        return [...problems, ...node.review.lockfiles.map((lockfile): TrustNode => ({ kind: "reviewLockfile", review: node.review, lockfile }))];
      }
      case "reviewLockfile":
        return changesOf(node.lockfile);
      case "lockfile":
        return this.#groups(node.lockfile);
      case "group":
        return node.packages.map((pkg) => ({ kind: "package", lockfile: node.lockfile, pkg }));
      case "package":
        return evidenceOf(node.pkg);
      default:
        return [];
    }
  }

  #groups(lockfile: TreeLockfile): TrustNode[] {
    const shown = lockfile.packages.filter(
      (p) => (!this.filters.problemsOnly || (PROBLEMS.has(p.status) && p.accepted === undefined)) && (!this.filters.directOnly || p.direct) && (!this.filters.productionOnly || !p.dev),
    );
    return PACKAGE_STATUSES.map((status) => ({ kind: "group" as const, lockfile, status, packages: shown.filter((p) => p.status === status) })).filter((g) => g.packages.length > 0);
  }

  getTreeItem(node: TrustNode): vscode.TreeItem {
    switch (node.kind) {
      case "lockfile": {
        const file = vscode.Uri.parse(node.lockfile.uri);
        const item = new vscode.TreeItem(vscode.workspace.asRelativePath(file, true), vscode.TreeItemCollapsibleState.Expanded);
        item.resourceUri = file;
        item.contextValue = "lockfile";
        return item;
      }
      case "group": {
        const item = new vscode.TreeItem(`${node.status} (${node.packages.length.toLocaleString("en-US")})`, PROBLEMS.has(node.status) ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
        const [icon, color] = STATUS_ICONS[node.status];
        item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
        item.contextValue = "group";
        return item;
      }
      case "package": {
        const { pkg } = node;
        const item = new vscode.TreeItem(`${pkg.alias ?? pkg.name}@${pkg.version}`, vscode.TreeItemCollapsibleState.Collapsed);
        const [icon, color] = STATUS_ICONS[pkg.status];
        // Accepted findings stay visible, greyed, never silently gone.
        item.iconPath = new vscode.ThemeIcon(pkg.accepted ? "circle-slash" : icon, new vscode.ThemeColor(pkg.accepted ? "disabledForeground" : color));
        item.description = [pkg.accepted ? `accepted: ${pkg.accepted.reason}` : undefined, pkg.direct ? "direct" : undefined, pkg.dev ? "dev" : undefined].filter(Boolean).join(" · ");
        item.tooltip = new vscode.MarkdownString(
          [`**${pkg.name}@${pkg.version}** — ${pkg.status}`, "", ...(pkg.history ? [`History: ${pkg.history}`, ""] : []), ...pkg.verdict.reasons.map((r) => `- ${r}`), ...(pkg.weakenings ?? []).map((w) => `- Note: ${w}`)].join("\n"),
        );
        item.contextValue = ["package", pkg.commitUrl ? "commit" : "", pkg.purl ? "purl" : "", pkg.accepted ? "accepted" : ""].filter(Boolean).join(".");
        item.command = { title: "Reveal in Lockfile", command: "provenanceLens.revealEntry", arguments: [node] };
        return item;
      }
      case "review": {
        const r = node.review;
        const count = (f: (l: ReviewLockfile) => number) => r.lockfiles.reduce((n, l) => n + f(l), 0);
        const item = new vscode.TreeItem(`Changes since ${r.label}`, vscode.TreeItemCollapsibleState.Expanded);
        const added = count((l) => l.changes.filter((c) => c.kind === "added").length);
        const changed = count((l) => l.changes.filter((c) => c.kind === "changed").length);
        const worse = count((l) => l.changes.filter((c) => c.trustDowngrade).length);
        item.description = `${added} added · ${changed} changed · ${worse} trust changes to look at · ${count((l) => l.removed)} removed`;
        item.tooltip = `${r.ref}${r.commit ? ` (${r.commit.slice(0, 12)})` : ""}`;
        item.iconPath = new vscode.ThemeIcon("git-compare");
        item.contextValue = "review";
        return item;
      }
      case "reviewLockfile": {
        const item = new vscode.TreeItem(vscode.workspace.asRelativePath(vscode.Uri.parse(node.lockfile.uri), true), vscode.TreeItemCollapsibleState.Expanded);
        item.description = node.lockfile.existedAtBase ? `${node.lockfile.changes.length} changed · ${node.lockfile.removed} removed` : "new lockfile";
        return item;
      }
      case "change": {
        const { change } = node;
        const item = new vscode.TreeItem(`${change.name}@${change.version}`, vscode.TreeItemCollapsibleState.None);
        item.description = change.description;
        const [icon, color] = STATUS_ICONS[change.status];
        item.iconPath = new vscode.ThemeIcon(change.trustDowngrade ? "arrow-down" : icon, new vscode.ThemeColor(change.trustDowngrade ? "errorForeground" : color));
        item.contextValue = "change";
        const range = change.range;
        item.command = { title: "Reveal in Lockfile", command: "vscode.open", arguments: [vscode.Uri.parse(node.lockfile.uri), { selection: new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character) }] };
        return item;
      }
      case "chain": {
        const item = new vscode.TreeItem("Required by", vscode.TreeItemCollapsibleState.None);
        item.description = node.pkg.chain.join(" → ");
        item.iconPath = new vscode.ThemeIcon("type-hierarchy-sub");
        return item;
      }
      case "fact": {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.description;
        item.tooltip = node.tooltip ?? node.description;
        return item;
      }
    }
  }
}

/** A review's entries for one lockfile: the changes, then the count of what was removed (as the CLI's --base says it). */
function changesOf(lockfile: ReviewLockfile): TrustNode[] {
  const nodes: TrustNode[] = lockfile.changes.map((change) => ({ kind: "change", lockfile, change }));
  if (!lockfile.existedAtBase) nodes.unshift({ kind: "fact", label: "New lockfile", description: "not at the base revision: every package is added" });
  if (lockfile.removed > 0) nodes.push({ kind: "fact", label: `removed (${lockfile.removed})`, description: lockfile.removedPackages.join(", "), tooltip: lockfile.removedPackages.join("\n") });
  if (lockfile.changes.length === 0 && lockfile.removed === 0) nodes.push({ kind: "fact", label: "No dependency changes", description: `${lockfile.unchanged} unchanged` });
  return nodes;
}

/** A package's evidence, as the server sent it. */
function evidenceOf(pkg: TreePackage): TrustNode[] {
  const v = pkg.verdict;
  const facts: TrustNode[] = [];
  const fact = (label: string, description: string | undefined) => {
    if (description) facts.push({ kind: "fact", label, description });
  };
  if (pkg.accepted) fact("Accepted", `${pkg.accepted.reason}${pkg.accepted.expires ? ` (until ${pkg.accepted.expires})` : ""}`);
  fact("History", pkg.history);
  for (const f of pkg.findings ?? []) facts.push({ kind: "fact", label: f.accepted ? `${f.code} (accepted)` : f.code, description: f.accepted ? f.accepted.reason : f.message, tooltip: f.message });
  for (const note of pkg.weakenings ?? []) facts.push({ kind: "fact", label: "Note", description: note, tooltip: note });
  fact("Registry signature", [v.signature.status, v.signature.keyid, v.signature.keyExpires ? `key expires ${v.signature.keyExpires}` : undefined].filter(Boolean).join(" · "));
  fact("Provenance", v.provenance.status);
  fact("Source repository", v.provenance.sourceRepository);
  fact("Source commit", v.provenance.sourceCommit);
  fact("Workflow", v.provenance.workflow);
  fact("Builder", v.provenance.builder);
  fact("Transparency log entry", v.provenance.logIndex);
  fact("Published", v.publishedAt);
  fact("Integrity", pkg.integrity);
  fact("Resolved", pkg.resolved);
  if (pkg.chain.length > 0) facts.push({ kind: "chain", pkg });
  for (const reason of v.reasons) facts.push({ kind: "fact", label: reason, tooltip: reason });
  return facts;
}

export function lockfileLabel(lockfile: TreeLockfile): string {
  return path.basename(vscode.Uri.parse(lockfile.uri).fsPath);
}
