// @sigstore/tuf and its fetch stack (tuf-js, make-fetch-happen, iconv-lite, ...: about half of the CLI's bundle) in
// a bundle of their own, dist/tufClient.js, loaded only when a background refresh actually runs: every CLI run and
// server start would otherwise parse them for nothing.
export { initTUF } from "@sigstore/tuf";
