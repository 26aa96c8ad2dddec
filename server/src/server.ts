// The language server, built from a connection and its dependencies (disk, checker factory, clock) so tests
// can run it over an in-memory stream pair with no process.
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  CodeActionKind,
  CodeLensRefreshRequest,
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
  POLICY_FILE_NAME,
  RECHECK_REQUEST,
  STATUS_NOTIFICATION,
  TREE_REQUEST,
  type AcceptEditParams,
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
import { exceptionTextEdits, readExceptions } from "./features/exceptions";
import { hoverFor } from "./features/hover";
import { checkedLockfile, readManifestTexts, readOptional, type CheckedLockfile } from "./features/lockfileState";
import { startProgress } from "./features/progress";
import { summaryLens, treeLockfileOf } from "./features/tree";
import { findVerifiedCandidates, type CandidateAnswer } from "./verify/candidates";
import type { Checker } from "./verify/checker";
import { VerificationEngine } from "./verify/engine";
import { analyzeLockfile } from "./workspace/analyze";
import { findLockfiles, readManifests } from "./workspace/discovery";
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
  /** Quiet time after an edit before re-parsing (default 200 ms). */
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
  const editDebounceMs = deps.editDebounceMs ?? 200;
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

  const logError = (what: string, error: unknown) => connection.console.error(`${what}: ${describeError(error)}`);

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
      if (!isLockfileUri(event.document.uri)) return;
      // The first version is checked at once; later edits wait until typing pauses.
      schedule(event.document.uri, event.document.version <= 1 && !results.has(event.document.uri) ? 0 : editDebounceMs);
    }, undefined),
  );

  // The editor's copy is gone: what counts again is the file on disk.
  documents.onDidClose(guard("didClose", (event) => { if (isLockfileUri(event.document.uri)) schedule(event.document.uri, 0); }, undefined));

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
        } else if (base === "package.json" || base === "pnpm-workspace.yaml" || base === POLICY_FILE_NAME) {
          // Manifests change which packages are direct, the policy file what is accepted: recheck lockfiles at or below.
          candidates.clear();
          const folder = path.dirname(file);
          for (const uri of knownLockfiles()) {
            const lockfileFolder = path.dirname(fileURLToPath(uri));
            const related = base === POLICY_FILE_NAME ? lockfileFolder === folder || lockfileFolder.startsWith(folder + path.sep) : folder === lockfileFolder || folder.startsWith(lockfileFolder + path.sep);
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
      for (const uri of knownLockfiles()) schedule(uri, 0);
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
        .map((s) => treeLockfileOf(s.analysis, s.uri, s.folderUri, s.dependents, (pkg) => s.acceptedBy(pkg)));
      return { lockfiles, limited, state: pending.size > 0 ? "checking" : "idle" };
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

  documents.listen(connection);

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
        connection.console.warn(`Could not search ${folder} for lockfiles: ${String(error)}`);
        continue;
      }
      for (const file of lockfiles) {
        const uri = pathToFileURL(file).href;
        if (!results.has(uri) && documents.get(uri) === undefined && !pending.has(uri)) schedule(uri, 0);
      }
    }
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
      for (const warning of reading.warnings) connection.console.warn(warning);
      const { options, problems } = await trustFiles.optionsFor(settings, limited);
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
      const folderUri = folderOf(uri);
      const policyFile = path.join(folderUri !== undefined ? fileURLToPath(folderUri) : lockfileDir, POLICY_FILE_NAME);
      const policy = readExceptions(await readText(pathToFileURL(policyFile).href));
      for (const problem of policy.problems) connection.console.warn(`${policyFile}: ${problem}`);
      const manifests = await readManifestTexts(deps.fs, lockfileDir, reading.manifests);
      if (signal.aborted) return;
      done();
      const state = checkedLockfile({ uri, path: file, folderUri, version, analysis, manifests, exceptions: policy.exceptions, settings, checker }, now);
      const diagnostics = diagnosticsFor(analysis, { levels: settings.severity, manifests, acceptedBy: state.acceptedBy, dependents: state.dependents });
      for (const problem of problems) diagnostics.push(lockfileDiagnostic("settings-problem", problem, 2));
      results.set(uri, state);
      void connection.sendDiagnostics({ uri, version: version ?? undefined, diagnostics });
      sendChecked({ uri, version, packages: analysis.packages.length, problems: analysis.parsed.problems.length, diagnostics: diagnostics.length });
      if (canRefreshLenses) connection.sendRequest(CodeLensRefreshRequest.type).catch((error: unknown) => {
        if (!disposed) logError("CodeLens refresh", error); // A connection closing under it is no error.
      });
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
