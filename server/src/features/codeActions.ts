// Quick fixes on lockfile entries: pin a direct dependency (or override a transitive one) to a version whose
// provenance the engine verified, accept a finding with a reason, and a fix-all for the safe pins. Listing names
// the version (it has to be verified to be offered); the package.json edits are computed in codeAction/resolve.
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { applyEdits, modify } from "jsonc-parser";
import semver from "semver";
import { CodeActionKind, type CodeAction, type Command, type Range, type TextEdit, type WorkspaceEdit } from "vscode-languageserver";
import { packageKey, type LockedPackage, type LockfileFormat } from "../lockfile/index";
import type { AcceptCommandArgs, InstallCommandArgs } from "../protocol/messages";
import { findVerifiedCandidates, type CandidateAnswer } from "../verify/candidates";
import { VerificationEngine } from "../verify/engine";
import { findManifestKey, positionAt } from "./dependents";
import type { CheckedLockfile } from "./lockfileState";

export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.provenanceLens`;
export const ACCEPT_COMMAND = "provenanceLens.acceptWithReason";
export const INSTALL_COMMAND = "provenanceLens.offerInstall";

export type ActionData =
  | { kind: "pin"; lockfileUri: string; manifestUri: string; jsonPath: string[]; version: string }
  | { kind: "fixAll"; lockfileUri: string };

/** Asks the engine for verified versions of a package (undefined: no engine, e.g. parse-only). */
export type CandidateFinder = (state: CheckedLockfile, pkg: LockedPackage, range: string | undefined) => Promise<CandidateAnswer | undefined>;

/**
 * Verified versions for quick fixes, asked of the engine once per (lockfile, package, range) until cleared (settings,
 * manifests or the cache changed). None offline, in an untrusted workspace, or without an engine.
 */
export class CandidateCache {
  readonly #found = new Map<string, Promise<CandidateAnswer | undefined>>();

  constructor(
    private readonly limited: () => boolean,
    private readonly onError: (what: string, error: unknown) => void,
  ) {}

  clear(): void {
    this.#found.clear();
  }

  readonly find: CandidateFinder = (state, pkg, range) => {
    const checker = state.checker;
    if (!(checker instanceof VerificationEngine) || this.limited() || state.settings.offline) return Promise.resolve(undefined);
    const key = JSON.stringify([state.uri, pkg.name, pkg.version, range]);
    let found = this.#found.get(key);
    if (found === undefined) {
      found = findVerifiedCandidates(checker, { lockfilePath: state.path, name: pkg.name, range, current: pkg.version }).catch((error: unknown) => {
        this.onError(`Looking for verified versions of ${pkg.name} failed`, error);
        this.#found.delete(key);
        return undefined;
      });
      this.#found.set(key, found);
    }
    return found;
  };
}

interface Manager {
  overridePath: string[];
  install: string;
}

/** Each package manager's own way to force a transitive version. */
export function managerOf(format: LockfileFormat): Manager {
  switch (format) {
    case "npm":
      return { overridePath: ["overrides"], install: "npm install" };
    case "yarn-classic":
    case "yarn-berry":
      return { overridePath: ["resolutions"], install: "yarn install" };
    case "pnpm":
      return { overridePath: ["pnpm", "overrides"], install: "pnpm install" };
    case "bun":
      return { overridePath: ["overrides"], install: "bun install" };
  }
}

/** Statuses a pin can improve on. */
const NEEDS_FIX = new Set(["invalid", "unsigned", "unverifiable", "signed"]);

export function fixablePackages(state: CheckedLockfile, range?: Range): LockedPackage[] {
  return state.analysis.packages.filter((pkg) => {
    const verdict = state.analysis.result.verdicts.get(packageKey(pkg));
    if (pkg.source !== "registry" || verdict === undefined || !NEEDS_FIX.has(verdict.status) || pkg.alias !== undefined) return false;
    return range === undefined || pkg.locations.some((l) => l.start.line <= range.end.line && l.end.line >= range.start.line);
  });
}

/** Where a direct package is declared: the manifest and its dependency key, with the declared range. */
function declarationOf(state: CheckedLockfile, pkg: LockedPackage): { manifestUri: string; jsonPath: string[]; spec?: string } | undefined {
  for (const id of pkg.entryIds) {
    const root = state.dependents.rootOf(id);
    if (root === undefined || root.dependency.entryId !== id) continue;
    const manifest = state.manifests.get(root.importerPath);
    const key = manifest === undefined ? undefined : findManifestKey(manifest.text, root.dependency.name);
    if (manifest === undefined || key === undefined) continue;
    return { manifestUri: manifest.uri, jsonPath: [key.field, root.dependency.name], spec: key.spec ?? root.dependency.spec };
  }
  return undefined;
}

/** Versions a transitive package may move to without a major change (what its dependents most likely accept). */
function compatibleRange(version: string): string | undefined {
  const v = semver.parse(version);
  if (v === null) return undefined;
  return v.major === 0 ? `0.${v.minor}.x` : `${v.major}.x`;
}

export async function listCodeActions(state: CheckedLockfile, range: Range, only: string[] | undefined, find: CandidateFinder): Promise<CodeAction[]> {
  const wants = (kind: string) => only === undefined || only.some((o) => kind === o || kind.startsWith(`${o}.`));
  const actions: CodeAction[] = [];
  const manager = managerOf(state.analysis.parsed.format);
  const root = state.manifests.get(".");
  // A handful of packages under the cursor at most: each offer costs a verification.
  for (const pkg of fixablePackages(state, range).slice(0, 3)) {
    const label = pkg.name;
    if (wants(CodeActionKind.QuickFix)) {
      const declared = pkg.direct ? declarationOf(state, pkg) : undefined;
      const target = declared ?? (root === undefined ? undefined : { manifestUri: root.uri, jsonPath: [...manager.overridePath, pkg.name], spec: compatibleRange(pkg.version) });
      const answer = target === undefined ? undefined : await find(state, pkg, target.spec);
      if (target !== undefined && answer !== undefined) {
        const verb = declared !== undefined ? "Pin" : "Override";
        const offers = [answer.inRange, answer.newest].filter((c) => c !== undefined);
        offers.forEach((candidate, index) => {
          const newest = candidate === answer.newest && answer.inRange !== undefined;
          actions.push({
            title: `${verb} ${label} to ${candidate.version} (provenance verified${newest ? ", newest" : ""})`,
            kind: CodeActionKind.QuickFix,
            isPreferred: index === 0 && declared !== undefined,
            data: { kind: "pin", lockfileUri: state.uri, manifestUri: target.manifestUri, jsonPath: target.jsonPath, version: candidate.version } satisfies ActionData,
          });
        });
      }
      const args: AcceptCommandArgs = { lockfileUri: state.uri, package: pkg.name, version: pkg.version };
      actions.push({ title: `Accept ${pkg.name}@${pkg.version} with a reason…`, kind: CodeActionKind.QuickFix, command: { title: "Accept with a reason", command: ACCEPT_COMMAND, arguments: [args] } });
    }
  }
  if (wants(FIX_ALL_KIND) && fixablePackages(state).some((p) => p.direct)) {
    actions.push({ title: "Pin direct dependencies to provenance-verified versions in their ranges", kind: FIX_ALL_KIND, data: { kind: "fixAll", lockfileUri: state.uri } satisfies ActionData });
  }
  return actions;
}

export interface ResolveContext {
  state: CheckedLockfile;
  /** The manifest's current text (the open editor's copy wins over the disk). */
  readText(uri: string): Promise<string | undefined>;
  find: CandidateFinder;
}

export async function resolveCodeAction(action: CodeAction, context: ResolveContext): Promise<CodeAction> {
  const data = action.data as ActionData | undefined;
  if (data === undefined) return action;
  const pins: { manifestUri: string; jsonPath: string[]; version: string }[] = [];
  if (data.kind === "pin") pins.push(data);
  else {
    // Safe pins only: inside the range package.json already allows, so nothing else has to change.
    for (const pkg of fixablePackages(context.state).filter((p) => p.direct)) {
      const declared = declarationOf(context.state, pkg);
      if (declared?.spec === undefined || semver.validRange(declared.spec) === null) continue;
      const answer = await context.find(context.state, pkg, declared.spec);
      if (answer?.inRange !== undefined) pins.push({ ...declared, version: answer.inRange.version });
    }
  }
  const changes: Record<string, TextEdit[]> = {};
  for (const manifestUri of new Set(pins.map((p) => p.manifestUri))) {
    const text = await context.readText(manifestUri);
    if (text === undefined) continue;
    changes[manifestUri] = manifestEdits(text, pins.filter((p) => p.manifestUri === manifestUri));
  }
  const edit: WorkspaceEdit = { changes };
  const install: InstallCommandArgs = { folderPath: path.dirname(fileURLToPath(context.state.uri)), command: managerOf(context.state.analysis.parsed.format).install };
  const command: Command = { title: `Run ${install.command}`, command: INSTALL_COMMAND, arguments: [install] };
  return { ...action, edit, ...(Object.keys(changes).length > 0 ? { command } : {}) };
}

/**
 * Minimal edits that set each jsonPath to its version, keeping the file's formatting. Several pins to one file are
 * applied in turn and sent as the one changed span, so their offsets never collide.
 */
export function manifestEdits(text: string, pins: readonly { jsonPath: string[]; version: string }[]): TextEdit[] {
  const indent = /\n(\s+)"/.exec(text)?.[1] ?? "  ";
  const formattingOptions = { insertSpaces: !indent.includes("\t"), tabSize: indent.includes("\t") ? 1 : indent.length, eol: text.includes("\r\n") ? "\r\n" : "\n" };
  let next = text;
  for (const pin of pins) next = applyEdits(next, modify(next, pin.jsonPath, pin.version, { formattingOptions }));
  if (next === text) return [];
  let start = 0;
  while (start < text.length && text[start] === next[start]) start++;
  let endOld = text.length;
  let endNew = next.length;
  while (endOld > start && endNew > start && text[endOld - 1] === next[endNew - 1]) {
    endOld--;
    endNew--;
  }
  return [{ range: { start: positionAt(text, start), end: positionAt(text, endOld) }, newText: next.slice(start, endNew) }];
}
