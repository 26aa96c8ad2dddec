import type { ParsedLockfile } from "./model";
import type { ParseOptions } from "./index";

// STUB: replaced by the real parser.
export function parseNpmLockfile(_text: string, _options: ParseOptions): ParsedLockfile {
  return { format: "npm", lockfileVersion: undefined, entries: [], importers: [], problems: [] };
}
