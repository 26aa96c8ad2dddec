// HTTP proxies, chosen as npm chooses them (https-proxy, proxy, noproxy, the environment) and used through a real
// forwarding proxy on loopback: absolute-form requests for http, CONNECT tunnels for https with the origin's
// certificate still checked, credentials only where they belong, and plain words when the proxy is the problem.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { HttpClient } from "../../../server/src/registry/http";
import { loadNpmConfig } from "../../../server/src/registry/npmConfig";
import { bypassesProxy, proxyAuthorization, proxyEnvironment, proxyFor, type ProxySettings } from "../../../server/src/registry/proxy";
import { makeCertificate } from "./certificate";
import { startServer } from "./loopback";
import { startProxy } from "./proxyServer";

const FAST = { retryBaseMs: 1, timeoutMs: 5_000 };
const material = makeCertificate();
const noTls = typeof material === "string" ? material : undefined;

const settings = (over: Partial<ProxySettings> = {}): ProxySettings => ({ env: {}, ...over });
const href = (choice: ReturnType<typeof proxyFor>): string | undefined => (choice instanceof URL ? choice.href : choice === undefined ? undefined : `problem: ${choice.problem}`);

test("proxy choice: configured first, then the environment by the URL's scheme, as npm's agent", () => {
  const https = new URL("https://registry.npmjs.org/x");
  const http = new URL("http://registry.local:4873/x");
  assert.equal(href(proxyFor(https, settings())), undefined);
  assert.equal(href(proxyFor(https, settings({ configured: "http://p.corp:3128" }))), "http://p.corp:3128/");
  assert.equal(href(proxyFor(http, settings({ configured: "p.corp:3128" }))), "http://p.corp:3128/", "a bare host:port is http");
  // https URLs take only https_proxy from the environment; http ones https_proxy, then http_proxy, then proxy.
  assert.equal(href(proxyFor(https, settings({ env: { http_proxy: "http://h:1" } }))), undefined);
  assert.equal(href(proxyFor(https, settings({ env: { https_proxy: "http://s:2", http_proxy: "http://h:1" } }))), "http://s:2/");
  assert.equal(href(proxyFor(http, settings({ env: { http_proxy: "http://h:1" } }))), "http://h:1/");
  assert.equal(href(proxyFor(http, settings({ env: { https_proxy: "http://s:2", http_proxy: "http://h:1" } }))), "http://s:2/");
  assert.equal(href(proxyFor(http, settings({ env: { proxy: "http://o:3" } }))), "http://o:3/");
  assert.equal(href(proxyFor(https, settings({ configured: "http://c:4", env: { https_proxy: "http://s:2" } }))), "http://c:4/");
});

test("proxy choice: noproxy (else no_proxy) names domains reached directly, by whole labels", () => {
  assert.equal(bypassesProxy("registry.example.com", "example.com"), true);
  assert.equal(bypassesProxy("registry.example.com", ".example.com"), true);
  assert.equal(bypassesProxy("example.com", "example.com"), true);
  assert.equal(bypassesProxy("badexample.com", "example.com"), false, "labels, not a string suffix");
  assert.equal(bypassesProxy("registry.example.com", "other.org, localhost"), false);
  assert.equal(bypassesProxy("127.0.0.1", "localhost,127.0.0.1"), true);
  assert.equal(bypassesProxy("anything", ""), false);
  const url = new URL("https://npm.corp.example/x");
  assert.equal(href(proxyFor(url, settings({ configured: "http://p:1", noProxy: "corp.example" }))), undefined);
  assert.equal(href(proxyFor(url, settings({ configured: "http://p:1", env: { no_proxy: "corp.example" } }))), undefined);
  assert.equal(href(proxyFor(url, settings({ configured: "http://p:1", noProxy: "elsewhere.example", env: { no_proxy: "corp.example" } }))), "http://p:1/", "the config's noproxy wins over no_proxy");
});

test("proxy choice: an unusable proxy is a problem said in words, never a silent way around it", () => {
  const url = new URL("https://registry.npmjs.org/x");
  assert.match(href(proxyFor(url, settings({ configured: "socks5://user:secret@p:1080", configuredIn: "https-proxy (/home/u/.npmrc)" })))!, /^problem: the proxy socks5:\/\/p:1080 set in https-proxy \(\/home\/u\/\.npmrc\) uses socks5, and only http and https proxies are supported$/);
  const bad = href(proxyFor(url, settings({ env: { https_proxy: "http://[bad" } })))!;
  assert.match(bad, /^problem: the proxy set in the environment is not a valid URL$/);
  assert.doesNotMatch(bad, /secret/);
});

test("proxy choice: the environment's names in any case; credentials from the proxy URL, percent-decoded", () => {
  assert.deepEqual(proxyEnvironment({ HTTPS_PROXY: "http://a:1", No_Proxy: "x.org", PATH: "/bin", http_proxy: " " }), { https_proxy: "http://a:1", no_proxy: "x.org" });
  assert.equal(proxyAuthorization(new URL("http://p:1")), undefined);
  assert.equal(proxyAuthorization(new URL("http://us%40er:p%3Ass@p:1")), `Basic ${Buffer.from("us@er:p:ss").toString("base64")}`);
});

test("proxy config: https-proxy, else proxy, else the environment; noproxy; the project .npmrc only when trusted", () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "pl-proxy-"));
  const project = path.join(home, "project");
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "package.json"), "{}");
  const load = (files: { user?: string; project?: string }, env: Record<string, string> = {}, trusted = true) => {
    fs.writeFileSync(path.join(home, ".npmrc"), files.user ?? "");
    fs.writeFileSync(path.join(project, ".npmrc"), files.project ?? "");
    return loadNpmConfig({ projectDir: project, env, homeDir: home, globalConfigPath: path.join(home, "none"), trusted });
  };
  const registry = new URL("https://registry.npmjs.org/x");
  try {
    assert.equal(href(load({ user: "proxy=http://plain:1\nhttps-proxy=http://secure:2\n" }).proxyFor(registry)), "http://secure:2/");
    assert.equal(href(load({ user: "proxy=http://plain:1\n" }).proxyFor(registry)), "http://plain:1/", "npm uses proxy for https URLs too when https-proxy is unset");
    assert.equal(href(load({ user: "https-proxy=\n" }, { HTTPS_PROXY: "http://env:3" }).proxyFor(registry)), "http://env:3/");
    assert.equal(href(load({ user: "https-proxy=http://secure:2\nnoproxy=npmjs.org\n" }).proxyFor(registry)), undefined);
    assert.equal(href(load({}, { npm_config_https_proxy: "http://fromenv:4" }).proxyFor(registry)), "http://fromenv:4/");
    // A project .npmrc of an untrusted workspace is not read: it cannot send the registry traffic anywhere.
    assert.equal(href(load({ project: "https-proxy=http://evil:5\n" }, {}, false).proxyFor(registry)), undefined);
    assert.equal(href(load({ project: "https-proxy=http://evil:5\n" }, {}, true).proxyFor(registry)), "http://evil:5/");
    const withSecret = load({ user: "https-proxy=http://me:hunter2@secure:2\n" });
    assert.doesNotMatch(JSON.stringify(withSecret), /hunter2/);
    assert.match(JSON.stringify(withSecret), /"proxy":"http:\/\/secure:2\/"/);
    const socks = load({ user: "https-proxy=socks5://p:1080\n" });
    assert.ok(socks.problems.some((p) => /Unusable https-proxy: .*only http and https proxies are supported/.test(p.message)), JSON.stringify(socks.problems));
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test("proxy wire: an http registry is asked through the proxy, with Proxy-Authorization for the proxy only", async () => {
  const origin = await startServer((_req, res) => res.end('{"ok":true}'));
  const proxy = await startProxy({ credentials: "alice:s3cret" });
  const proxyUrl = new URL(proxy.origin.replace("http://", "http://alice:s3cret@"));
  const client = new HttpClient({ ...FAST, proxyFor: () => proxyUrl, authHeaderFor: () => "Bearer registry-token" });
  try {
    for (const name of ["a", "b"]) {
      const result = await client.get(`${origin.origin}/${name}`);
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(result.response.body.toString(), '{"ok":true}');
    }
    assert.deepEqual(proxy.seen.map((s) => [s.kind, s.target]), [["forward", `${origin.origin}/a`], ["forward", `${origin.origin}/b`]]);
    assert.equal(proxy.seen[0].headers["proxy-authorization"], `Basic ${Buffer.from("alice:s3cret").toString("base64")}`);
    assert.equal(origin.seen.length, 2);
    assert.equal(origin.seen[0].headers["proxy-authorization"], undefined);
    assert.equal(origin.seen[0].headers.authorization, "Bearer registry-token");
  } finally {
    client.close();
    await proxy.close();
    await origin.close();
  }
});

test("proxy wire: an https registry goes through a CONNECT tunnel; its certificate is checked end to end", { skip: noTls }, async () => {
  if (typeof material === "string") return;
  const seen: { authorization?: string; proxyAuthorization?: string }[] = [];
  const server = https.createServer({ key: material.key, cert: material.cert }, (req, res) => {
    seen.push({ authorization: req.headers.authorization, proxyAuthorization: req.headers["proxy-authorization"] as string | undefined });
    res.end('{"tls":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  // A man in the middle: a TLS server with another key, where the proxy sends every tunnel.
  const other = makeCertificate();
  const mitm = typeof other === "string" ? undefined : https.createServer({ key: other.key, cert: other.cert }, (_req, res) => res.end("{}"));
  if (mitm !== undefined) await new Promise<void>((resolve) => mitm.listen(0, "127.0.0.1", resolve));
  const proxy = await startProxy({ credentials: "bob:pw" });
  const evil = await startProxy({ tunnelTo: () => ({ host: "127.0.0.1", port: (mitm!.address() as AddressInfo).port }) });
  const tls = { strictSSL: true, ca: [material.cert] };
  const through = (proxyOrigin: string) => new HttpClient({ ...FAST, tls, proxyFor: () => new URL(proxyOrigin), authHeaderFor: () => "Bearer registry-token" });
  const client = through(proxy.origin.replace("http://", "http://bob:pw@"));
  try {
    for (const name of ["a", "b"]) {
      const result = await client.get(`https://127.0.0.1:${port}/${name}`);
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(result.response.body.toString(), '{"tls":true}');
    }
    // One tunnel, kept alive for the second request; the proxy saw host and port, never the token.
    assert.deepEqual(proxy.seen.map((s) => [s.kind, s.target]), [["connect", `127.0.0.1:${port}`]]);
    assert.equal(proxy.seen[0].headers["proxy-authorization"], `Basic ${Buffer.from("bob:pw").toString("base64")}`);
    assert.equal(proxy.seen[0].headers.authorization, undefined);
    assert.deepEqual(seen, [{ authorization: "Bearer registry-token", proxyAuthorization: undefined }, { authorization: "Bearer registry-token", proxyAuthorization: undefined }]);
    if (mitm !== undefined) {
      const intercepted = through(evil.origin);
      const result = await intercepted.get(`https://127.0.0.1:${port}/c`);
      intercepted.close();
      assert.equal(result.ok, false, "a tunnel to another certificate is refused");
      if (!result.ok) assert.match(result.error.message, /certificate|SELF_SIGNED|CERT/i);
    }
  } finally {
    client.close();
    await proxy.close();
    await evil.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    if (mitm !== undefined) {
      mitm.closeAllConnections();
      await new Promise((resolve) => mitm.close(resolve));
    }
  }
});

test("proxy wire: a proxy that wants credentials, refuses them, or cannot be reached is named as the problem", async () => {
  const proxy = await startProxy({ credentials: "carol:right" });
  const target = "https://registry.example.invalid/pkg";
  const attempt = async (proxyUrl: string): Promise<string> => {
    const client = new HttpClient({ ...FAST, proxyFor: () => new URL(proxyUrl) });
    try {
      const result = await client.get(target);
      assert.equal(result.ok, false);
      return result.ok ? "" : `${result.error.kind}: ${result.error.message}`;
    } finally {
      client.close();
    }
  };
  try {
    const missing = await attempt(proxy.origin);
    assert.match(missing, /^network: Could not reach https:\/\/registry\.example\.invalid\/pkg: the proxy http:\/\/127\.0\.0\.1:\d+\/ answered 407 Proxy Authentication Required to CONNECT registry\.example\.invalid:443: it wants credentials/);
    const wrong = await attempt(proxy.origin.replace("http://", "http://carol:wrong@"));
    assert.match(wrong, /answered 407 .*: it refused the credentials in the proxy URL\.$/);
    assert.doesNotMatch(wrong, /wrong/, "the credentials are never shown");
    assert.equal(proxy.seen.length, 2, "a proxy's refusal is not retried");
    const closed = await startProxy();
    const closedOrigin = closed.origin;
    await closed.close();
    assert.match(await attempt(closedOrigin), /could not connect to the proxy http:\/\/127\.0\.0\.1:\d+\/ \(ECONNREFUSED\)/);
    // An http registry through an unreachable proxy says the same.
    const client = new HttpClient({ ...FAST, proxyFor: () => new URL(closedOrigin) });
    const plain = await client.get("http://registry.example.invalid/pkg");
    client.close();
    assert.ok(!plain.ok && /could not connect to the proxy/.test(plain.error.message), JSON.stringify(plain));
    // An unusable proxy setting fails the request in words, without a connection anywhere.
    const socks = new HttpClient({ ...FAST, proxyFor: (url) => proxyFor(url, settings({ configured: "socks5://p:1080" })) });
    const refused = await socks.get("https://registry.npmjs.org/x");
    socks.close();
    assert.ok(!refused.ok && /only http and https proxies are supported/.test(refused.error.message), JSON.stringify(refused));
  } finally {
    await proxy.close();
  }
});

test("proxy wire: noproxy hosts are reached directly", async () => {
  const origin = await startServer((_req, res) => res.end("{}"));
  const proxy = await startProxy();
  const client = new HttpClient({ ...FAST, proxyFor: (url) => proxyFor(url, settings({ configured: proxy.origin, noProxy: "127.0.0.1" })) });
  try {
    const result = await client.get(`${origin.origin}/direct`);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(proxy.seen.length, 0);
    assert.equal(origin.seen.length, 1);
  } finally {
    client.close();
    await proxy.close();
    await origin.close();
  }
});
