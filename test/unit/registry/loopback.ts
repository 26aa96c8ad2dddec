// Tiny real HTTP servers on loopback addresses for the registry tests.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface Loopback {
  /** `http://host:port` without a trailing slash. */
  origin: string;
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void,
  host = "127.0.0.1",
): Promise<Loopback> {
  const server = http.createServer();
  const loopback: Loopback = {
    origin: "",
    port: 0,
    connections: 0,
    seen: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on("connection", () => loopback.connections++);
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const index = loopback.seen.length;
    loopback.seen.push({ url: req.url ?? "", headers: req.headers });
    handler(req, res, index);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  loopback.port = (server.address() as AddressInfo).port;
  loopback.origin = `http://${host}:${loopback.port}`;
  return loopback;
}

export function json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
