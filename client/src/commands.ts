// Commands are always registered; they act on whichever client is current (or start one).
import * as vscode from "vscode";
import {
  ACCEPT_EDIT_REQUEST,
  CLEAR_CACHE_REQUEST,
  END_REVIEW_REQUEST,
  RECHECK_REQUEST,
  REVIEW_REFS_REQUEST,
  REVIEW_REQUEST,
  type AcceptCommandArgs,
  type AcceptEditParams,
  type ClearCacheResult,
  type InstallCommandArgs,
  type RecheckParams,
  type RecheckResult,
  type ReviewParams,
  type ReviewRefsResult,
  type ReviewResult,
} from "../../server/src/protocol/messages";
import { SETTINGS_SECTION } from "../../server/src/protocol/settings";
import { TREE_VIEW_ID, type FilterName, type TrustNode, type TrustTreeProvider } from "./views/trustTree";

export interface ServerRequests {
  sendRequest(method: string, params: unknown): Promise<unknown>;
  /** Turns a protocol WorkspaceEdit into the editor's. */
  asWorkspaceEdit(edit: unknown): Promise<vscode.WorkspaceEdit | undefined>;
}

export interface CommandTarget {
  outputChannel: vscode.LogOutputChannel;
  tree: TrustTreeProvider;
  /** The running client, starting it when it is not. */
  ensureStarted(): Promise<ServerRequests>;
}

export function registerCommands(context: vscode.ExtensionContext, target: CommandTarget): void {
  const { outputChannel, tree } = target;
  const failed = (what: string) => (error: unknown) => {
    outputChannel.error(`${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void vscode.window.showErrorMessage(`Provenance Lens: ${what} failed. See its output for why.`);
  };
  const recheck = (params: RecheckParams) => async () => {
    try {
      const client = await target.ensureStarted();
      const result = (await client.sendRequest(RECHECK_REQUEST, params)) as RecheckResult;
      outputChannel.info(`Rechecking ${result.lockfiles} lockfile(s)${params.ignoreCache ? ", ignoring the verdict cache" : ""}.`);
    } catch (error) {
      failed("Recheck")(error);
    }
  };
  const filter = (name: FilterName, on: boolean) => () => tree.setFilter(name, on);
  context.subscriptions.push(
    vscode.commands.registerCommand("provenanceLens.showOutput", () => outputChannel.show(true)),
    vscode.commands.registerCommand("provenanceLens.recheck", recheck({})),
    vscode.commands.registerCommand("provenanceLens.recheckIgnoringCache", recheck({ ignoreCache: true })),
    vscode.commands.registerCommand("provenanceLens.clearCache", async () => {
      try {
        const result = (await (await target.ensureStarted()).sendRequest(CLEAR_CACHE_REQUEST, {})) as ClearCacheResult;
        outputChannel.info(`Cleared ${result.caches} verdict cache(s); rechecking.`);
      } catch (error) {
        failed("Clearing the cache")(error);
      }
    }),
    vscode.commands.registerCommand("provenanceLens.openSettings", () => vscode.commands.executeCommand("workbench.action.openSettings", `@ext:provenance-lens.provenance-lens ${SETTINGS_SECTION}`)),
    vscode.commands.registerCommand("provenanceLens.showTree", () => vscode.commands.executeCommand(`${TREE_VIEW_ID}.focus`)),
    vscode.commands.registerCommand("provenanceLens.filterProblemsOnly", filter("problemsOnly", true)),
    vscode.commands.registerCommand("provenanceLens.filterProblemsOnlyOff", filter("problemsOnly", false)),
    vscode.commands.registerCommand("provenanceLens.filterDirectOnly", filter("directOnly", true)),
    vscode.commands.registerCommand("provenanceLens.filterDirectOnlyOff", filter("directOnly", false)),
    vscode.commands.registerCommand("provenanceLens.filterProductionOnly", filter("productionOnly", true)),
    vscode.commands.registerCommand("provenanceLens.filterProductionOnlyOff", filter("productionOnly", false)),
    vscode.commands.registerCommand("provenanceLens.revealEntry", async (node?: TrustNode) => {
      if (node?.kind !== "package") return;
      const range = node.pkg.range;
      const selection = new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
      await vscode.window.showTextDocument(vscode.Uri.parse(node.lockfile.uri), { selection, preserveFocus: false });
    }),
    vscode.commands.registerCommand("provenanceLens.openSourceCommit", async (node?: TrustNode) => {
      if (node?.kind === "package" && node.pkg.commitUrl) await vscode.env.openExternal(vscode.Uri.parse(node.pkg.commitUrl));
    }),
    vscode.commands.registerCommand("provenanceLens.copyPurl", async (node?: TrustNode) => {
      if (node?.kind !== "package" || !node.pkg.purl) return;
      await vscode.env.clipboard.writeText(node.pkg.purl);
      void vscode.window.setStatusBarMessage(`Copied ${node.pkg.purl}`, 3000);
    }),
    vscode.commands.registerCommand("provenanceLens.acceptWithReason", async (args?: AcceptCommandArgs) => {
      if (args === undefined) return;
      const reason = await vscode.window.showInputBox({
        title: `Accept ${args.package}@${args.version}`,
        prompt: "Why is this finding acceptable? (recorded in .provenance-lens.json)",
        validateInput: (v) => (v.trim() === "" ? "A reason is required." : undefined),
      });
      if (reason === undefined) return;
      const expires = await vscode.window.showInputBox({
        title: `Accept ${args.package}@${args.version}`,
        prompt: "Until when (YYYY-MM-DD)? Leave empty for no expiry.",
        validateInput: (v) => (v.trim() === "" || /^\d{4}-\d{2}-\d{2}$/.test(v.trim()) ? undefined : "Use YYYY-MM-DD, or leave it empty."),
      });
      if (expires === undefined) return;
      try {
        const client = await target.ensureStarted();
        const params: AcceptEditParams = { lockfileUri: args.lockfileUri, exception: { package: args.package, versions: args.version, reason: reason.trim(), ...(expires.trim() ? { expires: expires.trim() } : {}) } };
        const edit = await client.asWorkspaceEdit(await client.sendRequest(ACCEPT_EDIT_REQUEST, params));
        if (edit === undefined || !(await vscode.workspace.applyEdit(edit))) throw new Error("The edit to .provenance-lens.json was not applied.");
        // Saved so the server (and the CLI) read it from disk.
        for (const [uri] of edit.entries()) await (await vscode.workspace.openTextDocument(uri)).save();
      } catch (error) {
        failed("Accepting the finding")(error);
      }
    }),
    vscode.commands.registerCommand("provenanceLens.review", async () => {
      try {
        const client = await target.ensureStarted();
        const params = await pickReviewRef((await client.sendRequest(REVIEW_REFS_REQUEST, {})) as ReviewRefsResult);
        if (params === undefined) return;
        const result = (await vscode.window.withProgress(
          { location: { viewId: TREE_VIEW_ID }, title: `Reviewing dependency changes since ${params.label ?? params.ref}` },
          () => client.sendRequest(REVIEW_REQUEST, params),
        )) as ReviewResult | null;
        if (result === null) throw new Error("The server could not start the review.");
        for (const problem of result.problems) outputChannel.warn(`Review: ${problem}`);
        if (result.problems.length > 0 && result.lockfiles.length === 0) void vscode.window.showWarningMessage(`Provenance Lens: ${result.problems[0]}`);
        await vscode.commands.executeCommand("setContext", "provenanceLens.reviewActive", true);
        await tree.refresh();
        await vscode.commands.executeCommand(`${TREE_VIEW_ID}.focus`);
      } catch (error) {
        failed("Reviewing dependency changes")(error);
      }
    }),
    vscode.commands.registerCommand("provenanceLens.endReview", async () => {
      try {
        await (await target.ensureStarted()).sendRequest(END_REVIEW_REQUEST, {});
        await vscode.commands.executeCommand("setContext", "provenanceLens.reviewActive", false);
        await tree.refresh();
      } catch (error) {
        failed("Ending the review")(error);
      }
    }),
    vscode.commands.registerCommand("provenanceLens.offerInstall", async (args?: InstallCommandArgs) => {
      if (args === undefined) return;
      // package.json changed; the lockfile changes only when the package manager itself runs, never by our hand.
      const choice = await vscode.window.showInformationMessage(`package.json changed. Run \`${args.command}\` to update the lockfile?`, "Run in Terminal");
      if (choice !== "Run in Terminal") return;
      const terminal = vscode.window.createTerminal({ name: "Provenance Lens: install", cwd: args.folderPath });
      terminal.show();
      terminal.sendText(args.command);
    }),
  );
}

/** A QuickPick of the server's refs (the merge base with the default branch first); any typed branch or commit works too. */
async function pickReviewRef(offered: ReviewRefsResult): Promise<ReviewParams | undefined> {
  type Item = vscode.QuickPickItem & { params: ReviewParams };
  const items: Item[] = offered.refs.map((r, index) => ({
    label: index === 0 && r.label.startsWith("merge base") ? `$(git-merge) ${r.label}` : `$(git-branch) ${r.label}`,
    description: r.commit?.slice(0, 12),
    params: { ref: r.ref, label: r.label },
  }));
  const pick = vscode.window.createQuickPick<Item>();
  pick.title = "Review dependency changes since…";
  pick.placeholder = offered.problem ?? "A branch, tag or commit (the merge base with the default branch is first)";
  pick.items = items;
  return new Promise((resolve) => {
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0]?.params ?? (pick.value.trim() !== "" ? { ref: pick.value.trim() } : undefined);
      resolve(chosen);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}
