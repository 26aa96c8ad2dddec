// The lockfile's integrity against the one the registry signed: a difference means the lockfile or the registry
// was tampered with (or the version was republished), and is a verdict of its own.

/** SRI string -> algorithm -> base64 digests (an SRI string may carry several). */
export function parseSri(integrity: string | undefined): Map<string, Set<string>> {
  const hashes = new Map<string, Set<string>>();
  for (const token of (integrity ?? "").trim().split(/\s+/)) {
    const dash = token.indexOf("-");
    if (dash <= 0) continue;
    const algorithm = token.slice(0, dash).toLowerCase();
    const digest = token.slice(dash + 1).replace(/\?.*$/, "");
    if (!hashes.has(algorithm)) hashes.set(algorithm, new Set());
    hashes.get(algorithm)!.add(digest);
  }
  return hashes;
}

/**
 * undefined when they agree (or cannot be compared), else a plain sentence saying what differs. `shasum` is the
 * registry's hex sha1, for old lockfiles that record only `sha1-`.
 */
export function compareIntegrity(lockfile: string | undefined, registry: string | undefined, shasum: string | undefined, subject: string): string | undefined {
  if (lockfile === undefined || lockfile === "") return undefined;
  const ours = parseSri(lockfile);
  const theirs = parseSri(registry);
  if (shasum !== undefined && /^[0-9a-f]{40}$/i.test(shasum)) {
    if (!theirs.has("sha1")) theirs.set("sha1", new Set());
    theirs.get("sha1")!.add(Buffer.from(shasum, "hex").toString("base64"));
  }
  for (const [algorithm, digests] of ours) {
    const signed = theirs.get(algorithm);
    if (signed === undefined) continue;
    if (![...digests].some((d) => signed.has(d))) {
      return `The lockfile's ${algorithm} integrity of ${subject} differs from the one the registry signed (${registry ?? `sha1 ${shasum}`}): the lockfile or the registry was tampered with, or the version was republished.`;
    }
  }
  return undefined;
}
