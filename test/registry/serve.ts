// CLI for the demo and benchmarks:
//   node out/test/registry/serve.js [--port N] [--host 127.0.0.1] [--spec spec.json] [--out dir] [--project dir]
//     [--token T] [--prewarm]
// spec.json is PackageSpec[] or { packages: PackageSpec[], misbehaviour?: {...} }; without it, the demo set.
// Prints the registry URL on the first line of stdout, writes trusted_root.json and keys.json into --out, and
// with --project a package.json + package-lock.json matching the spec. Runs until SIGINT/SIGTERM.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { startTestRegistry } from "./server";
import { DEMO_MISBEHAVIOUR, DEMO_PACKAGES } from "./specs";
import { writeProjectForSpec } from "./lockfileWriter";
import type { Misbehaviour, PackageSpec } from "./types";

interface SpecFile {
  packages: PackageSpec[];
  misbehaviour?: Record<string, Misbehaviour | Misbehaviour[]>;
}

function readSpec(file: string | undefined): SpecFile {
  if (file === undefined) return { packages: DEMO_PACKAGES, misbehaviour: DEMO_MISBEHAVIOUR };
  const parsed = JSON.parse(readFileSync(file, "utf8")) as PackageSpec[] | SpecFile;
  return Array.isArray(parsed) ? { packages: parsed } : parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      spec: { type: "string" },
      out: { type: "string" },
      project: { type: "string" },
      token: { type: "string" },
      prewarm: { type: "boolean", default: false },
    },
  });
  const spec = readSpec(values.spec);
  const registry = await startTestRegistry({
    packages: spec.packages,
    host: values.host,
    port: Number(values.port),
    misbehaviour: spec.misbehaviour,
    requireToken: values.token,
    // Nobody reads the log of this process (see TestRegistryOptions.logRequests).
    logRequests: false,
  });
  // With --prewarm the URL is printed only once every attestation is built, so "URL seen" means "ready".
  if (values.prewarm === true) process.stderr.write(`prewarmed ${await registry.prewarm()} attestation responses\n`);
  if (values.out !== undefined) {
    mkdirSync(values.out, { recursive: true });
    const rootPath = registry.writeTrustedRoot(values.out);
    writeFileSync(path.join(values.out, "keys.json"), JSON.stringify(registry.keysJson, null, 2) + "\n");
    writeFileSync(path.join(values.out, "registry.json"), JSON.stringify({ url: registry.url, keyid: registry.keyid, trustedRoot: rootPath }, null, 2) + "\n");
    process.stderr.write(`trusted root and keys written to ${values.out}\n`);
  }
  if (values.project !== undefined) {
    const written = writeProjectForSpec(values.project, spec.packages);
    process.stderr.write(`project written: ${written.lockfilePath}\n`);
  }
  // Printed last: a reader that sees the URL knows the files above are written.
  process.stdout.write(`${registry.url}\n`);
  const shutdown = (): void => {
    registry.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stopping the test registry failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`test registry: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
