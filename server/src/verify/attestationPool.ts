// A small pool of worker threads for Sigstore and registry-signature verification. Verification is pure CPU (ECDSA,
// X.509, ASN.1 in JS);
// on the main thread it serialises behind itself while the network waits. Workers start lazily, are kept for the
// process, and never keep it alive on their own.
import { existsSync } from "node:fs";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import type { ProvenanceVerdict } from "../protocol/verdicts";
import type { RegistryKey } from "./npmKeys";
import type { AttestedVersion } from "./provenance";
import { verifyRegistrySignature, type RegistrySignatureResult, type SignedVersion } from "./signatures";
import type { LoadedTrustedRoot } from "./trustedRoot";
import type { VerifyAnswer, VerifyTask } from "./verifyWorker";

let workerThreadsOnce: typeof import("node:worker_threads") | undefined;

interface Slot {
  worker: Worker;
  /** Digests of the trusted roots whose text this worker has been sent (it keeps them for its life). */
  roots: Set<string>;
  busy: number;
  idle?: NodeJS.Timeout;
  /** Tasks not yet posted (see verifyWorker's batches). */
  queue: VerifyTask[];
  /** Batches posted whose answers have not come back; at MAX_IN_FLIGHT new tasks wait in `queue`. */
  inFlight: number;
  /** A flush is scheduled after the current I/O callbacks. */
  immediate?: NodeJS.Immediate;
  /** A flush is scheduled for signature tasks waiting for company (SIGNATURE_BATCH_MS). */
  timer?: NodeJS.Timeout;
  /** This thread is scheduled to take queued signature tasks itself (see #help). */
  helping?: NodeJS.Immediate;
}

/** The longest stretch this thread spends verifying queued signatures before it looks at I/O again. */
const HELP_SLICE_MS = 1;

/** Idle workers are stopped after this long: each holds its own heap (tens of MB) that a long-lived server should give back. */
const IDLE_MS = 5_000;

/**
 * Signature tasks are ~0.15 ms of ECDSA each, so a worker answers a small batch before the next packument arrives, and
 * every batch costs a message and a thread wake-up each way (a cold check of 2,000 signatures posted 328 batches of
 * ~6). So signature tasks wait up to SIGNATURE_BATCH_MS for company, or until SIGNATURE_BATCH are queued: ~225
 * messages. Longer waits stalled the engine's lanes, which wait for their signature before the next fetch. Attestation
 * tasks (10-30 ms each) go at once: a worker left idle costs more than a message.
 */
const SIGNATURE_BATCH_MS = 4;
const SIGNATURE_BATCH = 16;
/**
 * Batches a worker may have been sent and not yet answered. With one, a worker that answered waited for this thread to
 * read the answer before it got more work, and in a cold check this thread is the busy one: the worker sat idle for
 * ~40% of the check while this thread verified more than half the signatures itself. With two, the next batch is
 * already waiting when the worker answers (issue #7, 2,000 signatures, 16 interleaved runs: this thread's CPU 680 ->
 * 610 ms, wall 860 -> 823 ms; three in flight gained nothing more).
 */
const MAX_IN_FLIGHT = 2;

interface Pending {
  resolve: (answer: VerifyAnswer) => void;
  reject: (error: Error) => void;
  slot: Slot;
}

/** The worker script next to this module: dist/verifyWorker.js when bundled, the .js or .ts source otherwise. */
export function workerScript(): string | undefined {
  for (const name of ["verifyWorker.js", "verifyWorker.ts"]) {
    const file = path.join(__dirname, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

export class AttestationPool {
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #broken: string | undefined;
  /** Signature tasks this thread verified itself while a worker was busy (see #help); for tests and benchmarks. */
  helped = 0;

  constructor(readonly size: number, readonly script: string | undefined = workerScript()) {}

  /** Why the pool cannot be used (no worker script, a worker that failed to start); callers then verify inline. */
  get unavailable(): string | undefined {
    return this.script === undefined ? "the verification worker script is missing" : this.#broken;
  }

  /**
   * Starts the first worker now, when a check knows it will verify: its start-up (~50 ms of a new isolate and the
   * bundle) then overlaps the first requests instead of delaying the first verification, which every lane waits for.
   */
  warm(): void {
    if (this.#slots.length > 0 || this.unavailable !== undefined) return;
    const slot = this.#start();
    this.#slots.push(slot);
    // Retired like any idle worker if no task comes (every package blocked, say): a server must not keep its heap.
    slot.idle = setTimeout(() => this.#retire(slot), IDLE_MS);
    slot.idle.unref();
  }

  async verify(pkg: AttestedVersion, doc: unknown, root: LoadedTrustedRoot, keys: readonly RegistryKey[]): Promise<ProvenanceVerdict> {
    const answer = await this.#submit("attestation", (slot, id) => {
      const text = slot.roots.has(root.digest) ? undefined : root.text;
      slot.roots.add(root.digest);
      return { kind: "attestation", id, pkg, doc, root: { text, source: root.source, path: root.path, digest: root.digest }, keys: [...keys] };
    });
    if ("verdict" in answer) return answer.verdict;
    throw new Error(`verification worker answered an attestation task with ${Object.keys(answer).join(", ")}`);
  }

  /** `verifyRegistrySignature` on a worker: same inputs, same result. */
  async verifySignature(pkg: SignedVersion, keys: readonly RegistryKey[]): Promise<RegistrySignatureResult> {
    const answer = await this.#submit("signature", (_, id) => ({ kind: "signature", id, pkg, keys: [...keys] }));
    if ("signature" in answer) return answer.signature;
    throw new Error(`verification worker answered a signature task with ${Object.keys(answer).join(", ")}`);
  }

  #submit(kind: VerifyTask["kind"], taskFor: (slot: Slot, id: number) => VerifyTask): Promise<VerifyAnswer> {
    const slot = this.#pick(kind);
    const id = this.#next++;
    const task = taskFor(slot, id);
    return new Promise<VerifyAnswer>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, slot });
      if (slot.busy++ === 0) slot.worker.ref();
      clearTimeout(slot.idle);
      // A worker with room (fewer than MAX_IN_FLIGHT batches unanswered) gets its batch once the current I/O callbacks
      // are done (signatures: once the batch is full or has waited SIGNATURE_BATCH_MS); a full one gets everything
      // queued meanwhile as soon as it answers a batch, so batches grow when workers lag.
      const queued = slot.queue.push(task);
      const full = slot.inFlight >= MAX_IN_FLIGHT;
      if (full && task.kind === "signature") slot.helping ??= setImmediate(() => this.#help(slot));
      if (full || slot.immediate !== undefined) return;
      if (task.kind === "signature" && queued < SIGNATURE_BATCH) slot.timer ??= setTimeout(() => this.#flush(slot), SIGNATURE_BATCH_MS);
      else slot.immediate = setImmediate(() => this.#flush(slot));
    });
  }

  async close(): Promise<void> {
    for (const slot of this.#slots) {
      clearTimeout(slot.timer);
      clearImmediate(slot.immediate);
      clearImmediate(slot.helping);
    }
    await Promise.all(this.#slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  #flush(slot: Slot): void {
    clearTimeout(slot.timer);
    clearImmediate(slot.immediate);
    slot.timer = slot.immediate = undefined;
    if (slot.inFlight >= MAX_IN_FLIGHT || slot.queue.length === 0) return;
    const tasks = slot.queue;
    slot.queue = [];
    // A worker that failed meanwhile already rejected these (its pending entries are gone): nothing to send.
    if (!this.#slots.includes(slot)) return;
    slot.inFlight++;
    slot.worker.postMessage(tasks);
  }

  /**
   * While the worker is busy with its batches, this thread verifies queued signature tasks itself, newest first, in
   * slices of HELP_SLICE_MS between its I/O callbacks (setImmediate runs once the pending I/O has been handled). Issue
   * #7: in a cold check the other core carries the worker, V8's compiler and the registry, and was the one that limited
   * the check, while this thread sat idle between answers for ~20% of it. The worker keeps the oldest tasks; nothing
   * is verified twice (a task leaves the queue before it is verified here or posted there).
   */
  #help(slot: Slot): void {
    slot.helping = undefined;
    if (slot.inFlight < MAX_IN_FLIGHT || !this.#slots.includes(slot)) return;
    const signatureNext = (): boolean => slot.queue.length > 0 && slot.queue[slot.queue.length - 1].kind === "signature";
    const until = performance.now() + HELP_SLICE_MS;
    while (signatureNext() && performance.now() < until) {
      const task = slot.queue.pop() as Extract<VerifyTask, { kind: "signature" }>;
      let answer: VerifyAnswer;
      try {
        answer = { id: task.id, signature: verifyRegistrySignature(task.pkg, task.keys) };
      } catch (error) {
        answer = { id: task.id, error: error instanceof Error ? error.message : String(error) };
      }
      this.helped++;
      this.#settle(slot, answer);
    }
    if (slot.inFlight >= MAX_IN_FLIGHT && signatureNext()) slot.helping = setImmediate(() => this.#help(slot));
  }

  #settle(slot: Slot, answer: VerifyAnswer): void {
    const pending = this.#pending.get(answer.id);
    if (pending === undefined) return;
    this.#pending.delete(answer.id);
    if (--slot.busy === 0) {
      slot.worker.unref();
      slot.idle = setTimeout(() => this.#retire(slot), IDLE_MS);
      slot.idle.unref();
    }
    if ("error" in answer) pending.reject(new Error(`verification worker: ${answer.error}`));
    else pending.resolve(answer);
  }

  /**
   * The least busy worker; a new one starts when every worker is busy with attestations, or has fallen behind on
   * signatures. One worker keeps up with a check's signatures (~0.15 ms each), and each extra one costs ~50 ms of
   * start-up and its own JIT work on the core the main thread's network work competes for.
   */
  #pick(kind: VerifyTask["kind"]): Slot {
    const busy = kind === "signature" ? SIGNATURE_BATCH * 4 : 0;
    if (this.#slots.length < this.size && this.#slots.every((s) => s.busy > busy)) this.#slots.push(this.#start());
    return this.#slots.reduce((best, slot) => (slot.busy < best.busy ? slot : best));
  }

  #retire(slot: Slot): void {
    if (slot.busy > 0) return;
    const index = this.#slots.indexOf(slot);
    if (index !== -1) this.#slots.splice(index, 1);
    void slot.worker.terminate();
  }

  #start(): Slot {
    // Running from TypeScript sources (development and `node --import tsx`), loader flags do not reach workers on
    // Node 20: the worker registers tsx's require hook itself before loading its .ts entry.
    const script = this.script!;
    const options = { resourceLimits: { stackSizeMb: 4 } };
    // Required on the first worker: a check answered from the verdict cache starts none (~4 ms of every start).
    const { Worker } = (workerThreadsOnce ??= require("node:worker_threads") as typeof import("node:worker_threads"));
    const worker = script.endsWith(".ts")
      ? new Worker(`require("tsx/cjs"); require(${JSON.stringify(script)});`, { ...options, eval: true })
      : new Worker(script, options);
    const slot: Slot = { worker, roots: new Set(), busy: 0, queue: [], inFlight: 0 };
    worker.unref();
    worker.on("message", (answers: VerifyAnswer[]) => {
      slot.inFlight--;
      this.#flush(slot);
      for (const answer of answers) this.#settle(slot, answer);
    });
    const fail = (error: Error): void => {
      this.#broken = `a verification worker failed (${error.message})`;
      const index = this.#slots.indexOf(slot);
      if (index !== -1) this.#slots.splice(index, 1);
      for (const [id, pending] of this.#pending) {
        if (pending.slot !== slot) continue;
        this.#pending.delete(id);
        pending.reject(error);
      }
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      // Retired idle workers exit with code 1 (terminate()); only a worker that still owed answers failed.
      if (slot.busy > 0) fail(new Error(`exited with code ${code}`));
    });
    return slot;
  }
}
