// Activation only: wires the language client, the status item and the commands.
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { STATUS_NOTIFICATION, type StatusParams } from "../../server/src/protocol/messages";
import { registerCommands } from "./commands";
import { createLanguageClient } from "./languageClient";
import { createStatusItem, showStatus, showStopped } from "./status";

let client: LanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const outputChannel = vscode.window.createOutputChannel("Provenance Lens", { log: true });
  const statusItem = createStatusItem();
  context.subscriptions.push(outputChannel, statusItem);

  const start = async (): Promise<LanguageClient> => {
    if (client !== undefined) return client;
    const started = createLanguageClient(context, outputChannel);
    started.onNotification(STATUS_NOTIFICATION, (status: StatusParams) => showStatus(statusItem, status));
    client = started;
    try {
      await started.start();
    } catch (error) {
      client = undefined;
      showStopped(statusItem, "The language server did not start; see the output.");
      throw error;
    }
    return started;
  };

  registerCommands(context, { outputChannel, ensureStarted: start });

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
