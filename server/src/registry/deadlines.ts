// Deadlines of requests in flight, on one timer instead of one timer each.
//
// Issue #7: a cold check makes ~2,000 requests, and arming and clearing a Node timer per attempt (plus the idle timer
// of its connection) was ~40 ms of the main thread, ~4% of the check. Requests in flight are few (one per socket), so
// the earliest deadline is found by a scan; the one timer is re-armed only when a deadline earlier than the armed one
// comes in, which with one timeout for every request is almost never.

export interface Deadline {
  /** performance.now() at which it expires. */
  readonly at: number;
  readonly onExpire: () => void;
}

export class Deadlines {
  readonly #pending = new Set<Deadline>();
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (Infinity: none armed). */
  #armedAt = Infinity;

  /**
   * Calls `onExpire` once `ms` have passed, unless `clear` comes first. The timer keeps the process alive while any
   * deadline is pending, as a timer per request did.
   */
  add(ms: number, onExpire: () => void): Deadline {
    const deadline: Deadline = { at: performance.now() + ms, onExpire };
    this.#pending.add(deadline);
    if (deadline.at < this.#armedAt) this.#arm(deadline.at);
    return deadline;
  }

  clear(deadline: Deadline): void {
    if (!this.#pending.delete(deadline) || this.#pending.size > 0) return;
    // Nothing left to wait for: a pending timer must not keep an idle process alive.
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  get size(): number {
    return this.#pending.size;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedAt = at;
    // Timers fire no earlier than asked, rounded to whole milliseconds; Node clamps anything above 2^31-1 ms to 1 ms.
    this.#timer = setTimeout(() => this.#fire(), Math.min(Math.max(0, Math.ceil(at - performance.now())), 2 ** 31 - 1));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = performance.now();
    const expired: Deadline[] = [];
    let earliest = Infinity;
    for (const deadline of this.#pending) {
      if (deadline.at <= now) expired.push(deadline);
      else if (deadline.at < earliest) earliest = deadline.at;
    }
    for (const deadline of expired) this.#pending.delete(deadline);
    if (earliest !== Infinity) this.#arm(earliest);
    // After the bookkeeping: a callback may add or clear deadlines (a cancelled request frees a slot for the next).
    for (const deadline of expired) deadline.onExpire();
  }
}
