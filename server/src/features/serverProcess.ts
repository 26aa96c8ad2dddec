// How the language server process is started: declared once, used by the extension's client and by the editor
// benchmark (so that it measures the process editors run).

/**
 * V8 flags for the server process (issue #7: <= 200 MB RSS with a 52,771-line lockfile open and verified). Its live
 * heap is ~40 MB, but every edit re-parses the lockfile (~20 MB of short-lived objects, a new 2 MB text) and by
 * default V8 keeps two 16 MiB semi-spaces and lets the old generation grow to several times the live size before a
 * full collection: RSS climbed from ~175 MiB after opening to 220-280 MiB over a few dozen edits. 4 MiB semi-spaces
 * and a 1.6x heap growing factor held it at 160-172 MiB (peak) over 20 edits; 4 MiB alone peaked at 211 MiB, with
 * a 2x factor at 195 MiB; 2 MiB and 1.3x doubled the GC time per edit (docs/BENCHMARKS.md).
 */
export const SERVER_EXEC_ARGV: readonly string[] = ["--max-semi-space-size=4", "--heap-growing-percent=60"];
