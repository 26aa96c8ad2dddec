// A real, small, deterministic npm tarball: one ustar entry `package/package.json`, gzipped.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";

/** npm packs every entry with this mtime (1985-10-26T08:15:00Z) so tarballs are reproducible; so do we. */
const NPM_FIXED_MTIME = 499162500;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

// Hand-written because one fixed entry needs ~20 lines and no tar library is a dependency of the project.
// Layout: POSIX ustar header (https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06).
function ustarEntry(path: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512, 0);
  header.write(path, 0, 100, "utf8");
  header.write(octal(0o644, 8), 100, "ascii");
  header.write(octal(0, 8), 108, "ascii");
  header.write(octal(0, 8), 116, "ascii");
  header.write(octal(content.length, 12), 124, "ascii");
  header.write(octal(NPM_FIXED_MTIME, 12), 136, "ascii");
  header.write("        ", 148, "ascii"); // checksum field counts as spaces while summing
  header.write("0", 156, "ascii");
  header.write("ustar\0", 257, "ascii");
  header.write("00", 263, "ascii");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512, 0);
  return Buffer.concat([header, content, padding]);
}

export interface Tarball {
  bytes: Buffer;
  /** `sha512-<base64>` of the bytes. */
  integrity: string;
  /** Hex SHA-1 of the bytes (npm's legacy `dist.shasum`). */
  shasum: string;
}

export function buildTarball(manifest: Record<string, unknown>): Tarball {
  const packageJson = Buffer.from(JSON.stringify(manifest, null, 2) + "\n", "utf8");
  const tar = Buffer.concat([ustarEntry("package/package.json", packageJson), Buffer.alloc(1024, 0)]);
  const bytes = gzipSync(tar, { level: 9 });
  return {
    bytes,
    integrity: "sha512-" + createHash("sha512").update(bytes).digest("base64"),
    shasum: createHash("sha1").update(bytes).digest("hex"),
  };
}

/** Hex of the sha512 inside an SRI string, as attestation subjects carry it; undefined if it has none. */
export function sha512HexOfIntegrity(integrity: string): string | undefined {
  for (const part of integrity.trim().split(/\s+/)) {
    if (part.startsWith("sha512-")) return Buffer.from(part.slice("sha512-".length).replace(/\?.*$/, ""), "base64").toString("hex");
  }
  return undefined;
}
