// The server's output channel and handler guard. Logging never throws: a client that goes away (its connection closed
// or disposed while a request of ours is still pending) must not turn the rejected request into an exception on a dead
// connection. Split out of server.ts.
import { ConnectionError, ErrorCodes, ResponseError, type Connection } from "vscode-languageserver";
import { describeError } from "./errors";

/** Shared with the server: set once nothing can reach the client any more, so that no more work is scheduled for it. */
export interface ServerLife {
  disposed: boolean;
}

export class ServerLog {
  /** Lines said once (which trust bundle and root are used, a bundle that does not cover a lockfile). */
  readonly #said = new Set<string>();

  constructor(
    private readonly connection: Connection,
    private readonly life: ServerLife,
  ) {}

  log(kind: "error" | "warn" | "info", message: string): void {
    if (this.life.disposed) return;
    try {
      this.connection.console[kind](message);
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      this.life.disposed = true;
    }
  }

  error(what: string, error: unknown): void {
    this.log("error", `${what}: ${describeError(error)}`);
  }

  once(message: string): void {
    if (!this.#said.has(message)) this.log("info", message);
    this.#said.add(message);
  }

  /** A rejection that only says the connection ended (client gone, disposed): not an error of ours. */
  connectionEnded(error: unknown): boolean {
    return this.life.disposed || error instanceof ConnectionError || (error instanceof ResponseError && error.code === ErrorCodes.PendingResponseRejected);
  }

  /** Every handler goes through this: an unexpected error is logged, never thrown at the connection. */
  guard<A extends unknown[], R>(what: string, handler: (...args: A) => R | Promise<R>, fallback: R): (...args: A) => Promise<R> {
    return async (...args: A): Promise<R> => {
      try {
        return await handler(...args);
      } catch (error) {
        this.error(what, error);
        return fallback;
      }
    };
  }
}
