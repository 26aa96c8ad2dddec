// Cancellation for the per-request path of the registry client.
//
// Why not AbortSignal all the way down: Node's AbortSignal is an EventTarget, and a cold check made one per request
// (the shared request's controller) and added and removed three listeners per request (the caller's signal, the
// connection slot, the attempt). In a cold check of 2,000 packages that was 40-60 ms of the main thread's ~700 ms
// (createAbortSignal, addEventListener, removeEventListener in --cpu-prof). A Cancellation is a flag and a set of
// callbacks; an AbortSignal from outside is adapted once, with one real listener however many requests wait on it.

export class Cancellation {
  #aborted = false;
  #callbacks: Set<() => void> | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Cancels once: callbacks run synchronously, in the order they were added; later calls do nothing. */
  cancel(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks !== undefined) for (const callback of callbacks) callback();
  }

  /**
   * Runs `callback` once when this is cancelled, until `offCancel(callback)`. Nothing runs for a cancellation that has
   * already happened: callers look at `aborted` first, as with AbortSignal. A set, so one function is held once: each
   * caller passes its own closure.
   */
  onCancel(callback: () => void): void {
    if (!this.#aborted) (this.#callbacks ??= new Set()).add(callback);
  }

  offCancel(callback: () => void): void {
    this.#callbacks?.delete(callback);
  }

  /** The Cancellation that follows `signal` (the same one for the same signal), or undefined for no signal. */
  static of(signal: AbortSignal | Cancellation | undefined): Cancellation | undefined {
    if (signal === undefined || signal instanceof Cancellation) return signal;
    let adapted = adaptedSignals.get(signal);
    if (adapted === undefined) {
      const created = new Cancellation();
      adaptedSignals.set(signal, created);
      if (signal.aborted) created.cancel();
      else signal.addEventListener("abort", () => created.cancel(), { once: true });
      adapted = created;
    }
    return adapted;
  }
}

// Weak: a signal (and its Cancellation) lives as long as its owner keeps it, not as long as the client.
const adaptedSignals = new WeakMap<AbortSignal, Cancellation>();
