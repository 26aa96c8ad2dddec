// Runs test/integration/suite inside a downloaded VS Code (@vscode/test-electron) against the loopback test
// registry, for machines that can download VS Code:
//   npm run test:integration        (= node out/test/integration/runIntegration.js --run)
// Where the download fails (no internet, like the machine this was written on), it says so and exits 0: the e2e
// suite (test/e2e, code-server) is what covers the editor there. Under the default `npm test` this file is
// picked up as a test file and registers one skipped test.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { downloadAndUnzipVSCode, runTests } from "@vscode/test-electron";
import { startTestRegistry } from "../registry/index";
import { SCENARIO_MISBEHAVIOUR, SCENARIO_PACKAGES, writeScenarioWorkspace } from "../e2e/scenario";
import type { IntegrationContext } from "./suite/context";

/** The VS Code the extension's engines field asks for. */
const VSCODE_VERSION = "1.100.3";
const REPO = path.resolve(__dirname, "../../..");

async function main(): Promise<number> {
  let vscodeExecutablePath: string;
  try {
    // `timeout` is the idle timeout of the download: a machine without internet fails fast instead of hanging.
    vscodeExecutablePath = await downloadAndUnzipVSCode({ version: VSCODE_VERSION, timeout: 30_000, cachePath: path.join(REPO, ".vscode-test") });
  } catch (error) {
    process.stdout.write(
      `test:integration: SKIPPED, VS Code ${VSCODE_VERSION} could not be downloaded (${error instanceof Error ? error.message : String(error)}).\n` +
        "This suite needs a machine that can download VS Code; `npm run test:e2e` runs the same checks in code-server.\n",
    );
    return 0;
  }
  const scratch = mkdtempSync(path.join(tmpdir(), "provenance-lens-it-"));
  const registry = await startTestRegistry({ packages: SCENARIO_PACKAGES, misbehaviour: SCENARIO_MISBEHAVIOUR });
  try {
    const trustedRootPath = registry.writeTrustedRoot(scratch);
    const workspace = writeScenarioWorkspace(path.join(scratch, "workspace"), { url: registry.url, trustedRootPath }, path.join(scratch, "verdict-cache"));
    const context: IntegrationContext = {
      lockfilePath: workspace.lockfilePath,
      packageJsonPath: workspace.packageJsonPath,
      lineOf: Object.fromEntries(workspace.lineOf),
    };
    mkdirSync(path.join(scratch, "user-data"), { recursive: true });
    await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: REPO,
      extensionTestsPath: path.join(__dirname, "suite/index.js"),
      extensionTestsEnv: { PROVENANCE_LENS_IT_CONTEXT: JSON.stringify(context), NPM_CONFIG_USERCONFIG: path.join(scratch, "no-npmrc") },
      launchArgs: [workspace.folder, "--disable-extensions", "--disable-workspace-trust", "--user-data-dir", path.join(scratch, "user-data")],
    });
    return 0;
  } catch (error) {
    process.stderr.write(`test:integration: FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await registry.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv.includes("--run")) {
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`test:integration: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
} else {
  test("VS Code integration suite (@vscode/test-electron)", { skip: "runs with `npm run test:integration` on a machine that can download VS Code" }, () => {});
}
