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
} from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import { isLockfileName, LOCKFILE_NAMES } from "./lockfile/index";
import {
  CHECKED_NOTIFICATION,
  emptyByStatus,
  POLICY_FILE_NAME,
  STATUS_NOTIFICATION,
  type CheckedParams,
  type InitializationOptions,
  type StatusParams,
} from "./protocol/messages";
import { DEFAULT_SETTINGS, SETTINGS_SECTION, settingsFrom, type Settings } from "./protocol/settings";
import type { CheckerFactory } from "./features/checkerFactory";
import { TrustFiles } from "./features/checkerOptions";
import { FIX_ALL_KIND, listCodeActions, resolveCodeAction, type ActionData, type CandidateFinder } from "./features/codeActions";
import { registerCustomRequests, ReviewSession } from "./features/customRequests";
import { DiagnosticMemo, diagnosticsFor } from "./features/diagnostics";
import { describeError } from "./features/errors";
import { hoverFor } from "./features/hover";
import { checkLockfile, lockfileDiagnostic } from "./features/lockfileCheck";
import { readOptional, type CheckedLockfile } from "./features/lockfileState";
import { effectiveLevels, loadFolderPolicy, policyFileDiagnostics, type FolderPolicy } from "./features/policy";
import { startProgress } from "./features/progress";
import { changedKeys, reviewOf } from "./features/review";
import { summaryLens } from "./features/tree";
import { findVerifiedCandidates, type CandidateAnswer } from "./verify/candidates";
import type { Checker } from "./verify/checker";
import { VerificationEngine } from "./verify/engine";
import { findLockfiles } from "./workspace/discovery";
import type { FileSystem } from "./workspace/fileSystem";

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
  /** Quiet time after an edit in a burst before re-parsing; an edit after a pause is checked at once (default 30 ms: a re-check with cached verdicts takes ~80 ms on the 52k-line lockfile, and the whole edit-to-diagnostics budget is 100 ms; superseded checks are cancelled anyway). */
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
  /** When each open lockfile last changed (the clock's ms): tells an edit after a pause from one in a burst. */
  const lastEdit = new Map<string, number>();
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
  const review = new ReviewSession();
  /** Lockfile-level diagnostics of the last check (settings problems, trust bundle coverage), by lockfile uri. */
  const extraDiagnostics = new Map<string, Diagnostic[]>();
  /** Each lockfile's package diagnostics of its last check, re-used by the next (an edit changes few of them). */
  const memos = new Map<string, DiagnosticMemo>();
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
      // The first version, and an edit after a pause (nothing typed for the debounce time and no check of it waiting or
      // running), are checked at once; an edit in a burst waits until typing pauses (issue #7: edit -> diagnostics).
      const uri = event.document.uri;
      const at = now();
      const previous = lastEdit.get(uri);
      lastEdit.set(uri, at);
      const first = event.document.version <= 1 && !results.has(uri);
      const paused = previous === undefined || at - previous >= editDebounceMs;
      schedule(uri, first || (paused && !pending.has(uri)) ? 0 : editDebounceMs);
    }, undefined),
  );

  // The editor's copy is gone: what counts again is the file on disk.
  documents.onDidClose(
    guard("didClose", (event) => {
      lastEdit.delete(event.document.uri);
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

  registerCustomRequests(connection, {
    results,
    review,
    checking: () => pending.size > 0,
    limited: () => limited,
    forgetSettings: () => {
      settingsCache.clear();
      trustFiles.clear();
    },
    forgetCandidates: () => candidates.clear(),
    clearCaches,
    checkWorkspace,
    knownLockfiles,
    schedule,
    folderOf,
    reviewFolderOf,
    reviewFolders,
    readText,
    publish,
    sendStatus,
    guard,
  });

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

  /** Publishes a checked lockfile's diagnostics (again after a review starts or ends). */
  function publish(state: CheckedLockfile): number {
    const only = review.active !== undefined && state.settings.diagnosticsChangedOnly && state.review !== undefined ? changedKeys(state.review) : undefined;
    const diagnostics = diagnosticsFor(state.analysis, {
      levels: effectiveLevels(state.policy, state.settings.severity),
      manifests: state.manifests,
      outcomeOf: state.outcomeOf,
      dependents: state.dependents,
      memo: memoOf(state.uri),
      ...(only !== undefined ? { only } : {}),
    });
    diagnostics.push(...(extraDiagnostics.get(state.uri) ?? []));
    if (!disposed) void connection.sendDiagnostics({ uri: state.uri, version: state.version ?? undefined, diagnostics });
    return diagnostics.length;
  }

  function memoOf(uri: string): DiagnosticMemo {
    let memo = memos.get(uri);
    if (memo === undefined) {
      memo = new DiagnosticMemo();
      memos.set(uri, memo);
    }
    return memo;
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
    memos.delete(uri);
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
      const checked = await checkLockfile({
        uri,
        file,
        text,
        version,
        folderUri: folderOf(uri),
        settings,
        limited,
        policyFile: path.join(reviewFolderOf(uri), POLICY_FILE_NAME),
        signal,
        now: now(),
        fs: deps.fs,
        policyFs,
        trustFiles,
        createChecker: deps.createChecker,
        withProgress: (checker) => withProgress(checker, uri, controller),
        onPolicy: (policy) => void publishPolicy(policy.path, policy),
        log,
        logOnce,
      });
      if (checked === undefined) {
        stoppedByUser();
        return;
      }
      const { state, extra } = checked;
      const active = review.active;
      if (active !== undefined) {
        const reviewed = await reviewOf(state, active, reviewFolderOf(uri), signal);
        if (signal.aborted) return;
        if (typeof reviewed === "string") review.problems.set(uri, reviewed);
        else {
          state.review = reviewed;
          review.problems.delete(uri);
        }
      }
      done();
      results.set(uri, state);
      extraDiagnostics.set(uri, extra);
      const published = publish(state);
      sendChecked({ uri, version, packages: state.analysis.packages.length, problems: state.analysis.parsed.problems.length, diagnostics: published });
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
