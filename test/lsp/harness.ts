// A minimal LSP client for tests: talks JSON-RPC to the real server, records what it is sent, and lets a
// test wait for a notification instead of sleeping.
import { existsSync } from "node:fs";
import { PassThrough } from "node:stream";
import * as path from "node:path";
import { createMessageConnection, ProgressType, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node";
import {
  createConnection,
  ProposedFeatures,
  StreamMessageReader as ServerReader,
  StreamMessageWriter as ServerWriter,
} from "vscode-languageserver/node";
import { parseOnlyFactory } from "../../server/src/features/checkerFactory";
import { createServer, systemClock, type ServerDeps } from "../../server/src/server";
import { nodeFileSystem } from "../../server/src/workspace/fileSystem";

/** The checkout, whether this runs from test/ (tsx) or from out/test/ (compiled). */
export const REPO = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();

export const FIXTURES = path.join(REPO, "test/fixtures/workspaces");

/** A clock whose timers fire only when the test says so: makes "superseded" deterministic. */
export class ManualClock {
  private timers = new Set<() => void>();
  schedule(callback: () => void, _ms: number): () => void {
    this.timers.add(callback);
    return () => this.timers.delete(callback);
  }
  get waiting(): number {
    return this.timers.size;
  }
  fireAll(): void {
    const due = [...this.timers];
    this.timers.clear();
    for (const callback of due) callback();
  }
}

export interface Received {
  method: string;
  params: any;
}

export interface ClientOptions {
  /** What `workspace/configuration` answers for the provenanceLens section (undefined: capability not declared). */
  settings?: Record<string, unknown>;
  workspaceFolders?: string[];
  initializationOptions?: Record<string, unknown>;
  /** Declare window.workDoneProgress: the server then reports progress (tokens are recorded in `progressTokens`). */
  progress?: boolean;
  /** Never answer `workspace/codeLens/refresh` (it stays pending until the connection goes). */
  holdCodeLensRefresh?: boolean;
}

export class TestClient {
  readonly received: Received[] = [];
  readonly logs: string[] = [];
  readonly progressTokens: (string | number)[] = [];
  private waiters: { method: string; predicate: (params: any) => boolean; resolve: (params: any) => void }[] = [];

  constructor(readonly connection: MessageConnection, private readonly options: ClientOptions, private readonly onDispose: () => void) {
    connection.onNotification((method: string, params: any) => this.record(method, params));
    connection.onRequest("workspace/configuration", (params: { items: unknown[] }) => params.items.map(() => this.options.settings ?? {}));
    connection.onRequest("client/registerCapability", () => null);
    connection.onRequest("window/workDoneProgress/create", (params: { token: string | number }) => {
      this.progressTokens.push(params.token);
      // The connection dispatches $/progress to per-token handlers, not to the catch-all notification handler.
      connection.onProgress(new ProgressType<unknown>(), params.token, (value) => this.record("$/progress", { token: params.token, value }));
      return null;
    });
    connection.onRequest("workspace/codeLens/refresh", () => {
      this.record("workspace/codeLens/refresh", null);
      // Held: the server's request stays pending (a client that goes away before answering).
      return this.options.holdCodeLensRefresh === true ? new Promise<null>(() => undefined) : null;
    });
    connection.listen();
  }

  private record(method: string, params: any): void {
    this.received.push({ method, params });
    if (method === "window/logMessage") this.logs.push(params.message);
    this.waiters = this.waiters.filter((w) => {
      if (w.method !== method || !w.predicate(params)) return true;
      w.resolve(params);
      return false;
    });
  }

  /** Resolves with the next notification of `method` that satisfies `predicate`. Call before triggering it. */
  next<P = any>(method: string, predicate: (params: P) => boolean = () => true): Promise<P> {
    return new Promise((resolve) => this.waiters.push({ method, predicate, resolve }));
  }

  async initialize(): Promise<any> {
    const result = await this.connection.sendRequest("initialize", {
      processId: null, // A number would start the server's parent-process watchdog (process.exit).
      rootUri: null,
      workspaceFolders: (this.options.workspaceFolders ?? []).map((uri) => ({ uri, name: path.basename(uri) })),
      capabilities: {
        workspace: { configuration: this.options.settings !== undefined, didChangeWatchedFiles: { dynamicRegistration: true }, codeLens: { refreshSupport: true } },
        textDocument: { hover: { contentFormat: ["markdown"] }, publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true } },
        window: { workDoneProgress: this.options.progress === true },
      },
      initializationOptions: this.options.initializationOptions,
    });
    await this.connection.sendNotification("initialized", {});
    return result;
  }

  open(uri: string, text: string, version = 1): Promise<void> {
    return this.connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "json", version, text } });
  }

  change(uri: string, text: string, version: number): Promise<void> {
    return this.connection.sendNotification("textDocument/didChange", { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  /** One incremental change, as an editor sends for a keystroke (the server declares incremental sync). */
  changeRange(uri: string, range: { start: { line: number; character: number }; end: { line: number; character: number } }, text: string, version: number): Promise<void> {
    return this.connection.sendNotification("textDocument/didChange", { textDocument: { uri, version }, contentChanges: [{ range, text }] });
  }

  hover(uri: string, line: number, character: number): Promise<any> {
    return this.connection.sendRequest("textDocument/hover", { textDocument: { uri }, position: { line, character } });
  }

  codeActions(uri: string, line: number, only?: string[]): Promise<any[]> {
    const range = { start: { line, character: 0 }, end: { line, character: 0 } };
    return this.connection.sendRequest("textDocument/codeAction", { textDocument: { uri }, range, context: { diagnostics: [], ...(only ? { only } : {}) } });
  }

  resolve(action: any): Promise<any> {
    return this.connection.sendRequest("codeAction/resolve", action);
  }

  codeLenses(uri: string): Promise<any[]> {
    return this.connection.sendRequest("textDocument/codeLens", { textDocument: { uri } });
  }

  /** The `$/progress` values sent for `token`, in order. */
  progressOf(token: string | number): any[] {
    return this.received.filter((r) => r.method === "$/progress" && r.params.token === token).map((r) => r.params.value);
  }

  /** The diagnostics last published for `uri`. */
  diagnostics(uri: string): any[] {
    const published = this.received.filter((r) => r.method === "textDocument/publishDiagnostics" && r.params.uri === uri);
    return published.length === 0 ? [] : published[published.length - 1].params.diagnostics;
  }

  /** Ends both ends of the connection without disposing the server (set by startInProcess). */
  loseConnection: () => void = () => this.connection.dispose();

  dispose(): void {
    this.connection.dispose();
    this.onDispose();
  }
}

/** The real server, in this process, over an in-memory stream pair. */
export function startInProcess(options: ClientOptions = {}, deps: Partial<ServerDeps> = {}): TestClient {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serverConnection = createConnection(ProposedFeatures.all, new ServerReader(toServer), new ServerWriter(toClient));
  const server = createServer(serverConnection, { fs: nodeFileSystem, createChecker: parseOnlyFactory, clock: systemClock, editDebounceMs: 20, ...deps });
  serverConnection.listen();
  const clientConnection = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const client = new TestClient(clientConnection, options, () => {
    server.dispose();
    serverConnection.dispose();
  });
  // As when a client goes away: the server's connection ends (rejecting its pending requests) and nobody tells the server.
  client.loseConnection = () => {
    clientConnection.dispose();
    serverConnection.dispose();
  };
  return client;
}

/** Applies LSP text edits (non-overlapping) to a text. */
export function applyTextEdits(text: string, edits: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[]): string {
  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const offset = (p: { line: number; character: number }) => (lineStarts[p.line] ?? text.length) + p.character;
  let out = text;
  for (const edit of [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start))) {
    out = out.slice(0, offset(edit.range.start)) + edit.newText + out.slice(offset(edit.range.end));
  }
  return out;
}

/** Zero-based line of the first line containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  if (index === -1) throw new Error(`fixture does not contain ${needle}`);
  return text.slice(0, index).split("\n").length - 1;
}
