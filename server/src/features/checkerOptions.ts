// Settings -> the options the checker factory is memoized on. Trust files named by settings are read once per
// path (until the settings change) so that an edit never re-reads them and always gets the same engine.
import { chooseTrustedRoot, describeBundle, loadTrustBundle, type LoadBundleResult } from "../bundle/index";
import type { Settings } from "../protocol/settings";
import { parseKeysResponse, type RegistryKey } from "../verify/npmKeys";
import { shippedTrustedRoot, trustedRootFromJSON, type LoadedTrustedRoot } from "../verify/trustedRoot";
import type { FileSystem } from "../workspace/fileSystem";
import type { CheckerOptions } from "./checkerFactory";

export interface CheckerOptionsResult {
  options: CheckerOptions;
  /** Plain sentences about settings that could not be used (shown once on the lockfile). */
  problems: string[];
  /** Plain sentences for the output channel (which trust bundle and root are used). */
  info: string[];
}

type Loaded<T> = { ok: true; value: T } | { ok: false; reason: string };

export class TrustFiles {
  readonly #roots = new Map<string, Promise<Loaded<LoadedTrustedRoot>>>();
  readonly #keys = new Map<string, Promise<Loaded<RegistryKey[]>>>();
  readonly #bundles = new Map<string, Promise<LoadBundleResult>>();

  constructor(private readonly fs: FileSystem) {}

  clear(): void {
    this.#roots.clear();
    this.#keys.clear();
    this.#bundles.clear();
  }

  /**
   * In a restricted workspace only what needs no trust is used: offline, the project's .npmrc unread, and none of
   * the registry, trust or cache settings (a workspace could set them to a registry or cache of its choosing).
   */
  async optionsFor(settings: Settings, limited: boolean): Promise<CheckerOptionsResult> {
    if (limited) return { options: { offline: true, trusted: false }, problems: [], info: [] };
    const options: CheckerOptions = { offline: settings.offline, trusted: true };
    const problems: string[] = [];
    const info: string[] = [];
    // `trustedRootPath` naming the bundle itself chooses the bundle's own root (as --trusted-root does in the CLI).
    const useBundleRoot = settings.trustBundlePath !== "" && settings.trustedRootPath === settings.trustBundlePath;
    if (settings.registry !== "") options.registry = settings.registry;
    if (settings.mirrorsOfNpmjs.length > 0) options.mirrorsOfNpmjs = settings.mirrorsOfNpmjs;
    if (settings.cachePath !== "") options.cacheDir = settings.cachePath;
    if (settings.trustedRootPath !== "" && !useBundleRoot) {
      const root = await this.#load(this.#roots, settings.trustedRootPath, (text, file) => {
        const result = trustedRootFromJSON(text, "file", file);
        return result.ok ? { ok: true, value: result.root } : { ok: false, reason: result.reason };
      });
      if (root.ok) options.trustedRoot = root.value;
      else problems.push(`provenanceLens.trustedRootPath: ${root.reason} The shipped public-good root is used instead.`);
    }
    if (settings.registryKeysPath !== "") {
      const keys = await this.#load(this.#keys, settings.registryKeysPath, (text) => {
        const parsed = parseKeysResponse(JSON.parse(text));
        return parsed.keys.length > 0 ? { ok: true, value: parsed.keys } : { ok: false, reason: `no usable key (${parsed.problems.map((p) => p.reason).join("; ") || "empty"}).` };
      });
      if (keys.ok) options.registryKeys = keys.value;
      else problems.push(`provenanceLens.registryKeysPath: ${keys.reason} Each registry's own keys endpoint is used instead.`);
    }
    if (settings.trustBundlePath !== "") {
      let found = this.#bundles.get(settings.trustBundlePath);
      if (found === undefined) this.#bundles.set(settings.trustBundlePath, (found = loadTrustBundle(settings.trustBundlePath)));
      const bundle = await found;
      if (!bundle.ok) {
        problems.push(`provenanceLens.trustBundlePath: ${bundle.reason} Checked without it${settings.offline ? " (offline)" : ", against the registry"}.`);
      } else {
        const choice = chooseTrustedRoot(bundle.loaded, options.trustedRoot ?? shippedTrustedRoot(), useBundleRoot);
        info.push(describeBundle(bundle.loaded), choice.message);
        if (choice.warning) problems.push(`provenanceLens.trustBundlePath: the bundle was made with another Sigstore trusted root; provenance is verified with the configured one. To use the bundle's, set provenanceLens.trustedRootPath to ${bundle.loaded.path}.`);
        // A bundle never needs the network: the whole check is offline, whatever `offline` says.
        Object.assign(options, { trustBundle: bundle.loaded, trustedRoot: choice.root, offline: true });
      }
    }
    return { options, problems, info };
  }

  #load<T>(cache: Map<string, Promise<Loaded<T>>>, file: string, parse: (text: string, file: string) => Loaded<T>): Promise<Loaded<T>> {
    let found = cache.get(file);
    if (found === undefined) {
      found = this.fs.readFile(file).then(
        (text) => {
          try {
            return parse(text, file);
          } catch (error) {
            return { ok: false as const, reason: `${file} is not usable (${error instanceof Error ? error.message : String(error)}).` };
          }
        },
        (error: unknown) => ({ ok: false as const, reason: `${file} cannot be read (${error instanceof Error ? error.message : String(error)}).` }),
      );
      cache.set(file, found);
    }
    return found;
  }
}
