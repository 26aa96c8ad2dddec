// The language status item: "1,204 verified · 37 signed · 2 invalid" from the server's status notification;
// clicking it opens the Dependency Trust tree.
import * as vscode from "vscode";
import { formatSummary, type StatusParams } from "../../server/src/protocol/messages";
import { LOCKFILE_SELECTOR } from "./languageClient";

export function createStatusItem(): vscode.LanguageStatusItem {
  const item = vscode.languages.createLanguageStatusItem("provenanceLens.status", LOCKFILE_SELECTOR);
  item.name = "Provenance Lens";
  item.text = "$(loading~spin) Provenance Lens";
  item.command = { title: "Show Dependency Trust", command: "provenanceLens.showTree" };
  return item;
}

export function showStatus(item: vscode.LanguageStatusItem, status: StatusParams): void {
  item.busy = status.state === "checking";
  item.text = `$(shield) ${formatSummary(status.byStatus)}`;
  item.detail = [
    `${status.lockfiles} lockfile(s)`,
    status.problems > 0 ? `${status.problems} lockfile problems` : "",
    status.limited ? "limited: workspace not trusted, offline" : "",
  ]
    .filter(Boolean)
    .join("; ");
  const needsLook = status.byStatus.invalid > 0 || status.problems > 0;
  item.severity = needsLook ? vscode.LanguageStatusSeverity.Error : status.limited ? vscode.LanguageStatusSeverity.Warning : vscode.LanguageStatusSeverity.Information;
}

export function showStopped(item: vscode.LanguageStatusItem, why: string): void {
  item.busy = false;
  item.text = "$(shield) Provenance Lens stopped";
  item.detail = why;
  item.severity = vscode.LanguageStatusSeverity.Warning;
}
