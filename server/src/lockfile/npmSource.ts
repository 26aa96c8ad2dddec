// Where an npm lockfile entry comes from, read from its `resolved` (v2/v3) or its `version` spec (v1).

import type { SourceKind } from "./model";

const GIT_SPEC = /^(?:git\+[a-z]+:|git:|github:|gitlab:|bitbucket:|gist:)/i;
// `user/repo#commit`, npm's GitHub shorthand as v1 lockfiles sometimes record it.
const GITHUB_SHORTHAND = /^[^@/:\s]+\/[^/:\s]+#/;
const SEMVER_START = /^v?\d+\.\d+\.\d+/;

/**
 * Registry tarballs look like `<registry>/<name>/-/<basename>-<version>.tgz` (scoped names may be written
 * `@scope%2fname`). Anything else served over http(s) is a plain tarball: no registry signature covers it.
 */
export function isRegistryTarballUrl(url: string, name: string): boolean {
  // Runs once per entry: the usual `.../<name>/-/<basename>-<version>.tgz` is checked without building strings.
  // indexOf, not lastIndexOf: V8's lastIndexOf is a plain loop. A registry URL has one "/-/".
  const dash = url.indexOf("/-/");
  if (dash > name.length && url.endsWith(".tgz") && url.charCodeAt(dash - name.length - 1) === 47 && url.startsWith(name, dash - name.length)) {
    const slash = name.indexOf("/");
    const basenameStart = dash + 3;
    const basenameLength = slash === -1 ? name.length : name.length - slash - 1;
    if (
      url.startsWith(slash === -1 ? name : name.slice(slash + 1), basenameStart) &&
      url.charCodeAt(basenameStart + basenameLength) === 45 /* - */ &&
      url.indexOf("/", basenameStart) === -1
    ) {
      return true;
    }
  }
  let path = url;
  const query = path.indexOf("?");
  if (query !== -1) path = path.slice(0, query);
  const hash = path.indexOf("#");
  if (hash !== -1) path = path.slice(0, hash);
  const slash = name.indexOf("/");
  const basename = name.startsWith("@") && slash !== -1 ? name.slice(slash + 1) : name;
  const file = `/-/${basename}-`;
  const at = path.lastIndexOf(file);
  if (at === -1 || !path.endsWith(".tgz") || path.indexOf("/", at + file.length) !== -1) return false;
  const before = path.slice(0, at);
  return (
    before.endsWith(`/${name}`) || (slash !== -1 && before.toLowerCase().endsWith(`/${name.slice(0, slash)}%2f${basename}`.toLowerCase()))
  );
}

/** Source of a resolved URL or spec. `name` is the real package name (for the registry URL layout). */
export function sourceOfSpec(spec: string, name: string): SourceKind {
  // http(s) first: it is nearly every entry of a lockfile, and this runs once per entry.
  if (spec.startsWith("https://") || spec.startsWith("http://")) return isRegistryTarballUrl(spec, name) ? "registry" : "tarball";
  if (GIT_SPEC.test(spec) || GITHUB_SHORTHAND.test(spec)) return "git";
  if (spec.startsWith("file:")) return "file";
  if (SEMVER_START.test(spec)) return "registry";
  // A relative or absolute folder (what `resolved` holds for a directory dependency).
  if (spec.startsWith(".") || spec.startsWith("/")) return "file";
  // Unknown scheme: not recognisably a registry package, so no registry signature is expected of it.
  return "tarball";
}

export interface V1Version {
  name: string;
  alias?: string;
  version: string;
  source: SourceKind;
  resolved?: string;
}

/**
 * Lockfile v1 writes the spec into `version` when it is not a registry version: `npm:real@1.2.3` for an
 * alias, a git URL with its commit, a `file:` path or a tarball URL.
 */
export function readV1Version(installedName: string, version: string, resolved: string | undefined): V1Version {
  if (version.startsWith("npm:")) {
    const spec = version.slice(4);
    const at = spec.lastIndexOf("@");
    const name = at > 0 ? spec.slice(0, at) : spec;
    const real = at > 0 ? spec.slice(at + 1) : "";
    const alias = name === installedName ? undefined : installedName;
    return { name, alias, version: real, source: resolved === undefined ? "registry" : sourceOfSpec(resolved, name), resolved };
  }
  if (SEMVER_START.test(version)) {
    return { name: installedName, version, source: resolved === undefined ? "registry" : sourceOfSpec(resolved, installedName), resolved };
  }
  // No registry version exists for a git, file or tarball dependency: the spec is what identifies it.
  return { name: installedName, version, source: sourceOfSpec(resolved ?? version, installedName), resolved: resolved ?? version };
}
