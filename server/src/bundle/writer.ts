// Writing a trust bundle: one compact JSON file, written atomically (a half-written bundle must never be read).
import { createHash } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import type { LoadedTrustedRoot } from "../verify/trustedRoot";
import type { BundledLockfile, TrustBundle } from "./format";

/** The root's JSON as the bundle stores it (protobuf JSON: the same content always gives the same text). */
export function trustedRootJsonOf(root: LoadedTrustedRoot): Record<string, unknown> {
  return TrustedRoot.toJSON(root.root) as Record<string, unknown>;
}

export function bundledLockfileOf(displayPath: string, text: string): BundledLockfile {
  return { path: displayPath, sha256: createHash("sha256").update(text).digest("hex") };
}

/** Writes the bundle next to `file` and renames it into place. Returns the bytes written. */
export async function writeTrustBundle(file: string, bundle: TrustBundle): Promise<number> {
  // No indentation: attestation bundles are most of the size and nobody reads them by eye.
  const text = `${JSON.stringify(bundle)}\n`;
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o644 });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return Buffer.byteLength(text);
}
