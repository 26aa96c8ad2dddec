// The fuzz test's worker: parses one case at a time, so a parser that hangs can be terminated from outside
// (a synchronous infinite loop cannot be interrupted on the thread it runs on).
import { parentPort } from "node:worker_threads";
import { checkParse } from "./invariants";

export interface ParseJob {
  index: number;
  fileName: string;
  text: string;
}

export interface ParseOutcome {
  index: number;
  failures: string[];
  entries: number;
  problems: number;
}

parentPort?.on("message", (job: ParseJob) => {
  const outcome: ParseOutcome = { index: job.index, ...checkParse(job.fileName, job.text) };
  parentPort?.postMessage(outcome);
});
