import type { ParsedLockfile } from "./model";
import type { ParseOptions } from "./index";

// STUB: replaced by the real parser.
export function parsePnpmLockfile(_text: string, _options: ParseOptions): ParsedLockfile {
  return { format: "pnpm", lockfileVersion: undefined, entries: [], importers: [], problems: [] };
}
