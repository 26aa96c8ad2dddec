// Activation only: wires the language client, the status item, the Dependency Trust tree and the commands.
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { CHECKED_NOTIFICATION, STATUS_NOTIFICATION, TREE_REQUEST, type StatusParams, type TreeResult } from "../../server/src/protocol/messages";
import { registerCommands } from "./commands";
import { createLanguageClient } from "./languageClient";
import { createStatusItem, showStatus, showStopped } from "./status";
import { TREE_VIEW_ID, TrustTreeProvider } from "./views/trustTree";

let client: LanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const outputChannel = vscode.window.createOutputChannel("Provenance Lens", { log: true });
  const statusItem = createStatusItem();
  const tree = new TrustTreeProvider(async () => {
    if (client === undefined) return undefined;
    try {
      return (await client.sendRequest(TREE_REQUEST, {})) as TreeResult;
    } catch (error) {
      outputChannel.error(`Reading the tree failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return undefined;
    }
  });
  const view = vscode.window.createTreeView(TREE_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });
  context.subscriptions.push(outputChannel, statusItem, view);

  const start = async (): Promise<LanguageClient> => {
    if (client !== undefined) return client;
    const started = createLanguageClient(context, outputChannel);
    started.onNotification(STATUS_NOTIFICATION, (status: StatusParams) => {
      showStatus(statusItem, status);
      if (status.state === "idle") void tree.refresh();
    });
    started.onNotification(CHECKED_NOTIFICATION, () => void tree.refresh());
    client = started;
    // A new server has no review: the tree's "End the review" goes with it.
    void vscode.commands.executeCommand("setContext", "provenanceLens.reviewActive", false);
    try {
      await started.start();
    } catch (error) {
      client = undefined;
      showStopped(statusItem, "The language server did not start; see the output.");
      throw error;
    }
    return started;
  };

  registerCommands(context, {
    outputChannel,
    tree,
    ensureStarted: async () => {
      const running = await start();
      return {
        sendRequest: (method, params) => running.sendRequest(method, params),
        asWorkspaceEdit: (edit) => running.protocol2CodeConverter.asWorkspaceEdit(edit as never),
      };
    },
  });

  // Trust changes what the server may do (it runs limited, offline, until trusted): restart it to say so.
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(async () => {
      const previous = client;
      client = undefined;
      await previous?.stop();
      await start();
    }),
  );

  start().catch((error: unknown) => outputChannel.error(`Could not start the language server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
