// The HTTP/1.1 response parser, data-driven: raw bytes in, outcome out. Every case is fed whole, one byte at a time,
// and split in two at every position, and must reach the same outcome each way (TCP may cut a response anywhere).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ResponseParser, type ParseOutcome } from "../../../server/src/registry/http1Parser";

interface Case {
  name: string;
  wire: string;
  /** The peer closes the connection after the bytes. */
  close?: boolean;
  /** Fed whole only: bytes that arrive after the outcome are the pool's business (it drops such a connection). */
  wholeOnly?: true;
  expect:
    | { kind: "response"; status: number; body: string; reusable: boolean; headers?: Record<string, string> }
    | { kind: "too-large" | "malformed"; includes?: string }
    | { kind: "closed"; received: boolean };
}

const LIMIT = 64;

const CASES: Case[] = [
  { name: "content-length body", wire: "HTTP/1.1 200 OK\r\ncontent-length: 5\r\netag: \"x\"\r\n\r\nhello", expect: { kind: "response", status: 200, body: "hello", reusable: true, headers: { "content-length": "5", etag: '"x"' } } },
  { name: "header names are case-insensitive, values trimmed", wire: "HTTP/1.1 200 OK\r\nContent-Length:   2  \r\nX-Thing:a\r\n\r\nok", expect: { kind: "response", status: 200, body: "ok", reusable: true, headers: { "content-length": "2", "x-thing": "a" } } },
  { name: "repeated fields are joined", wire: "HTTP/1.1 200 OK\r\nvary: accept\r\nvary: accept-encoding\r\ncontent-length: 0\r\n\r\n", expect: { kind: "response", status: 200, body: "", reusable: true, headers: { vary: "accept, accept-encoding", "content-length": "0" } } },
  { name: "the same content-length twice is fine", wire: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nok", expect: { kind: "response", status: 200, body: "ok", reusable: true } },
  { name: "chunked body with an extension and trailers", wire: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\n", expect: { kind: "response", status: 200, body: "abc0123456789", reusable: true } },
  { name: "chunked, upper-case hex and name", wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\nB\r\nhello world\r\n0\r\n\r\n", expect: { kind: "response", status: 200, body: "hello world", reusable: true } },
  { name: "connection: close is not reusable", wire: "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok", expect: { kind: "response", status: 200, body: "ok", reusable: false } },
  { name: "HTTP/1.0 is not reusable by default", wire: "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", expect: { kind: "response", status: 200, body: "ok", reusable: false } },
  { name: "HTTP/1.0 with keep-alive is", wire: "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok", expect: { kind: "response", status: 200, body: "ok", reusable: true } },
  { name: "a body framed by the close", wire: "HTTP/1.1 200 OK\r\n\r\nuntil the end", close: true, expect: { kind: "response", status: 200, body: "until the end", reusable: false } },
  { name: "informational responses are skipped", wire: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nx", expect: { kind: "response", status: 200, body: "x", reusable: true } },
  { name: "304 has no body", wire: "HTTP/1.1 304 Not Modified\r\netag: \"x\"\r\n\r\n", expect: { kind: "response", status: 304, body: "", reusable: true } },
  { name: "204 has no body even with a length", wire: "HTTP/1.1 204 No Content\r\n\r\n", expect: { kind: "response", status: 204, body: "", reusable: true } },
  { name: "a status line without a reason", wire: "HTTP/1.1 404\r\ncontent-length: 0\r\n\r\n", expect: { kind: "response", status: 404, body: "", reusable: true } },
  { name: "bytes after the response make the connection unusable", wire: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n", wholeOnly: true, expect: { kind: "response", status: 200, body: "ok", reusable: false } },
  { name: "declared length over the limit", wire: `HTTP/1.1 200 OK\r\ncontent-length: ${LIMIT + 1}\r\n\r\n`, expect: { kind: "too-large" } },
  { name: "chunks adding up over the limit", wire: `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n20\r\n${"a".repeat(32)}\r\n21\r\n`, expect: { kind: "too-large" } },
  { name: "a close-framed body over the limit", wire: `HTTP/1.1 200 OK\r\n\r\n${"a".repeat(LIMIT + 1)}`, expect: { kind: "too-large" } },
  { name: "both Transfer-Encoding and Content-Length", wire: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n", expect: { kind: "malformed", includes: "both" } },
  { name: "two different Content-Lengths", wire: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc", expect: { kind: "malformed", includes: "Content-Length" } },
  { name: "a Content-Length that is not a number", wire: "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", expect: { kind: "malformed", includes: "not a number" } },
  { name: "a transfer coding other than chunked", wire: "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n", expect: { kind: "malformed", includes: "Transfer-Encoding" } },
  { name: "a chunk size that is not hex", wire: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", expect: { kind: "malformed", includes: "hexadecimal" } },
  { name: "a chunk not followed by CRLF", wire: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabX\r\n", expect: { kind: "malformed", includes: "CRLF" } },
  { name: "not HTTP at all", wire: "SSH-2.0-OpenSSH_9.6\r\n\r\n", expect: { kind: "malformed", includes: "status line" } },
  { name: "HTTP/2 status line", wire: "HTTP/2 200\r\n\r\n", expect: { kind: "malformed", includes: "status line" } },
  { name: "obsolete line folding", wire: "HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\ncontent-length: 0\r\n\r\n", expect: { kind: "malformed", includes: "folding" } },
  { name: "a header name with a space", wire: "HTTP/1.1 200 OK\r\nbad name: 1\r\n\r\n", expect: { kind: "malformed", includes: "token" } },
  { name: "a bare LF inside a header value", wire: "HTTP/1.1 200 OK\r\nx-a: 1\nx-b: 2\r\ncontent-length: 0\r\n\r\n", expect: { kind: "malformed", includes: "control character" } },
  { name: "switching protocols", wire: "HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\n\r\n", expect: { kind: "malformed", includes: "switched" } },
  { name: "a head larger than the limit", wire: `HTTP/1.1 200 OK\r\nx-big: ${"a".repeat(300)}\r\n\r\n`, expect: { kind: "malformed", includes: "larger than" } },
  { name: "cut off in the head", wire: "HTTP/1.1 200 OK\r\ncontent-le", close: true, expect: { kind: "closed", received: true } },
  { name: "cut off in the body", wire: "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", close: true, expect: { kind: "closed", received: true } },
  { name: "cut off between chunks", wire: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n", close: true, expect: { kind: "closed", received: true } },
  { name: "closed before any byte", wire: "", close: true, expect: { kind: "closed", received: false } },
];

function run(c: Case, pieces: Buffer[]): ParseOutcome | undefined {
  const parser = new ResponseParser({ maxHeadBytes: 256, bodyLimit: () => LIMIT });
  let outcome: ParseOutcome | undefined;
  for (const piece of pieces) outcome = parser.feed(piece) ?? outcome;
  if (c.close === true) outcome = parser.end();
  return outcome;
}

function check(c: Case, outcome: ParseOutcome | undefined, how: string): void {
  const label = `${c.name} (${how})`;
  assert.ok(outcome !== undefined, `${label}: no outcome`);
  assert.equal(outcome.kind, c.expect.kind, `${label}: ${JSON.stringify(outcome)}`);
  if (outcome.kind === "response" && c.expect.kind === "response") {
    assert.equal(outcome.head.status, c.expect.status, label);
    assert.equal(outcome.body.toString("latin1"), c.expect.body, label);
    assert.equal(outcome.reusable, c.expect.reusable, label);
    if (c.expect.headers !== undefined) assert.deepEqual(outcome.head.headers, c.expect.headers, label);
  }
  if (outcome.kind === "malformed" && c.expect.kind === "malformed" && c.expect.includes !== undefined) assert.match(outcome.reason, new RegExp(c.expect.includes), label);
  if (outcome.kind === "closed" && c.expect.kind === "closed") assert.equal(outcome.received, c.expect.received, label);
}

for (const c of CASES) {
  test(`http1 parser: ${c.name}`, () => {
    const bytes = Buffer.from(c.wire, "latin1");
    check(c, run(c, [bytes]), "whole");
    if (c.wholeOnly === true) return;
    check(c, run(c, [...bytes].map((b) => Buffer.from([b]))), "byte by byte");
    for (let at = 1; at < bytes.length; at++) check(c, run(c, [bytes.subarray(0, at), bytes.subarray(at)]), `split at ${at}`);
  });
}

test("http1 parser: the limit depends on the status (error bodies are capped apart)", () => {
  const parser = new ResponseParser({ maxHeadBytes: 256, bodyLimit: (status) => (status === 200 ? 1000 : 4) });
  const outcome = parser.feed(Buffer.from("HTTP/1.1 500 Oops\r\ncontent-length: 10\r\n\r\n0123456789"));
  assert.equal(outcome?.kind, "too-large");
  assert.equal(outcome?.kind === "too-large" ? outcome.head.status : 0, 500);
});

test("http1 parser: input after the outcome is ignored", () => {
  const parser = new ResponseParser({ maxHeadBytes: 256, bodyLimit: () => LIMIT });
  const first = parser.feed(Buffer.from("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nx"));
  assert.equal(first?.kind, "response");
  assert.equal(parser.feed(Buffer.from("garbage")), first);
  assert.equal(parser.end(), first);
});
