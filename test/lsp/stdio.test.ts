// The bundled server as other editors start it: `node dist/server.js --stdio`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";
import { FIXTURES, lineOf, REPO } from "./harness";

const serverJs = path.join(REPO, "dist/server.js");

test("node dist/server.js --stdio publishes diagnostics and exits cleanly", { skip: existsSync(serverJs) ? false : "dist/server.js missing: run npm run build" }, async () => {
  // A registry on a closed loopback port: the server's checks never leave this machine.
  const env = { ...process.env, npm_config_registry: "http://127.0.0.1:9/", XDG_CACHE_HOME: mkdtempSync(path.join(tmpdir(), "pl-lsp-cache-")) };
  const child = spawn(process.execPath, [serverJs, "--stdio"], { stdio: ["pipe", "pipe", "pipe"], env });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.onRequest("client/registerCapability", () => null);
  connection.listen();
  try {
    const file = path.join(FIXTURES, "conflict/package-lock.json");
    const uri = pathToFileURL(file).href;
    const text = readFileSync(file, "utf8");
    const diagnostics = new Promise<any>((resolve) =>
      connection.onNotification("textDocument/publishDiagnostics", (p: any) => {
        if (p.uri === uri) resolve(p);
      }),
    );
    const init: any = await connection.sendRequest("initialize", { processId: process.pid, rootUri: null, workspaceFolders: null, capabilities: {} });
    assert.equal(init.serverInfo.name, "provenance-lens");
    await connection.sendNotification("initialized", {});
    await connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "json", version: 1, text } });
    const published = await diagnostics;
    assert.ok(published.diagnostics.every((d: any) => d.source === "Provenance Lens"));
    const conflict = published.diagnostics.find((d: any) => d.code === "merge-conflict");
    assert.ok(conflict, `a merge-conflict diagnostic: ${JSON.stringify(published.diagnostics)}`);
    assert.equal(conflict.range.start.line, lineOf(text, "<<<<<<< HEAD"));
    await connection.sendRequest("shutdown");
    await connection.sendNotification("exit");
    assert.equal(await exited, 0, stderr);
  } finally {
    connection.dispose();
    child.kill();
  }
});
