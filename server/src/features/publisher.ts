// What the server sends the client about checks: each lockfile's diagnostics (re-using the last check's, issue #7),
// each policy file's own diagnostics (only when they changed), the checked notification and the status. Split out of
// server.ts.
import type { Connection, Diagnostic } from "vscode-languageserver";
import { pathToFileURL } from "node:url";
import { CHECKED_NOTIFICATION, emptyByStatus, STATUS_NOTIFICATION, type CheckedParams, type StatusParams } from "../protocol/messages";
import type { Settings } from "../protocol/settings";
import { PACKAGE_STATUSES, type PackageStatus } from "../protocol/verdicts";
import type { ReviewSession } from "./customRequests";
import { DiagnosticMemo, diagnosticsFor } from "./diagnostics";
import type { CheckedLockfile } from "./lockfileState";
import { effectiveLevels, policyFileDiagnostics, type FolderPolicy } from "./policy";
import { changedKeys } from "./review";
import type { ServerLife, ServerLog } from "./serverLog";

export interface PublisherHost {
  connection: Connection;
  life: ServerLife;
  log: ServerLog;
  review: ReviewSession;
  results: ReadonlyMap<string, CheckedLockfile>;
  /** Whether any check is waiting or running. */
  checking(): boolean;
  limited(): boolean;
  loadPolicy(file: string): Promise<FolderPolicy>;
  settingsFor(uri: string): Promise<Settings>;
  now(): number;
}

export class Publisher {
  /** Lockfile-level diagnostics of the last check (settings problems, trust bundle coverage), by lockfile uri. */
  readonly #extra = new Map<string, Diagnostic[]>();
  /** Each lockfile's package diagnostics of its last check, re-used by the next (an edit changes few of them). */
  readonly #memos = new Map<string, DiagnosticMemo>();
  /** What was last published for each policy file, so a check of every lockfile does not re-send it. */
  readonly #policies = new Map<string, string>();

  /** Verdicts per status of each check: the status is sent twice per edit, and a lockfile has thousands of verdicts. */
  readonly #counts = new WeakMap<CheckedLockfile, Record<PackageStatus, number>>();

  constructor(private readonly host: PublisherHost) {}

  #countsOf(state: CheckedLockfile): Record<PackageStatus, number> {
    let counts = this.#counts.get(state);
    if (counts === undefined) {
      counts = emptyByStatus();
      for (const verdict of state.analysis.result.verdicts.values()) counts[verdict.status]++;
      this.#counts.set(state, counts);
    }
    return counts;
  }

  /** Publishes a checked lockfile's diagnostics (again after a review starts or ends); `extra` replaces the last. */
  lockfile(state: CheckedLockfile, extra?: Diagnostic[]): number {
    if (extra !== undefined) this.#extra.set(state.uri, extra);
    const only = this.host.review.active !== undefined && state.settings.diagnosticsChangedOnly && state.review !== undefined ? changedKeys(state.review) : undefined;
    let memo = this.#memos.get(state.uri);
    if (memo === undefined) {
      memo = new DiagnosticMemo();
      this.#memos.set(state.uri, memo);
    }
    const diagnostics = diagnosticsFor(state.analysis, {
      levels: effectiveLevels(state.policy, state.settings.severity),
      manifests: state.manifests,
      outcomeOf: state.outcomeOf,
      dependents: state.dependents,
      memo,
      ...(only !== undefined ? { only } : {}),
    });
    diagnostics.push(...(this.#extra.get(state.uri) ?? []));
    this.send(state.uri, diagnostics, state.version ?? undefined);
    return diagnostics.length;
  }

  /** The lockfile is gone (deleted, disabled): nothing of it is kept, and its diagnostics are cleared. */
  forget(uri: string): void {
    this.#extra.delete(uri);
    this.#memos.delete(uri);
    this.send(uri, []);
  }

  send(uri: string, diagnostics: Diagnostic[], version?: number): void {
    if (!this.host.life.disposed) void this.host.connection.sendDiagnostics({ uri, version, diagnostics });
  }

  /** Shows a policy file's problems and weakenings, when they changed since last said. */
  async policy(file: string, loaded?: FolderPolicy): Promise<void> {
    const uri = pathToFileURL(file).href;
    try {
      const policy = loaded ?? (await this.host.loadPolicy(file));
      const settings = await this.host.settingsFor(uri);
      const diagnostics = policy.loaded.found ? policyFileDiagnostics(policy, settings.severity, this.host.now()) : [];
      const said = JSON.stringify(diagnostics);
      if (this.host.life.disposed || this.#policies.get(uri) === said || (!policy.loaded.found && !this.#policies.has(uri))) return;
      this.#policies.set(uri, said);
      this.send(uri, diagnostics);
    } catch (error) {
      this.host.log.error(`Reading ${file} failed`, error);
    }
  }

  /** Settings changed: every policy file is said again. */
  forgetPolicies(): void {
    this.#policies.clear();
  }

  checked(params: CheckedParams): void {
    if (this.host.life.disposed) return;
    void this.host.connection.sendNotification(CHECKED_NOTIFICATION, params);
  }

  status(): void {
    if (this.host.life.disposed) return;
    const byStatus = emptyByStatus();
    let packages = 0;
    let problems = 0;
    for (const state of this.host.results.values()) {
      problems += state.analysis.parsed.problems.length;
      const counted = this.#countsOf(state);
      for (const status of PACKAGE_STATUSES) byStatus[status] += counted[status];
      packages += state.analysis.result.verdicts.size;
    }
    const params: StatusParams = { state: this.host.checking() ? "checking" : "idle", lockfiles: this.host.results.size, packages, byStatus, problems, limited: this.host.limited() };
    void this.host.connection.sendNotification(STATUS_NOTIFICATION, params);
  }
}
