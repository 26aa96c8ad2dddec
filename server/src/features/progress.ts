// Progress of a check, shown by the editor (window/workDoneProgress), cancellable: cancelling aborts the check
// through the AbortSignal the checker was given.
import type { Connection } from "vscode-languageserver";
import type { Checker } from "../verify/checker";

export interface CheckProgress {
  report(done: number, total: number): void;
  done(): void;
}

export async function startProgress(connection: Connection, title: string, total: number, onCancel: () => void): Promise<CheckProgress> {
  const reporter = await connection.window.createWorkDoneProgress();
  const subscription = reporter.token.onCancellationRequested(onCancel);
  reporter.begin("Provenance Lens", 0, `${title}: 0/${total}`, true);
  let lastPercent = 0;
  let finished = false;
  return {
    report(done, of) {
      // One report per percent at most: a large lockfile would otherwise send thousands of messages.
      const percent = Math.floor((done / Math.max(of, 1)) * 100);
      if (finished || (percent === lastPercent && done !== of)) return;
      lastPercent = percent;
      reporter.report(percent, `${title}: ${done}/${of}`);
    },
    done() {
      if (finished) return;
      finished = true;
      subscription.dispose();
      reporter.done();
    },
  };
}

/** `checker`, with its progress shown (cancellable through `onCancel`) while a check of any package runs. */
export function withProgress(connection: Connection, checker: Checker, title: string, onCancel: () => void): Checker {
  return {
    async check(request) {
      if (request.packages.length === 0) return checker.check(request);
      const progress = await startProgress(connection, title, request.packages.length, onCancel);
      try {
        return await checker.check({ ...request, onProgress: (doneCount, total) => progress.report(doneCount, total) });
      } finally {
        progress.done();
      }
    },
  };
}
