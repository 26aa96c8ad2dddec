// Commands are always registered; they act on whichever client is current (or start one).
import * as vscode from "vscode";
import { RECHECK_REQUEST, type RecheckResult } from "../../server/src/protocol/messages";

export interface CommandTarget {
  outputChannel: vscode.OutputChannel;
  /** The running client, starting it when it is not. */
  ensureStarted(): Promise<{ sendRequest(method: string, params: unknown): Promise<unknown> }>;
}

export function registerCommands(context: vscode.ExtensionContext, target: CommandTarget): void {
  context.subscriptions.push(
    vscode.commands.registerCommand("provenanceLens.showOutput", () => target.outputChannel.show(true)),
    vscode.commands.registerCommand("provenanceLens.recheck", async () => {
      try {
        const client = await target.ensureStarted();
        const result = (await client.sendRequest(RECHECK_REQUEST, {})) as RecheckResult;
        target.outputChannel.appendLine(`Rechecking ${result.lockfiles} lockfile(s).`);
      } catch (error) {
        target.outputChannel.appendLine(`Recheck failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        void vscode.window.showErrorMessage("Provenance Lens could not recheck. See its output for why.");
      }
    }),
  );
}
