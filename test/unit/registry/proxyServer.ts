// A real forwarding HTTP proxy on loopback for the proxy tests: CONNECT tunnels for https, absolute-form requests for
// http, optional Basic credentials, and a log of what it saw.
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";

export interface ProxySeen {
  kind: "connect" | "forward";
  /** CONNECT's host:port, or the absolute URL asked for. */
  target: string;
  headers: http.IncomingHttpHeaders;
}

export interface TestProxy {
  /** `http://127.0.0.1:port` */
  origin: string;
  seen: ProxySeen[];
  close(): Promise<void>;
}

export interface TestProxyOptions {
  /** `user:password` the proxy requires in Proxy-Authorization (407 otherwise). */
  credentials?: string;
  /** Where a CONNECT really goes (a man in the middle, in a test): default the host and port asked for. */
  tunnelTo?: (host: string, port: number) => { host: string; port: number };
}

export async function startProxy(options: TestProxyOptions = {}): Promise<TestProxy> {
  const seen: ProxySeen[] = [];
  const sockets = new Set<net.Socket>();
  const expected = options.credentials === undefined ? undefined : `Basic ${Buffer.from(options.credentials).toString("base64")}`;
  const authorised = (headers: http.IncomingHttpHeaders): boolean => expected === undefined || headers["proxy-authorization"] === expected;

  const server = http.createServer((req, res) => {
    seen.push({ kind: "forward", target: req.url ?? "", headers: req.headers });
    if (!authorised(req.headers)) {
      res.writeHead(407, { "proxy-authenticate": 'Basic realm="test-proxy"', "content-length": "0" });
      res.end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      res.writeHead(400, { "content-length": "0" });
      res.end();
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    const upstream = http.request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => {
      res.writeHead(502, { "content-length": "0" });
      res.end();
    });
    req.pipe(upstream);
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => undefined);
    seen.push({ kind: "connect", target: req.url ?? "", headers: req.headers });
    if (!authorised(req.headers)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="test-proxy"\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const [host, port] = splitHostPort(req.url ?? "");
    const to = options.tunnelTo?.(host, port) ?? { host, port };
    const upstream = net.connect(to.port, to.host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
  });
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function splitHostPort(text: string): [string, number] {
  const colon = text.lastIndexOf(":");
  const host = text.slice(0, colon).replace(/^\[|\]$/g, "");
  return [host, Number(text.slice(colon + 1))];
}
