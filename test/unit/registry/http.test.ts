import { test } from "node:test";
import assert from "node:assert/strict";
import type * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { inspect } from "node:util";
import { HttpClient, parseRetryAfter, type HttpClientOptions } from "../../../server/src/registry/http";
import { loadNpmConfig } from "../../../server/src/registry/npmConfig";
import { json, startServer, type Loopback } from "./loopback";

const TOKEN = "npm_TOPSECRET_abcdef0123456789";
const FAST: HttpClientOptions = { retryBaseMs: 1, timeoutMs: 5_000 };

async function withServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void,
  body: (server: Loopback) => Promise<void>,
): Promise<void> {
  const server = await startServer(handler);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

function configWithToken(origin: string) {
  const home = path.join(os.tmpdir(), "pl-no-such-home");
  return loadNpmConfig({
    projectDir: home,
    env: {},
    homeDir: home,
    globalConfigPath: path.join(home, "npmrc"),
    trusted: true,
    overrides: { registry: `${origin}/`, [`${origin.replace(/^https?:/, "")}/:_authToken`]: TOKEN },
  });
}

test("http: keep-alive reuses one connection for sequential requests", async () => {
  await withServer((_req, res) => json(res, 200, { ok: true }), async (server) => {
    const client = new HttpClient(FAST);
    for (let i = 0; i < 5; i++) {
      const r = await client.get(`${server.origin}/x${i}`);
      assert.ok(r.ok);
      assert.deepEqual(JSON.parse(r.response.body.toString()), { ok: true });
    }
    assert.equal(server.connections, 1);
    client.close();
  });
});

test("http: never more requests in flight than maxSockets", async () => {
  const limit = 3;
  const total = 10;
  const pending: http.ServerResponse[] = [];
  let arrived = 0;
  let maxPending = 0;
  // Answers one held request whenever `limit` are held (or all have arrived): a client that exceeds
  // the bound shows more than `limit` held at once.
  const handler = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    pending.push(res);
    arrived++;
    maxPending = Math.max(maxPending, pending.length);
    setImmediate(() => {
      while (pending.length >= limit || (arrived === total && pending.length > 0)) json(pending.shift()!, 200, "{}");
    });
  };
  await withServer(handler, async (server) => {
    const client = new HttpClient({ ...FAST, maxSockets: limit });
    const results = await Promise.all(Array.from({ length: total }, (_, i) => client.get(`${server.origin}/p${i}`)));
    assert.ok(results.every((r) => r.ok));
    assert.equal(maxPending, limit);
    client.close();
  });
});

test("http: deadline on a server that never answers", async () => {
  await withServer(() => undefined, async (server) => {
    const client = new HttpClient({ ...FAST, retries: 2 });
    const r = await client.get(`${server.origin}/hang`, { timeoutMs: 200 });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.kind, "timeout");
    assert.equal(server.seen.length, 1, "a timeout is not retried");
    client.close();
  });
});

test("http: cancel through an AbortSignal", async () => {
  const controller = new AbortController();
  await withServer(() => controller.abort(), async (server) => {
    const client = new HttpClient(FAST);
    const r = await client.get(`${server.origin}/slow`, { signal: controller.signal });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.kind, "aborted");
    client.close();
  });
});

const retryCases: { name: string; statuses: number[]; retries: number; ok: boolean; requests: number }[] = [
  { name: "429 (Retry-After) then 503 then success", statuses: [429, 503, 200], retries: 2, ok: true, requests: 3 },
  { name: "a 500 storm stops after the retry bound", statuses: [500, 500, 500, 500, 500, 500], retries: 2, ok: false, requests: 3 },
  { name: "404 is not retried", statuses: [404, 200], retries: 2, ok: false, requests: 1 },
];
for (const c of retryCases) {
  test(`http: retries: ${c.name}`, async () => {
    const handler = (_req: http.IncomingMessage, res: http.ServerResponse, i: number): void => {
      const status = c.statuses[i] ?? 200;
      json(res, status, { i }, status === 429 ? { "retry-after": "0" } : {});
    };
    await withServer(handler, async (server) => {
      const client = new HttpClient({ ...FAST, retries: c.retries, authHeaderFor: configWithToken(server.origin).authHeaderFor });
      const r = await client.get(`${server.origin}/r`);
      assert.equal(r.ok, c.ok);
      assert.equal(server.seen.length, c.requests);
      if (!r.ok) {
        assert.equal(r.error.kind, "http");
        assert.equal(r.error.status, c.statuses[c.requests - 1]);
        assert.ok(!inspect(r).includes(TOKEN));
      }
      client.close();
    });
  });
}

test("http: a connection reset is retried", async () => {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse, i: number): void => {
    if (i === 0) req.socket.destroy();
    else json(res, 200, { ok: true });
  };
  await withServer(handler, async (server) => {
    const client = new HttpClient(FAST);
    const r = await client.get(`${server.origin}/reset`);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(server.seen.length, 2);
    client.close();
  });
});

const sizeCases: { name: string; send: (res: http.ServerResponse) => void }[] = [
  { name: "declared Content-Length", send: (res) => (res.writeHead(200, { "content-length": 5000 }), res.end("x".repeat(5000))) },
  {
    name: "chunked stream without a length",
    send: (res) => {
      res.writeHead(200, { "content-type": "application/json" });
      for (let i = 0; i < 10; i++) res.write("y".repeat(600));
      res.end();
    },
  },
  {
    name: "small gzip that inflates past the cap",
    send: (res) => {
      const body = zlib.gzipSync(Buffer.alloc(200_000));
      res.writeHead(200, { "content-encoding": "gzip", "content-length": body.length });
      res.end(body);
    },
  },
];
for (const c of sizeCases) {
  test(`http: size cap: ${c.name}`, async () => {
    await withServer((_req, res) => c.send(res), async (server) => {
      const client = new HttpClient({ ...FAST, maxBytes: 4096 });
      const r = await client.get(`${server.origin}/big`);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.kind, "too-large");
      const roomy = await client.get(`${server.origin}/big`, { maxBytes: 1_000_000 });
      assert.ok(roomy.ok, "a per-call cap overrides the client's");
      client.close();
    });
  });
}

test("http: a redirect to another host never carries the token", async () => {
  const other = await startServer((_req, res) => json(res, 200, { from: "other" }), "127.0.0.2");
  try {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      if (req.url === "/away") res.writeHead(302, { location: `${other.origin}/landed` }).end();
      else if (req.url === "/here") res.writeHead(301, { location: "/there" }).end();
      else if (req.url === "/loop") res.writeHead(307, { location: "/loop" }).end();
      else json(res, 200, { from: "home" });
    };
    await withServer(handler, async (server) => {
      const config = configWithToken(server.origin);
      const client = new HttpClient({ ...FAST, authHeaderFor: (url) => config.authHeaderFor(url) });
      const away = await client.get(`${server.origin}/away`);
      assert.ok(away.ok);
      assert.equal(away.response.url, `${other.origin}/landed`);
      assert.equal(server.seen[0].headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(other.seen[0].headers.authorization, undefined);

      const here = await client.get(`${server.origin}/here`);
      assert.ok(here.ok);
      assert.equal(server.seen.at(-1)?.url, "/there");
      assert.equal(server.seen.at(-1)?.headers.authorization, `Bearer ${TOKEN}`, "same host keeps its token");

      const loop = await client.get(`${server.origin}/loop`);
      assert.equal(loop.ok, false);
      if (!loop.ok) assert.match(loop.error.message, /Too many redirects/);
      assert.ok(!JSON.stringify(loop).includes(TOKEN));
      client.close();
    });
  } finally {
    await other.close();
  }
});

test("http: ETag revalidation reuses the body on 304, per Accept", async () => {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.headers["if-none-match"] === '"v1"') res.writeHead(304).end();
    else json(res, 200, { version: 1, accept: req.headers.accept }, { etag: '"v1"' });
  };
  await withServer(handler, async (server) => {
    const client = new HttpClient(FAST);
    const first = await client.get(`${server.origin}/e`);
    const second = await client.get(`${server.origin}/e`);
    const otherAccept = await client.get(`${server.origin}/e`, { accept: "application/vnd.npm.install-v1+json" });
    assert.ok(first.ok && second.ok && otherAccept.ok);
    assert.equal(first.response.revalidated, false);
    assert.equal(second.response.revalidated, true);
    assert.deepEqual(second.response.body, first.response.body);
    assert.equal(otherAccept.response.revalidated, false);
    assert.deepEqual(server.seen.map((s) => s.headers["if-none-match"]), [undefined, '"v1"', undefined]);
    assert.equal(client.stats.revalidated, 1);
    client.close();
  });
});

test("http: gzip, deflate and br bodies are decoded", async () => {
  const payload = JSON.stringify({ hello: "world", n: [1, 2, 3] });
  const encoders: Record<string, (b: Buffer) => Buffer> = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, br: zlib.brotliCompressSync };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const encoding = req.url!.slice(1);
    const body = encoders[encoding](Buffer.from(payload));
    res.writeHead(200, { "content-encoding": encoding, "content-length": body.length });
    res.end(body);
  };
  await withServer(handler, async (server) => {
    const client = new HttpClient(FAST);
    for (const encoding of Object.keys(encoders)) {
      const r = await client.get(`${server.origin}/${encoding}`);
      assert.ok(r.ok, encoding);
      assert.equal(r.response.body.toString(), payload, encoding);
    }
    assert.match(String(server.seen[0].headers["accept-encoding"]), /gzip/);
    client.close();
  });
});

test("http: corrupt gzip and bad URLs are error data", async () => {
  await withServer((_req, res) => (res.writeHead(200, { "content-encoding": "gzip" }), res.end("not gzip at all")), async (server) => {
    const client = new HttpClient(FAST);
    const corrupt = await client.get(`${server.origin}/z`);
    assert.equal(corrupt.ok, false);
    if (!corrupt.ok) assert.match(corrupt.error.message, /Could not decode the gzip answer/);
    for (const bad of ["not a url", "ftp://127.0.0.1/x", "file:///etc/passwd"]) {
      const r = await client.get(bad);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.kind, "bad-url");
    }
    client.close();
  });
});

test("http: Retry-After as seconds and as a date", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("3", now), 3000);
  assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:05 GMT", now), 5000);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test("http: credentials in a URL never reach an error message", async () => {
  const client = new HttpClient({ ...FAST, retries: 1 });
  // Port 1 on loopback refuses the connection at once.
  const r = await client.get(`http://user:${TOKEN}@127.0.0.1:1/x?token=${TOKEN}`);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.error.kind, "network");
    assert.match(r.error.message, /Could not reach http:\/\/127\.0\.0\.1:1\/x: ECONNREFUSED/);
  }
  assert.ok(!JSON.stringify(r).includes(TOKEN) && !inspect(r).includes(TOKEN));
  assert.equal(client.stats.retries, 1, "a refused connection is retried within the bound");
  client.close();
});
