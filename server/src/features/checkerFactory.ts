// The one place that decides which verification engine the server and the CLI use. Plugging in the real
// engine is a change to `createChecker` only.
import { parseOnlyChecker, type Checker } from "../verify/checker";

export interface CheckerOptions {
  offline: boolean;
}

export type CheckerFactory = (options: CheckerOptions) => Checker;

export const createChecker: CheckerFactory = () => parseOnlyChecker;
