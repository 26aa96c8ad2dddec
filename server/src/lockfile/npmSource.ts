// Where an npm lockfile entry comes from, read from its `resolved` (v2/v3) or its `version` spec (v1).

import type { SourceKind } from "./model";

const GIT_SPEC = /^(?:git\+[a-z]+:|git:|github:|gitlab:|bitbucket:|gist:)/i;
// `user/repo#commit`, npm's GitHub shorthand as v1 lockfiles sometimes record it.
const GITHUB_SHORTHAND = /^[^@/:\s]+\/[^/:\s]+#/;
const SEMVER_START = /^v?\d+\.\d+\.\d+/;

/** `text` has `part` at `at` (startsWith with a bounds check). */
export function hasAt(text: string, part: string, at: number): boolean {
  return at >= 0 && text.startsWith(part, at);
}

/**
 * Registry tarballs look like `<registry>/<name>/-/<basename>-<version>.tgz` (scoped names may be written
 * `@scope%2fname`). Anything else served over http(s) is a plain tarball: no registry signature covers it.
 * Runs once per entry: the common case costs one endsWith, one lastIndexOf and two startsWith (measured
 * cheaper than any character loop over the URL).
 */
export function isRegistryTarballUrl(url: string, name: string): boolean {
  if (!url.endsWith(".tgz")) {
    const cut = url.search(/[?#]/);
    return cut !== -1 && isRegistryTarballUrl(url.slice(0, cut), name);
  }
  const file = url.lastIndexOf("/");
  // `file` is the slash before `<basename>-<version>.tgz`; before it must come `/-`.
  if (url.charCodeAt(file - 1) !== 45 || url.charCodeAt(file - 2) !== 47) return false;
  const scope = name.charCodeAt(0) === 64 /* @ */ ? name.indexOf("/") : -1;
  const basename = scope === -1 ? name : name.slice(scope + 1);
  if (!hasAt(url, basename, file + 1) || url.charCodeAt(file + 1 + basename.length) !== 45) return false;
  const nameEnd = file - 2;
  if (hasAt(url, name, nameEnd - name.length) && url.charCodeAt(nameEnd - name.length - 1) === 47) return true;
  if (scope === -1) return false;
  const escaped = `${name.slice(0, scope)}%2f${basename}`;
  const at = nameEnd - escaped.length;
  return url.slice(at, nameEnd).toLowerCase() === escaped && url.charCodeAt(at - 1) === 47;
}

/** `http://` or `https://`, tested by characters: this runs for nearly every entry, and startsWith costs a call. */
function isHttpUrl(spec: string): boolean {
  if (spec.charCodeAt(0) !== 104 || spec.charCodeAt(1) !== 116 || spec.charCodeAt(2) !== 116 || spec.charCodeAt(3) !== 112) return false;
  const at = spec.charCodeAt(4) === 115 /* s */ ? 5 : 4;
  return spec.charCodeAt(at) === 58 && spec.charCodeAt(at + 1) === 47 && spec.charCodeAt(at + 2) === 47;
}

/** Source of a resolved URL or spec. `name` is the real package name (for the registry URL layout). */
export function sourceOfSpec(spec: string, name: string): SourceKind {
  // http(s) first: it is nearly every entry of a lockfile, and this runs once per entry.
  if (isHttpUrl(spec)) return isRegistryTarballUrl(spec, name) ? "registry" : "tarball";
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
