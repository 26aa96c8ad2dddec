// Worker thread entry: verifies attestation bundles and registry signatures off the main thread (issue #7: a cold
// check is CPU bound by Sigstore verification, pure-JS ASN.1 and X.509 included, and by ECDSA over thousands of
// registry signatures, so both run on every core). Bundled as dist/verifyWorker.js.
import { parentPort } from "node:worker_threads";
import type { ProvenanceVerdict } from "../protocol/verdicts";
import type { RegistryKey } from "./npmKeys";
import type { AttestedVersion } from "./provenance";
import { verifyRegistrySignature, type RegistrySignatureResult, type SignedVersion } from "./signatures";
import type { LoadedTrustedRoot, TrustedRootSource } from "./trustedRoot";

// The Sigstore side (provenance.ts, trustedRoot.ts and the @sigstore libraries under them) is required on the first
// attestation task, not at start: a check of registry signatures only never needs it, and loading it was ~40 ms of each
// worker's start on the core the main thread's network work competes for (issue #7).
type Sigstore = typeof import("./provenance") & typeof import("./trustedRoot");
let sigstore: Sigstore | undefined;
function sigstoreSide(): Sigstore {
  sigstore ??= { ...(require("./provenance") as typeof import("./provenance")), ...(require("./trustedRoot") as typeof import("./trustedRoot")) };
  return sigstore;
}

export interface AttestationTask {
  kind: "attestation";
  id: number;
  pkg: AttestedVersion;
  doc: unknown;
  /** Sent to each worker with its first task of that digest only (a worker keeps the roots it has read). */
  root: { text?: string; source: TrustedRootSource; path?: string; digest: string };
  keys: readonly RegistryKey[];
}

/** Same inputs and the same result as `verifyRegistrySignature` on the main thread. */
export interface SignatureTask {
  kind: "signature";
  id: number;
  pkg: SignedVersion;
  keys: readonly RegistryKey[];
}

export type VerifyTask = AttestationTask | SignatureTask;

export type VerifyAnswer =
  | { id: number; verdict: ProvenanceVerdict }
  | { id: number; signature: RegistrySignatureResult }
  | { id: number; error: string };

const roots = new Map<string, LoadedTrustedRoot>();

function rootOf(task: AttestationTask): LoadedTrustedRoot {
  let root = roots.get(task.root.digest);
  if (root === undefined) {
    // The pool sends the text with the first task of each digest, to each worker: without it this is a pool bug.
    if (task.root.text === undefined) throw new Error(`trusted root ${task.root.digest} was never sent to this worker`);
    const loaded = sigstoreSide().trustedRootFromJSON(task.root.text, task.root.source, task.root.path);
    // The main thread loaded the same text successfully: failing here is a bug, reported as such.
    if (!loaded.ok) throw new Error(loaded.reason);
    root = loaded.root;
    roots.set(task.root.digest, root);
  }
  return root;
}

function answerOf(task: VerifyTask): VerifyAnswer {
  try {
    if (task.kind === "signature") return { id: task.id, signature: verifyRegistrySignature(task.pkg, task.keys) };
    const { verifyAttestations, prepareTrust } = sigstoreSide();
    return { id: task.id, verdict: verifyAttestations(task.pkg, task.doc, { trust: prepareTrust(rootOf(task), task.keys) }) };
  } catch (error) {
    return { id: task.id, error: error instanceof Error ? error.stack ?? error.message : String(error) };
  }
}

// Tasks come in batches and their answers go back as one message: each message wakes the other thread, and on a
// loaded machine every wake-up can cost the sender its core (issue #7: postMessage was 14% of the main thread).
parentPort?.on("message", (tasks: VerifyTask[]) => {
  parentPort?.postMessage(tasks.map(answerOf));
});
