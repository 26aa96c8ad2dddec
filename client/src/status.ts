// The language status item: the workspace summary from the server's status notification.
import * as vscode from "vscode";
import type { StatusParams } from "../../server/src/protocol/messages";
import { PACKAGE_STATUSES } from "../../server/src/protocol/verdicts";
import { LOCKFILE_SELECTOR } from "./languageClient";

export function createStatusItem(): vscode.LanguageStatusItem {
  const item = vscode.languages.createLanguageStatusItem("provenanceLens.status", LOCKFILE_SELECTOR);
  item.name = "Provenance Lens";
  item.text = "$(loading~spin) Provenance Lens";
  item.command = { title: "Show Output", command: "provenanceLens.showOutput" };
  return item;
}

export function showStatus(item: vscode.LanguageStatusItem, status: StatusParams): void {
  item.busy = status.state === "checking";
  const counts = PACKAGE_STATUSES.filter((s) => status.byStatus[s] > 0).map((s) => `${status.byStatus[s]} ${s}`);
  item.text = `$(shield) ${status.packages} packages`;
  item.detail = [
    counts.join(", "),
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
