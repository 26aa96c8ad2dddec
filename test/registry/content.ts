// What the test registry serves, built lazily and memoized: tarballs, registry signatures, packuments and
// attestation bundles. Benchmarks load thousands of packages, so nothing is signed before it is asked for.
import { createHash } from "node:crypto";
import semver from "semver";
import type { SerializedBundle } from "@sigstore/bundle";
import { registrySignature, type SigningKey } from "./keys";
import { buildDsseBundle, type SigstoreAuthority, type WorkflowRun } from "./sigstore";
import { buildTarball, sha512HexOfIntegrity, type Tarball } from "./tarball";
import { DEFAULT_PUBLISHED_AT, type Misbehaviour, type PackageSpec, type VersionSpec } from "./types";

export const PUBLISH_PREDICATE_TYPE = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";

export interface RegistryKeys {
  registry: SigningKey;
  unknown: SigningKey;
  expired: SigningKey;
  /** An attacker's key carrying npmjs.org's keyid. */
  attacker: SigningKey;
}

/** Misbehaviours that apply to a package (version undefined) or to one version of it. */
export type MisbehaviourLookup = (name: string, version?: string) => Misbehaviour[];

interface VersionMaterial {
  spec: VersionSpec;
  tarball?: Tarball;
  integrity: string;
  shasum?: string;
}

export function tarballBasename(name: string): string {
  return name.startsWith("@") ? name.slice(name.indexOf("/") + 1) : name;
}

/** `pkg:npm/<name>@<version>` with a leading `@` written `%40`, as npm's attestation subjects are. */
export function attestationSubjectName(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, "%40")}@${version}`;
}

function has<K extends Misbehaviour["kind"]>(list: Misbehaviour[], kind: K): Extract<Misbehaviour, { kind: K }> | undefined {
  return list.find((m): m is Extract<Misbehaviour, { kind: K }> => m.kind === kind);
}

export class RegistryContent {
  private readonly packages = new Map<string, PackageSpec>();
  private readonly materials = new Map<string, VersionMaterial>();
  private readonly signatures = new Map<string, { keyid: string; sig: string }>();
  private readonly attestations = new Map<string, Promise<object>>();

  constructor(
    packages: PackageSpec[],
    private readonly keys: RegistryKeys,
    private readonly authority: () => Promise<SigstoreAuthority>,
    private readonly misbehaviours: MisbehaviourLookup,
  ) {
    for (const pkg of packages) this.packages.set(pkg.name, pkg);
  }

  hasPackage(name: string): boolean {
    return this.packages.has(name);
  }

  versionSpec(name: string, version: string): VersionSpec | undefined {
    return this.packages.get(name)?.versions.find((v) => v.version === version);
  }

  material(name: string, version: string): VersionMaterial | undefined {
    const key = `${name}@${version}`;
    const found = this.materials.get(key);
    if (found !== undefined) return found;
    const spec = this.versionSpec(name, version);
    if (spec === undefined) return undefined;
    let made: VersionMaterial;
    if (spec.integrity !== undefined) {
      made = { spec, integrity: spec.integrity };
    } else {
      const tarball = buildTarball(tarballManifest(name, spec));
      made = { spec, tarball, integrity: tarball.integrity, shasum: tarball.shasum };
    }
    this.materials.set(key, made);
    return made;
  }

  private signature(key: SigningKey, name: string, version: string, integrity: string): { keyid: string; sig: string } {
    const cacheKey = `${key.keyid}|${key.publicKeyBase64}|${name}@${version}:${integrity}`;
    let found = this.signatures.get(cacheKey);
    if (found === undefined) {
      found = registrySignature(key, name, version, integrity);
      this.signatures.set(cacheKey, found);
    }
    return found;
  }

  /** `dist` of one version, as this registry serves it now (misbehaviours applied). */
  dist(baseUrl: string, name: string, version: string): Record<string, unknown> | undefined {
    const material = this.material(name, version);
    if (material === undefined) return undefined;
    const m = this.misbehaviours(name, version);
    const dist: Record<string, unknown> = {
      integrity: has(m, "tamper-integrity") ? tamperedIntegrity(material.integrity) : material.integrity,
      ...(material.shasum !== undefined ? { shasum: material.shasum } : {}),
      tarball: `${baseUrl}${name}/-/${tarballBasename(name)}-${version}.tgz`,
    };
    if (!has(m, "strip-signatures") && !has(m, "stripping-mirror")) {
      dist.signatures = [this.signatureFor(name, version, material.integrity, m)];
    }
    if (material.spec.provenance === true && !has(m, "stripping-mirror")) {
      const elsewhere = has(m, "attestation-url-host");
      const base = new URL(baseUrl);
      if (elsewhere !== undefined) base.hostname = elsewhere.host ?? "127.0.0.2";
      dist.attestations = {
        url: `${base.href}-/npm/v1/attestations/${name}@${version}`,
        provenance: { predicateType: SLSA_PROVENANCE_V1 },
      };
    }
    return dist;
  }

  private signatureFor(name: string, version: string, integrity: string, m: Misbehaviour[]): { keyid: string; sig: string } {
    const replay = has(m, "replay-signature");
    if (replay !== undefined) {
      const at = replay.from.lastIndexOf("@");
      const [fromName, fromVersion] = [replay.from.slice(0, at), replay.from.slice(at + 1)];
      const fromIntegrity = this.material(fromName, fromVersion)?.integrity ?? integrity;
      return this.signature(this.keys.registry, fromName, fromVersion, fromIntegrity);
    }
    const attacker = has(m, "attacker-keys");
    if (attacker !== undefined) {
      const key = attacker.keyid === undefined ? this.keys.attacker : { ...this.keys.attacker, keyid: attacker.keyid };
      return this.signature(key, name, version, integrity);
    }
    if (has(m, "signature-bad-base64")) return { keyid: this.keys.registry.keyid, sig: "%%not base64: a registry bug or an attacker%%" };
    if (has(m, "signature-bad-der")) return { keyid: this.keys.registry.keyid, sig: Buffer.from(`not a DER signature of ${name}@${version}`).toString("base64") };
    if (has(m, "unknown-key")) return this.signature(this.keys.unknown, name, version, integrity);
    if (has(m, "expired-key")) return this.signature(this.keys.expired, name, version, integrity);
    return this.signature(this.keys.registry, name, version, integrity);
  }

  /** The packument, full or abbreviated (`application/vnd.npm.install-v1+json`). */
  packument(baseUrl: string, name: string, abbreviated: boolean): Record<string, unknown> | undefined {
    const pkg = this.packages.get(name);
    if (pkg === undefined) return undefined;
    const versions: Record<string, unknown> = {};
    const time: Record<string, string> = {};
    for (const spec of pkg.versions) {
      const dist = this.dist(baseUrl, name, spec.version);
      const publishedAt = spec.publishedAt ?? DEFAULT_PUBLISHED_AT;
      time[spec.version] = publishedAt;
      const deps = spec.dependencies ? { dependencies: spec.dependencies } : {};
      versions[spec.version] = abbreviated
        ? { name, version: spec.version, ...deps, dist }
        : {
            name,
            version: spec.version,
            description: `Test package ${name}`,
            license: "MIT",
            repository: { type: "git", url: `git+${repositoryOf(name, spec)}.git` },
            ...deps,
            _id: `${name}@${spec.version}`,
            dist,
          };
    }
    const times = Object.values(time).sort();
    const modified = times[times.length - 1] ?? DEFAULT_PUBLISHED_AT;
    const distTags = { latest: latestOf(pkg.versions.map((v) => v.version)) };
    if (abbreviated) return { name, "dist-tags": distTags, versions, modified };
    return { _id: name, name, "dist-tags": distTags, versions, time: { created: times[0] ?? modified, modified, ...time } };
  }

  /** The `/-/npm/v1/attestations/<name>@<version>` response, built on first request and memoized. */
  attestationsFor(baseUrl: string, name: string, version: string): Promise<object> | undefined {
    const material = this.material(name, version);
    if (material === undefined || material.spec.provenance !== true) return undefined;
    const m = this.misbehaviours(name, version);
    const flags = {
      wrongName: has(m, "attestation-wrong-name") !== undefined,
      wrongDigest: has(m, "attestation-wrong-digest") !== undefined,
      otherCa: has(m, "attestation-other-ca") !== undefined,
      brokenProof: has(m, "attestation-broken-inclusion-proof") !== undefined,
    };
    const key = `${name}@${version}|${JSON.stringify(flags)}`;
    let found = this.attestations.get(key);
    if (found === undefined) {
      found = this.buildAttestations(baseUrl, name, material, flags);
      this.attestations.set(key, found);
      // A failed build must not be memoized: the next request tries again.
      found.catch(() => this.attestations.delete(key));
    }
    return found;
  }

  private async buildAttestations(
    baseUrl: string,
    name: string,
    material: VersionMaterial,
    flags: { wrongName: boolean; wrongDigest: boolean; otherCa: boolean; brokenProof: boolean },
  ): Promise<object> {
    const version = material.spec.version;
    const authority = await this.authority();
    const digestHex = flags.wrongDigest
      ? createHash("sha512").update(`not the tarball of ${name}@${version}`).digest("hex")
      : sha512HexOfIntegrity(material.integrity) ?? "";
    const subject = [{ name: attestationSubjectName(flags.wrongName ? `${name}-impostor` : name, version), digest: { sha512: digestHex } }];
    const run = workflowRunOf(name, material.spec);
    const publish = await buildDsseBundle(authority, {
      statement: {
        _type: "https://in-toto.io/Statement/v0.1",
        subject,
        predicateType: PUBLISH_PREDICATE_TYPE,
        predicate: { name, version, registry: baseUrl.replace(/\/$/, "") },
      },
      signer: { kind: "key", key: this.keys.registry },
    });
    const provenance = await buildDsseBundle(authority, {
      statement: slsaStatement(subject, run),
      signer: { kind: "fulcio", run, untrustedCa: flags.otherCa },
      breakInclusionProof: flags.brokenProof,
    });
    return {
      attestations: [
        { predicateType: PUBLISH_PREDICATE_TYPE, bundle: publish as SerializedBundle },
        { predicateType: SLSA_PROVENANCE_V1, bundle: provenance as SerializedBundle },
      ],
    };
  }
}

function tamperedIntegrity(integrity: string): string {
  return "sha512-" + createHash("sha512").update(`tampered ${integrity}`).digest("base64");
}

/** The package.json inside a version's tarball. */
export function tarballManifest(name: string, spec: VersionSpec): Record<string, unknown> {
  return {
    name,
    version: spec.version,
    description: `Test package ${name}`,
    license: "MIT",
    ...(spec.dependencies ? { dependencies: spec.dependencies } : {}),
    repository: { type: "git", url: `git+${repositoryOf(name, spec)}.git` },
  };
}

export function repositoryOf(name: string, spec: VersionSpec): string {
  return spec.repository ?? `https://github.com/provenance-lens-test/${tarballBasename(name)}`;
}

/** The GitHub Actions run a version's provenance claims; deterministic per name@version. */
export function workflowRunOf(name: string, spec: VersionSpec): WorkflowRun {
  const digest = createHash("sha1").update(`${name}@${spec.version}`).digest();
  return {
    repository: repositoryOf(name, spec),
    workflowPath: spec.workflow ?? ".github/workflows/release.yml",
    ref: `refs/tags/v${spec.version}`,
    commit: digest.toString("hex"),
    runId: String(digest.readUInt32BE(0)),
  };
}

function slsaStatement(subject: object[], run: WorkflowRun): object {
  return {
    _type: "https://in-toto.io/Statement/v1",
    subject,
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
        externalParameters: { workflow: { ref: run.ref, repository: run.repository, path: run.workflowPath } },
        internalParameters: { github: { event_name: "push", repository_id: run.runId, repository_owner_id: run.runId } },
        resolvedDependencies: [{ uri: `git+${run.repository}@${run.ref}`, digest: { gitCommit: run.commit } }],
      },
      runDetails: {
        builder: { id: "https://github.com/actions/runner/github-hosted" },
        metadata: { invocationId: `${run.repository}/actions/runs/${run.runId}/attempts/1` },
      },
    },
  };
}

function latestOf(versions: string[]): string {
  const valid = versions.filter((v) => semver.valid(v) !== null);
  const stable = valid.filter((v) => semver.prerelease(v) === null);
  const pool = stable.length > 0 ? stable : valid;
  if (pool.length === 0) return versions[versions.length - 1] ?? "0.0.0";
  return pool.sort(semver.rcompare)[0];
}
