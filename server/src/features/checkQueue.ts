// When lockfile checks run: one waiting or running check per lockfile, superseded (aborted) by a newer one; an edit
// after a pause in typing is checked at once and an edit in a burst after the debounce (issue #7). Split out of
// server.ts; the check itself is the server's `run`.

/** Timers come in through here so a test (or another host) can drive them. */
export interface Clock {
  /** Runs `callback` after `ms`; the returned function cancels it. */
  schedule(callback: () => void, ms: number): () => void;
  /** Milliseconds since the epoch (exception expiry, telling a pause from a burst). Default Date.now. */
  now?(): number;
}

export const systemClock: Clock = {
  schedule(callback, ms) {
    const handle = setTimeout(callback, ms);
    return () => clearTimeout(handle);
  },
  now: () => Date.now(),
};

interface Pending {
  cancelTimer: () => void;
  controller: AbortController;
  /** Set when a person cancelled it from the progress notification. */
  byUser?: boolean;
}

export interface CheckQueueOptions {
  clock: Clock;
  /** Quiet time an edit in a burst waits for typing to pause. */
  debounceMs: number;
  /** Runs the check; `controller` aborts it when it is superseded or cancelled. */
  run(uri: string, controller: AbortController): void;
  /** Called when the queue goes from idle to busy (the status changes to "checking"). */
  onBusy(): void;
}

export class CheckQueue {
  readonly #pending = new Map<string, Pending>();
  /** When each open lockfile last changed (the clock's ms). */
  readonly #lastEdit = new Map<string, number>();

  constructor(private readonly options: CheckQueueOptions) {}

  get size(): number {
    return this.#pending.size;
  }

  has(uri: string): boolean {
    return this.#pending.has(uri);
  }

  /** Runs a check of `uri` after `delay`, cancelling any check of it that is waiting or running. */
  schedule(uri: string, delay: number): void {
    this.cancel(uri);
    const controller = new AbortController();
    const cancelTimer = this.options.clock.schedule(() => this.options.run(uri, controller), delay);
    this.#pending.set(uri, { cancelTimer, controller });
    if (this.#pending.size === 1) this.options.onBusy();
  }

  /**
   * An open lockfile changed. Its first version, and an edit after a pause (nothing typed for the debounce time and no
   * check of it waiting or running), are checked at once; an edit in a burst waits until typing pauses.
   */
  edited(uri: string, firstVersion: boolean): void {
    const at = this.options.clock.now?.() ?? Date.now();
    const previous = this.#lastEdit.get(uri);
    this.#lastEdit.set(uri, at);
    const paused = previous === undefined || at - previous >= this.options.debounceMs;
    this.schedule(uri, firstVersion || (paused && !this.#pending.has(uri)) ? 0 : this.options.debounceMs);
  }

  /** The editor closed it: its edits are over. */
  closed(uri: string): void {
    this.#lastEdit.delete(uri);
  }

  cancel(uri: string): void {
    const previous = this.#pending.get(uri);
    if (previous === undefined) return;
    previous.cancelTimer();
    previous.controller.abort(new Error("Superseded by a newer check."));
    this.#pending.delete(uri);
  }

  cancelAll(): void {
    for (const uri of [...this.#pending.keys()]) this.cancel(uri);
  }

  /** A person cancelled the check from its progress notification: the previous result stays. */
  cancelledByUser(uri: string, controller: AbortController): void {
    const entry = this.#pending.get(uri);
    if (entry?.controller !== controller) return;
    entry.byUser = true;
    controller.abort(new Error("Cancelled."));
  }

  /** Whether the check with `controller` is the one waiting or running for `uri` and a person stopped it. */
  stoppedByUser(uri: string, controller: AbortController): boolean {
    const entry = this.#pending.get(uri);
    return entry?.controller === controller && entry.byUser === true;
  }

  /** The check with `controller` ended (unless a newer one replaced it meanwhile). */
  done(uri: string, controller: AbortController): void {
    if (this.#pending.get(uri)?.controller === controller) this.#pending.delete(uri);
  }
}
