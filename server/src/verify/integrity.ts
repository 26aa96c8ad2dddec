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
 * undefined when they agree (or the registry gave no hash to compare with), else a plain sentence saying what differs. `shasum` is the
 * registry's hex sha1, for old lockfiles that record only `sha1-`.
 */
const SINGLE_SRI = /^sha(?:1|256|384|512)-[A-Za-z0-9+/]+={0,2}$/;

export function compareIntegrity(lockfile: string | undefined, registry: string | undefined, shasum: string | undefined, subject: string): string | undefined {
  if (lockfile === undefined || lockfile === "") return undefined;
  // The common case, decided without parsing: one well-formed hash, the very one the registry signed.
  if (lockfile === registry && SINGLE_SRI.test(lockfile)) return undefined;
  const ours = parseSri(lockfile);
  const theirs = parseSri(registry);
  if (shasum !== undefined && /^[0-9a-f]{40}$/i.test(shasum)) {
    if (!theirs.has("sha1")) theirs.set("sha1", new Set());
    theirs.get("sha1")!.add(Buffer.from(shasum, "hex").toString("base64"));
  }
  // A package manager installs whatever tarball matches the lockfile's hash, so a hash that cannot be compared with
  // the signed one must not pass as agreement (issue #8: a lockfile in a pull request swapping sha512 for sha384).
  if (ours.size === 0) {
    return `The lockfile's integrity of ${subject} is not a readable integrity (SRI) string, so nothing ties the locked tarball to the one the registry signed.`;
  }
  let compared = false;
  for (const [algorithm, digests] of ours) {
    const signed = theirs.get(algorithm);
    if (signed === undefined) continue;
    compared = true;
    if (![...digests].some((d) => signed.has(d))) {
      return `The lockfile's ${algorithm} integrity of ${subject} differs from the one the registry signed (${registry ?? `sha1 ${shasum}`}): the lockfile or the registry was tampered with, or the version was republished.`;
    }
  }
  if (!compared && theirs.size > 0) {
    return `The lockfile's ${[...ours.keys()].join(", ")} integrity of ${subject} cannot be compared with the registry's ${[...theirs.keys()].join(" or ")}, so nothing ties the locked tarball to the signed one.`;
  }
  return undefined;
}
