// Drives the VS Code workbench in code-server through the page, the way a person would: keyboard, command
// palette, clicks. Every wait is on page state with a bound; no fixed sleeps.
import assert from "node:assert/strict";
import type { Browser, Locator, Page } from "playwright-core";
import { chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/** The flags issue #4 gives for Debian's chromium in a container: no sandbox, GPU, QUIC or background traffic. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Bound of any single wait on the page. The first check of a workspace includes starting the extension host. */
export const PAGE_WAIT_MS = 60_000;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: PAGE_WAIT_MS });
}

export async function openFolder(page: Page, baseUrl: string, folder: string): Promise<void> {
  await page.goto(`${baseUrl}/?folder=${encodeURIComponent(folder)}`, { timeout: PAGE_WAIT_MS });
  await page.locator(".monaco-workbench").waitFor({ timeout: PAGE_WAIT_MS });
  // The status bar is one of the last parts the workbench restores: once there, keyboard shortcuts work.
  await page.locator("#workbench\\.parts\\.statusbar").waitFor({ timeout: PAGE_WAIT_MS });
}

/** Answers the workspace trust dialog with "trust" if it is shown; returns whether it was. */
export async function trustWorkspaceIfAsked(page: Page): Promise<boolean> {
  const trust = page.locator(".monaco-dialog-box .monaco-button", { hasText: "Yes, I trust the authors" });
  const editorArea = page.locator("#workbench\\.parts\\.editor");
  await Promise.race([trust.waitFor({ timeout: PAGE_WAIT_MS }), editorArea.waitFor({ timeout: PAGE_WAIT_MS })]);
  // The dialog comes a moment after the editor area; give it the chance to show before deciding it is not asked.
  const shown = await trust.waitFor({ timeout: 10_000 }).then(
    () => true,
    (error: unknown) => {
      if (error instanceof Error && error.name === "TimeoutError") return false;
      throw error;
    },
  );
  if (!shown) return false;
  await trust.click();
  await trust.waitFor({ state: "detached", timeout: PAGE_WAIT_MS });
  return true;
}

/** Runs a command by its palette title ("View: Focus Problems") and waits for the palette to close. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ timeout: PAGE_WAIT_MS });
  await input.fill(`>${title}`);
  const item = page.locator(".quick-input-widget .quick-input-list .monaco-list-row", { hasText: title }).first();
  await item.waitFor({ timeout: PAGE_WAIT_MS });
  await input.press("Enter");
  await page.locator(".quick-input-widget").waitFor({ state: "hidden", timeout: PAGE_WAIT_MS });
}

/** Opens a workspace file by name through Quick Open and waits for its editor tab to be active. */
export async function openFile(page: Page, fileName: string): Promise<void> {
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ timeout: PAGE_WAIT_MS });
  await input.fill(fileName);
  await page.locator(".quick-input-widget .quick-input-list .monaco-list-row", { hasText: fileName }).first().waitFor({ timeout: PAGE_WAIT_MS });
  await input.press("Enter");
  await page.locator(`.tabs-container .tab.active[aria-label^="${fileName}"]`).waitFor({ timeout: PAGE_WAIT_MS });
  await activeEditor(page).waitFor({ timeout: PAGE_WAIT_MS });
}

export function activeEditor(page: Page): Locator {
  return page.locator(".editor-group-container.active .monaco-editor").first();
}

/** Moves the cursor to a 1-based line through "Go to Line" and waits until the status bar says it is there. */
export async function goToLine(page: Page, line: number, column = 1): Promise<void> {
  await activeEditor(page).locator("textarea").first().focus();
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ timeout: PAGE_WAIT_MS });
  // The box opens holding ":" (Go to Line is Quick Open's ":" mode); filling replaces it, so it is typed again.
  await input.fill(`:${line}:${column}`);
  await input.press("Enter");
  await page.locator(".quick-input-widget").waitFor({ state: "hidden", timeout: PAGE_WAIT_MS });
  await page.locator("#status\\.editor\\.selection", { hasText: `Ln ${line}, Col ${column}` }).waitFor({ timeout: PAGE_WAIT_MS });
}

/** The little of the DOM these page functions use (the project compiles without lib "dom"). */
export interface PageElement {
  innerText: string;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
}

export interface ProblemRow {
  severity: "error" | "warning" | "information" | "hint" | "unknown";
  /** 1-based, as the panel shows it. */
  line: number;
  message: string;
  ariaLabel: string;
}

/** Opens the Problems panel and reads its marker rows (the file's row is skipped). */
export async function readProblems(page: Page): Promise<ProblemRow[]> {
  const rows = page.locator(".markers-panel .monaco-list-row");
  const raw = await rows.evaluateAll((elements) =>
    elements.map((element) => ({
      ariaLabel: element.getAttribute("aria-label") ?? "",
      icon: element.querySelector(".marker-icon")?.className ?? "",
      message: (element.querySelector(".marker-message-details, .marker-message") as PageElement | null)?.innerText ?? "",
      position: (element.querySelector(".marker-line") as PageElement | null)?.innerText ?? "",
    })),
  );
  const problems: ProblemRow[] = [];
  for (const row of raw) {
    // Related-information rows ("package.json [Ln 9]: ... brings it in") have no severity icon.
    if (row.icon === "") continue;
    const position = /\[Ln (\d+), Col (\d+)\]/.exec(row.position) ?? /line (\d+)/i.exec(row.ariaLabel);
    if (position === null) continue;
    const severity = /codicon-error|\berror\b/.test(row.icon)
      ? "error"
      : /codicon-warning|\bwarning\b/.test(row.icon)
        ? "warning"
        : /codicon-info|\binfo\b/.test(row.icon)
          ? "information"
          : "unknown";
    problems.push({ severity, line: Number(position[1]), message: row.message || row.ariaLabel, ariaLabel: row.ariaLabel });
  }
  return problems;
}

/** Text of the visible hover widget after "Show or Focus Hover" at the cursor. */
export async function showHoverAtCursor(page: Page, mustContain: string): Promise<Locator> {
  await runCommand(page, "Show or Focus Hover");
  const hover = page.locator(".monaco-hover:not(.hidden)", { hasText: mustContain }).first();
  await hover.waitFor({ timeout: PAGE_WAIT_MS });
  return hover;
}

export interface TreeRow {
  level: number;
  label: string;
  /** aria-expanded: "true", "false", or null for a leaf. */
  expanded: string | null;
}

/** Rows of a view's tree, in the order shown, with their depth. */
export async function readTree(view: Locator): Promise<TreeRow[]> {
  return view.locator(".monaco-list-row").evaluateAll((elements) =>
    elements.map((element) => ({
      level: Number(element.getAttribute("aria-level") ?? "0"),
      expanded: element.getAttribute("aria-expanded"),
      // Name and description ("pin-me" "1.0.0"), as the row shows them.
      label: ((element.querySelector(".monaco-icon-label") as PageElement | null)?.innerText ?? element.textContent ?? "").replace(/\s+/g, " ").trim(),
    })),
  );
}

/**
 * Opens a view container from the activity bar by its title ("Provenance Lens") and returns the side bar once the
 * view (`viewTitle`) shows a tree row.
 */
export async function showView(page: Page, containerTitle: string, viewTitle: string): Promise<Locator> {
  const item = page.locator(`.activitybar .action-item .action-label[aria-label^="${containerTitle}"]`).first();
  await item.waitFor({ timeout: PAGE_WAIT_MS });
  const sidebar = page.locator("#workbench\\.parts\\.sidebar");
  const title = sidebar.locator(".composite.title, .pane-header").filter({ hasText: new RegExp(viewTitle, "i") }).first();
  // Clicking an active container's icon would close the side bar: click only when it is not showing.
  if (!(await title.isVisible())) await item.click();
  await title.waitFor({ timeout: PAGE_WAIT_MS });
  await sidebar.locator(".monaco-list-row").first().waitFor({ timeout: PAGE_WAIT_MS });
  return sidebar;
}

/**
 * Expands every collapsed row whose label `isGroup` accepts, one at a time, each wait on its row saying it is
 * expanded; then returns the rows shown.
 */
export async function expandGroups(view: Locator, isGroup: (label: string) => boolean): Promise<TreeRow[]> {
  // Rows are found by label, not by position: a list row's id is its index, and the rows below a group move down when
  // the tree renders its children, which it may do after the group already says it is expanded.
  for (let round = 0; round < 20; round++) {
    const shown = await settledTree(view, await readTree(view));
    const group = shown.find((row) => row.expanded === "false" && isGroup(row.label));
    if (group === undefined) return shown;
    const escaped = group.label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    await view.locator(".monaco-list-row").filter({ hasText: new RegExp(`^\\s*${escaped}`) }).first().locator(".monaco-tl-twistie").click();
    const started = Date.now();
    while (!(await readTree(view)).some((row) => row.label === group.label && row.expanded === "true")) {
      if (Date.now() - started > PAGE_WAIT_MS) throw new Error(`the group "${group.label}" did not expand`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error("the tree kept showing collapsed groups after 20 expansions");
}

/** The tree once two readings 100 ms apart agree: a group's children may be rendered a frame after it says expanded. */
async function settledTree(view: Locator, first: TreeRow[]): Promise<TreeRow[]> {
  let last = first;
  for (const started = Date.now(); Date.now() - started < PAGE_WAIT_MS; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = await readTree(view);
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    last = next;
  }
  return last;
}

/** Opens the quick-fix menu at the cursor and applies the action whose title starts with `titleStart`. */
export async function applyQuickFix(page: Page, titleStart: string): Promise<void> {
  await activeEditor(page).locator("textarea").first().focus();
  await page.keyboard.press("Control+.");
  const rows = page.locator(".action-widget .monaco-list-row.action");
  const wanted = rows.filter({ hasText: titleStart }).first();
  await wanted.waitFor({ timeout: PAGE_WAIT_MS });
  // The widget puts a pointer block over the page, so mouse clicks do not reach it: choose with the keyboard.
  const count = await rows.count();
  for (let i = 0; i <= count && !(await wanted.evaluate((row) => row.classList.contains("focused"))); i++) await page.keyboard.press("ArrowDown");
  assert.ok(await wanted.evaluate((row) => row.classList.contains("focused")), `could not select the quick fix "${titleStart}"`);
  await page.keyboard.press("Enter");
  await page.locator(".action-widget").waitFor({ state: "hidden", timeout: PAGE_WAIT_MS });
}
