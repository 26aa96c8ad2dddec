// The extension's own requests (protocol/messages.ts): the trust tree, re-check, clearing the cache, accepting a
// finding in the policy file, and reviewing lockfiles against a git ref. Split out of server.ts; the server hands in
// what they act on (its checked lockfiles and scheduler) through `RequestHost`.
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Connection, WorkspaceEdit } from "vscode-languageserver";
import {
  ACCEPT_EDIT_REQUEST,
  CLEAR_CACHE_REQUEST,
  END_REVIEW_REQUEST,
  POLICY_FILE_NAME,
  RECHECK_REQUEST,
  REVIEW_REFS_REQUEST,
  REVIEW_REQUEST,
  TREE_REQUEST,
  type AcceptEditParams,
  type ClearCacheResult,
  type RecheckParams,
  type RecheckResult,
  type ReviewParams,
  type ReviewRefsResult,
  type ReviewResult,
  type TreeParams,
  type TreeResult,
} from "../protocol/messages";
import type { CheckedLockfile } from "./lockfileState";
import { exceptionTextEdits } from "./policyEdits";
import { reviewLockfileOf, reviewOf, reviewRefs, startReview, type ActiveReview } from "./review";
import { treeLockfileOf } from "./tree";

/** The review in progress, if any (issue #8): what `publish` limits diagnostics to and what the tree shows. */
export class ReviewSession {
  active: ActiveReview | undefined;
  /** Why a lockfile could not be reviewed, by lockfile uri (while a review is active). */
  readonly problems = new Map<string, string>();

  resultOf(checked: Iterable<CheckedLockfile>): ReviewResult | undefined {
    const review = this.active;
    if (review === undefined) return undefined;
    const problems = [...review.revisions.values()].flatMap((r) => (r.ok ? [] : [r.reason]));
    const commit = [...review.revisions.values()].find((r) => r.ok);
    const lockfiles = [...checked].sort((a, b) => a.uri.localeCompare(b.uri)).flatMap((s) => (s.review === undefined ? [] : [reviewLockfileOf(s, s.review)]));
    return { ref: review.ref, label: review.label, ...(commit?.ok ? { commit: commit.revision.commit } : {}), lockfiles, problems: [...new Set([...problems, ...this.problems.values()])] };
  }
}

/** What the requests need of the server. */
export interface RequestHost {
  readonly results: ReadonlyMap<string, CheckedLockfile>;
  readonly review: ReviewSession;
  /** Whether any check is waiting or running. */
  checking(): boolean;
  limited(): boolean;
  /** Forgets cached settings, trust files and verified candidates (they are read again on the next check). */
  forgetSettings(): void;
  forgetCandidates(): void;
  /** Empties every engine's verdict cache; resolves with how many caches there were. */
  clearCaches(): Promise<number>;
  checkWorkspace(): Promise<void>;
  knownLockfiles(): Set<string>;
  schedule(uri: string, delay: number): void;
  folderOf(uri: string): string | undefined;
  /** Where a lockfile's policy file and git repository are looked for. */
  reviewFolderOf(uri: string): string;
  reviewFolders(): string[];
  readText(uri: string): Promise<string | undefined>;
  publish(state: CheckedLockfile): void;
  sendStatus(): void;
  /** Wraps a handler so an unexpected error is logged and `fallback` answered. */
  guard<A extends unknown[], R>(what: string, handler: (...args: A) => R | Promise<R>, fallback: R): (...args: A) => Promise<R>;
}

export function registerCustomRequests(connection: Connection, host: RequestHost): void {
  const { guard, review } = host;

  connection.onRequest(
    TREE_REQUEST,
    guard("tree", (params: TreeParams | undefined): TreeResult => {
      const lockfiles = [...host.results.values()]
        .filter((s) => params?.uri === undefined || s.uri === params.uri)
        .sort((a, b) => a.uri.localeCompare(b.uri))
        .map((s) => treeLockfileOf(s.analysis, s.uri, s.folderUri, s.dependents, s.outcomeOf, s.notesOf));
      const reviewed = review.resultOf(host.results.values());
      return { lockfiles, limited: host.limited(), state: host.checking() ? "checking" : "idle", ...(reviewed !== undefined ? { review: reviewed } : {}) };
    }, { lockfiles: [], limited: false, state: "idle" }),
  );

  connection.onRequest(
    RECHECK_REQUEST,
    guard("recheck", async (params: RecheckParams | undefined): Promise<RecheckResult> => {
      host.forgetSettings();
      host.forgetCandidates();
      if (params?.ignoreCache === true) await host.clearCaches();
      await host.checkWorkspace();
      for (const uri of host.knownLockfiles()) host.schedule(uri, 0);
      return { lockfiles: host.knownLockfiles().size };
    }, { lockfiles: 0 }),
  );

  connection.onRequest(
    CLEAR_CACHE_REQUEST,
    guard("clearCache", async (): Promise<ClearCacheResult> => {
      const caches = await host.clearCaches();
      host.forgetCandidates();
      for (const uri of host.knownLockfiles()) host.schedule(uri, 0);
      return { caches };
    }, { caches: 0 }),
  );

  connection.onRequest(
    ACCEPT_EDIT_REQUEST,
    guard("acceptEdit", async (params: AcceptEditParams): Promise<WorkspaceEdit | null> => {
      const folder = host.folderOf(params.lockfileUri) ?? params.lockfileUri.replace(/\/[^/]*$/, "");
      const policyUri = pathToFileURL(path.join(fileURLToPath(folder), POLICY_FILE_NAME)).href;
      const existing = await host.readText(policyUri);
      const { edits } = exceptionTextEdits(existing, params.exception);
      if (existing !== undefined) return { changes: { [policyUri]: edits } };
      return { documentChanges: [{ kind: "create", uri: policyUri, options: { ignoreIfExists: true } }, { textDocument: { uri: policyUri, version: null }, edits }] };
    }, null),
  );

  connection.onRequest(
    REVIEW_REFS_REQUEST,
    guard("reviewRefs", async (): Promise<ReviewRefsResult> => {
      const folder = host.reviewFolders()[0];
      return folder === undefined ? { refs: [], problem: "No workspace folder or lockfile to review." } : reviewRefs(folder);
    }, { refs: [], problem: "Listing the refs failed; see the output." }),
  );

  connection.onRequest(
    REVIEW_REQUEST,
    guard("review", async (params: ReviewParams): Promise<ReviewResult | null> => {
      const started = await startReview(params.ref, params.label, host.reviewFolders());
      review.active = started;
      review.problems.clear();
      await Promise.all([...host.results.values()].map(async (state) => {
        const reviewed = await reviewOf(state, started, host.reviewFolderOf(state.uri));
        if (review.active !== started) return;
        if (typeof reviewed === "string") review.problems.set(state.uri, reviewed);
        else state.review = reviewed;
        host.publish(state);
      }));
      host.sendStatus();
      return review.resultOf(host.results.values()) ?? null;
    }, null),
  );

  connection.onRequest(
    END_REVIEW_REQUEST,
    guard("endReview", (): null => {
      review.active = undefined;
      review.problems.clear();
      for (const state of host.results.values()) {
        delete state.review;
        host.publish(state);
      }
      host.sendStatus();
      return null;
    }, null),
  );
}
