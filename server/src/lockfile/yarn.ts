import type { ParsedLockfile } from "./model";
import type { ParseOptions } from "./index";

// STUB: replaced by the real parser.
export function parseYarnLockfile(_text: string, _options: ParseOptions): ParsedLockfile {
  return { format: "yarn-classic", lockfileVersion: undefined, entries: [], importers: [], problems: [] };
}
