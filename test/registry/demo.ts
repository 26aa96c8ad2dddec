// The README quick start's main job: start the loopback test registry, check the bundled example workspace
// (examples/demo-workspace) against it with the real CLI, and print what a person would see. No network beyond
// 127.0.0.1; every kind of verdict appears once.
//   node out/test/registry/demo.js [--format text|json] [--write-workspace]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startTestRegistry } from "./server";
import { DEMO_MISBEHAVIOUR, DEMO_PACKAGES } from "./specs";
import { writeProjectForSpec } from "./lockfileWriter";

const REPO = path.resolve(__dirname, "../../..");
export const DEMO_WORKSPACE = path.join(REPO, "examples/demo-workspace");

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes("--write-workspace")) {
    // Regenerates the registry part of the example lockfile (tarballs are deterministic, so integrities are stable).
    writeProjectForSpec(path.join(tmpdir(), "provenance-lens-demo-spec"), DEMO_PACKAGES);
    process.stdout.write(`wrote ${path.join(tmpdir(), "provenance-lens-demo-spec")}; merge it into ${DEMO_WORKSPACE}\n`);
    return 0;
  }
  const format = args.includes("--format") ? args[args.indexOf("--format") + 1] ?? "text" : "text";
  const registry = await startTestRegistry({ packages: DEMO_PACKAGES, misbehaviour: DEMO_MISBEHAVIOUR });
  const scratch = mkdtempSync(path.join(tmpdir(), "provenance-lens-demo-"));
  try {
    const trustedRoot = registry.writeTrustedRoot(scratch);
    if (format === "text") {
      process.stdout.write(
        `Provenance Lens demo: checking examples/demo-workspace against a loopback test registry at ${registry.url}\n` +
          "(real HTTP, real P-256 registry signatures, real Sigstore bundles from a mock Fulcio CA and Rekor log).\n\n",
      );
    }
    const cli = path.join(REPO, "dist/cli.js");
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [cli, "check", DEMO_WORKSPACE, "--registry", registry.url, "--trusted-root", trustedRoot, "--no-cache", "--format", format],
        { stdio: ["ignore", "inherit", "inherit"], cwd: REPO, env: { ...process.env, NPM_CONFIG_USERCONFIG: path.join(scratch, "no-npmrc") } },
      );
      child.once("error", reject);
      child.once("close", (exit) => resolve(exit ?? 2));
    });
    if (format === "text") {
      process.stdout.write(
        `\nThe CLI exited ${code}: 1 means something is at error severity (here, on purpose, a tampered package).\n` +
          "Next: `npm test` runs the test suite; see README.md for the VS Code extension and CI use.\n",
      );
    }
    // The demo shows an invalid package on purpose: exit 1 is its expected outcome, not a failure of the demo.
    return code === 1 ? 0 : code;
  } finally {
    await registry.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
