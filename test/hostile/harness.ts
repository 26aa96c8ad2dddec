// Shared pieces of the hostile-registry and secrets tests: locked packages made from registry specs, an isolated
// npm configuration (no real ~/.npmrc), and a plain loopback server that logs what reaches it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { LockedPackage } from "../../server/src/lockfile/model";
import type { EngineOptions } from "../../server/src/verify/engine";
import { integrityOf, type PackageSpec } from "../registry";

export function lockedPackage(spec: PackageSpec, overrides: Partial<LockedPackage> = {}): LockedPackage {
  const v = spec.versions[0];
  return {
    name: spec.name,
    version: v.version,
    source: "registry",
    integrity: integrityOf(spec.name, v),
    dev: false,
    optional: false,
    direct: true,
    entryIds: [`node_modules/${spec.name}`],
    locations: [{ start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }],
    ...overrides,
  };
}

/** No user or global .npmrc and no environment: only what a test writes is configured. */
export function isolatedConfig(): Pick<EngineOptions, "env" | "homeDir" | "globalConfigPath"> {
  const home = mkdtempSync(path.join(tmpdir(), "pl-hostile-home-"));
  return { env: {}, homeDir: home, globalConfigPath: path.join(home, "no-global-npmrc") };
}

/** A project folder (package.json, optional .npmrc); returns where its lockfile would be. */
export function projectDir(npmrc?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pl-hostile-project-"));
  writeFileSync(path.join(dir, "package.json"), "{}\n");
  if (npmrc !== undefined) writeFileSync(path.join(dir, ".npmrc"), npmrc);
  return path.join(dir, "package-lock.json");
}

export interface LoggingServer {
  url: string;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  stop(): Promise<void>;
}

/** Answers 404 to everything and logs each request with its headers: the "other host" an attacker points at. */
export async function startLoggingServer(host: string, port = 0): Promise<LoggingServer> {
  const requests: LoggingServer["requests"] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? "/", headers: { ...req.headers } });
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":"not here"}');
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("logging server: no TCP address");
  return {
    url: `http://${host}:${address.port}/`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
