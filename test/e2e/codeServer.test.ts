// The product in a real VS Code (code-server 4.100.3) in a real browser (Debian's chromium via playwright-core):
// the packaged .vsix against the loopback test registry, asserted through the page. Runs with `npm run test:e2e`
// after scripts/setup-code-server.sh; in the default `npm test` it is one skipped test.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { DEFAULT_STATUS_LEVELS } from "../../server/src/protocol/settings";
import { PACKAGE_STATUSES } from "../../server/src/protocol/verdicts";
import { startTestRegistry, type TestRegistry } from "../registry/index";
import { codeServerEntry, codeServerInstalled, createProfile, installExtension, isolatedEnv, startCodeServer, type RunningCodeServer } from "./codeServer";
import { EXPECTED, EXPECTED_PIN, SCENARIO_MISBEHAVIOUR, SCENARIO_PACKAGES, writeScenarioWorkspace, type ScenarioWorkspace } from "./scenario";
import * as workbench from "./workbench";
import { repoRoot } from "../repoRoot";

const REPO = repoRoot(__dirname);
const ARTEFACTS = path.join(REPO, "test-results/e2e");
const ENABLED = process.env.PROVENANCE_LENS_E2E === "1";

/** Packages whose status shows in the Problems panel with default settings, and how. */
const EXPECTED_PROBLEMS = EXPECTED.flatMap((pkg) => {
  const level = DEFAULT_STATUS_LEVELS[pkg.status];
  return level === "none" ? [] : [{ ...pkg, level }];
});

if (!ENABLED) {
  test("Provenance Lens in code-server + chromium", { skip: "runs with `npm run test:e2e` after scripts/setup-code-server.sh" }, () => {});
} else {
  describe("Provenance Lens in code-server + chromium", { timeout: 15 * 60_000 }, () => {
    let scratch = "";
    let registry: TestRegistry | undefined;
    let codeServer: RunningCodeServer | undefined;
    let browser: Browser | undefined;
    let page: Page;
    let workspace: ScenarioWorkspace;

    before(async () => {
      const entry = codeServerEntry();
      // In CI a missing install is a failure, never a skip: scripts/setup-code-server.sh must have run.
      assert.ok(codeServerInstalled(entry), `code-server is not installed at ${entry}: run scripts/setup-code-server.sh`);
      scratch = mkdtempSync(path.join(tmpdir(), "provenance-lens-e2e-"));
      mkdirSync(ARTEFACTS, { recursive: true });

      await npmRunPackage();
      const vsix = path.join(scratch, "provenance-lens.vsix");
      copyFileSync(path.join(REPO, "provenance-lens.vsix"), vsix);

      registry = await startTestRegistry({ packages: SCENARIO_PACKAGES, misbehaviour: SCENARIO_MISBEHAVIOUR });
      const trustedRootPath = registry.writeTrustedRoot(scratch);
      workspace = writeScenarioWorkspace(path.join(scratch, "workspace"), { url: registry.url, trustedRootPath }, path.join(scratch, "verdict-cache"));

      const profile = createProfile(path.join(scratch, "profile"));
      const env = isolatedEnv(path.join(scratch, "home"));
      await installExtension(entry, profile, vsix, env);
      codeServer = await startCodeServer(entry, profile, env);

      browser = await workbench.launchChromium();
      page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await workbench.openFolder(page, codeServer.url, workspace.folder);
      await workbench.trustWorkspaceIfAsked(page);
      await workbench.openFile(page, "package-lock.json");
    });

    after(async () => {
      // Each step runs whatever failed before it: no browser, code-server or registry outlives the suite.
      await browser?.close().catch((error: unknown) => console.error(`closing chromium: ${String(error)}`));
      await codeServer?.stop();
      await registry?.stop();
      if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
    });

    test("the Problems panel shows each finding on its entry's line, with the status's severity", async () => {
      await workbench.runCommand(page, "View: Focus Problems (Errors, Warnings, Infos)");
      const wanted = EXPECTED_PROBLEMS.map((pkg) => `${pkg.name}@${pkg.version}`);
      try {
        // Waits for the settled result: every expected package named, and nothing else listed.
        await page.waitForFunction(
          (names: string[]) => {
            // Runs in the page: `document` is the workbench's.
            const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<workbench.PageElement> } }).document;
            // Marker rows have a severity icon; their related-information rows do not.
            const markers = [...doc.querySelectorAll(".markers-panel .monaco-list-row")]
              .filter((row) => row.querySelector(".marker-icon") !== null)
              .map((row) => row.getAttribute("aria-label") ?? "");
            return markers.length === names.length && names.every((name) => markers.some((label) => label.includes(`${name}:`)));
          },
          wanted,
          { timeout: workbench.PAGE_WAIT_MS, polling: 250 },
        );
      } finally {
        await page.screenshot({ path: path.join(ARTEFACTS, "lockfile-diagnostics.png"), animations: "disabled" });
      }
      const problems = await workbench.readProblems(page);
      const actual = problems.map((p) => ({ line: p.line, severity: p.severity, package: /^([^:]+):/.exec(p.message)?.[1] ?? p.message }));
      const expected = EXPECTED_PROBLEMS.map((pkg) => ({ line: workspace.lineOf.get(pkg.name), severity: pkg.level, package: `${pkg.name}@${pkg.version}` }));
      const byLine = (a: { line?: number }, b: { line?: number }) => (a.line ?? 0) - (b.line ?? 0);
      assert.deepEqual(actual.sort(byLine), expected.sort(byLine));
      for (const pkg of EXPECTED_PROBLEMS) {
        const row = problems.find((p) => p.message.startsWith(`${pkg.name}@${pkg.version}:`));
        assert.match(row?.ariaLabel ?? "", new RegExp(`\\b${pkg.status}\\b`), `the ${pkg.name} finding names its status`);
      }
      assert.ok(registry!.requests.length > 0, "the extension asked the loopback registry");
    });

    test("a hover on an entry shows its verdict and evidence", async () => {
      for (const pkg of [EXPECTED.find((p) => p.status === "verified"), EXPECTED.find((p) => p.status === "invalid")]) {
        assert.ok(pkg !== undefined);
        await workbench.goToLine(page, workspace.lineOf.get(pkg.name)!, 6);
        // The evidence part comes from the language server; the marker part alone would not contain the status title.
        const hover = await workbench.showHoverAtCursor(page, `— ${pkg.status}`);
        const text = await hover.innerText();
        assert.match(text, new RegExp(`${pkg.name}@${pkg.version}`));
        for (const words of pkg.hoverHas) assert.ok(text.toLowerCase().includes(words.toLowerCase()), `the hover of ${pkg.name} mentions ${words}:\n${text}`);
        await page.screenshot({ path: path.join(ARTEFACTS, `hover-${pkg.status}.png`), animations: "disabled" });
        await page.keyboard.press("Escape");
        await hover.waitFor({ state: "hidden", timeout: workbench.PAGE_WAIT_MS });
      }
    });

    test("the Dependency Trust view lists each package under its status", async () => {
      // A group row is "<status> (<count>)"; the packages are the rows one level below it.
      const groupPattern = new RegExp(`^(${PACKAGE_STATUSES.join("|")}) \\((\\d+)\\)`);
      let rows: workbench.TreeRow[];
      try {
        const view = await workbench.showView(page, "Provenance Lens", "Dependency Trust");
        rows = await workbench.expandGroups(view, (label) => groupPattern.test(label));
      } finally {
        await page.screenshot({ path: path.join(ARTEFACTS, "tree-view.png"), animations: "disabled" });
      }
      const groupOf = new Map<string, string>();
      let group: { status: string; level: number } | undefined;
      for (const row of rows) {
        const match = groupPattern.exec(row.label);
        if (match !== null) group = { status: match[1], level: row.level };
        else if (group !== undefined && row.level === group.level + 1) groupOf.set(row.label, group.status);
      }
      for (const pkg of EXPECTED) {
        const label = [...groupOf.keys()].find((l) => l.startsWith(`${pkg.name}@${pkg.version}`));
        assert.ok(label !== undefined, `${pkg.name}@${pkg.version} is in the tree:\n${rows.map((r) => `${"  ".repeat(r.level)}${r.label}`).join("\n")}`);
        assert.equal(groupOf.get(label), pkg.status, `${pkg.name} is under ${pkg.status}`);
      }
      // Problems first: the groups come in PACKAGE_STATUSES order.
      const groups = rows.flatMap((r) => groupPattern.exec(r.label)?.[1] ?? []);
      assert.deepEqual(groups, PACKAGE_STATUSES.filter((status) => groups.includes(status)));
    });

    test(`applying "${EXPECTED_PIN.titleStartsWith} …verified" changes package.json on disk`, async () => {
      const before = JSON.parse(readFileSync(workspace.packageJsonPath, "utf8")) as { dependencies: Record<string, string> };
      assert.equal(before.dependencies[EXPECTED_PIN.name], EXPECTED_PIN.from);
      await workbench.openFile(page, "package-lock.json");
      await workbench.goToLine(page, workspace.lineOf.get(EXPECTED_PIN.name)!, 6);
      const changed = fileChange(workspace.packageJsonPath, (text) => (JSON.parse(text) as typeof before).dependencies?.[EXPECTED_PIN.name] !== EXPECTED_PIN.from);
      try {
        await workbench.applyQuickFix(page, EXPECTED_PIN.titleStartsWith);
        // An edit to a file that is not open may stay unsaved (files.refactoring.autoSave): save as a person would.
        await workbench.runCommand(page, "File: Save All Files");
        const text = await changed.done;
        const after = JSON.parse(text) as typeof before;
        assert.match(after.dependencies[EXPECTED_PIN.name], new RegExp(`^[~^]?${EXPECTED_PIN.to.replace(/\./g, "\\.")}$`));
      } finally {
        changed.cancel();
      }
    });
  });
}

function npmRunPackage(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("npm", ["run", "package"], { cwd: REPO, timeout: 300_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`npm run package failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
}

/** Resolves with the file's text once `accept` says it changed (fs.watch events, bounded). */
function fileChange(file: string, accept: (text: string) => boolean, deadlineMs = workbench.PAGE_WAIT_MS): { done: Promise<string>; cancel: () => void } {
  let cancel = (): void => {};
  const done = new Promise<string>((resolve, reject) => {
    let settled = false;
    // The folder is watched, not the file: editors may save by replacing it.
    const watcher = watch(path.dirname(file), () => check());
    const timer = setTimeout(() => finish(new Error(`${file} did not change as expected within ${deadlineMs} ms:\n${readFileSync(file, "utf8")}`)), deadlineMs);
    function check(): void {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
        if (accept(text)) finish(undefined, text);
      } catch (error) {
        // Mid-save the file can be missing or half-written for a moment; the next event reads it again.
        if ((error as NodeJS.ErrnoException).code !== "ENOENT" && !(error instanceof SyntaxError)) finish(error as Error);
      }
    }
    function finish(error: Error | undefined, text = ""): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      watcher.close();
      if (error !== undefined) reject(error);
      else resolve(text);
    }
    // Cancelling after the end is a no-op; before it, the wait ends with the current text.
    cancel = () => finish(undefined);
  });
  return { done, cancel };
}
