// Starting the language server (dist/server.js over IPC) for the supported lockfile names.
import * as vscode from "vscode";
import { CloseAction, ErrorAction, LanguageClient, RevealOutputChannelOn, TransportKind, type ErrorHandler, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";
import { LOCKFILE_NAMES } from "../../server/src/lockfile/index";
import { POLICY_FILE_NAME, type InitializationOptions } from "../../server/src/protocol/messages";
import { SETTINGS_SECTION } from "../../server/src/protocol/settings";
import { SERVER_EXEC_ARGV } from "../../server/src/features/serverProcess";
import type { ConnectionErrorDecision, RestartDecision, RestartPolicy } from "./restartPolicy";

/** The lockfiles the server handles; also where the language status item shows. */
export const LOCKFILE_SELECTOR: { scheme: "file"; pattern: string }[] = LOCKFILE_NAMES.map((name) => ({ scheme: "file", pattern: `**/${name}` }));

/** `.provenance-lens.json` at any folder (the server reads the one at each workspace folder root). */
export const POLICY_SELECTOR: { scheme: "file"; pattern: string } = { scheme: "file", pattern: `**/${POLICY_FILE_NAME}` };

export function createLanguageClient(context: vscode.ExtensionContext, outputChannel: vscode.LogOutputChannel, errorHandler: ErrorHandler): LanguageClient {
  const module = context.asAbsolutePath("dist/server.js");
  const serverOptions: ServerOptions = {
    // V8 heap flags keep the server's memory in bounds (serverProcess.ts).
    run: { module, transport: TransportKind.ipc, options: { execArgv: [...SERVER_EXEC_ARGV] } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: [...SERVER_EXEC_ARGV, "--nolazy", "--inspect=6009"] } },
  };
  // The server also re-reads a lockfile when package.json files (which decide direct dependencies) or the policy file change.
  const watcher = vscode.workspace.createFileSystemWatcher(`**/{${[...LOCKFILE_NAMES, "package.json", "pnpm-workspace.yaml", POLICY_FILE_NAME].join(",")}}`);
  context.subscriptions.push(watcher);
  const initializationOptions: InitializationOptions = { workspaceTrusted: vscode.workspace.isTrusted, clientWatchesFiles: true };
  const clientOptions: LanguageClientOptions = {
    // The policy file too: the server shows its problems and weakenings in it, and applies unsaved edits at once.
    documentSelector: [...LOCKFILE_SELECTOR, POLICY_SELECTOR],
    // The server drops its cached settings and re-pulls them on this notification.
    synchronize: { fileEvents: watcher, configurationSection: SETTINGS_SECTION },
    outputChannel,
    // Problems reach people as diagnostics and the status item, never as a channel popping open.
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions,
    // A dead server is restarted a bounded number of times, said once each time (restartPolicy.ts).
    errorHandler,
  };
  return new LanguageClient("provenanceLens", "Provenance Lens", serverOptions, clientOptions);
}

/**
 * The client's error handler, deciding through `policy`. Every decision's message is marked handled: the client writes
 * it to the output channel as one line and shows no pop-up; `onDecision` shows it in the status item.
 */
export function crashHandler(policy: RestartPolicy, onDecision: (decision: RestartDecision | ConnectionErrorDecision) => void): ErrorHandler {
  return {
    error(_error, _message, count) {
      const decision = policy.connectionError(count);
      onDecision(decision);
      return { action: decision.action === "continue" ? ErrorAction.Continue : ErrorAction.Shutdown, message: decision.message, handled: true };
    },
    closed() {
      const decision = policy.serverClosed();
      onDecision(decision);
      return { action: decision.action === "restart" ? CloseAction.Restart : CloseAction.DoNotRestart, message: decision.message, handled: true };
    },
  };
}
