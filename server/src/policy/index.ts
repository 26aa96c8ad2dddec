// Policy: facts -> findings (issue #6). The editor and the CLI import from here.
export { parsePolicy, defaultPolicy, POLICY_FILE, POLICY_CODES, POLICY_KEYS, REQUIRE_PROVENANCE, type Policy, type PolicyCode, type PolicyException, type PolicyReading, type PolicyRegistry, type RequireProvenance } from "./policyFile";
export { applyPolicy, blockingFinding, DEFAULT_FINDING_LEVELS, type ApplyOptions, type PackageOutcome, type PolicyInput, type PolicyOutcome } from "./applyPolicy";
export { loadPolicy, policyPathFor, registryOptionsOf, type LoadedPolicy, type RegistryOptions } from "./loadPolicy";
export { historyLine, normaliseRepository, provenanceHistory, buildIdentityDrift, previousWithProvenance, versionRecordsOf, identityOf, majorLineOf, type VersionRecord } from "../verify/history";
