// The loopback test npm registry: import everything from here.
export { startTestRegistry, routeOf, type TestRegistry, type TestRegistryOptions } from "./server";
export { packagesFromLockfileEntries, DEMO_PACKAGES, DEMO_MISBEHAVIOUR } from "./specs";
export { writeProjectForSpec, integrityOf, type WrittenProject } from "./lockfileWriter";
export { npmKeyid, NPMJS_CURRENT_KEYID, type NpmKeyEntry } from "./keys";
export { attestationSubjectName, PUBLISH_PREDICATE_TYPE, SLSA_PROVENANCE_V1, workflowRunOf } from "./content";
export { GITHUB_OIDC_ISSUER, workflowIdentity } from "./sigstore";
export { sha512HexOfIntegrity } from "./tarball";
export * from "./types";
