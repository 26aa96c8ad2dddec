// In-memory responses kept for ETag revalidation (If-None-Match -> 304 reuses the body). Bounded by entry
// count and total bytes; a Map's insertion order gives least-recently-used eviction for free.

export interface CachedResponse {
  etag: string;
  status: number;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

export interface ResponseCacheLimits {
  maxEntries: number;
  maxBytes: number;
}

export class ResponseCache {
  readonly #entries = new Map<string, CachedResponse>();
  #bytes = 0;

  constructor(readonly limits: ResponseCacheLimits) {}

  static key(url: string, accept: string): string {
    return `${accept}\n${url}`;
  }

  get(key: string): CachedResponse | undefined {
    const found = this.#entries.get(key);
    if (found !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, found);
    }
    return found;
  }

  set(key: string, response: CachedResponse): void {
    this.delete(key);
    // One huge body must not flush everything else out.
    if (response.body.length > this.limits.maxBytes / 4 || this.limits.maxEntries < 1) return;
    this.#entries.set(key, response);
    this.#bytes += response.body.length;
    for (const [oldKey, old] of this.#entries) {
      if (this.#entries.size <= this.limits.maxEntries && this.#bytes <= this.limits.maxBytes) break;
      this.#entries.delete(oldKey);
      this.#bytes -= old.body.length;
    }
  }

  delete(key: string): void {
    const old = this.#entries.get(key);
    if (old === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= old.body.length;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }
}
