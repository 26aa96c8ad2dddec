// The policy file from disk, and its `registries` mapped onto the engine's options. The CLI (`--policy FILE`, default
// `.provenance-lens.json` in the lockfile's folder root) and the server (per workspace folder) both load it here.
import * as path from "node:path";
import { isNpmjsRegistry, parseKeysResponse, type RegistryKey } from "../verify/npmKeys";
import { errorCode, type FileSystem } from "../workspace/fileSystem";
import { defaultPolicy, parsePolicy, POLICY_FILE, type Policy, type PolicyReading } from "./policyFile";

export interface LoadedPolicy extends PolicyReading {
  /** Absolute path of the policy file looked for. */
  path: string;
  /** False when there is no policy file: the defaults apply, and that is not a problem. */
  found: boolean;
  /**
   * Set when a policy file that must be used (named with --policy, or present but unreadable) could not be read: the
   * defaults apply and the CLI stops with this message (exit 2).
   */
  readError?: string;
}

export function policyPathFor(folder: string): string {
  return path.join(folder, POLICY_FILE);
}

/** `explicit`: named by the user (`--policy FILE`), so a missing file is an error rather than "no policy". */
export async function loadPolicy(fs: FileSystem, file: string, explicit: boolean, signal?: AbortSignal): Promise<LoadedPolicy> {
  let text: string;
  try {
    text = await fs.readFile(file, signal);
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" && !explicit) return { path: file, found: false, policy: defaultPolicy(), problems: [], fellBack: false };
    const why = code === "ENOENT" ? "does not exist" : `cannot be read (${error instanceof Error ? error.message : String(error)})`;
    return { path: file, found: code !== "ENOENT", policy: defaultPolicy(), problems: [], fellBack: true, readError: `The policy file ${file} ${why}.` };
  }
  return { path: file, found: true, ...parsePolicy(text) };
}

export interface RegistryOptions {
  /** For EngineOptions.mirrorsOfNpmjs. */
  mirrorsOfNpmjs: string[];
  /** For EngineOptions.registryKeys; undefined when the policy names none (each registry's own endpoint). */
  registryKeys?: RegistryKey[];
  /** Plain sentences, each about one registry entry that could not be used. */
  problems: string[];
}

/**
 * `registries` as engine options. Keys files are read relative to the policy file. Only mirrors of
 * registry.npmjs.org can be declared: the engine verifies them with npmjs's pinned keys.
 */
export async function registryOptionsOf(policy: Policy, policyPath: string, fs: FileSystem): Promise<RegistryOptions> {
  const out: RegistryOptions = { mirrorsOfNpmjs: [], problems: [] };
  const keys: RegistryKey[] = [];
  for (const registry of policy.registries) {
    if (registry.mirrorOf !== undefined) {
      if (isNpmjsRegistry(registry.mirrorOf)) out.mirrorsOfNpmjs.push(registry.url);
      else out.problems.push(`${registry.url}: only mirrors of https://registry.npmjs.org/ can be declared (mirrorOf ${registry.mirrorOf}); it is checked as a registry of its own.`);
    }
    if (registry.keys === undefined) continue;
    let document: unknown;
    if (typeof registry.keys === "string") {
      const file = path.resolve(path.dirname(policyPath), registry.keys);
      try {
        document = JSON.parse(await fs.readFile(file));
      } catch (error) {
        out.problems.push(`${registry.url}: cannot read its keys from ${file} (${error instanceof Error ? error.message : String(error)}); its own keys endpoint is used.`);
        continue;
      }
    } else {
      document = { keys: registry.keys };
    }
    const parsed = parseKeysResponse(document);
    for (const p of parsed.problems) out.problems.push(`${registry.url}: ${p.reason}`);
    keys.push(...parsed.keys);
  }
  if (keys.length > 0) out.registryKeys = keys;
  return out;
}
