// Persistent verdict cache. A verdict for (name, version, integrity, trust material) never changes: the
// integrity pins the bytes and the trust material id pins the keys and roots it was judged with. So entries
// never expire; they are only evicted (oldest first) past a bound.
//
// Built for a warm check of thousands of packages: one file, one JSON.parse, one Map; lookups are sync.
// Several processes may share the folder: writes are atomic (temp file + rename), the last writer wins.
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

export interface VerdictKey {
  name: string;
  version: string;
  /** The lockfile's SRI integrity. Without one nothing is cached: the verdict would not be content-addressed. */
  integrity: string | undefined;
  /** Names the keys + trusted root a verdict was reached with (e.g. a hash of them). */
  trustMaterialId: string;
}

export interface VerdictCacheOptions {
  /** Folder for the cache file; undefined keeps verdicts in memory only. */
  dir: string | undefined;
  /** Default 100 000. */
  maxEntries?: number;
}

const FILE_NAME = "verdicts-v1.json";
const FORMAT = "provenance-lens-verdicts";
const VERSION = 1;

/** `$XDG_CACHE_HOME/provenance-lens`, else `~/.cache/provenance-lens`. */
export function defaultCacheDir(env: Record<string, string | undefined>, homeDir: string): string {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  return xdg !== undefined && path.isAbsolute(xdg) ? path.join(xdg, "provenance-lens") : path.join(homeDir, ".cache", "provenance-lens");
}

export class VerdictCache<T> {
  readonly file: string | undefined;
  readonly maxEntries: number;
  /** What went wrong reading or writing the file, in plain words; the cache keeps working from memory. */
  readonly problems: string[] = [];
  #entries: Map<string, T> | undefined;
  #dirty = false;

  constructor(options: VerdictCacheOptions) {
    this.file = options.dir === undefined ? undefined : path.join(options.dir, FILE_NAME);
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  get(key: VerdictKey): T | undefined {
    const k = keyOf(key);
    return k === undefined ? undefined : this.#load().get(k);
  }

  set(key: VerdictKey, verdict: T): void {
    const k = keyOf(key);
    if (k === undefined) return;
    const entries = this.#load();
    entries.delete(k); // re-inserting moves it to the young end
    entries.set(k, verdict);
    for (const oldest of entries.keys()) {
      if (entries.size <= this.maxEntries) break;
      entries.delete(oldest);
    }
    this.#dirty = true;
  }

  get size(): number {
    return this.#load().size;
  }

  /** Writes the file if anything changed (atomically). Resolves false when it could not. */
  async flush(): Promise<boolean> {
    if (this.file === undefined || !this.#dirty || this.#entries === undefined) return true;
    const file = this.file;
    const text = JSON.stringify({ format: FORMAT, version: VERSION, entries: [...this.#entries] });
    this.#dirty = false;
    const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await fs.promises.writeFile(temp, text, { mode: 0o600 });
      await fs.promises.rename(temp, file);
      return true;
    } catch (error) {
      this.#dirty = true;
      this.problems.push(`Could not write the verdict cache ${file}: ${codeOf(error)}.`);
      await fs.promises.rm(temp, { force: true }).catch((cleanup: unknown) => {
        this.problems.push(`Could not remove the temporary file ${temp}: ${codeOf(cleanup)}.`);
      });
      return false;
    }
  }

  /** Forgets every verdict, in memory and on disk. */
  async clear(): Promise<void> {
    this.#entries = new Map();
    this.#dirty = false;
    if (this.file !== undefined) await fs.promises.rm(this.file, { force: true });
  }

  /** Reads the file once, on first use. A missing file is an empty cache; a corrupt one too, with a reason. */
  #load(): Map<string, T> {
    if (this.#entries !== undefined) return this.#entries;
    this.#entries = new Map();
    if (this.file === undefined) return this.#entries;
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (error) {
      if (codeOf(error) !== "ENOENT") this.problems.push(`Could not read the verdict cache ${this.file} (${codeOf(error)}); starting empty.`);
      return this.#entries;
    }
    const why = (reason: string): Map<string, T> => {
      this.problems.push(`The verdict cache ${this.file} ${reason}; starting empty.`);
      this.#dirty = true; // the next flush replaces the bad file
      return this.#entries!;
    };
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      return why(`is not valid JSON (${error instanceof Error ? error.name : "parse error"})`);
    }
    if (typeof doc !== "object" || doc === null || (doc as { format?: unknown }).format !== FORMAT) return why("is not a Provenance Lens verdict cache");
    const { version, entries } = doc as { version?: unknown; entries?: unknown };
    if (version !== VERSION) return why(`has format version ${JSON.stringify(version)}, not ${VERSION}`);
    if (!Array.isArray(entries) || !entries.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === "string")) {
      return why("has a malformed entry list");
    }
    this.#entries = new Map(entries as [string, T][]);
    return this.#entries;
  }
}

function keyOf(key: VerdictKey): string | undefined {
  if (key.integrity === undefined || key.integrity === "") return undefined;
  // NUL cannot occur in names, versions, SRI strings or ids, so the joined key is unambiguous.
  return `${key.name}\u0000${key.version}\u0000${key.integrity}\u0000${key.trustMaterialId}`;
}

function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}
