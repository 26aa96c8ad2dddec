// The field names of pnpm-lock.yaml the scanner (pnpmScan.ts) tells apart, as bits: which entry fields and importer
// groups the model reads. Split from pnpmScan.ts to keep it at the house size; pnpmScan.ts binds these once, so under
// tsx a call is a plain call, not an export-getter call per line.

/** Whether a plain key with this first character and length can be one of entryFieldBit's fields. */
export function mayBeEntryField(first: number, length: number): boolean {
  switch (first) {
    case 114 /* r */:
      return length === 10;
    case 100 /* d */:
      return length === 12 || length === 3;
    case 111 /* o */:
      return length === 20 || length === 8;
    case 110 /* n */:
      return length === 4;
    case 118 /* v */:
      return length === 7;
    default:
      return false;
  }
}

export function entryFieldBit(key: string): number {
  switch (key) {
    case "resolution":
      return 1;
    case "dependencies":
      return 2;
    case "optionalDependencies":
      return 4;
    case "dev":
      return 8;
    case "optional":
      return 16;
    case "name":
      return 32;
    case "version":
      return 64;
    default:
      return 0;
  }
}

/** An importer's key: 8 for `specifiers`, 1 << group for a dependency group, 0 otherwise. */
export function importerField(key: string): number {
  return key === "specifiers" ? 8 : key === "dependencies" ? 1 : key === "devDependencies" ? 2 : key === "optionalDependencies" ? 4 : 0;
}
