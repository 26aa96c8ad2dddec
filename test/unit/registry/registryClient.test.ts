import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import type * as http from "node:http";
import * as path from "node:path";
import { HttpClient } from "../../../server/src/registry/http";
import { ABBREVIATED_ACCEPT, FULL_ACCEPT, RegistryClient, packumentUrl } from "../../../server/src/registry/registryClient";
import { json, startServer, type Loopback } from "./loopback";

// The repository root is the nearest folder with a package.json (this file also runs compiled, from out/).
function repoRoot(dir: string): string {
  return fs.existsSync(path.join(dir, "package.json")) || path.dirname(dir) === dir ? dir : repoRoot(path.dirname(dir));
}
const SHARED = process.env.PROVENANCE_LENS_SHARED ?? path.resolve(repoRoot(__dirname), "../shared");
const FIXTURES = path.join(SHARED, "fixtures");
const noFixtures = fs.existsSync(FIXTURES) ? undefined : `shared fixtures not found at ${FIXTURES}`;

type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function withRegistry(routes: Record<string, Route>, body: (server: Loopback, client: RegistryClient) => Promise<void>): Promise<void> {
  const server = await startServer((req, res) => {
    const route = routes[req.url ?? ""];
    if (route === undefined) json(res, 404, { error: "Not found" });
    else route(req, res);
  });
  const client = new RegistryClient(new HttpClient({ retryBaseMs: 1 }));
  try {
    await body(server, client);
  } finally {
    client.http.close();
    await server.close();
  }
}

const packumentOf = (name: string, extra: object = {}) => ({ name, versions: { "1.0.0": { name, version: "1.0.0", dist: { integrity: "sha512-AAAA" } } }, ...extra });

test("packumentUrl escapes scoped names as npm does", () => {
  const table: [string, string, string][] = [
    ["https://r.example/", "lodash", "https://r.example/lodash"],
    ["https://r.example/npm", "@babel/core", "https://r.example/npm/@babel%2fcore"],
    ["https://r.example/", "@types/node", "https://r.example/@types%2fnode"],
  ];
  for (const [registry, name, expected] of table) assert.equal(packumentUrl(registry, name), expected);
});

test("registry: abbreviated by default, full when asked, each fetched once per run", async () => {
  const routes: Record<string, Route> = {
    "/@scope%2fpkg": (req, res) => json(res, 200, packumentOf("@scope/pkg", req.headers.accept === FULL_ACCEPT ? { time: { "1.0.0": "2024-01-01T00:00:00.000Z" } } : {}), { etag: '"p1"' }),
  };
  await withRegistry(routes, async (server, client) => {
    const registry = `${server.origin}/`;
    const many = await Promise.all(Array.from({ length: 6 }, () => client.packument("@scope/pkg", { registry })));
    assert.ok(many.every((r) => r.ok));
    assert.equal(server.seen.length, 1, "in-flight calls share one request");
    assert.equal(server.seen[0].headers.accept, ABBREVIATED_ACCEPT);

    const again = await client.packument("@scope/pkg", { registry });
    assert.equal(server.seen.length, 1, "memoised for the run");
    assert.ok(again.ok && again.value.time === undefined);

    const full = await client.packument("@scope/pkg", { registry, full: true });
    assert.equal(server.seen.length, 2);
    assert.equal(server.seen[1].headers.accept, FULL_ACCEPT);
    assert.ok(full.ok);
    assert.equal(full.value.time?.["1.0.0"], "2024-01-01T00:00:00.000Z");

    client.newRun();
    await client.packument("@scope/pkg", { registry, full: true });
    assert.equal(server.seen.length, 3, "a new run asks again");
    assert.equal(server.seen[2].headers["if-none-match"], '"p1"', "and revalidates with the ETag");
    const abbreviated = await client.packument("@scope/pkg", { registry });
    assert.equal(server.seen.length, 3, "a full packument answers an abbreviated request");
    assert.ok(abbreviated.ok && abbreviated.value.time !== undefined);
  });
});

const badAnswers: { name: string; send: Route; kind: string; message: RegExp }[] = [
  { name: "malformed JSON", send: (_q, res) => json(res, 200, '{"name": "x", "versions": {'), kind: "malformed", message: /not valid JSON/ },
  { name: "JSON that is not an object", send: (_q, res) => json(res, 200, "[1,2]"), kind: "malformed", message: /not a JSON object/ },
  { name: "no versions", send: (_q, res) => json(res, 200, { name: "x" }), kind: "malformed", message: /no versions object/ },
  { name: "another package's packument", send: (_q, res) => json(res, 200, packumentOf("evil")), kind: "malformed", message: /describes "evil", not "x"/ },
  { name: "not found", send: (_q, res) => json(res, 404, { error: "Not found" }), kind: "not-found", message: /Not found: x on/ },
  { name: "auth required", send: (_q, res) => json(res, 401, {}), kind: "http", message: /HTTP 401/ },
];
for (const c of badAnswers) {
  test(`registry: packument answer: ${c.name}`, async () => {
    await withRegistry({ "/x": c.send }, async (server, client) => {
      const r = await client.packument("x", { registry: server.origin });
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.error.kind, c.kind);
        assert.match(r.error.message, c.message);
      }
    });
  });
}

test("registry: keys, and a registry that serves none", { skip: noFixtures }, async () => {
  const document = JSON.parse(fs.readFileSync(path.join(FIXTURES, "npm-keys/npm-v1-keys.registry.npmjs.org.json"), "utf8"));
  await withRegistry({ "/npm/-/npm/v1/keys": (_q, res) => json(res, 200, document) }, async (server, client) => {
    const keys = await client.keys(`${server.origin}/npm/`);
    assert.ok(keys.ok);
    assert.deepEqual(keys.value.keys, document.keys);
    const none = await client.keys(`${server.origin}/mirror/`);
    assert.equal(none.ok, false);
    if (!none.ok) {
      assert.equal(none.error.kind, "not-found");
      assert.match(none.error.message, /serves no signing keys/);
    }
  });
});

test("registry: attestations on the registry's origin only", { skip: noFixtures }, async () => {
  const document = JSON.parse(fs.readFileSync(path.join(FIXTURES, "attestations/pacote/valid-attestations.json"), "utf8"));
  const other = await startServer((_req, res) => json(res, 200, document), "127.0.0.2");
  try {
    await withRegistry({ "/-/npm/v1/attestations/sigstore@0.4.0": (_q, res) => json(res, 200, document) }, async (server, client) => {
      const registry = `${server.origin}/`;
      const good = await client.attestations(`${server.origin}/-/npm/v1/attestations/sigstore@0.4.0`, { registry });
      assert.ok(good.ok);
      assert.deepEqual(good.value.attestations.map((a) => a.predicateType), document.attestations.map((a: { predicateType: string }) => a.predicateType));

      for (const url of [`${other.origin}/-/npm/v1/attestations/sigstore@0.4.0`, `http://127.0.0.1:${server.port + 1}/x`, `https://127.0.0.1:${server.port}/x`]) {
        const refused = await client.attestations(url, { registry });
        assert.equal(refused.ok, false, url);
        if (!refused.ok) {
          assert.equal(refused.error.kind, "other-host");
          assert.match(refused.error.message, /attestation URL points at another host/);
        }
      }
      assert.equal(other.seen.length, 0, "no request was made to the other host");
    });
  } finally {
    await other.close();
  }
});

test("registry: one waiter giving up does not cancel the others; the last one does", { timeout: 10_000 }, async () => {
  const held: http.ServerResponse[] = [];
  let arrived!: () => void;
  let arrival = new Promise<void>((resolve) => (arrived = resolve));
  const routes: Record<string, Route> = {
    "/slow": (_q, res) => {
      held.push(res);
      arrived();
    },
  };
  await withRegistry(routes, async (server, client) => {
    const registry = `${server.origin}/`;
    const quitter = new AbortController();
    const first = client.packument("slow", { registry, signal: quitter.signal });
    const second = client.packument("slow", { registry, signal: new AbortController().signal });
    await arrival;
    quitter.abort();
    const gaveUp = await first;
    assert.equal(gaveUp.ok, false);
    if (!gaveUp.ok) assert.equal(gaveUp.error.kind, "aborted");
    json(held[0], 200, packumentOf("slow"));
    assert.ok((await second).ok, "the other waiter still gets the answer");

    client.newRun();
    arrival = new Promise<void>((resolve) => (arrived = resolve));
    const only = new AbortController();
    const lone = client.packument("slow", { registry, signal: only.signal });
    await arrival;
    only.abort();
    const cancelled = await lone;
    assert.equal(cancelled.ok, false);
    if (!cancelled.ok) assert.equal(cancelled.error.kind, "aborted");
    // The server sees the connection go: the shared request was cancelled (a hang here fails on the test timeout).
    if (!held[1].req.destroyed) await new Promise((resolve) => held[1].req.once("close", resolve));
    assert.equal(held[1].writableEnded, false);
  });
});
