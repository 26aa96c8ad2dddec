// Activation only: wires the language client, the status item, the Dependency Trust tree and the commands.
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { CHECKED_NOTIFICATION, STATUS_NOTIFICATION, TREE_REQUEST, type StatusParams, type TreeResult } from "../../server/src/protocol/messages";
import { registerCommands } from "./commands";
import { crashHandler, createLanguageClient } from "./languageClient";
import { RESTART_COMMAND_ID, RESTART_COMMAND_TITLE, RestartPolicy, type ConnectionErrorDecision, type RestartDecision } from "./restartPolicy";
import { createStatusItem, RESTARTED_NOTE, showRestarted, showStatus, showStopped } from "./status";
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

  // A server that dies is restarted a bounded number of times (issue #8); "Restart Server" resets the count.
  const restarts = new RestartPolicy({ now: () => Date.now() });
  const restartCommand: vscode.Command = { title: "Restart Server", command: RESTART_COMMAND_ID };
  /** Stays in the status item's detail after a restart, so a crash is visible after the fact too. */
  let crashNote: string | undefined;
  // The client writes each decision's message to the output as one line; the status item says the rest, no pop-ups.
  const onCrashDecision = (decision: RestartDecision | ConnectionErrorDecision) => {
    if (decision.action === "restart") {
      crashNote = RESTARTED_NOTE;
      showRestarted(statusItem);
    } else if (decision.action !== "continue" && decision.message !== undefined) {
      showStopped(statusItem, decision.message, restartCommand);
    }
  };

  const start = async (): Promise<LanguageClient> => {
    if (client !== undefined) return client;
    const started = createLanguageClient(context, outputChannel, crashHandler(restarts, onCrashDecision));
    started.onNotification(STATUS_NOTIFICATION, (status: StatusParams) => {
      showStatus(statusItem, status, crashNote);
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
      if (restarts.stopped) throw new Error(`The server stopped after repeated crashes; run "${RESTART_COMMAND_TITLE}" to start it again.`);
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
      restarts.reset(); // A new server on purpose, as with Restart Server: earlier crashes no longer count.
      const previous = client;
      client = undefined;
      await previous?.stop();
      await start();
    }),
  );

  context.subscriptions.push(
    vscode.commands.registerCommand(RESTART_COMMAND_ID, async () => {
      restarts.reset();
      crashNote = undefined;
      const previous = client;
      client = undefined;
      try {
        await previous?.dispose();
      } catch (error) {
        outputChannel.warn(`Stopping the previous server failed (starting a new one anyway): ${error instanceof Error ? error.message : String(error)}`);
      }
      try {
        await start();
        outputChannel.info("The Provenance Lens server was restarted on request.");
      } catch (error) {
        outputChannel.error(`Could not restart the language server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    }),
  );

  start().catch((error: unknown) => outputChannel.error(`Could not start the language server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
