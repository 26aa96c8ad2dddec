import type { ParsedLockfile } from "./model";
import type { ParseOptions } from "./index";

// STUB: replaced by the real parser.
export function parseBunLockfile(_text: string, _options: ParseOptions): ParsedLockfile {
  return { format: "bun", lockfileVersion: undefined, entries: [], importers: [], problems: [] };
}

export function binaryBunLockfile(): ParsedLockfile {
  return { format: "bun", lockfileVersion: undefined, entries: [], importers: [], problems: [] };
}
