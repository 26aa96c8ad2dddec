// The loopback test npm registry: real HTTP on 127.0.0.1, npm's real formats, misbehaviour on demand.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import path from "node:path";
import { RegistryContent, type RegistryKeys } from "./content";
import { keyEntry, newSigningKey, NPMJS_CURRENT_KEYID, type NpmKeyEntry } from "./keys";
import { createSigstoreAuthority, type SigstoreAuthority } from "./sigstore";
import { EXPIRED_KEY_EXPIRES, type LoggedRequest, type Misbehaviour, type MisbehaviourTarget, type PackageSpec } from "./types";

export interface TestRegistryOptions {
  packages: PackageSpec[];
  host?: string;
  port?: number;
  misbehaviour?: Record<MisbehaviourTarget, Misbehaviour | Misbehaviour[]>;
  /** When set, every request needs `Authorization: Bearer <token>` (401 otherwise). */
  requireToken?: string;
  /**
   * Keep every request in `requests` (default true, for tests). serve.ts turns it off: its long-lived process (the
   * demo, the benchmarks) answers hundreds of thousands of requests that nobody reads, and the log grew its heap to
   * ~500 MB and its garbage collection with it, slowing later benchmark rounds.
   */
  logRequests?: boolean;
}

export interface TestRegistry {
  /** Base URL with a trailing slash, e.g. http://127.0.0.1:41234/ */
  url: string;
  /** What `GET /-/npm/v1/keys` returns when nothing misbehaves. */
  keysJson: { keys: NpmKeyEntry[] };
  /** Sigstore TrustedRoot JSON (mock Fulcio CA + mock Rekor, no CT logs: verify with ctlogThreshold 0). */
  trustedRoot: Record<string, unknown>;
  /** Writes trusted_root.json into dir and returns its path. */
  writeTrustedRoot(dir: string): string;
  registryKeyPem: string;
  keyid: string;
  /** Replaces the misbehaviours of a target ("*", "keys", name, name@version); undefined clears them. */
  setMisbehaviour(target: MisbehaviourTarget, behaviour: Misbehaviour | Misbehaviour[] | undefined): void;
  /** Every request answered, in order (empty with `logRequests: false`). */
  requests: LoggedRequest[];
  /**
   * Builds every attestation response now (they are otherwise built on first request, ~30-80 ms each), so a
   * benchmark can time the verifier and not the signing. Resolves to how many were built.
   */
  prewarm(): Promise<number>;
  stop(): Promise<void>;
}

const ABBREVIATED = "application/vnd.npm.install-v1+json";
const HTTP_KINDS = new Set<Misbehaviour["kind"]>(["status", "slow", "hang", "malformed-json", "oversized", "redirect", "not-found"]);

type Route =
  | { kind: "keys" }
  | { kind: "attestations"; name: string; version: string }
  | { kind: "tarball"; name: string; version: string }
  | { kind: "packument"; name: string }
  | { kind: "unknown" };

function splitSpec(spec: string): { name: string; version: string } {
  const at = spec.lastIndexOf("@");
  return at > 0 ? { name: spec.slice(0, at), version: spec.slice(at + 1) } : { name: spec, version: "" };
}

export function routeOf(rawUrl: string): Route {
  const pathname = new URL(rawUrl, "http://registry.invalid").pathname;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch (error) {
    // A malformed %-escape names no package: a 404, like npm.
    if (error instanceof URIError) return { kind: "unknown" };
    throw error;
  }
  if (decoded === "/-/npm/v1/keys") return { kind: "keys" };
  if (decoded.startsWith("/-/npm/v1/attestations/")) return { kind: "attestations", ...splitSpec(decoded.slice("/-/npm/v1/attestations/".length)) };
  const tarballAt = decoded.indexOf("/-/");
  if (tarballAt > 0) {
    const name = decoded.slice(1, tarballAt);
    const file = decoded.slice(tarballAt + 3);
    const base = name.startsWith("@") ? name.slice(name.indexOf("/") + 1) : name;
    if (!file.startsWith(`${base}-`) || !file.endsWith(".tgz")) return { kind: "unknown" };
    return { kind: "tarball", name, version: file.slice(base.length + 1, -".tgz".length) };
  }
  const name = decoded.slice(1);
  return name.length > 0 ? { kind: "packument", name } : { kind: "unknown" };
}

export async function startTestRegistry(options: TestRegistryOptions): Promise<TestRegistry> {
  const host = options.host ?? "127.0.0.1";
  const keys: RegistryKeys = {
    registry: newSigningKey(),
    unknown: newSigningKey(),
    expired: newSigningKey(),
    attacker: newSigningKey(NPMJS_CURRENT_KEYID),
  };
  const table = new Map<MisbehaviourTarget, Misbehaviour[]>();
  const setMisbehaviour = (target: MisbehaviourTarget, behaviour: Misbehaviour | Misbehaviour[] | undefined): void => {
    if (behaviour === undefined) table.delete(target);
    // Copied: "status" counts its `times` down on the copy, not on the caller's object.
    else table.set(target, (Array.isArray(behaviour) ? behaviour : [behaviour]).map((m) => ({ ...m })));
  };
  for (const [target, behaviour] of Object.entries(options.misbehaviour ?? {})) setMisbehaviour(target, behaviour);
  const lookup = (name: string, version?: string): Misbehaviour[] => [
    ...(table.get("*") ?? []),
    ...(table.get(name) ?? []),
    ...(version !== undefined ? table.get(`${name}@${version}`) ?? [] : []),
  ];

  // The Sigstore authority is made once, on first need: starting a registry for signature-only tests stays cheap.
  // Trusted root export needs it too, so start() awaits it; bundles are still built lazily per version.
  let authorityPromise: Promise<SigstoreAuthority> | undefined;
  const authority = (): Promise<SigstoreAuthority> => (authorityPromise ??= createSigstoreAuthority());
  const sigstore = await authority();
  const content = new RegistryContent(options.packages, keys, authority, lookup);

  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let url = "";

  const keysJson = (): { keys: NpmKeyEntry[] } => {
    const list = [keyEntry(keys.registry, null), keyEntry(keys.expired, EXPIRED_KEY_EXPIRES)];
    const attacker = [...(table.get("*") ?? []), ...(table.get("keys") ?? [])].find((m) => m.kind === "attacker-keys");
    if (attacker !== undefined && attacker.kind === "attacker-keys") list.unshift(keyEntry({ ...keys.attacker, keyid: attacker.keyid ?? NPMJS_CURRENT_KEYID }, null));
    return { keys: list };
  };

  const sendJson = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown, contentType = "application/json"): void => {
    const text = JSON.stringify(body);
    const etag = `"${createHash("sha1").update(text).digest("base64")}"`;
    if (status === 200 && req.headers["if-none-match"] === etag) {
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text), etag });
    res.end(text);
  };
  const notFound = (req: IncomingMessage, res: ServerResponse): void => sendJson(req, res, 404, { error: "Not found" });

  const misbehaviourFor = (route: Route): Misbehaviour[] => {
    switch (route.kind) {
      case "keys":
        return [...(table.get("*") ?? []), ...(table.get("keys") ?? [])];
      case "packument":
        return lookup(route.name);
      case "tarball":
      case "attestations":
        return lookup(route.name, route.version);
      default:
        return table.get("*") ?? [];
    }
  };

  // Applies an HTTP misbehaviour; true when the response has been taken over.
  const misbehave = async (req: IncomingMessage, res: ServerResponse, list: Misbehaviour[]): Promise<boolean> => {
    for (const m of list) {
      if (!HTTP_KINDS.has(m.kind)) continue;
      switch (m.kind) {
        case "redirect":
          res.writeHead(302, { location: new URL(req.url ?? "/", m.to).href });
          res.end();
          return true;
        case "not-found":
          notFound(req, res);
          return true;
        case "status":
          if (m.times !== undefined && m.times <= 0) continue;
          if (m.times !== undefined) m.times -= 1;
          res.writeHead(m.status, {
            "content-type": "application/json",
            ...(m.retryAfterSeconds !== undefined ? { "retry-after": String(m.retryAfterSeconds) } : {}),
          });
          res.end(JSON.stringify({ error: `test registry answers ${m.status}` }));
          return true;
        case "hang":
          return true; // the socket stays open until the client gives up or stop() destroys it
        case "slow":
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              timers.delete(timer);
              resolve();
            }, m.delayMs);
            timers.add(timer);
            res.once("close", () => {
              clearTimeout(timer);
              timers.delete(timer);
              resolve();
            });
          });
          if (res.destroyed) return true;
          continue;
        case "malformed-json":
          res.writeHead(200, { "content-type": "application/json" });
          res.end('{"name": "truncated", "versions": {"1.0.0": {"dist": ');
          return true;
        case "oversized":
          await streamOversized(res, m.bytes);
          return true;
      }
    }
    return false;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.logRequests !== false) requests.push({ method: req.method ?? "GET", url: req.url ?? "/", headers: { ...req.headers } });
    if (options.requireToken !== undefined && req.headers.authorization !== `Bearer ${options.requireToken}`) {
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="test-registry"' });
      res.end(JSON.stringify({ error: "This registry needs a token." }));
      return;
    }
    const route = routeOf(req.url ?? "/");
    if (await misbehave(req, res, misbehaviourFor(route))) return;
    const stripped = misbehaviourFor(route).some((m) => m.kind === "stripping-mirror");
    switch (route.kind) {
      case "keys":
        if (stripped) return notFound(req, res);
        return sendJson(req, res, 200, keysJson());
      case "attestations": {
        const built = stripped ? undefined : content.attestationsFor(url, route.name, route.version);
        if (built === undefined) return notFound(req, res);
        return sendJson(req, res, 200, await built);
      }
      case "tarball": {
        const tarball = content.material(route.name, route.version)?.tarball;
        if (tarball === undefined) return notFound(req, res);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": tarball.bytes.length });
        res.end(tarball.bytes);
        return;
      }
      case "packument": {
        const abbreviated = (req.headers.accept ?? "").includes(ABBREVIATED);
        const packument = content.packument(url, route.name, abbreviated);
        if (packument === undefined) return notFound(req, res);
        return sendJson(req, res, 200, packument, abbreviated ? ABBREVIATED : "application/json");
      }
      default:
        return notFound(req, res);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // An unexpected failure inside the test registry is a 500 with its cause, so a test sees why.
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`test registry error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("test registry: no TCP address");
  url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}/`;

  return {
    url,
    keysJson: keysJson(),
    trustedRoot: sigstore.trustedRoot,
    writeTrustedRoot(dir: string): string {
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, "trusted_root.json");
      writeFileSync(file, JSON.stringify(sigstore.trustedRoot, null, 2) + "\n");
      return file;
    },
    registryKeyPem: keys.registry.publicKeyPem,
    keyid: keys.registry.keyid,
    setMisbehaviour,
    requests,
    async prewarm(): Promise<number> {
      let built = 0;
      for (const pkg of options.packages) {
        for (const version of pkg.versions) {
          const pending = content.attestationsFor(url, pkg.name, version.version);
          if (pending === undefined) continue;
          await pending;
          built += 1;
        }
      }
      return built;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function streamOversized(res: ServerResponse, bytes: number): Promise<void> {
  res.writeHead(200, { "content-type": "application/json" });
  const head = Buffer.from('{"name":"oversized","padding":"');
  const tail = Buffer.from('"}');
  const chunk = Buffer.alloc(64 * 1024, "a");
  let left = Math.max(0, bytes - head.length - tail.length);
  res.write(head);
  while (left > 0 && !res.destroyed) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
    left -= part.length;
    if (!res.write(part)) {
      // Wait for the client to read (backpressure) or go away.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    }
  }
  if (!res.destroyed) res.end(tail);
}
