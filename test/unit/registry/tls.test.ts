import { test } from "node:test";
import assert from "node:assert/strict";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { HttpClient } from "../../../server/src/registry/http";
import { makeCertificate } from "./certificate";
import type { TlsSettings } from "../../../server/src/registry/npmConfig";

const material = makeCertificate();
const skip = typeof material === "string" ? material : undefined;

test("tls: strict-ssl and ca decide whether a private CA's server is trusted", { skip }, async () => {
  if (typeof material === "string") return;
  const server = https.createServer({ key: material.key, cert: material.cert }, (_req, res) => res.end('{"ok":true}'));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
  const cases: { name: string; tls: TlsSettings; ok: boolean }[] = [
    { name: "default roots reject a self-signed certificate", tls: { strictSSL: true }, ok: false },
    { name: "ca from the config trusts it", tls: { strictSSL: true, ca: [material.cert] }, ok: true },
    { name: "strict-ssl=false accepts it", tls: { strictSSL: false }, ok: true },
  ];
  try {
    for (const c of cases) {
      const client = new HttpClient({ tls: c.tls, retryBaseMs: 1 });
      const r = await client.get(url);
      assert.equal(r.ok, c.ok, c.name);
      if (!r.ok) {
        assert.equal(r.error.kind, "network", c.name);
        assert.match(r.error.message, /SELF_SIGNED|CERT/, c.name);
      }
      client.close();
    }
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
