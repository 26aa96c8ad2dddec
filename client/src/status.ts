// The language status item: "1,204 verified · 37 signed · 2 invalid" from the server's status notification;
// clicking it opens the Dependency Trust tree.
import * as vscode from "vscode";
import { formatSummary, type StatusParams } from "../../server/src/protocol/messages";
import { LOCKFILE_SELECTOR } from "./languageClient";

const SHOW_TREE: vscode.Command = { title: "Show Dependency Trust", command: "provenanceLens.showTree" };

/** Kept in the item's detail after a crash and restart, until a person restarts the server (issue #8). */
export const RESTARTED_NOTE = "restarted after a crash";

export function createStatusItem(): vscode.LanguageStatusItem {
  const item = vscode.languages.createLanguageStatusItem("provenanceLens.status", LOCKFILE_SELECTOR);
  item.name = "Provenance Lens";
  item.text = "$(loading~spin) Provenance Lens";
  item.command = SHOW_TREE;
  return item;
}

/** `note`: said after the summary (e.g. RESTARTED_NOTE). */
export function showStatus(item: vscode.LanguageStatusItem, status: StatusParams, note?: string): void {
  item.busy = status.state === "checking";
  item.text = `$(shield) ${formatSummary(status.byStatus)}`;
  item.command = SHOW_TREE;
  item.detail = [
    `${status.lockfiles} lockfile(s)`,
    status.problems > 0 ? `${status.problems} lockfile problems` : "",
    status.limited ? "limited: workspace not trusted, offline" : "",
    note ?? "",
  ]
    .filter(Boolean)
    .join("; ");
  const needsLook = status.byStatus.invalid > 0 || status.problems > 0;
  item.severity = needsLook ? vscode.LanguageStatusSeverity.Error : status.limited ? vscode.LanguageStatusSeverity.Warning : vscode.LanguageStatusSeverity.Information;
}

/** `restart`: the command that starts it again, offered on the item (a stopped server has no summary to show). */
export function showStopped(item: vscode.LanguageStatusItem, why: string, restart?: vscode.Command): void {
  item.busy = false;
  item.text = "$(shield) Provenance Lens stopped";
  item.detail = why;
  item.severity = vscode.LanguageStatusSeverity.Warning;
  if (restart !== undefined) item.command = restart;
}

/** Until the new server's first status arrives. */
export function showRestarted(item: vscode.LanguageStatusItem): void {
  item.busy = true;
  item.text = `$(shield) Provenance Lens ${RESTARTED_NOTE}`;
  item.detail = `The server stopped unexpectedly and was ${RESTARTED_NOTE}; see the output.`;
  item.severity = vscode.LanguageStatusSeverity.Warning;
}
