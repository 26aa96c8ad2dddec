// The disk, as the server and the CLI see it. Passed in so tests can hand in fixtures or an in-memory folder.
import { readdir, readFile } from "node:fs/promises";

export type EntryKind = "file" | "directory" | "other";

export interface DirectoryEntry {
  name: string;
  kind: EntryKind;
}

export interface FileSystem {
  /** UTF-8 text. Rejects with the node error (code ENOENT...) when it cannot be read. */
  readFile(path: string, signal?: AbortSignal): Promise<string>;
  readDirectory(path: string): Promise<DirectoryEntry[]>;
}

export const nodeFileSystem: FileSystem = {
  readFile: (path, signal) => readFile(path, { encoding: "utf8", signal }),
  async readDirectory(path) {
    const dirents = await readdir(path, { withFileTypes: true });
    return dirents.map((d) => ({ name: d.name, kind: d.isFile() ? "file" : d.isDirectory() ? "directory" : "other" }));
  },
};

/** The node error code of a failed read (ENOENT, EACCES, EISDIR...), undefined for anything else. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}
