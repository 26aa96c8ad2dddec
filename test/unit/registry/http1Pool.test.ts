// The keep-alive connection pool under HttpClient, against raw TCP servers on loopback that answer byte for byte what
// each case says: stale keep-alive connections, connections closed without an answer, answers that are not HTTP,
// header injection through a credential, connection: close, IPv6 literals.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { execFile } from "node:child_process";
import { HttpClient, type HttpClientOptions } from "../../../server/src/registry/http";
import { Http1Pool } from "../../../server/src/registry/http1Pool";

const FAST: HttpClientOptions = { retryBaseMs: 1, timeoutMs: 5_000, retries: 0 };
const OK = (body: string, extra = ""): string => `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

interface RawServer {
  origin: string;
  connections: number;
  /** Request heads received, in order, with the connection number each came on. */
  requests: { connection: number; head: string }[];
  close(): Promise<void>;
}

type Reply = string | { thenEnd: string } | "destroy" | "end";

/** `answer` gets each request head and says what to write back: bytes, bytes then the end of the connection, an end
 * without an answer, or a reset ("destroy"). */
async function rawServer(answer: (head: string, index: number, connection: number) => Reply, host = "127.0.0.1"): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const state: RawServer = { origin: "", connections: 0, requests: [], close: async () => undefined };
  const server = net.createServer((socket) => {
    const connection = ++state.connections;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      for (let end = buffered.indexOf("\r\n\r\n"); end !== -1; end = buffered.indexOf("\r\n\r\n")) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        state.requests.push({ connection, head });
        const reply = answer(head, state.requests.length - 1, connection);
        if (reply === "destroy") socket.destroy();
        else if (reply === "end") socket.end();
        else if (typeof reply === "object") socket.end(reply.thenEnd, "latin1");
        else socket.write(reply, "latin1");
      }
    });
    socket.on("error", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  state.origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return state;
}

test("wire: a reused connection the server dropped is sent again once on a new one", async () => {
  // The second request arrives on the kept connection and is reset unanswered (as by a server's idle timeout).
  const server = await rawServer((_head, index) => (index === 1 ? "destroy" : OK(`answer ${index}`)));
  const client = new HttpClient(FAST);
  try {
    const first = await client.get(`${server.origin}/a`);
    assert.ok(first.ok);
    const second = await client.get(`${server.origin}/b`);
    assert.ok(second.ok, JSON.stringify(second));
    assert.equal(second.response.body.toString(), "answer 2");
    assert.deepEqual(server.requests.map((r) => [r.connection, r.head.split("\r\n")[0]]), [[1, "GET /a HTTP/1.1"], [1, "GET /b HTTP/1.1"], [2, "GET /b HTTP/1.1"]]);
  } finally {
    client.close();
    await server.close();
  }
});

test("wire: a new connection closed without an answer is a retryable failure, said plainly", async () => {
  const server = await rawServer((_head, index) => (index === 0 ? "end" : OK("second try")));
  const once = new HttpClient(FAST);
  const twice = new HttpClient({ ...FAST, retries: 1 });
  try {
    const failed = await once.get(`${server.origin}/x`);
    assert.ok(!failed.ok);
    assert.equal(failed.error.kind, "network");
    assert.match(failed.error.message, /closed the connection without answering/);
    const retried = await twice.get(`${server.origin}/x`);
    assert.ok(retried.ok, JSON.stringify(retried));
    assert.equal(retried.response.body.toString(), "second try");
  } finally {
    once.close();
    twice.close();
    await server.close();
  }
});

const NOT_HTTP: { name: string; reply: Reply; says: RegExp }[] = [
  { name: "another protocol", reply: "SSH-2.0-OpenSSH_9.6\r\n\r\n", says: /not valid HTTP: not an HTTP\/1\.x status line/ },
  { name: "smuggling-shaped framing", reply: "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n", says: /both Transfer-Encoding and Content-Length/ },
  { name: "a cut-off body", reply: { thenEnd: "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc" }, says: /closed the connection mid-answer/ },
];

for (const c of NOT_HTTP) {
  test(`wire: an answer that is not usable HTTP is error data: ${c.name}`, async () => {
    const server = await rawServer(() => c.reply);
    const client = new HttpClient(FAST);
    try {
      const result = await client.get(`${server.origin}/x`);
      assert.ok(!result.ok, JSON.stringify(result));
      assert.equal(result.error.kind, "network");
      assert.match(result.error.message, c.says);
    } finally {
      client.close();
      await server.close();
    }
  });
}

test("wire: a credential holding CR or LF is never sent (no header injection)", async () => {
  const server = await rawServer(() => OK("{}"));
  const client = new HttpClient({ ...FAST, authHeaderFor: () => "Bearer abc\r\nx-injected: 1" });
  try {
    const result = await client.get(`${server.origin}/x`);
    assert.ok(!result.ok);
    assert.match(result.error.message, /credential holds a control character/);
    assert.doesNotMatch(result.error.message, /abc/);
    assert.equal(server.requests.length, 0);
  } finally {
    client.close();
    await server.close();
  }
});

test("wire: after connection: close the next request opens a new connection; Host names the origin", async () => {
  const server = await rawServer((_head, index) => OK(`r${index}`, index === 0 ? "connection: close\r\n" : ""));
  const client = new HttpClient(FAST);
  try {
    for (const name of ["a", "b", "c"]) assert.ok((await client.get(`${server.origin}/${name}`)).ok);
    assert.deepEqual(server.requests.map((r) => r.connection), [1, 2, 2]);
    const host = /\r\nhost: ([^\r]*)/.exec(server.requests[0].head)?.[1];
    assert.equal(host, new URL(server.origin).host);
  } finally {
    client.close();
    await server.close();
  }
});

test("wire: an idle connection is kept for reuse and closed after idleMs", async () => {
  const server = await rawServer((_head, index) => OK(`r${index}`));
  const pool = new Http1Pool({ maxIdle: 4, idleMs: 80 });
  const get = async (name: string): Promise<string> => {
    const outcome = await pool.get(new URL(`${server.origin}/${name}`), {}, () => 1024).done;
    assert.equal(outcome.kind, "response");
    return outcome.kind === "response" ? outcome.body.toString() : "";
  };
  try {
    assert.equal(await get("a"), "r0");
    assert.equal(await get("b"), "r1");
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await get("c"), "r2");
    assert.deepEqual(server.requests.map((r) => r.connection), [1, 1, 1]);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(await get("d"), "r3");
    assert.equal(server.requests[3].connection, 2, "the idle connection was closed after idleMs");
  } finally {
    pool.close();
    await server.close();
  }
});

test("wire: a request cancelled before the pool's write flush is never sent; the others are", async () => {
  const server = await rawServer((_head, index) => OK(`r${index}`));
  const pool = new Http1Pool({ maxIdle: 4 });
  try {
    // Keep-alive connections to reuse, so that the writes below are the pool's only delay.
    await pool.get(new URL(`${server.origin}/w1`), {}, () => 1024).done;
    await pool.get(new URL(`${server.origin}/w2`), {}, () => 1024).done;
    const kept = pool.get(new URL(`${server.origin}/kept`), {}, () => 1024);
    const dropped = pool.get(new URL(`${server.origin}/dropped`), {}, () => 1024);
    dropped.cancel();
    const outcome = await kept.done;
    assert.equal(outcome.kind, "response");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(server.requests.map((r) => r.head.split("\r\n")[0]), ["GET /w1 HTTP/1.1", "GET /w2 HTTP/1.1", "GET /kept HTTP/1.1"]);
  } finally {
    pool.close();
    await server.close();
  }
});

test("wire: an idle connection never keeps the process alive", async () => {
  const server = await rawServer((_head, index) => OK(`r${index}`));
  try {
    // A process that makes two requests and then has nothing left to do but its idle connection (kept for a minute).
    // From the compiled tests or from the TypeScript sources (the test runner's tsx), as this file runs.
    const poolModule = require.resolve("../../../server/src/registry/http1Pool");
    const script = `
      ${poolModule.endsWith(".ts") ? `require(${JSON.stringify(require.resolve("tsx/cjs"))});` : ""}
      const { Http1Pool } = require(${JSON.stringify(poolModule)});
      const pool = new Http1Pool({ maxIdle: 4, idleMs: 60000 });
      (async () => {
        for (const name of ["a", "b"]) {
          const outcome = await pool.get(new URL(${JSON.stringify(server.origin)} + "/" + name), {}, () => 1024).done;
          if (outcome.kind !== "response") process.exit(3);
        }
        process.stdout.write("done");
      })();`;
    const started = performance.now();
    // Asynchronous: the server answering it runs in this process.
    const child = await new Promise<{ error: Error | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20_000 }, (error, stdout, stderr) => resolve({ error, stdout, stderr }));
    });
    assert.equal(child.stdout, "done", child.stderr);
    assert.equal(child.error, null, `${child.error?.message} after ${Math.round(performance.now() - started)} ms`);
    assert.equal(server.requests.length, 2);
    assert.deepEqual(server.requests.map((r) => r.connection), [1, 1]);
  } finally {
    await server.close();
  }
});

test("wire: an IPv6 literal origin", { skip: !hasIpv6Loopback() ? "no IPv6 loopback here" : false }, async () => {
  const server = await rawServer(() => OK("six"), "::1");
  const client = new HttpClient(FAST);
  try {
    const result = await client.get(`${server.origin}/x`);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.response.body.toString(), "six");
    assert.match(server.requests[0].head, /\r\nhost: \[::1\]:\d+/);
  } finally {
    client.close();
    await server.close();
  }
});

function hasIpv6Loopback(): boolean {
  return Object.values(require("node:os").networkInterfaces() as Record<string, { address: string }[]>).some((list) => list?.some((i) => i.address === "::1"));
}
