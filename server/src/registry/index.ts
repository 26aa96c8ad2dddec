// Registry access: npm configuration, the HTTP client, the registry endpoints and the verdict cache.
// Nothing here knows about signatures or verdict meaning (verify/ does); nothing here imports vscode.
//
// Typical wiring for one check of one lockfile:
//
//   const config = loadNpmConfig({ projectDir: path.dirname(lockfilePath), env: process.env, homeDir: os.homedir(), trusted });
//   const http = new HttpClient({ authHeaderFor: config.authHeaderFor, tls: config.tls });
//   const registry = new RegistryClient(http);                 // one per run; newRun() to forget
//   const base = config.registryFor(pkg.name);
//   const doc = await registry.packument(pkg.name, { registry: base, full: true, signal });
//   const keys = await registry.keys(base, { signal });        // kind "not-found": the registry serves none
//   const att = await registry.attestations(dist.attestations.url, { registry: base, signal });
//   const cache = new VerdictCache<Verdict>({ dir: defaultCacheDir(process.env, os.homedir()) });
//   cache.get({ name, version, integrity, trustMaterialId }); cache.set(...); await cache.flush();
//   http.close();                                              // when the process is done with the registry
//
// Every failure is data: `{ ok: false, error: { kind, status?, message } }`, messages free of credentials.
export { loadNpmConfig, nerfDart, findProjectRoot, expandEnv, splitPem, DEFAULT_REGISTRY } from "./npmConfig";
export type { NpmConfig, LoadNpmConfigOptions, ConfigProblem, ConfigSource, TlsSettings } from "./npmConfig";
export { HttpClient, parseRetryAfter } from "./http";
export type { HttpClientOptions, HttpError, HttpErrorKind, HttpResponse, HttpResult, HttpStats, RequestOptions } from "./http";
export { RegistryClient, packumentUrl, ABBREVIATED_ACCEPT, FULL_ACCEPT } from "./registryClient";
export type {
  AttestationsDocument,
  CallOptions,
  KeysDocument,
  Packument,
  PackumentDist,
  PackumentVersion,
  RegistryClientOptions,
  RegistryError,
  RegistryErrorKind,
  RegistryResult,
} from "./registryClient";
export { VerdictCache, defaultCacheDir } from "./cache";
export type { VerdictCacheOptions, VerdictKey } from "./cache";
export { redactUrl } from "./redact";
