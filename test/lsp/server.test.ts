// The real language server over an in-memory stream pair: fixture lockfile in, diagnostics/hover out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { FIXTURES, lineOf, ManualClock, startInProcess, type TestClient } from "./harness";

const basicPath = path.join(FIXTURES, "basic/package-lock.json");
const basicUri = pathToFileURL(basicPath).href;
const basicText = readFileSync(basicPath, "utf8");
const conflictPath = path.join(FIXTURES, "conflict/package-lock.json");
const conflictUri = pathToFileURL(conflictPath).href;
const conflictText = readFileSync(conflictPath, "utf8");

async function openAndWait(client: TestClient, uri: string, text: string): Promise<any> {
  const checked = client.next("provenanceLens/checked", (p: any) => p.uri === uri);
  await client.open(uri, text);
  return checked;
}

async function withClient(fn: (client: TestClient) => Promise<void>, options = {}): Promise<void> {
  const client = startInProcess(options);
  try {
    await client.initialize();
    await fn(client);
  } finally {
    client.dispose();
  }
}

/** Where each non-registry package's Information diagnostic must sit, and what it must say. */
const NOT_FROM_REGISTRY = [
  { key: '"node_modules/is-odd"', says: "comes from git: git+ssh://git@github.com/jonschlinkert/is-odd.git#761f2a2f" },
  { key: '"node_modules/vendored"', says: "comes from file: file:vendor/vendored-1.0.0.tgz" },
];

test("initialize declares incremental sync and hover", async () => {
  const client = startInProcess();
  try {
    const result = await client.initialize();
    assert.equal(result.capabilities.textDocumentSync, 2);
    assert.equal(result.capabilities.hoverProvider, true);
  } finally {
    client.dispose();
  }
});

for (const expected of NOT_FROM_REGISTRY) {
  test(`non-registry package diagnostic sits on its entry: ${expected.key}`, () =>
    withClient(async (client) => {
      await openAndWait(client, basicUri, basicText);
      const line = lineOf(basicText, expected.key);
      const found = client.diagnostics(basicUri).filter((d) => d.range.start.line === line);
      assert.equal(found.length, 1, `one diagnostic on line ${line + 1}: ${JSON.stringify(client.diagnostics(basicUri))}`);
      const [diagnostic] = found;
      assert.equal(diagnostic.severity, 3, "Information");
      assert.equal(diagnostic.source, "Provenance Lens");
      assert.equal(diagnostic.code, "not-from-registry");
      assert.ok(diagnostic.message.includes(expected.says), diagnostic.message);
      const keyColumn = basicText.split("\n")[line].indexOf(expected.key);
      assert.ok(diagnostic.range.start.character >= keyColumn && diagnostic.range.end.character <= keyColumn + expected.key.length);
    }));
}

test("parse-only: registry packages are unverifiable warnings; workspace links get no diagnostic", () =>
  withClient(async (client) => {
    await openAndWait(client, basicUri, basicText);
    for (const key of ['"node_modules/left-pad"', '"node_modules/is-number"', '"node_modules/typescript"']) {
      const line = lineOf(basicText, key);
      const found = client.diagnostics(basicUri).filter((d) => d.range.start.line === line);
      assert.deepEqual(found.map((d) => [d.code, d.severity]), [["unverifiable", 2]], key);
    }
    // The project's own workspaces and links.
    for (const key of ['"node_modules/app"', '"node_modules/local-lib"', '"packages/app"', '"lib/local-lib"']) {
      const line = lineOf(basicText, key);
      assert.deepEqual(client.diagnostics(basicUri).filter((d) => d.range.start.line === line), [], key);
    }
  }));

test("a merge conflict is an error on the marker lines", () =>
  withClient(async (client) => {
    const checked = await openAndWait(client, conflictUri, conflictText);
    assert.ok(checked.problems >= 1);
    const conflicts = client.diagnostics(conflictUri).filter((d) => d.code === "merge-conflict");
    assert.ok(conflicts.some((d) => d.range.start.line === lineOf(conflictText, "<<<<<<< HEAD")), JSON.stringify(conflicts));
    for (const d of conflicts) assert.equal(d.severity, 1);
  }));

const HOVERS = [
  { key: '"node_modules/left-pad"', contains: ["left-pad@1.3.0", "registry", "Integrity", "sha512-", "Not checked against a registry."] },
  { key: '"node_modules/typescript"', contains: ["typescript@5.4.5", "dev"] },
  { key: '"node_modules/is-odd"', contains: ["is-odd@3.0.1", "git", "Resolved", "not-from-registry"] },
  { key: '"node_modules/is-number"', contains: ["is-number@6.0.0", "Required by:", "is-odd@3.0.1"] },
];

for (const expected of HOVERS) {
  test(`hover on ${expected.key}`, () =>
    withClient(async (client) => {
      await openAndWait(client, basicUri, basicText);
      const line = lineOf(basicText, expected.key);
      const hover = await client.hover(basicUri, line, basicText.split("\n")[line].indexOf(expected.key) + 3);
      assert.ok(hover !== null, "a hover");
      assert.equal(hover.contents.kind, "markdown");
      for (const text of expected.contains) assert.ok(hover.contents.value.includes(text), `${text} in ${hover.contents.value}`);
    }));
}

test("hover outside any entry is empty", () =>
  withClient(async (client) => {
    await openAndWait(client, basicUri, basicText);
    assert.equal(await client.hover(basicUri, 0, 0), null);
  }));

test("an edit is re-parsed and replaces the diagnostics", () =>
  withClient(async (client) => {
    await openAndWait(client, basicUri, basicText);
    const checked = client.next("provenanceLens/checked", (p: any) => p.uri === basicUri && p.version === 2);
    await client.change(basicUri, conflictText, 2);
    assert.equal((await checked).version, 2);
    const diagnostics = client.diagnostics(basicUri);
    assert.ok(diagnostics.some((d) => d.code === "merge-conflict"));
    assert.ok(!diagnostics.some((d) => d.code === "not-from-registry"), "the git entry is gone from the text");
  }));

test("a newer edit supersedes one still waiting", async () => {
  const clock = new ManualClock();
  const client = startInProcess({}, { clock });
  try {
    await client.initialize();
    await client.open(basicUri, basicText);
    await client.change(basicUri, conflictText, 2);
    await client.change(basicUri, basicText, 3);
    await client.hover(basicUri, 0, 0); // Requests are answered in order: every notification above is handled.
    assert.equal(clock.waiting, 1, "one check waiting: the older ones were cancelled");
    const checked = client.next("provenanceLens/checked", (p: any) => p.uri === basicUri);
    clock.fireAll();
    assert.equal((await checked).version, 3);
    assert.equal(client.received.filter((r) => r.method === "provenanceLens/checked").length, 1);
  } finally {
    client.dispose();
  }
});

const GARBAGE = ["", "\u0000\u0001 not json {{{", "[1,2,3]", '{"lockfileVersion": 3, "packages": 7}', "<<<<<<< HEAD\n{\n=======\n}\n>>>>>>> x\n"];

test("garbage never crashes the server", () =>
  withClient(async (client) => {
    await openAndWait(client, basicUri, basicText);
    let version = 1;
    for (const text of GARBAGE) {
      version++;
      const checked = client.next("provenanceLens/checked", (p: any) => p.uri === basicUri && p.version === version);
      await client.change(basicUri, text, version);
      await checked;
      assert.ok(!client.diagnostics(basicUri).some((d) => d.code === "internal-error"), `no internal error for ${JSON.stringify(text)}: ${client.logs.join("\n")}`);
    }
    const checked = client.next("provenanceLens/checked", (p: any) => p.uri === basicUri && p.version === version + 1);
    await client.change(basicUri, basicText, version + 1);
    assert.ok((await checked).packages > 0, "still working after garbage");
  }));

test("enable: false clears the diagnostics", () =>
  withClient(
    async (client) => {
      const checked = await openAndWait(client, basicUri, basicText);
      assert.equal(checked.diagnostics, 0);
      assert.deepEqual(client.diagnostics(basicUri), []);
    },
    { settings: { enable: false } },
  ));

test("includeDev: false leaves dev-only packages out", async () => {
  let withDev = 0;
  await withClient(async (client) => void (withDev = (await openAndWait(client, basicUri, basicText)).packages), { settings: { includeDev: true } });
  await withClient(
    async (client) => {
      const checked = await openAndWait(client, basicUri, basicText);
      assert.ok(checked.packages < withDev, `${checked.packages} < ${withDev}`);
    },
    { settings: { includeDev: false } },
  );
});

test("workspace folders are searched for lockfiles without opening them", () => {
  const client = startInProcess({ workspaceFolders: [pathToFileURL(path.join(FIXTURES, "basic")).href] });
  return (async () => {
    try {
      const checked = client.next("provenanceLens/checked", (p: any) => p.uri === basicUri);
      const idle = client.next("provenanceLens/status", (p: any) => p.state === "idle" && p.lockfiles === 1);
      await client.initialize();
      assert.equal((await checked).version, null);
      const status = await idle;
      assert.ok(status.byStatus["not-from-registry"] >= 2, JSON.stringify(status));
      assert.equal(status.limited, false);
    } finally {
      client.dispose();
    }
  })();
});

test("an untrusted workspace is reported as limited", () =>
  withClient(
    async (client) => {
      const status = client.next("provenanceLens/status", (p: any) => p.state === "idle");
      await client.open(basicUri, basicText);
      assert.equal((await status).limited, true);
    },
    { initializationOptions: { workspaceTrusted: false } },
  ));

test("a client that goes away while the CodeLens refresh is pending leaves no error behind", async () => {
  const escaped: unknown[] = [];
  const onError = (error: unknown) => escaped.push(error);
  process.on("unhandledRejection", onError);
  process.on("uncaughtException", onError);
  try {
    const client = startInProcess({ holdCodeLensRefresh: true, initializationOptions: { workspaceTrusted: false } });
    await client.initialize();
    const refresh = client.next("workspace/codeLens/refresh");
    await client.open(basicUri, basicText);
    await refresh;
    client.loseConnection();
    // The rejection of the pending request is handled in later ticks: let them run (turns, not a timed wait).
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    client.dispose();
    assert.deepEqual(escaped.map(String), []);
  } finally {
    process.off("unhandledRejection", onError);
    process.off("uncaughtException", onError);
  }
});
