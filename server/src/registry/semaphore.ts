// A counting semaphore whose waiters can give up (a Cancellation): bounds how many requests are in flight.
import type { Cancellation } from "./cancellation";

export class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`Semaphore size must be a positive integer, got ${size}`);
    this.#free = size;
  }

  /** Takes a free slot now (call release() once) and says so; false when none is free or `signal` has aborted. */
  tryAcquire(signal?: Cancellation): boolean {
    if (signal?.aborted || this.#free === 0) return false;
    this.#free--;
    return true;
  }

  /** Resolves true with a slot held (call release() once), false when `signal` aborted first. */
  acquire(signal?: Cancellation): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const grant = (): void => {
        signal?.offCancel(onAbort);
        resolve(true);
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(grant);
        if (i !== -1) this.#waiters.splice(i, 1);
        resolve(false);
      };
      this.#waiters.push(grant);
      signal?.onCancel(onAbort);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next(); // the slot passes straight to the next waiter
    else this.#free = Math.min(this.size, this.#free + 1);
  }

  get inUse(): number {
    return this.size - this.#free;
  }
}
