// When the language server process dies: restart it, a bounded number of times, and say so once per event (issue #8).
// Pure (no vscode import, clock passed in) so its decisions are tested as data; languageClient.ts maps them onto
// vscode-languageclient's ErrorHandler.

export type RestartAction = "restart" | "stop";

/** What the client does after the connection to the server closed or failed. */
export interface RestartDecision {
  action: RestartAction;
  /** The one line for the output channel (and the status item's detail); undefined when it was already said. */
  message?: string;
}

/** What a failing connection does: keep going (a few write/read errors can pass) or stop the server. */
export type ConnectionErrorAction = "continue" | "shutdown";

export interface ConnectionErrorDecision {
  action: ConnectionErrorAction;
  message?: string;
}

export interface RestartPolicyOptions {
  /** Restarts allowed within `windowMs` (default 3). */
  maxRestarts?: number;
  /** Default 5 minutes. */
  windowMs?: number;
  /** Connection errors in a row tolerated before the server is shut down (default 3, as vscode-languageclient's own). */
  maxConnectionErrors?: number;
  /** Milliseconds; injected so tests (and a clock set back) are deterministic. */
  now: () => number;
}

/** The command that resets the count and starts the server again; named in the give-up message. */
export const RESTART_COMMAND_ID = "provenanceLens.restartServer";
export const RESTART_COMMAND_TITLE = "Provenance Lens: Restart Server";

export class RestartPolicy {
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly maxConnectionErrors: number;
  /** When the server died, for the deaths still inside the window. */
  private crashes: number[] = [];
  /** Set once the bound is passed: nothing restarts it but `reset()` (the Restart Server command). */
  private gaveUp = false;

  constructor(private readonly options: RestartPolicyOptions) {
    this.maxRestarts = options.maxRestarts ?? 3;
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.maxConnectionErrors = options.maxConnectionErrors ?? 3;
  }

  /** The server's connection closed without our asking (its process died or exited). */
  serverClosed(): RestartDecision {
    if (this.gaveUp) return { action: "stop" };
    const now = this.options.now();
    // Crashes outside the window no longer count; so do those "in the future" (a clock set back must not block restarts).
    this.crashes = this.crashes.filter((t) => t > now - this.windowMs && t <= now);
    this.crashes.push(now);
    const count = this.crashes.length;
    if (count <= this.maxRestarts) {
      return { action: "restart", message: `The Provenance Lens server stopped unexpectedly and was restarted (${ordinal(count)} restart within ${minutes(this.windowMs)}; at most ${this.maxRestarts}).` };
    }
    this.gaveUp = true;
    return {
      action: "stop",
      message: `The Provenance Lens server stopped unexpectedly ${count} times within ${minutes(this.windowMs)} and will not be restarted; lockfiles are not checked until it runs. See the lines above for why it stopped, then run "${RESTART_COMMAND_TITLE}".`,
    };
  }

  /** Reading from or writing to the server failed; `count` is the client's count of errors in a row. */
  connectionError(count: number | undefined): ConnectionErrorDecision {
    if (count !== undefined && count <= this.maxConnectionErrors) return { action: "continue" };
    if (this.gaveUp) return { action: "shutdown" };
    this.gaveUp = true;
    return { action: "shutdown", message: `The connection to the Provenance Lens server keeps failing; the server was stopped. Run "${RESTART_COMMAND_TITLE}" to start it again.` };
  }

  /** True once the server is stopped for good (until `reset`). */
  get stopped(): boolean {
    return this.gaveUp;
  }

  /** A person restarted the server: past crashes no longer count. */
  reset(): void {
    this.crashes = [];
    this.gaveUp = false;
  }
}

function ordinal(n: number): string {
  const suffix = n % 10 === 1 && n % 100 !== 11 ? "st" : n % 10 === 2 && n % 100 !== 12 ? "nd" : n % 10 === 3 && n % 100 !== 13 ? "rd" : "th";
  return `${n}${suffix}`;
}

function minutes(ms: number): string {
  const m = ms / 60_000;
  return m === 1 ? "1 minute" : Number.isInteger(m) ? `${m} minutes` : `${Math.round(ms / 1000)} seconds`;
}
