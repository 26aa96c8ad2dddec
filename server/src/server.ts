// The language server, built from a connection and its dependencies (disk, checker factory, clock) so tests
// can run it over an in-memory stream pair with no process.
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  ConnectionError,
  ErrorCodes,
  ResponseError,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type Diagnostic,
  type InitializeResult,
  type WorkspaceEdit,
} from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import { isLockfileName, LOCKFILE_NAMES } from "./lockfile/index";
import {
  ACCEPT_EDIT_REQUEST,
  CHECKED_NOTIFICATION,
  CLEAR_CACHE_REQUEST,
  emptyByStatus,
  END_REVIEW_REQUEST,
  POLICY_FILE_NAME,
  RECHECK_REQUEST,
  REVIEW_REFS_REQUEST,
  REVIEW_REQUEST,
  STATUS_NOTIFICATION,
  TREE_REQUEST,
  type AcceptEditParams,
  type ReviewParams,
  type ReviewRefsResult,
  type ReviewResult,
  type CheckedParams,
  type ClearCacheResult,
  type InitializationOptions,
  type RecheckParams,
  type RecheckResult,
  type StatusParams,
  type TreeParams,
  type TreeResult,
} from "./protocol/messages";
import { DEFAULT_SETTINGS, SETTINGS_SECTION, settingsFrom, type Settings } from "./protocol/settings";
import type { CheckerFactory } from "./features/checkerFactory";
import { TrustFiles } from "./features/checkerOptions";
import { FIX_ALL_KIND, listCodeActions, resolveCodeAction, type ActionData, type CandidateFinder } from "./features/codeActions";
import { DIAGNOSTIC_SOURCE, diagnosticsFor, docsLink } from "./features/diagnostics";
import { describeError } from "./features/errors";
import { exceptionTextEdits } from "./features/policyEdits";
import { hoverFor } from "./features/hover";
import { effectiveLevels, loadFolderPolicy, outcomeOf, policyFileDiagnostics, type FolderPolicy } from "./features/policy";
import { changedKeys, reviewLockfileOf, reviewOf, reviewRefs, startReview, type ActiveReview } from "./features/review";
import { lockfileCoverageWarning } from "./bundle/index";
import { checkedLockfile, readManifestTexts, readOptional, type CheckedLockfile } from "./features/lockfileState";
import { startProgress } from "./features/progress";
import { summaryLens, treeLockfileOf } from "./features/tree";
import { findVerifiedCandidates, type CandidateAnswer } from "./verify/candidates";
import type { Checker } from "./verify/checker";
import { VerificationEngine } from "./verify/engine";
import { analyzeLockfile } from "./workspace/analyze";
import { findLockfiles, readManifests } from "./workspace/discovery";
import type { FileSystem } from "./workspace/fileSystem";
import type { CheckerOptions } from "./features/checkerFactory";

/** Timers come in through here so a test (or another host) can drive them. */
export interface Clock {
  /** Runs `callback` after `ms`; the returned function cancels it. */
  schedule(callback: () => void, ms: number): () => void;
  /** Milliseconds since the epoch (exception expiry). Default Date.now. */
  now?(): number;
}

export const systemClock: Clock = {
  schedule(callback, ms) {
    const handle = setTimeout(callback, ms);
    return () => clearTimeout(handle);
  },
  now: () => Date.now(),
};

export interface ServerDeps {
  fs: FileSystem;
  createChecker: CheckerFactory;
  clock: Clock;
  /** Quiet time after an edit before re-parsing (default 30 ms: a re-check with cached verdicts takes ~80 ms on the 52k-line lockfile, and the whole edit-to-diagnostics budget is 100 ms; superseded checks are cancelled anyway). */
  editDebounceMs?: number;
}

interface Pending {
  cancelTimer: () => void;
  controller: AbortController;
  /** Set when a person cancelled it from the progress notification. */
  byUser?: boolean;
}

export interface ProvenanceServer {
  dispose(): void;
}

const WATCHED = [...LOCKFILE_NAMES, "package.json", "pnpm-workspace.yaml", POLICY_FILE_NAME];

export function createServer(connection: Connection, deps: ServerDeps): ProvenanceServer {
  const editDebounceMs = deps.editDebounceMs ?? 30;
  const now = () => deps.clock.now?.() ?? Date.now();
  const documents = new TextDocuments(TextDocument);
  const results = new Map<string, CheckedLockfile>();
  const pending = new Map<string, Pending>();
  const settingsCache = new Map<string, Promise<Settings>>();
  const trustFiles = new TrustFiles(deps.fs);
  const candidates = new Map<string, Promise<CandidateAnswer | undefined>>();
  let workspaceFolders: string[] = [];
  let limited = false;
  let canPullConfiguration = false;
  let canRegisterWatchers = false;
  let canShowProgress = false;
  let canRefreshLenses = false;
  let clientWatchesFiles = false;
  let disposed = false;
  let activeReview: ActiveReview | undefined;
  /** Why a lockfile could not be reviewed, by lockfile uri (while a review is active). */
  const reviewProblems = new Map<string, string>();
  /** Lockfile-level diagnostics of the last check (settings problems, trust bundle coverage), by lockfile uri. */
  const extraDiagnostics = new Map<string, Diagnostic[]>();
  /** What was last published for each policy file, so a check of every lockfile does not re-send it. */
  const policyPublished = new Map<string, string>();
  /** Output lines said once (which trust bundle and root are used, a bundle that does not cover a lockfile). */
  const saidOnce = new Set<string>();
  /** The policy file as the editor has it (unsaved edits apply at once), else the disk. */
  const policyFs: FileSystem = {
    readFile: async (file, signal) => documents.get(pathToFileURL(file).href)?.getText() ?? deps.fs.readFile(file, signal),
    readDirectory: (dir) => deps.fs.readDirectory(dir),
  };

  /**
   * Logging never throws: a client that goes away (its connection closed or disposed while a request of ours is still
   * pending) must not turn the rejected request into an exception on a dead connection.
   */
  function log(kind: "error" | "warn" | "info", message: string): void {
    if (disposed) return;
    try {
      connection.console[kind](message);
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      disposed = true; // Nothing can reach the client any more; stop scheduling work for it.
    }
  }
  const logError = (what: string, error: unknown) => log("error", `${what}: ${describeError(error)}`);
  const logOnce = (message: string) => {
    if (!saidOnce.has(message)) log("info", message);
    saidOnce.add(message);
  };
  /** A rejection that only says the connection ended (client gone, disposed): not an error of ours. */
  const connectionEnded = (error: unknown) =>
    disposed || error instanceof ConnectionError || (error instanceof ResponseError && error.code === ErrorCodes.PendingResponseRejected);

  /** Every handler goes through this: an unexpected error is logged, never thrown at the connection. */
  function guard<A extends unknown[], R>(what: string, handler: (...args: A) => R | Promise<R>, fallback: R) {
    return async (...args: A): Promise<R> => {
      try {
        return await handler(...args);
      } catch (error) {
        logError(what, error);
        return fallback;
      }
    };
  }

  connection.onInitialize((params): InitializeResult => {
    const options = (params.initializationOptions ?? {}) as InitializationOptions;
    limited = options.workspaceTrusted === false;
    clientWatchesFiles = options.clientWatchesFiles === true;
    canPullConfiguration = params.capabilities.workspace?.configuration === true;
    canRegisterWatchers = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    canShowProgress = params.capabilities.window?.workDoneProgress === true;
    canRefreshLenses = params.capabilities.workspace?.codeLens?.refreshSupport === true;
    const folders = params.workspaceFolders ?? (params.rootUri ? [{ uri: params.rootUri, name: "" }] : []);
    workspaceFolders = folders.map((f) => f.uri).filter((uri) => uri.startsWith("file:"));
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND], resolveProvider: true },
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: "provenance-lens" },
    };
  });

  connection.onInitialized(
    guard("initialized", async () => {
      if (canRegisterWatchers && !clientWatchesFiles) {
        await connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: `**/{${WATCHED.join(",")}}` }] });
      }
      await checkWorkspace();
    }, undefined),
  );

  documents.onDidChangeContent(
    guard("didChangeContent", (event) => {
      if (isPolicyUri(event.document.uri)) return policyChanged(fileURLToPath(event.document.uri));
      if (!isLockfileUri(event.document.uri)) return;
      // The first version is checked at once; later edits wait until typing pauses.
      schedule(event.document.uri, event.document.version <= 1 && !results.has(event.document.uri) ? 0 : editDebounceMs);
    }, undefined),
  );

  // The editor's copy is gone: what counts again is the file on disk.
  documents.onDidClose(
    guard("didClose", (event) => {
      if (isLockfileUri(event.document.uri)) schedule(event.document.uri, 0);
      else if (isPolicyUri(event.document.uri)) policyChanged(fileURLToPath(event.document.uri));
    }, undefined),
  );

  connection.onDidChangeWatchedFiles(
    guard("didChangeWatchedFiles", (params) => {
      for (const change of params.changes) {
        if (!change.uri.startsWith("file:")) continue;
        const file = fileURLToPath(change.uri);
        const base = path.basename(file);
        if (isLockfileName(base)) {
          if (documents.get(change.uri) !== undefined) continue; // The open editor's text wins over the disk.
          if (change.type === FileChangeType.Deleted) forget(change.uri);
          else schedule(change.uri, editDebounceMs);
        } else if (base === POLICY_FILE_NAME) {
          if (documents.get(change.uri) === undefined) policyChanged(file);
        } else if (base === "package.json" || base === "pnpm-workspace.yaml") {
          // Manifests change which packages are direct, the policy file what is accepted: recheck lockfiles at or below.
          candidates.clear();
          const folder = path.dirname(file);
          for (const uri of knownLockfiles()) {
            const lockfileFolder = path.dirname(fileURLToPath(uri));
            const related = folder === lockfileFolder || folder.startsWith(lockfileFolder + path.sep);
            if (related) schedule(uri, editDebounceMs);
          }
        }
      }
    }, undefined),
  );

  connection.onDidChangeConfiguration(
    guard("didChangeConfiguration", () => {
      settingsCache.clear();
      trustFiles.clear();
      candidates.clear();
      policyPublished.clear();
      for (const uri of knownLockfiles()) schedule(uri, 0);
      void publishFolderPolicies();
    }, undefined),
  );

  /** The current result for a document, unless the editor has moved on (it would point at the wrong lines). */
  function current(uri: string): CheckedLockfile | undefined {
    const state = results.get(uri);
    const document = documents.get(uri);
    return state === undefined || (document !== undefined && document.version !== state.version) ? undefined : state;
  }

  connection.onHover(
    guard("hover", (params) => {
      const state = current(params.textDocument.uri);
      return state === undefined ? null : (hoverFor(state.analysis, params.position, state) ?? null);
    }, null),
  );

  connection.onCodeLens(guard("codeLens", (params) => {
    const state = current(params.textDocument.uri);
    return state === undefined ? [] : [summaryLens(state.analysis, state.uri)];
  }, []));

  const findCandidates: CandidateFinder = (state, pkg, range) => {
    const checker = state.checker;
    if (!(checker instanceof VerificationEngine) || limited || state.settings.offline) return Promise.resolve(undefined);
    const key = JSON.stringify([state.uri, pkg.name, pkg.version, range]);
    let found = candidates.get(key);
    if (found === undefined) {
      found = findVerifiedCandidates(checker, { lockfilePath: state.path, name: pkg.name, range, current: pkg.version }).catch((error: unknown) => {
        logError(`Looking for verified versions of ${pkg.name} failed`, error);
        candidates.delete(key);
        return undefined;
      });
      candidates.set(key, found);
    }
    return found;
  };

  connection.onCodeAction(
    guard("codeAction", async (params) => {
      const state = current(params.textDocument.uri);
      return state === undefined ? [] : listCodeActions(state, params.range, params.context.only, findCandidates);
    }, []),
  );

  connection.onCodeActionResolve(
    guard("codeAction/resolve", async (action) => {
      const data = action.data as ActionData | undefined;
      const state = data === undefined ? undefined : results.get(data.lockfileUri);
      if (state === undefined) return action;
      return resolveCodeAction(action, { state, find: findCandidates, readText });
    }, { title: "" }),
  );

  connection.onRequest(
    TREE_REQUEST,
    guard("tree", (params: TreeParams | undefined): TreeResult => {
      const lockfiles = [...results.values()]
        .filter((s) => params?.uri === undefined || s.uri === params.uri)
        .sort((a, b) => a.uri.localeCompare(b.uri))
        .map((s) => treeLockfileOf(s.analysis, s.uri, s.folderUri, s.dependents, s.outcomeOf, s.notesOf));
      const review = reviewResult();
      return { lockfiles, limited, state: pending.size > 0 ? "checking" : "idle", ...(review !== undefined ? { review } : {}) };
    }, { lockfiles: [], limited: false, state: "idle" }),
  );

  connection.onRequest(
    RECHECK_REQUEST,
    guard("recheck", async (params: RecheckParams | undefined): Promise<RecheckResult> => {
      settingsCache.clear();
      trustFiles.clear();
      candidates.clear();
      if (params?.ignoreCache === true) await clearCaches();
      await checkWorkspace();
      for (const uri of knownLockfiles()) schedule(uri, 0);
      return { lockfiles: knownLockfiles().size };
    }, { lockfiles: 0 }),
  );

  connection.onRequest(
    CLEAR_CACHE_REQUEST,
    guard("clearCache", async (): Promise<ClearCacheResult> => {
      const caches = await clearCaches();
      candidates.clear();
      for (const uri of knownLockfiles()) schedule(uri, 0);
      return { caches };
    }, { caches: 0 }),
  );

  connection.onRequest(
    ACCEPT_EDIT_REQUEST,
    guard("acceptEdit", async (params: AcceptEditParams): Promise<WorkspaceEdit | null> => {
      const policyUri = pathToFileURL(path.join(fileURLToPath(folderOf(params.lockfileUri) ?? params.lockfileUri.replace(/\/[^/]*$/, "")), POLICY_FILE_NAME)).href;
      const existing = await readText(policyUri);
      const { edits } = exceptionTextEdits(existing, params.exception);
      if (existing !== undefined) return { changes: { [policyUri]: edits } };
      return { documentChanges: [{ kind: "create", uri: policyUri, options: { ignoreIfExists: true } }, { textDocument: { uri: policyUri, version: null }, edits }] };
    }, null),
  );

  connection.onRequest(
    REVIEW_REFS_REQUEST,
    guard("reviewRefs", async (): Promise<ReviewRefsResult> => {
      const folder = reviewFolders()[0];
      return folder === undefined ? { refs: [], problem: "No workspace folder or lockfile to review." } : reviewRefs(folder);
    }, { refs: [], problem: "Listing the refs failed; see the output." }),
  );

  connection.onRequest(
    REVIEW_REQUEST,
    guard("review", async (params: ReviewParams): Promise<ReviewResult | null> => {
      const review = await startReview(params.ref, params.label, reviewFolders());
      activeReview = review;
      reviewProblems.clear();
      await Promise.all([...results.values()].map(async (state) => {
        const reviewed = await reviewOf(state, review, reviewFolderOf(state.uri));
        if (activeReview !== review) return;
        if (typeof reviewed === "string") reviewProblems.set(state.uri, reviewed);
        else state.review = reviewed;
        publish(state);
      }));
      sendStatus();
      return reviewResult() ?? null;
    }, null),
  );

  connection.onRequest(
    END_REVIEW_REQUEST,
    guard("endReview", (): null => {
      activeReview = undefined;
      reviewProblems.clear();
      for (const state of results.values()) {
        delete state.review;
        publish(state);
      }
      sendStatus();
      return null;
    }, null),
  );

  documents.listen(connection);

  function isPolicyUri(uri: string): boolean {
    return uri.startsWith("file:") && path.basename(fileURLToPath(uri)) === POLICY_FILE_NAME;
  }

  /** Where a lockfile's policy file and git repository are looked for: its workspace folder, else its own folder. */
  function reviewFolderOf(uri: string): string {
    const folder = folderOf(uri);
    return folder !== undefined ? fileURLToPath(folder) : path.dirname(fileURLToPath(uri));
  }

  function reviewFolders(): string[] {
    return [...new Set([...workspaceFolders.map((f) => fileURLToPath(f)), ...[...results.keys()].map(reviewFolderOf)])];
  }

  function reviewResult(): ReviewResult | undefined {
    const review = activeReview;
    if (review === undefined) return undefined;
    const problems = [...review.revisions.values()].flatMap((r) => (r.ok ? [] : [r.reason]));
    const commit = [...review.revisions.values()].find((r) => r.ok);
    const lockfiles = [...results.values()].sort((a, b) => a.uri.localeCompare(b.uri)).flatMap((s) => (s.review === undefined ? [] : [reviewLockfileOf(s, s.review)]));
    return { ref: review.ref, label: review.label, ...(commit?.ok ? { commit: commit.revision.commit } : {}), lockfiles, problems: [...new Set([...problems, ...reviewProblems.values()])] };
  }

  /** The policy file changed (edited, saved, created, deleted): show its problems, and check the lockfiles it governs. */
  function policyChanged(file: string): void {
    if (disposed) return;
    const folder = path.dirname(file);
    void publishPolicy(file);
    for (const uri of knownLockfiles()) {
      const policyDir = reviewFolderOf(uri);
      if (policyDir === folder) schedule(uri, editDebounceMs);
    }
  }

  async function publishPolicy(file: string, loaded?: FolderPolicy): Promise<void> {
    const uri = pathToFileURL(file).href;
    try {
      const policy = loaded ?? (await loadFolderPolicy(policyFs, file, limited));
      const settings = await settingsFor(uri);
      const diagnostics = policy.loaded.found ? policyFileDiagnostics(policy, settings.severity, now()) : [];
      const said = JSON.stringify(diagnostics);
      if (disposed || policyPublished.get(uri) === said || (!policy.loaded.found && !policyPublished.has(uri))) return;
      policyPublished.set(uri, said);
      void connection.sendDiagnostics({ uri, diagnostics });
    } catch (error) {
      logError(`Reading ${file} failed`, error);
    }
  }

  async function publishFolderPolicies(): Promise<void> {
    for (const folder of workspaceFolders) await publishPolicy(path.join(fileURLToPath(folder), POLICY_FILE_NAME));
  }

  /** The policy's registries on top of the settings' (untrusted workspaces never get here: loadFolderPolicy drops them). */
  function withPolicyRegistries(options: CheckerOptions, policy: FolderPolicy): CheckerOptions {
    const declared = policy.registries;
    if (declared === undefined || options.trustBundle !== undefined) return options;
    const mirrors = [...(options.mirrorsOfNpmjs ?? []), ...declared.mirrorsOfNpmjs];
    const keys = [...(options.registryKeys ?? []), ...(declared.registryKeys ?? [])];
    return { ...options, ...(mirrors.length > 0 ? { mirrorsOfNpmjs: mirrors } : {}), ...(keys.length > 0 ? { registryKeys: keys } : {}) };
  }

  /** Publishes a checked lockfile's diagnostics (again after a review starts or ends). */
  function publish(state: CheckedLockfile): number {
    const only = activeReview !== undefined && state.settings.diagnosticsChangedOnly && state.review !== undefined ? changedKeys(state.review) : undefined;
    const diagnostics = diagnosticsFor(state.analysis, {
      levels: effectiveLevels(state.policy, state.settings.severity),
      manifests: state.manifests,
      outcomeOf: state.outcomeOf,
      dependents: state.dependents,
      ...(only !== undefined ? { only } : {}),
    });
    diagnostics.push(...(extraDiagnostics.get(state.uri) ?? []));
    if (!disposed) void connection.sendDiagnostics({ uri: state.uri, version: state.version ?? undefined, diagnostics });
    return diagnostics.length;
  }

  function isLockfileUri(uri: string): boolean {
    return uri.startsWith("file:") && isLockfileName(uri);
  }

  function knownLockfiles(): Set<string> {
    return new Set([...results.keys(), ...documents.keys().filter(isLockfileUri)]);
  }

  /** The innermost workspace folder holding `uri`. */
  function folderOf(uri: string): string | undefined {
    return workspaceFolders.filter((f) => uri.startsWith(f.endsWith("/") ? f : `${f}/`)).sort((a, b) => b.length - a.length)[0];
  }

  async function readText(uri: string): Promise<string | undefined> {
    return documents.get(uri)?.getText() ?? readOptional(deps.fs, fileURLToPath(uri));
  }

  async function clearCaches(): Promise<number> {
    const engines = new Set([...results.values()].map((s) => s.checker).filter((c) => c instanceof VerificationEngine));
    for (const engine of engines) await engine.options.cache?.clear();
    return engines.size;
  }

  async function checkWorkspace(): Promise<void> {
    for (const folder of workspaceFolders) {
      let lockfiles: string[];
      try {
        lockfiles = await findLockfiles(deps.fs, fileURLToPath(folder));
      } catch (error) {
        log("warn", `Could not search ${folder} for lockfiles: ${String(error)}`);
        continue;
      }
      for (const file of lockfiles) {
        const uri = pathToFileURL(file).href;
        if (!results.has(uri) && documents.get(uri) === undefined && !pending.has(uri)) schedule(uri, 0);
      }
    }
    await publishFolderPolicies();
  }

  /** Runs a check of `uri` after `delay`, cancelling any check of it that is waiting or running. */
  function schedule(uri: string, delay: number): void {
    if (disposed) return;
    cancel(uri);
    const controller = new AbortController();
    const cancelTimer = deps.clock.schedule(() => void run(uri, controller), delay);
    pending.set(uri, { cancelTimer, controller });
    if (pending.size === 1) sendStatus();
  }

  function cancel(uri: string): void {
    const previous = pending.get(uri);
    if (previous === undefined) return;
    previous.cancelTimer();
    previous.controller.abort(new Error("Superseded by a newer check."));
    pending.delete(uri);
  }

  function forget(uri: string): void {
    cancel(uri);
    results.delete(uri);
    extraDiagnostics.delete(uri);
    void connection.sendDiagnostics({ uri, diagnostics: [] });
    sendChecked({ uri, version: null, packages: 0, problems: 0, diagnostics: 0 });
    sendStatus();
  }

  async function run(uri: string, controller: AbortController): Promise<void> {
    const signal = controller.signal;
    const done = () => {
      if (pending.get(uri)?.controller === controller) pending.delete(uri);
    };
    const document = documents.get(uri);
    const version = document?.version ?? null;
    /** A check stopped by a person: the previous result stays; tell waiters it ended. */
    const stoppedByUser = () => {
      if (pending.get(uri)?.controller !== controller || pending.get(uri)?.byUser !== true) return false;
      done();
      sendChecked({ uri, version, cancelled: true, packages: 0, problems: 0, diagnostics: 0 });
      sendStatus();
      return true;
    };
    try {
      const file = fileURLToPath(uri);
      const settings = await settingsFor(uri);
      if (!settings.enable) {
        if (signal.aborted) return;
        done();
        results.delete(uri);
        void connection.sendDiagnostics({ uri, diagnostics: [] });
        sendChecked({ uri, version, packages: 0, problems: 0, diagnostics: 0 });
        return;
      }
      const text = document !== undefined ? document.getText() : await readOptional(deps.fs, file, signal);
      if (signal.aborted) return;
      if (text === undefined) {
        done();
        forget(uri); // Deleted or unreadable: nothing to show.
        return;
      }
      const lockfileDir = path.dirname(file);
      const reading = await readManifests(deps.fs, lockfileDir);
      for (const warning of reading.warnings) log("warn", warning);
      const folderUri = folderOf(uri);
      const policyFile = path.join(reviewFolderOf(uri), POLICY_FILE_NAME);
      const policy = await loadFolderPolicy(policyFs, policyFile, limited, signal);
      void publishPolicy(policyFile, policy);
      const trust = await trustFiles.optionsFor(settings, limited);
      for (const line of trust.info) logOnce(line);
      const options = withPolicyRegistries(trust.options, policy);
      const extra = trust.problems.map((problem) => lockfileDiagnostic("settings-problem", problem, 2));
      const uncovered = options.trustBundle === undefined ? undefined : lockfileCoverageWarning(options.trustBundle, file, text);
      if (uncovered !== undefined) {
        // Said once per lockfile: one diagnostic on its first line, and once in the output.
        extra.push(lockfileDiagnostic("trust-bundle-coverage", uncovered, 2));
        logOnce(uncovered);
      }
      const checker = deps.createChecker(options);
      const analysis = await analyzeLockfile({
        path: file,
        text,
        manifests: reading.manifests,
        checker: withProgress(checker, uri, controller),
        offline: options.offline,
        includeDev: settings.includeDev,
        signal,
      });
      if (signal.aborted) {
        stoppedByUser();
        return;
      }
      // Offline nothing was fetched, so "serves no signatures" would be about our own silence (engine reports it anyway).
      if (options.offline) analysis.result.notices = analysis.result.notices.filter((n) => n.kind !== "no-signatures");
      const manifests = await readManifestTexts(deps.fs, lockfileDir, reading.manifests);
      if (signal.aborted) return;
      const outcome = outcomeOf(policy, analysis, now(), settings.severity);
      const state = checkedLockfile({ uri, path: file, folderUri, version, analysis, manifests, policy, outcome, settings, checker, offline: options.offline, limited });
      const review = activeReview;
      if (review !== undefined) {
        const reviewed = await reviewOf(state, review, reviewFolderOf(uri), signal);
        if (signal.aborted) return;
        if (typeof reviewed === "string") reviewProblems.set(uri, reviewed);
        else {
          state.review = reviewed;
          reviewProblems.delete(uri);
        }
      }
      done();
      results.set(uri, state);
      extraDiagnostics.set(uri, extra);
      const published = publish(state);
      sendChecked({ uri, version, packages: analysis.packages.length, problems: analysis.parsed.problems.length, diagnostics: published });
      refreshLenses();
    } catch (error) {
      if (signal.aborted) {
        stoppedByUser();
        return;
      }
      done();
      logError(`Checking ${uri} failed`, error);
      results.delete(uri);
      const message = `Provenance Lens could not check this lockfile (${error instanceof Error ? error.message : String(error)}). Details are in the output channel.`;
      void connection.sendDiagnostics({ uri, diagnostics: [lockfileDiagnostic("internal-error", message, 1)] });
      sendChecked({ uri, version: null, packages: 0, problems: 0, diagnostics: 1 });
    } finally {
      if (!signal.aborted) sendStatus();
    }
  }

  /** The checker, with its progress shown (cancellable) while it runs. */
  function withProgress(checker: Checker, uri: string, controller: AbortController): Checker {
    if (!canShowProgress) return checker;
    return {
      async check(request) {
        if (request.packages.length === 0) return checker.check(request);
        const progress = await startProgress(connection, `Checking ${path.basename(fileURLToPath(uri))}`, request.packages.length, () => {
          const entry = pending.get(uri);
          if (entry?.controller !== controller) return;
          entry.byUser = true;
          controller.abort(new Error("Cancelled."));
        });
        try {
          return await checker.check({ ...request, onProgress: (doneCount, total) => progress.report(doneCount, total) });
        } finally {
          progress.done();
        }
      },
    };
  }

  /** Asks the client to re-read CodeLenses. A client that went away meanwhile is no error (see `log`). */
  function refreshLenses(): void {
    if (!canRefreshLenses || disposed) return;
    // Through a promise: a connection already closed throws synchronously from sendRequest.
    Promise.resolve()
      .then(() => connection.sendRequest(CodeLensRefreshRequest.type))
      .catch((error: unknown) => {
        if (!connectionEnded(error)) logError("CodeLens refresh", error);
      });
  }

  function lockfileDiagnostic(code: string, message: string, severity: 1 | 2): Diagnostic {
    return { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity, code, codeDescription: { href: docsLink(code) }, source: DIAGNOSTIC_SOURCE, message };
  }

  function settingsFor(uri: string): Promise<Settings> {
    if (!canPullConfiguration) return Promise.resolve(DEFAULT_SETTINGS);
    const folder = folderOf(uri) ?? uri;
    let cached = settingsCache.get(folder);
    if (cached === undefined) {
      cached = connection.workspace.getConfiguration({ scopeUri: folder, section: SETTINGS_SECTION }).then(settingsFrom, (error: unknown) => {
        logError("Reading settings failed; using the defaults", error);
        return DEFAULT_SETTINGS;
      });
      settingsCache.set(folder, cached);
    }
    return cached;
  }

  function sendChecked(params: CheckedParams): void {
    if (disposed) return;
    void connection.sendNotification(CHECKED_NOTIFICATION, params);
  }

  function sendStatus(): void {
    if (disposed) return;
    const byStatus = emptyByStatus();
    let packages = 0;
    let problems = 0;
    for (const state of results.values()) {
      problems += state.analysis.parsed.problems.length;
      for (const verdict of state.analysis.result.verdicts.values()) {
        byStatus[verdict.status]++;
        packages++;
      }
    }
    const params: StatusParams = { state: pending.size > 0 ? "checking" : "idle", lockfiles: results.size, packages, byStatus, problems, limited };
    void connection.sendNotification(STATUS_NOTIFICATION, params);
  }

  return {
    dispose() {
      disposed = true;
      for (const uri of [...pending.keys()]) cancel(uri);
    },
  };
}
