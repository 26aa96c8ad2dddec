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
  type InitializeResult,
} from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import { isLockfileName, LOCKFILE_NAMES } from "./lockfile/index";
import { POLICY_FILE_NAME, type InitializationOptions } from "./protocol/messages";
import { DEFAULT_SETTINGS, SETTINGS_SECTION, settingsFrom, type Settings } from "./protocol/settings";
import type { CheckerFactory } from "./features/checkerFactory";
import { TrustFiles } from "./features/checkerOptions";
import { CandidateCache, FIX_ALL_KIND, listCodeActions, resolveCodeAction, type ActionData } from "./features/codeActions";
import { CheckQueue, type Clock } from "./features/checkQueue";
import { registerCustomRequests, ReviewSession } from "./features/customRequests";
import { hoverFor } from "./features/hover";
import { checkLockfile, lockfileDiagnostic } from "./features/lockfileCheck";
import { lastParse, readOptional, type CheckedLockfile } from "./features/lockfileState";
import { loadFolderPolicy } from "./features/policy";
import { withProgress } from "./features/progress";
import { Publisher } from "./features/publisher";
import { reviewOf } from "./features/review";
import { ServerLog, type ServerLife } from "./features/serverLog";
import { summaryLens } from "./features/tree";
import { VerificationEngine } from "./verify/engine";
import { findLockfiles } from "./workspace/discovery";
import type { FileSystem } from "./workspace/fileSystem";

export { systemClock, type Clock } from "./features/checkQueue";

export interface ServerDeps {
  fs: FileSystem;
  createChecker: CheckerFactory;
  clock: Clock;
  /** Quiet time after an edit in a burst before re-parsing; an edit after a pause is checked at once (default 30 ms: a re-check with cached verdicts takes ~80 ms on the 52k-line lockfile, and the whole edit-to-diagnostics budget is 100 ms; superseded checks are cancelled anyway). */
  editDebounceMs?: number;
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
  const pending = new CheckQueue({ clock: deps.clock, debounceMs: editDebounceMs, run: (uri, controller) => void run(uri, controller), onBusy: () => sendStatus() });
  const settingsCache = new Map<string, Promise<Settings>>();
  const trustFiles = new TrustFiles(deps.fs);
  const candidates = new CandidateCache(() => limited, (what, error) => out.error(what, error));
  let workspaceFolders: string[] = [];
  let limited = false;
  let canPullConfiguration = false;
  let canRegisterWatchers = false;
  let canShowProgress = false;
  let canRefreshLenses = false;
  let clientWatchesFiles = false;
  const life: ServerLife = { disposed: false };
  const out = new ServerLog(connection, life);
  /** Every handler goes through this: an unexpected error is logged, never thrown at the connection. */
  function guard<A extends unknown[], R>(what: string, handler: (...args: A) => R | Promise<R>, fallback: R): (...args: A) => Promise<R> {
    return out.guard(what, handler, fallback);
  }
  const review = new ReviewSession();
  /** The policy file as the editor has it (unsaved edits apply at once), else the disk. */
  const policyFs: FileSystem = {
    readFile: async (file, signal) => documents.get(pathToFileURL(file).href)?.getText() ?? deps.fs.readFile(file, signal),
    readDirectory: (dir) => deps.fs.readDirectory(dir),
  };
  const publisher = new Publisher({
    connection,
    life,
    log: out,
    review,
    results,
    checking: () => pending.size > 0,
    limited: () => limited,
    loadPolicy: (file) => loadFolderPolicy(policyFs, file, limited),
    settingsFor,
    now,
  });
  const sendStatus = () => publisher.status();
  const publish = (state: CheckedLockfile) => publisher.lockfile(state);

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
      if (!life.disposed) pending.edited(event.document.uri, event.document.version <= 1 && !results.has(event.document.uri));
    }, undefined),
  );

  // The editor's copy is gone: what counts again is the file on disk.
  documents.onDidClose(
    guard("didClose", (event) => {
      pending.closed(event.document.uri);
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
      publisher.forgetPolicies();
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

  const findCandidates = candidates.find;

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
    if (life.disposed) return;
    const folder = path.dirname(file);
    void publisher.policy(file);
    for (const uri of knownLockfiles()) {
      const policyDir = reviewFolderOf(uri);
      if (policyDir === folder) schedule(uri, editDebounceMs);
    }
  }

  async function publishFolderPolicies(): Promise<void> {
    for (const folder of workspaceFolders) await publisher.policy(path.join(fileURLToPath(folder), POLICY_FILE_NAME));
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
        out.log("warn", `Could not search ${folder} for lockfiles: ${String(error)}`);
        continue;
      }
      for (const file of lockfiles) {
        const uri = pathToFileURL(file).href;
        if (!results.has(uri) && documents.get(uri) === undefined && !pending.has(uri)) schedule(uri, 0);
      }
    }
    await publishFolderPolicies();
  }

  function schedule(uri: string, delay: number): void {
    if (!life.disposed) pending.schedule(uri, delay);
  }

  function forget(uri: string): void {
    pending.cancel(uri);
    results.delete(uri);
    publisher.forget(uri);
    publisher.checked({ uri, version: null, packages: 0, problems: 0, diagnostics: 0 });
    sendStatus();
  }

  async function run(uri: string, controller: AbortController): Promise<void> {
    const signal = controller.signal;
    const done = () => pending.done(uri, controller);
    const document = documents.get(uri);
    const version = document?.version ?? null;
    /** A check stopped by a person: the previous result stays; tell waiters it ended. */
    const stoppedByUser = () => {
      if (!pending.stoppedByUser(uri, controller)) return false;
      done();
      publisher.checked({ uri, version, cancelled: true, packages: 0, problems: 0, diagnostics: 0 });
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
        publisher.forget(uri);
        publisher.checked({ uri, version, packages: 0, problems: 0, diagnostics: 0 });
        return;
      }
      document?.positionAt(0); // Its line index, built here rather than on the first edit (~20 ms at 52k lines, issue #7).
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
        previous: lastParse(results.get(uri)),
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
        withProgress: (checker) => (canShowProgress ? withProgress(connection, checker, `Checking ${path.basename(file)}`, () => pending.cancelledByUser(uri, controller)) : checker),
        onPolicy: (policy) => void publisher.policy(policy.path, policy),
        log: (kind, message) => out.log(kind, message),
        logOnce: (message) => out.once(message),
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
      const published = publisher.lockfile(state, extra);
      publisher.checked({ uri, version, packages: state.analysis.packages.length, problems: state.analysis.parsed.problems.length, diagnostics: published });
      refreshLenses();
    } catch (error) {
      if (signal.aborted) {
        stoppedByUser();
        return;
      }
      done();
      out.error(`Checking ${uri} failed`, error);
      results.delete(uri);
      const message = `Provenance Lens could not check this lockfile (${error instanceof Error ? error.message : String(error)}). Details are in the output channel.`;
      publisher.send(uri, [lockfileDiagnostic("internal-error", message, 1)]);
      publisher.checked({ uri, version: null, packages: 0, problems: 0, diagnostics: 1 });
    } finally {
      if (!signal.aborted) sendStatus();
    }
  }

  /** Asks the client to re-read CodeLenses. A client that went away meanwhile is no error (see `log`). */
  function refreshLenses(): void {
    if (!canRefreshLenses || life.disposed) return;
    // Through a promise: a connection already closed throws synchronously from sendRequest.
    Promise.resolve()
      .then(() => connection.sendRequest(CodeLensRefreshRequest.type))
      .catch((error: unknown) => {
        if (!out.connectionEnded(error)) out.error("CodeLens refresh", error);
      });
  }

  function settingsFor(uri: string): Promise<Settings> {
    if (!canPullConfiguration) return Promise.resolve(DEFAULT_SETTINGS);
    const folder = folderOf(uri) ?? uri;
    let cached = settingsCache.get(folder);
    if (cached === undefined) {
      cached = connection.workspace.getConfiguration({ scopeUri: folder, section: SETTINGS_SECTION }).then(settingsFrom, (error: unknown) => {
        out.error("Reading settings failed; using the defaults", error);
        return DEFAULT_SETTINGS;
      });
      settingsCache.set(folder, cached);
    }
    return cached;
  }

  return {
    dispose() {
      life.disposed = true;
      pending.cancelAll();
    },
  };
}
