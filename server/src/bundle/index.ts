// Offline trust bundles (issue #5): record the evidence of an online check, verify from it later with no network.
export * from "./format";
export { BundleRecorder, type BundleMetadata } from "./recorder";
export { validateTrustBundle, type BundleParseResult } from "./validate";
export {
  loadTrustBundle,
  parseTrustBundle,
  bundleEvidence,
  chooseTrustedRoot,
  lockfileCoverageWarning,
  describeBundle,
  NOT_IN_BUNDLE,
  DEFAULT_MAX_BUNDLE_BYTES,
  type LoadedBundle,
  type LoadBundleResult,
  type RootChoice,
} from "./reader";
export { writeTrustBundle, trustedRootJsonOf, bundledLockfileOf } from "./writer";
