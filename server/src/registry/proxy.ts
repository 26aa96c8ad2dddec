// Which HTTP proxy a request goes through, decided the way npm decides it, so that a machine behind a corporate proxy
// that npm works on works here too.
//
// npm (npm-registry-fetch and @npmcli/agent, npm 9-11): the proxy is the `https-proxy` setting, else `proxy`, for
// every request; with neither, the environment: `https_proxy` for https URLs, `https_proxy`, `http_proxy` or `proxy`
// for http URLs (names in any case). `noproxy` (else `no_proxy` from the environment) lists domains reached directly:
// a host matches an entry when the entry's dot-separated labels are the host's last ones ("example.com" matches
// "registry.example.com"; a leading dot is ignored; no wildcards, no ports). Proxies are http: or https: URLs;
// npm's socks proxies are not supported here and say so rather than being bypassed.
import { redactUrl } from "./redact";

export type ProxyChoice =
  /** Connect directly. */
  | undefined
  /** Through this proxy (http: or https:; userinfo, if any, is its Basic credentials). */
  | URL
  /** A configured proxy that cannot be used: requests fail with this reason rather than going around it. */
  | { problem: string };

export interface ProxySettings {
  /** `https-proxy`, else `proxy`, from npm's config layers (the project .npmrc only in a trusted workspace). */
  readonly configured?: string;
  /** Where `configured` came from, for messages ("environment", a file). */
  readonly configuredIn?: string;
  /** `noproxy` from the config, else `no_proxy` from the environment: comma-separated domains. */
  readonly noProxy?: string;
  /** The environment's proxy variables, by lower-cased name (https_proxy, http_proxy, proxy, no_proxy). */
  readonly env: Readonly<Record<string, string>>;
}

const ENV_NAMES = new Set(["https_proxy", "http_proxy", "proxy", "no_proxy"]);

/** The proxy variables of an environment, by lower-cased name (as @npmcli/agent reads them: any case). */
export function proxyEnvironment(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const key = name.toLowerCase();
    if (ENV_NAMES.has(key) && value !== undefined && value.trim() !== "") out[key] = value.trim();
  }
  return out;
}

/** True when `hostname` is one of the `noProxy` domains or below one. */
export function bypassesProxy(hostname: string, noProxy: string | undefined): boolean {
  if (noProxy === undefined || noProxy.trim() === "") return false;
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase().split(".").reverse();
  return noProxy.split(/[,\s]+/).some((entry) => {
    const labels = entry.trim().toLowerCase().split(".").filter(Boolean).reverse();
    return labels.length > 0 && labels.every((label, i) => host[i] === label);
  });
}

/** A proxy setting as a URL (npm accepts a bare host:port, meaning http); undefined when it is not one. */
export function parseProxyUrl(raw: string): URL | undefined {
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    return undefined;
  }
}

/** Parsed proxy settings, by text and where they were set: asked for on every request of a check. */
const parsed = new Map<string, Exclude<ProxyChoice, undefined>>();

/** The proxy for a request to `url` under these settings. */
export function proxyFor(url: URL, settings: ProxySettings): ProxyChoice {
  const fromEnv = url.protocol === "https:" ? settings.env.https_proxy : settings.env.https_proxy ?? settings.env.http_proxy ?? settings.env.proxy;
  const raw = settings.configured ?? fromEnv;
  if (raw === undefined) return undefined;
  if (bypassesProxy(url.hostname, settings.noProxy ?? settings.env.no_proxy)) return undefined;
  const where = settings.configured !== undefined ? (settings.configuredIn ?? "the npm config") : "the environment";
  const key = `${raw}\n${where}`;
  let choice = parsed.get(key);
  if (choice === undefined) {
    const proxy = parseProxyUrl(raw);
    if (proxy === undefined) choice = { problem: `the proxy set in ${where} is not a valid URL` };
    else if (proxy.protocol !== "http:" && proxy.protocol !== "https:") {
      choice = { problem: `the proxy ${redactUrl(proxy)} set in ${where} uses ${proxy.protocol.slice(0, -1)}, and only http and https proxies are supported` };
    } else choice = proxy;
    // A process sees a handful of proxy settings; the bound only guards a long-lived server against churn.
    if (parsed.size >= 64) parsed.clear();
    parsed.set(key, choice);
  }
  return choice;
}

/** `Basic …` from a proxy URL's userinfo (percent-decoded, as npm's proxy agents do); undefined without one. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === "" && proxy.password === "") return undefined;
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  return `Basic ${Buffer.from(`${decode(proxy.username)}:${decode(proxy.password)}`, "utf8").toString("base64")}`;
}
