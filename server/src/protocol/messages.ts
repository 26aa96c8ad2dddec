// Custom LSP messages, each declared once with its literal method name. Plain constants and parameter types
// (not jsonrpc classes) so the client and server can share them whatever vscode-jsonrpc copy each bundles.
import type { PackageStatus } from "./verdicts";

/** Sent by the server whenever the workspace summary changes; the client shows it in its language status item. */
export const STATUS_NOTIFICATION = "provenanceLens/status" as const;

export type ServerState = "checking" | "idle" | "disabled";

export interface StatusParams {
  state: ServerState;
  /** Lockfiles with a current result. */
  lockfiles: number;
  packages: number;
  byStatus: Record<PackageStatus, number>;
  /** Parse problems over all lockfiles. */
  problems: number;
  /** Set when the workspace is untrusted and checking runs in limited (offline) mode. */
  limited: boolean;
}

/**
 * Sent by the server after it published the diagnostics of one lockfile (also when it cleared them). The
 * idle signal tests and tools wait on instead of sleeping.
 */
export const CHECKED_NOTIFICATION = "provenanceLens/checked" as const;

export interface CheckedParams {
  uri: string;
  /** The document version the result is for; null when read from disk. */
  version: number | null;
  packages: number;
  problems: number;
  diagnostics: number;
}

/** Sent by the client (command `provenanceLens.recheck`): drop cached settings and check every lockfile again. */
export const RECHECK_REQUEST = "provenanceLens/recheck" as const;

export interface RecheckResult {
  lockfiles: number;
}

/** What the client passes in `initialize`'s initializationOptions. */
export interface InitializationOptions {
  /** `vscode.workspace.isTrusted`. Not told means trusted (other editors have no such concept). */
  workspaceTrusted?: boolean;
  /** The client already watches lockfiles and package.json files; the server then registers no watchers of its own. */
  clientWatchesFiles?: boolean;
}

export function emptyByStatus(): Record<PackageStatus, number> {
  return { invalid: 0, unsigned: 0, unverifiable: 0, signed: 0, verified: 0, "not-from-registry": 0 };
}
