// Package-name and URL patterns of the policy file (`ignorePackages`, `trustedRepositories`, `trustedBuilders`).
// Hand-written because the syntax is tiny (`*` within one path segment, `**` across them) and the glob libraries in
// node_modules are only there as other packages' dependencies.

/** `@scope/*` matches every package of a scope; `https://github.com/org/**` every repository of an org. */
export function globToRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      source += ".*";
      i++;
    } else if (c === "*") {
      source += "[^/]*";
    } else if (c === "?") {
      source += "[^/]";
    } else {
      source += c.replace(/[\\^$.+()|{}[\]]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`, "i");
}

export function matchesAny(value: string, patterns: readonly string[]): string | undefined {
  return patterns.find((p) => globToRegExp(p).test(value));
}
