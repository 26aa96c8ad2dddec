// The "Dependency Trust" tree: the server's verdicts (TREE_REQUEST), grouped by status with problems first and
// filtered by the toggles. Nothing here decides a verdict.
import * as path from "node:path";
import * as vscode from "vscode";
import { type TreeLockfile, type TreePackage, type TreeResult } from "../../../server/src/protocol/messages";
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
      return lockfiles.length === 1 ? this.#groups(lockfiles[0]) : lockfiles.map((lockfile) => ({ kind: "lockfile", lockfile }));
    }
    switch (node.kind) {
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
        item.tooltip = new vscode.MarkdownString([`**${pkg.name}@${pkg.version}** — ${pkg.status}`, "", ...pkg.verdict.reasons.map((r) => `- ${r}`)].join("\n"));
        item.contextValue = ["package", pkg.commitUrl ? "commit" : "", pkg.purl ? "purl" : "", pkg.accepted ? "accepted" : ""].filter(Boolean).join(".");
        item.command = { title: "Reveal in Lockfile", command: "provenanceLens.revealEntry", arguments: [node] };
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

/** A package's evidence, as the server sent it. */
function evidenceOf(pkg: TreePackage): TrustNode[] {
  const v = pkg.verdict;
  const facts: TrustNode[] = [];
  const fact = (label: string, description: string | undefined) => {
    if (description) facts.push({ kind: "fact", label, description });
  };
  if (pkg.accepted) fact("Accepted", `${pkg.accepted.reason}${pkg.accepted.expires ? ` (until ${pkg.accepted.expires})` : ""}`);
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
