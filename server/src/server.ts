// The language server, built from a connection and its dependencies (disk, checker factory, clock) so tests
// can run it over an in-memory stream pair with no process.
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
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
  RECHECK_REQUEST,
  STATUS_NOTIFICATION,
  type CheckedParams,
  type InitializationOptions,
  type RecheckResult,
  type StatusParams,
} from "./protocol/messages";
import { DEFAULT_SETTINGS, SETTINGS_SECTION, settingsFrom, type Settings } from "./protocol/settings";
import type { CheckerFactory } from "./features/checkerFactory";
import { DIAGNOSTIC_SOURCE, diagnosticsFor } from "./features/diagnostics";
import { describeError } from "./features/errors";
import { hoverFor } from "./features/hover";
import { analyzeLockfile, type LockfileAnalysis } from "./workspace/analyze";
import { findLockfiles, readManifests } from "./workspace/discovery";
import { errorCode, type FileSystem } from "./workspace/fileSystem";

/** Timers come in through here so a test (or another host) can drive them. */
export interface Clock {
  /** Runs `callback` after `ms`; the returned function cancels it. */
  schedule(callback: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  schedule(callback, ms) {
    const handle = setTimeout(callback, ms);
    return () => clearTimeout(handle);
  },
};

export interface ServerDeps {
  fs: FileSystem;
  createChecker: CheckerFactory;
  clock: Clock;
  /** Quiet time after an edit before re-parsing (default 200 ms). */
  editDebounceMs?: number;
}

interface LockfileState {
  analysis?: LockfileAnalysis;
  /** Document version the analysis is for; null when read from disk. */
  version: number | null;
}

interface Pending {
  cancelTimer: () => void;
  controller: AbortController;
}

export interface ProvenanceServer {
  dispose(): void;
}

export function createServer(connection: Connection, deps: ServerDeps): ProvenanceServer {
  const editDebounceMs = deps.editDebounceMs ?? 200;
  const documents = new TextDocuments(TextDocument);
  const results = new Map<string, LockfileState>();
  const pending = new Map<string, Pending>();
  const settingsCache = new Map<string, Promise<Settings>>();
  let workspaceFolders: string[] = [];
  let limited = false;
  let canPullConfiguration = false;
  let canRegisterWatchers = false;
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
    const folders = params.workspaceFolders ?? (params.rootUri ? [{ uri: params.rootUri, name: "" }] : []);
    workspaceFolders = folders.map((f) => f.uri).filter((uri) => uri.startsWith("file:"));
    return {
      capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental, hoverProvider: true },
      serverInfo: { name: "provenance-lens" },
    };
  });

  connection.onInitialized(
    guard("initialized", async () => {
      if (canRegisterWatchers && !clientWatchesFiles) {
        const names = [...LOCKFILE_NAMES, "package.json", "pnpm-workspace.yaml"];
        await connection.client.register(DidChangeWatchedFilesNotification.type, {
          watchers: [{ globPattern: `**/{${names.join(",")}}` }],
        });
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
        } else if (base === "package.json" || base === "pnpm-workspace.yaml") {
          // Manifests change which packages are direct; recheck lockfiles in this folder or above it.
          const folder = path.dirname(file);
          for (const uri of results.keys()) {
            const lockfileFolder = path.dirname(fileURLToPath(uri));
            if (folder === lockfileFolder || folder.startsWith(lockfileFolder + path.sep)) schedule(uri, editDebounceMs);
          }
        }
      }
    }, undefined),
  );

  connection.onDidChangeConfiguration(
    guard("didChangeConfiguration", () => {
      settingsCache.clear();
      for (const uri of knownLockfiles()) schedule(uri, 0);
    }, undefined),
  );

  connection.onHover(
    guard("hover", (params) => {
      const state = results.get(params.textDocument.uri);
      const document = documents.get(params.textDocument.uri);
      // A result for an older version would point at the wrong lines.
      if (state?.analysis === undefined || (document !== undefined && document.version !== state.version)) return null;
      return hoverFor(state.analysis, params.position) ?? null;
    }, null),
  );

  connection.onRequest(
    RECHECK_REQUEST,
    guard("recheck", async (): Promise<RecheckResult> => {
      settingsCache.clear();
      await checkWorkspace();
      for (const uri of knownLockfiles()) schedule(uri, 0);
      return { lockfiles: knownLockfiles().size };
    }, { lockfiles: 0 }),
  );

  documents.listen(connection);

  function isLockfileUri(uri: string): boolean {
    return uri.startsWith("file:") && isLockfileName(uri);
  }

  function knownLockfiles(): Set<string> {
    return new Set([...results.keys(), ...documents.keys().filter(isLockfileUri)]);
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
        if (!results.has(uri) && documents.get(uri) === undefined) schedule(uri, 0);
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
    try {
      const file = fileURLToPath(uri);
      const settings = await settingsFor(uri);
      const document = documents.get(uri);
      const version = document?.version ?? null;
      if (!settings.enable) {
        if (signal.aborted) return;
        done();
        results.delete(uri);
        void connection.sendDiagnostics({ uri, diagnostics: [] });
        sendChecked({ uri, version, packages: 0, problems: 0, diagnostics: 0 });
        return;
      }
      let text: string;
      if (document !== undefined) text = document.getText();
      else {
        try {
          text = await deps.fs.readFile(file, signal);
        } catch (error) {
          if (signal.aborted) return;
          if (errorCode(error) === undefined) throw error;
          done();
          forget(uri); // Deleted or unreadable: nothing to show.
          return;
        }
      }
      const reading = await readManifests(deps.fs, path.dirname(file));
      for (const warning of reading.warnings) connection.console.warn(warning);
      const offline = settings.offline || limited;
      const analysis = await analyzeLockfile({
        path: file,
        text,
        manifests: reading.manifests,
        checker: deps.createChecker({ offline, trusted: !limited }),
        offline,
        includeDev: settings.includeDev,
        signal,
      });
      if (signal.aborted) return;
      done();
      const diagnostics = diagnosticsFor(analysis);
      results.set(uri, { analysis, version });
      void connection.sendDiagnostics({ uri, version: version ?? undefined, diagnostics });
      sendChecked({ uri, version, packages: analysis.packages.length, problems: analysis.parsed.problems.length, diagnostics: diagnostics.length });
    } catch (error) {
      if (signal.aborted) return;
      done();
      logError(`Checking ${uri} failed`, error);
      results.delete(uri);
      const diagnostic: Diagnostic = {
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: 1,
        code: "internal-error",
        source: DIAGNOSTIC_SOURCE,
        message: `Provenance Lens could not check this lockfile (${error instanceof Error ? error.message : String(error)}). Details are in the output channel.`,
      };
      void connection.sendDiagnostics({ uri, diagnostics: [diagnostic] });
      sendChecked({ uri, version: null, packages: 0, problems: 0, diagnostics: 1 });
    } finally {
      if (!signal.aborted) sendStatus();
    }
  }

  function settingsFor(uri: string): Promise<Settings> {
    if (!canPullConfiguration) return Promise.resolve(DEFAULT_SETTINGS);
    const folder = workspaceFolders.filter((f) => uri.startsWith(f.endsWith("/") ? f : `${f}/`)).sort((a, b) => b.length - a.length)[0] ?? uri;
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
    let lockfiles = 0;
    for (const state of results.values()) {
      if (state.analysis === undefined) continue;
      lockfiles++;
      problems += state.analysis.parsed.problems.length;
      for (const verdict of state.analysis.result.verdicts.values()) {
        byStatus[verdict.status]++;
        packages++;
      }
    }
    const params: StatusParams = { state: pending.size > 0 ? "checking" : "idle", lockfiles, packages, byStatus, problems, limited };
    void connection.sendNotification(STATUS_NOTIFICATION, params);
  }

  return {
    dispose() {
      disposed = true;
      for (const uri of [...pending.keys()]) cancel(uri);
    },
  };
}
