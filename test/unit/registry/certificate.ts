// A self-signed certificate for 127.0.0.1, for the TLS and proxy tests.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// node:crypto cannot issue certificates, so a self-signed one for 127.0.0.1 comes from the openssl CLI.
export function makeCertificate(): { key: string; cert: string } | string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pl-tls-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
      "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
    ], { stdio: "ignore", timeout: 10_000 });
    return { key: fs.readFileSync(path.join(dir, "key.pem"), "utf8"), cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8") };
  } catch (error) {
    return `openssl could not make a test certificate (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

