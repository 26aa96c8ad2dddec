// Micro-benchmark of Sigstore bundle verification (issue #7: a cold check spends ~27 ms of worker CPU per attested
// version). Starts the loopback test registry in this process, fetches the attestations of N versions (SLSA
// provenance with a Fulcio certificate + npm publish attestation each), then verifies them on this thread, one round
// after another, each round with a fresh verifier so that nothing a round learned helps the next:
//   node --import tsx bench/verifyBundles.ts [--versions N] [--rounds R] [--mode prepared|library|both] [--pool W]
// Modes: "library" is @sigstore/verify's Verifier over its own toTrustMaterial (trusted certificates not memoized);
// "prepared" is what the product uses (prepareTrust). Both go through verifyAttestations (so both get its per-bundle
// leaf handling) and must give the same verdicts. For numbers from before issue #7's changes, run this file on the
// commit before them (b9d80f7, with createPreparedTrust added). Prints the median ms per version (and per round), and the verdict counts. With --pool W (default 2; 0:
// off) the loopback versions are also verified through the engine's worker pool of W threads, all at once, as a cold
// check hands them over: wall and process CPU per version. Prints, never asserts on time.
import path from "node:path";
import { readFileSync, existsSync } from "node:fs";
import { Verifier, toTrustMaterial } from "@sigstore/verify";
import { NPMJS_REGISTRY_KEYS, parseKeysResponse, type RegistryKey } from "../server/src/verify/npmKeys";
import { verifyAttestations, type AttestedVersion } from "../server/src/verify/provenance";
import { createPreparedTrust, trustedRootFromJSON, type LoadedTrustedRoot, type PreparedTrust } from "../server/src/verify/trustedRoot";
import type { ProvenanceVerdict } from "../server/src/protocol/verdicts";
import { integrityOf, startTestRegistry, type PackageSpec } from "../test/registry";
import { AttestationPool } from "../server/src/verify/attestationPool";
import { arg, load, median, SHARED } from "./benchUtil";

type Mode = "prepared" | "library";

interface Sample {
  pkg: AttestedVersion;
  doc: unknown;
}

/** The verifier exactly as @sigstore/verify builds it: every key and certificate handled by the library per call. */
function libraryTrust(root: LoadedTrustedRoot, keys: readonly RegistryKey[]): PreparedTrust {
  const prepared = createPreparedTrust(root, keys);
  const byHint: Record<string, { rawBytes: Buffer; validFor?: { end?: Date } }> = {};
  for (const key of keys) byHint[key.keyid] = { rawBytes: Buffer.from(key.key, "base64"), validFor: key.expires === null ? undefined : { end: new Date(key.expires) } };
  // toTrustMaterial's key locator wants protobuf PublicKey shapes; the cast is the bench's, the product never does this.
  const material = toTrustMaterial(root.root, byHint as never);
  return { ...prepared, verifier: new Verifier(material, prepared.thresholds) };
}

function trustFor(mode: Mode, root: LoadedTrustedRoot, keys: readonly RegistryKey[]): PreparedTrust {
  return mode === "library" ? libraryTrust(root, keys) : createPreparedTrust(root, keys);
}

interface RoundResult {
  perVersionMs: number[];
  totalMs: number;
  /** User + system CPU of this process during the round: less disturbed by other processes than wall time. */
  cpuMs: number;
  statuses: Map<string, number>;
  verdicts: ProvenanceVerdict[];
}

function round(mode: Mode, samples: readonly Sample[], root: LoadedTrustedRoot, keys: readonly RegistryKey[]): RoundResult {
  const trust = trustFor(mode, root, keys);
  const perVersionMs: number[] = [];
  const statuses = new Map<string, number>();
  const verdicts: ProvenanceVerdict[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (const sample of samples) {
    const t0 = performance.now();
    const verdict = verifyAttestations(sample.pkg, sample.doc, { trust });
    perVersionMs.push(performance.now() - t0);
    verdicts.push(verdict);
    statuses.set(verdict.status, (statuses.get(verdict.status) ?? 0) + 1);
  }
  const totalMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { perVersionMs, totalMs, cpuMs: (cpu.user + cpu.system) / 1000, statuses, verdicts };
}

async function loopbackSamples(count: number): Promise<{ samples: Sample[]; root: LoadedTrustedRoot; keys: RegistryKey[] }> {
  const specs: PackageSpec[] = Array.from({ length: count }, (_, i) => ({ name: `bench-bundle-${i}`, versions: [{ version: "1.0.0", provenance: true }] }));
  const registry = await startTestRegistry({ packages: specs });
  try {
    await registry.prewarm();
    const loaded = trustedRootFromJSON(JSON.stringify(registry.trustedRoot), "file");
    if (!loaded.ok) throw new Error(loaded.reason);
    const keys = parseKeysResponse(registry.keysJson).keys;
    const samples: Sample[] = [];
    for (const spec of specs) {
      const version = spec.versions[0];
      const url = `${registry.url}-/npm/v1/attestations/${spec.name}@${version.version}`;
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      samples.push({ pkg: { name: spec.name, version: version.version, integrity: integrityOf(spec.name, version) }, doc: await response.json() });
    }
    return { samples, root: loaded.root, keys };
  } finally {
    await registry.stop();
  }
}

/** The real public-good attestations of the shared fixtures (Fulcio intermediate + root, SCTs), when present. */
function publicGoodSamples(): { samples: Sample[]; root: LoadedTrustedRoot } | undefined {
  const dir = path.join(SHARED, "fixtures");
  const rootFile = path.join(dir, "sigstore-trust/trusted_root.public-good.json");
  if (!existsSync(rootFile)) return undefined;
  const loaded = trustedRootFromJSON(readFileSync(rootFile), "file", rootFile);
  if (!loaded.ok) throw new Error(loaded.reason);
  const cases: [string, AttestedVersion][] = [
    ["attestations/pacote/valid-attestations.json", { name: "sigstore", version: "0.4.0", integrity: "sha512-KCwMX6k20mQyFkNYG2XT3lwK9u1P36wS9YURFd85zCXPrwrSLZCEh7/vMBFNYcJXRiBtGDS+T4/RZZF493zABA==" }],
    ["attestations/npm-cli/valid-sigstore-attestations.json", { name: "sigstore", version: "1.0.0", integrity: "sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg==" }],
    ["attestations/npm-cli/valid-tuf-js-attestations.json", { name: "tuf-js", version: "1.0.0", integrity: "sha512-1dxsQwESDzACJjTdYHQ4wJ1f/of7jALWKfJEHSBWUQB/5UTJUx9SW6GHXp4mZ1KvdBRJCpGjssoPFGi4hvw8/A==" }],
    ["attestations/playwright-cli/playwright-cli-0.1.1-attestations.json", { name: "@playwright/cli", version: "0.1.1", integrity: "sha512-9k11ZfDwAfMVDDIuEVW1Wvs8SoDNXIY1dNQ+9C9/SS8ZmElkcxesu5eoL7vNa96ntibUGaq1TM2qQoqvdl/I9g==" }],
  ];
  const samples = cases.map(([file, pkg]) => ({ pkg, doc: JSON.parse(readFileSync(path.join(dir, file), "utf8")) as unknown }));
  return { samples, root: loaded.root };
}

function report(label: string, mode: Mode, results: RoundResult[]): number {
  const all = results.flatMap((r) => r.perVersionMs);
  const cpuPerVersion = results.map((r) => r.cpuMs / r.perVersionMs.length);
  const statuses = [...results[0].statuses].map(([s, n]) => `${n} ${s}`).join(", ");
  const cpuMedian = median(cpuPerVersion);
  console.log(
    `${label} ${mode.padEnd(8)} CPU ${cpuMedian.toFixed(2)} ms/version (median of rounds: ${cpuPerVersion.map((n) => n.toFixed(2)).join(" ")}); ` +
      `wall median ${median(all).toFixed(2)} ms/version; verdicts: ${statuses}`,
  );
  return cpuMedian;
}

function sameVerdicts(a: RoundResult, b: RoundResult): boolean {
  return JSON.stringify(a.verdicts) === JSON.stringify(b.verdicts);
}

function run(label: string, modes: readonly Mode[], rounds: number, samples: readonly Sample[], root: LoadedTrustedRoot, keys: readonly RegistryKey[]): void {
  const results = new Map<Mode, RoundResult[]>(modes.map((m) => [m, []]));
  // A warm-up round per mode (JIT, module loading), then the modes interleaved round by round so load changes hit both.
  for (const mode of modes) round(mode, samples, root, keys);
  for (let i = 0; i < rounds; i++) for (const mode of modes) results.get(mode)!.push(round(mode, samples, root, keys));
  const medians = modes.map((mode) => report(label, mode, results.get(mode)!));
  if (modes.length === 2) {
    const [a, b] = modes.map((m) => results.get(m)![0]);
    console.log(`${label} ${modes[0]}/${modes[1]} = ${(medians[0] / medians[1]).toFixed(2)}; same verdicts: ${sameVerdicts(a, b) ? "yes" : "NO"}`);
  }
}

/** All samples handed to a worker pool at once; a warm-up pass first starts the workers and loads their code. */
async function poolRounds(workers: number, rounds: number, samples: readonly Sample[], root: LoadedTrustedRoot, keys: readonly RegistryKey[]): Promise<void> {
  const pool = new AttestationPool(workers);
  if (pool.unavailable !== undefined) {
    console.log(`pool        skipped: ${pool.unavailable}`);
    return;
  }
  try {
    const wall: number[] = [];
    const cpu: number[] = [];
    let statuses = "";
    for (let i = 0; i <= rounds; i++) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      const verdicts = await Promise.all(samples.map((s) => pool.verify(s.pkg, s.doc, root, keys)));
      const used = process.cpuUsage(cpuStart);
      if (i === 0) continue; // warm-up
      wall.push((performance.now() - start) / samples.length);
      cpu.push((used.user + used.system) / 1000 / samples.length);
      const counts = new Map<string, number>();
      for (const v of verdicts) counts.set(v.status, (counts.get(v.status) ?? 0) + 1);
      statuses = [...counts].map(([k, n]) => `${n} ${k}`).join(", ");
    }
    console.log(
      `pool of ${workers}   wall ${median(wall).toFixed(2)} ms/version (rounds: ${wall.map((n) => n.toFixed(2)).join(" ")}); ` +
        `CPU, all threads ${median(cpu).toFixed(2)} ms/version; verdicts: ${statuses}`,
    );
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const count = Number(arg("--versions", "100"));
  const rounds = Number(arg("--rounds", "5"));
  const modeArg = arg("--mode", "both");
  const modes: Mode[] = modeArg === "both" ? ["prepared", "library"] : [modeArg === "library" ? "library" : "prepared"];
  console.log(`verifyBundles: ${count} loopback versions (2 bundles each), ${rounds} rounds, modes ${modes.join(", ")}; load ${load()}`);
  const loopback = await loopbackSamples(count);
  run("loopback   ", modes, rounds, loopback.samples, loopback.root, loopback.keys);
  const workers = Number(arg("--pool", "2"));
  if (workers > 0) await poolRounds(workers, rounds, loopback.samples, loopback.root, loopback.keys);
  const real = publicGoodSamples();
  if (real === undefined) console.log("public-good: skipped (no shared fixtures; set PROVENANCE_LENS_SHARED)");
  // Repeated so a round is long enough to time; each round still starts from a fresh verifier.
  else run("public-good", modes, rounds, Array.from({ length: 25 }, () => real.samples).flat(), real.root, NPMJS_REGISTRY_KEYS);
  console.log(`load ${load()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
