// The integration suite, run by @vscode/test-electron inside VS Code's extension host (`run()` is its entry).
// `vscode` exists only there: it is required inside run(), so that plain node (the default `npm test` loads every
// file under out/test) can load this file; run that way it registers one skipped test.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type * as vscodeApi from "vscode";
import { DEFAULT_STATUS_LEVELS } from "../../../server/src/protocol/settings";
import { EXPECTED, EXPECTED_PIN } from "../../e2e/scenario";
import type { IntegrationContext } from "./context";

const EXTENSION_ID = "provenance-lens.provenance-lens";
const WAIT_MS = 60_000;

interface Case {
  name: string;
  run(): Promise<void>;
}

export async function run(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vscode = require("vscode") as typeof vscodeApi;
  const context = JSON.parse(process.env.PROVENANCE_LENS_IT_CONTEXT ?? "{}") as IntegrationContext;
  const lockfile = vscode.Uri.file(context.lockfilePath);
  const expectedProblems = EXPECTED.filter((pkg) => DEFAULT_STATUS_LEVELS[pkg.status] !== "none");
  const severityName = (severity: vscodeApi.DiagnosticSeverity): string => ["error", "warning", "information", "hint"][severity] ?? "?";
  const positionOf = (name: string) => new vscode.Position((context.lineOf[name] ?? 1) - 1, 5);

  const cases: Case[] = [
    {
      name: "diagnostics: one per finding, on its entry's line, with the status as code and its severity",
      async run() {
        const diagnostics = await settledDiagnostics(vscode, lockfile, expectedProblems.length);
        const actual = diagnostics
          .map((d) => ({ line: d.range.start.line + 1, code: codeOf(d), severity: severityName(d.severity) }))
          .sort((a, b) => a.line - b.line);
        const expected = expectedProblems
          .map((pkg) => ({ line: context.lineOf[pkg.name], code: pkg.status, severity: DEFAULT_STATUS_LEVELS[pkg.status] }))
          .sort((a, b) => a.line - b.line);
        assert.deepEqual(actual, expected);
      },
    },
    {
      name: "hover: the verdict and its evidence",
      async run() {
        for (const pkg of EXPECTED) {
          const hovers = await vscode.commands.executeCommand<vscodeApi.Hover[]>("vscode.executeHoverProvider", lockfile, positionOf(pkg.name));
          const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === "string" ? c : c.value))).join("\n");
          assert.match(text, new RegExp(`${pkg.name}@${pkg.version}[\\s\\S]*${pkg.status}`), `hover of ${pkg.name}:\n${text}`);
          for (const words of pkg.hoverHas) assert.ok(text.toLowerCase().includes(words.toLowerCase()), `hover of ${pkg.name} mentions ${words}:\n${text}`);
        }
      },
    },
    {
      name: "code action: Pin to a verified version edits package.json",
      async run() {
        const position = positionOf(EXPECTED_PIN.name);
        // itemResolveCount 10: edits computed in codeAction/resolve are filled in.
        const actions = await vscode.commands.executeCommand<vscodeApi.CodeAction[]>("vscode.executeCodeActionProvider", lockfile, new vscode.Range(position, position), vscode.CodeActionKind.QuickFix.value, 10);
        const pin = actions.find((a) => a.title.startsWith(EXPECTED_PIN.titleStartsWith));
        assert.ok(pin !== undefined, `a pin action among: ${actions.map((a) => a.title).join(" | ")}`);
        if (pin.edit !== undefined) assert.ok(await vscode.workspace.applyEdit(pin.edit), "the edit applies");
        if (pin.command !== undefined) await vscode.commands.executeCommand(pin.command.command, ...(pin.command.arguments ?? []));
        assert.ok(await vscode.workspace.saveAll(false), "saved");
        const after = JSON.parse(readFileSync(context.packageJsonPath, "utf8")) as { dependencies: Record<string, string> };
        assert.match(after.dependencies[EXPECTED_PIN.name] ?? "", new RegExp(`^[~^]?${EXPECTED_PIN.to.replace(/\./g, "\\.")}$`));
      },
    },
    {
      name: "tree view: the Dependency Trust view is contributed and opens",
      async run() {
        // VS Code has no API to read another extension's tree items; the e2e suite reads them from the page.
        await vscode.commands.executeCommand("provenanceLens.trust.focus");
      },
    },
  ];

  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension !== undefined, `${EXTENSION_ID} is loaded`);
  await extension.activate();
  await vscode.window.showTextDocument(lockfile);
  const failures: string[] = [];
  for (const item of cases) {
    try {
      await item.run();
      console.log(`ok - ${item.name}`);
    } catch (error) {
      failures.push(`${item.name}: ${error instanceof Error ? error.message : String(error)}`);
      console.log(`not ok - ${item.name}\n${error instanceof Error ? error.stack : String(error)}`);
    }
  }
  console.log(`# pass ${cases.length - failures.length}\n# fail ${failures.length}`);
  if (failures.length > 0) throw new Error(`${failures.length} integration case(s) failed:\n${failures.join("\n")}`);
}

function codeOf(diagnostic: vscodeApi.Diagnostic): string {
  const code = diagnostic.code;
  return typeof code === "object" ? String(code.value) : String(code);
}

/** Waits (on diagnostic change events, bounded) until the lockfile has `count` Provenance Lens diagnostics. */
function settledDiagnostics(vscode: typeof vscodeApi, uri: vscodeApi.Uri, count: number): Promise<vscodeApi.Diagnostic[]> {
  const current = () => vscode.languages.getDiagnostics(uri).filter((d) => d.source === "Provenance Lens");
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const diagnostics = current();
      if (diagnostics.length !== count) return false;
      subscription.dispose();
      clearTimeout(timer);
      resolve(diagnostics);
      return true;
    };
    const subscription = vscode.languages.onDidChangeDiagnostics((event) => {
      if (event.uris.some((u) => u.toString() === uri.toString())) check();
    });
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`expected ${count} diagnostics within ${WAIT_MS} ms, have:\n${current().map((d) => `${d.range.start.line + 1}: ${d.message}`).join("\n")}`));
    }, WAIT_MS);
    check();
  });
}

if (require.main === module) {
  test("VS Code integration suite (runs inside VS Code)", { skip: "runs with `npm run test:integration` inside a downloaded VS Code" }, () => {});
}
