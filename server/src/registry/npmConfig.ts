// npm configuration, read the way npm reads it (@npmcli/config + npm-registry-fetch), limited to what
// decides where registry requests go and what credentials and TLS settings they carry.
//
// Precedence (highest first): overrides (CLI flags) > environment (npm_config_*) > project .npmrc (at npm's
// localPrefix) > user .npmrc > global npmrc. Credentials live only in private fields: the object's JSON,
// util.inspect output and every problem message are free of them.
import * as fs from "node:fs";
import * as path from "node:path";
import { inspect } from "node:util";
import * as ini from "ini";
import { parseProxyUrl, proxyEnvironment, proxyFor, type ProxyChoice, type ProxySettings } from "./proxy";
import { redactUrl } from "./redact";

export const DEFAULT_REGISTRY = "https://registry.npmjs.org/";

export type ConfigSource = "override" | "env" | "project" | "user" | "global";

export interface ConfigProblem {
  /** The file (or "environment" / "overrides") the problem is in. */
  file: string;
  message: string;
}

export interface TlsSettings {
  strictSSL: boolean;
  /** PEM certificates to trust instead of Node's bundled roots; undefined = Node's defaults. */
  ca?: string[];
}

export interface LoadNpmConfigOptions {
  /** The lockfile's folder. The project .npmrc is looked for at the nearest folder at or above it with a package.json. */
  projectDir: string;
  env: Record<string, string | undefined>;
  homeDir: string;
  /** Used when neither overrides nor the environment name a global config; default `<prefix>/etc/npmrc`. */
  globalConfigPath?: string;
  /** false in a restricted (untrusted) workspace: the project .npmrc is ignored entirely. */
  trusted: boolean;
  /** CLI-flag style settings, e.g. `{ registry: "https://r.example/" }`. */
  overrides?: Record<string, string | boolean>;
}

export interface NpmConfig {
  /** The default registry, normalised with a trailing slash. */
  readonly registry: string;
  /** `@scope` -> registry URL (normalised), for scopes that have one. */
  readonly scopes: Readonly<Record<string, string>>;
  readonly tls: TlsSettings;
  readonly problems: readonly ConfigProblem[];
  /** Config files that were read, highest precedence first. */
  readonly files: readonly string[];
  /** Config files that exist but were deliberately not read (untrusted workspace). */
  readonly ignoredFiles: readonly string[];
  /** The registry a package is fetched from (its scope's, else the default), with a trailing slash. */
  registryFor(packageName: string): string;
  /** `Bearer …` or `Basic …` for a request to `url`, decided from that URL alone; undefined when none applies. */
  authHeaderFor(url: string | URL): string | undefined;
  /** `https-proxy` / `proxy` / `noproxy` and the environment's proxy variables (see proxy.ts). */
  readonly proxy: ProxySettings;
  /** The proxy a request to `url` goes through, as npm would choose it (see proxy.ts). */
  proxyFor(url: URL): ProxyChoice;
}

type Value = string | boolean | string[];
interface Setting {
  value: Value;
  source: ConfigSource;
  file: string;
}

const AUTH_SUFFIXES = [":_authToken", ":_auth", ":username", ":_password"] as const;

export function loadNpmConfig(options: LoadNpmConfigOptions): NpmConfig {
  const problems: ConfigProblem[] = [];
  const files: string[] = [];
  const ignoredFiles: string[] = [];
  const settings = new Map<string, Setting>();
  const env = options.env;

  // Lowest precedence first, so later layers overwrite.
  const overrides = options.overrides ?? {};
  const envLayer = environmentLayer(env);
  const pick = (key: string): string | undefined => {
    const o = overrides[key];
    if (typeof o === "string") return o;
    const e = envLayer[key];
    return typeof e === "string" && e !== "" ? e : undefined;
  };
  const projectRoot = findProjectRoot(options.projectDir);
  const projectFile = path.join(projectRoot, ".npmrc");
  const userFile = path.resolve(pick("userconfig") ?? path.join(options.homeDir, ".npmrc"));
  const globalFile = path.resolve(pick("globalconfig") ?? options.globalConfigPath ?? defaultGlobalConfig(env));

  const layers: { source: ConfigSource; file: string }[] = [
    { source: "global", file: globalFile },
    { source: "user", file: userFile },
  ];
  // npm skips the project file when it is the user file (running npm in the home folder).
  if (projectFile !== userFile) {
    if (options.trusted) layers.push({ source: "project", file: projectFile });
    else if (fs.existsSync(projectFile)) ignoredFiles.push(projectFile);
  }
  for (const layer of layers) {
    const text = readConfigFile(layer.file, problems);
    if (text === undefined) continue;
    files.unshift(layer.file);
    mergeObject(ini.parse(text), layer.source, layer.file, env, settings, problems);
  }
  mergeObject(envLayer, "env", "environment", env, settings, problems);
  mergeObject(overrides, "override", "overrides", env, settings, problems);

  const str = (key: string): string | undefined => {
    const v = settings.get(key)?.value;
    return typeof v === "string" ? v : undefined;
  };

  const registry = normaliseRegistry(settings.get("registry"), problems) ?? DEFAULT_REGISTRY;
  const scopes: Record<string, string> = {};
  for (const [key, setting] of settings) {
    const m = /^(@[^/:]+):registry$/.exec(key);
    if (m === null) continue;
    const url = normaliseRegistry(setting, problems);
    if (url !== undefined) scopes[m[1]] = url;
  }

  const credentials = new Map<string, string>();
  for (const [key, setting] of settings) {
    if (key.startsWith("//") && AUTH_SUFFIXES.some((s) => key.endsWith(s)) && typeof setting.value === "string") {
      credentials.set(key, setting.value);
    }
  }
  // Legacy top-level credentials apply only to the default registry (npm 9+ refuses them elsewhere).
  const legacy = new Map<string, string>();
  for (const key of ["_authToken", "_auth", "username", "_password"]) {
    const v = str(key);
    if (v !== undefined) legacy.set(key, v);
  }

  const tls: TlsSettings = { strictSSL: settings.get("strict-ssl")?.value !== false && str("strict-ssl") !== "false" };
  const ca = caOf(settings, problems);
  if (ca !== undefined) tls.ca = ca;

  // npm-registry-fetch: `proxy: opts.httpsProxy || opts.proxy` for every request; an empty value or `false` leaves
  // the choice to the environment, as there.
  const proxyKey = ["https-proxy", "proxy"].find((key) => (str(key) ?? "").trim() !== "" && str(key) !== "false");
  const noProxy = settings.get("noproxy")?.value;
  const proxy: ProxySettings = {
    configured: proxyKey === undefined ? undefined : str(proxyKey)!.trim(),
    configuredIn: proxyKey === undefined ? undefined : `${proxyKey} (${settings.get(proxyKey)!.file})`,
    noProxy: Array.isArray(noProxy) ? noProxy.join(",") : typeof noProxy === "string" && noProxy.trim() !== "" ? noProxy : undefined,
    env: proxyEnvironment(env),
  };
  const chosen = proxyKey === undefined ? undefined : proxyFor(new URL(registry), { configured: proxy.configured, configuredIn: proxy.configuredIn, env: {} });
  if (chosen !== undefined && !(chosen instanceof URL)) problems.push({ file: settings.get(proxyKey!)!.file, message: `Unusable ${proxyKey}: ${chosen.problem}.` });

  return new LoadedNpmConfig(registry, scopes, tls, proxy, problems, files, ignoredFiles, credentials, legacy);
}

class LoadedNpmConfig implements NpmConfig {
  // Private (#) fields stay out of JSON.stringify, util.inspect and structured clones.
  readonly #credentials: Map<string, string>;
  readonly #legacy: Map<string, string>;

  constructor(
    readonly registry: string,
    readonly scopes: Readonly<Record<string, string>>,
    readonly tls: TlsSettings,
    readonly proxy: ProxySettings,
    readonly problems: readonly ConfigProblem[],
    readonly files: readonly string[],
    readonly ignoredFiles: readonly string[],
    credentials: Map<string, string>,
    legacy: Map<string, string>,
  ) {
    this.#credentials = credentials;
    this.#legacy = legacy;
  }

  // Arrow properties so callers may pass `config.authHeaderFor` around unbound.
  readonly registryFor = (packageName: string): string => {
    if (!packageName.startsWith("@")) return this.registry;
    const scope = packageName.slice(0, packageName.indexOf("/") === -1 ? undefined : packageName.indexOf("/"));
    return this.scopes[scope] ?? this.registry;
  };

  readonly proxyFor = (url: URL): ProxyChoice => proxyFor(url, this.proxy);

  readonly authHeaderFor = (url: string | URL): string | undefined => {
    // No credentials at all (most machines, every CI job without a token): nothing to look up, for each of thousands
    // of requests of a cold check.
    if (this.#credentials.size === 0 && this.#legacy.size === 0) return undefined;
    let parsed: URL;
    try {
      parsed = typeof url === "string" ? new URL(url) : url;
    } catch {
      // An unparseable URL gets no credentials; the HTTP client reports it as "bad-url".
      return undefined;
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return undefined;
    const key = this.#regKeyFor(parsed);
    if (key !== undefined) return this.#headerFrom((s) => this.#credentials.get(`${key}${s}`));
    // npm-registry-fetch: a URL on the registry's host (a tarball path outside the registry path) uses the
    // registry's credentials.
    const registry = new URL(this.registry);
    if (registry.host === parsed.host) {
      const regKey = this.#regKeyFor(registry);
      if (regKey !== undefined) return this.#headerFrom((s) => this.#credentials.get(`${regKey}${s}`));
    }
    if (this.#legacy.size > 0 && nerfDart(parsed).startsWith(nerfDart(registry))) {
      return this.#headerFrom((s) => this.#legacy.get(s.slice(1)));
    }
    return undefined;
  };

  /**
   * npm's walk (npm-registry-fetch lib/auth.js): start at `//host[:port]/path`, drop either the last segment or
   * the trailing slash until only `//` is left; the first key with credentials wins, so the longest match wins
   * and the host (with port, as WHATWG URL writes it: default ports dropped) must match exactly.
   */
  #regKeyFor(url: URL): string | undefined {
    let key = `//${url.host}${url.pathname}`;
    while (key.length > 2) {
      const has = (s: string): boolean => this.#credentials.has(`${key}${s}`);
      if (has(":_authToken") || has(":_auth") || (has(":username") && has(":_password"))) return key;
      key = key.replace(/([^/]+|\/)$/, "");
    }
    return undefined;
  }

  // Token first, then _auth, then username + base64 password: npm-registry-fetch's order.
  #headerFrom(get: (suffix: string) => string | undefined): string | undefined {
    const token = get(":_authToken");
    if (token) return `Bearer ${token}`;
    const auth = get(":_auth");
    if (auth) return `Basic ${auth}`;
    const username = get(":username");
    const password = get(":_password");
    if (username && password) {
      const plain = Buffer.from(password, "base64").toString("utf8");
      return `Basic ${Buffer.from(`${username}:${plain}`, "utf8").toString("base64")}`;
    }
    return undefined;
  }

  /** What JSON.stringify shows: everything but credentials (only which registries have some). */
  toJSON(): object {
    return {
      registry: redactUrl(this.registry),
      scopes: Object.fromEntries(Object.entries(this.scopes).map(([s, u]) => [s, redactUrl(u)])),
      tls: { strictSSL: this.tls.strictSSL, ca: this.tls.ca === undefined ? undefined : `${this.tls.ca.length} certificate(s)` },
      // A proxy URL may carry credentials in its userinfo: shown redacted.
      proxy: this.proxy.configured === undefined ? undefined : redactUrl(parseProxyUrl(this.proxy.configured) ?? "(invalid URL)"),
      proxyFromEnvironment: Object.keys(this.proxy.env).filter((k) => k !== "no_proxy"),
      noProxy: this.proxy.noProxy ?? this.proxy.env.no_proxy,
      credentialsFor: [...new Set([...this.#credentials.keys()].map((k) => k.slice(0, k.lastIndexOf(":"))))],
      legacyCredentials: this.#legacy.size > 0,
      files: this.files,
      ignoredFiles: this.ignoredFiles,
      problems: this.problems,
    };
  }

  [inspect.custom](): string {
    return `NpmConfig ${JSON.stringify(this.toJSON())}`;
  }

  toString(): string {
    return this[inspect.custom]();
  }
}

/** npm's nerf-dart of a URL: `//host[:port]/path/` up to the last slash (scheme, query and userinfo dropped). */
export function nerfDart(url: string | URL): string {
  const parsed = typeof url === "string" ? new URL(url) : url;
  const dir = new URL(".", `${parsed.protocol}//${parsed.host}${parsed.pathname}`);
  return `//${dir.host}${dir.pathname}`;
}

/** The nearest folder at or above `dir` holding a package.json (npm's localPrefix); `dir` when there is none. */
export function findProjectRoot(dir: string): string {
  let at = path.resolve(dir);
  for (;;) {
    if (fs.existsSync(path.join(at, "package.json"))) return at;
    const up = path.dirname(at);
    if (up === at) return path.resolve(dir);
    at = up;
  }
}

/** The default global location follows npm: `<prefix>/etc/npmrc`, prefix from the env or Node's install. */
function defaultGlobalConfig(env: Record<string, string | undefined>): string {
  const prefix = envGet(env, "prefix") ?? path.dirname(path.dirname(process.execPath));
  return path.join(prefix, "etc", "npmrc");
}

function envGet(env: Record<string, string | undefined>, key: string): string | undefined {
  const v = environmentLayer(env)[key];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** `npm_config_foo_bar` (any case) -> `foo-bar`; nerf-darted keys keep their spelling (@npmcli/config loadEnv). */
function environmentLayer(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === "" || !/^npm_config_/i.test(name)) continue;
    let key = name.slice("npm_config_".length);
    if (!key.startsWith("//")) key = key.replace(/(?!^)_/g, "-").toLowerCase();
    out[key] = value;
  }
  return out;
}

function readConfigFile(file: string, problems: ConfigProblem[]): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A missing config file is the normal case, not a problem.
    if (code !== "ENOENT" && code !== "ENOTDIR") problems.push({ file, message: `Could not read: ${code ?? String(error)}` });
    return undefined;
  }
}

function mergeObject(
  object: Record<string, unknown>,
  source: ConfigSource,
  file: string,
  env: Record<string, string | undefined>,
  settings: Map<string, Setting>,
  problems: ConfigProblem[],
): void {
  for (const [rawKey, raw] of Object.entries(object)) {
    const key = expandEnv(rawKey, env, (name) => problems.push({ file, message: `Key "${rawKey}" refers to the unset environment variable ${name}.` }));
    const report = (name: string): void => {
      problems.push({ file, message: `The value of "${key}" refers to the unset environment variable ${name}; it was left as written.` });
    };
    let value: Value;
    if (typeof raw === "string") value = expandEnv(raw, env, report);
    else if (typeof raw === "boolean") value = raw;
    else if (Array.isArray(raw)) value = raw.filter((v): v is string => typeof v === "string").map((v) => expandEnv(v, env, report));
    else if (raw === null) continue; // `key = null` in ini: npm treats it as unset
    else {
      problems.push({ file, message: `"${key}" is not a setting npm reads (ini sections are not used by npm).` });
      continue;
    }
    settings.set(key, { value, source, file });
  }
}

/**
 * `${VAR}` and `${VAR?}` as @npmcli/config env-replace.js: an unset `${VAR}` stays as written (npm's
 * behaviour) and is reported; `${VAR?}` becomes empty. Backslashes escape: `\${VAR}` is literal.
 */
export function expandEnv(text: string, env: Record<string, string | undefined>, onUnset: (name: string) => void): string {
  return text.replace(/(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}/g, (whole: string, esc: string, name: string, optional?: string) => {
    if (esc.length % 2 === 1) return whole.slice((esc.length + 1) / 2);
    const value = env[name];
    if (value === undefined && optional === undefined) onUnset(name);
    return esc.slice(esc.length / 2) + (value ?? (optional === undefined ? `\${${name}}` : ""));
  });
}

function normaliseRegistry(setting: Setting | undefined, problems: ConfigProblem[]): string | undefined {
  if (setting === undefined || typeof setting.value !== "string") return undefined;
  try {
    const url = new URL(setting.value);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("not http(s)");
    url.search = "";
    url.hash = "";
    if (!url.pathname.endsWith("/")) url.pathname += "/";
    return url.toString();
  } catch {
    problems.push({ file: setting.file, message: `"${redactUrl(setting.value)}" is not an http(s) registry URL; it was ignored.` });
    return undefined;
  }
}

/** `cafile` (a PEM bundle, split into certificates as npm does) wins over `ca`, as in npm's flattening. */
function caOf(settings: Map<string, Setting>, problems: ConfigProblem[]): string[] | undefined {
  const cafile = settings.get("cafile");
  if (cafile !== undefined && typeof cafile.value === "string" && cafile.value !== "") {
    const file = path.resolve(path.dirname(cafile.file === "environment" || cafile.file === "overrides" ? "." : cafile.file), cafile.value);
    try {
      const certs = splitPem(fs.readFileSync(file, "utf8"));
      if (certs.length === 0) problems.push({ file: cafile.file, message: `cafile ${file} holds no PEM certificate.` });
      else return certs;
    } catch (error) {
      problems.push({ file: cafile.file, message: `cafile ${file} could not be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` });
    }
  }
  const ca = settings.get("ca");
  if (ca === undefined || typeof ca.value === "boolean") return undefined;
  // In .npmrc a certificate is written on one line with literal "\n" (npm's docs).
  const list = (Array.isArray(ca.value) ? ca.value : [ca.value]).map((c) => c.replace(/\\n/g, "\n")).filter((c) => c.trim() !== "");
  return list.length > 0 ? list : undefined;
}

export function splitPem(text: string): string[] {
  const begin = "-----BEGIN CERTIFICATE-----";
  const end = "-----END CERTIFICATE-----";
  // Text between certificates (bundle comments) is dropped so each entry is one clean PEM block.
  return text
    .replace(/\r\n/g, "\n")
    .split(end)
    .filter((section) => section.includes(begin))
    .map((section) => section.slice(section.indexOf(begin)) + end);
}
