// The `yaml` library's reading of a Berry yarn.lock, reduced to the records the scanner (yarnBerryYaml.ts) writes:
// the fallback when a file leaves the scanner's subset, and the reference the scanner is tested against.
import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from "yaml";
import type { ParseProblem } from "./model";
import type { LineIndex } from "./lineIndex";
import { BERRY_FIELDS, type BerryRecord, duplicate, newRecord } from "./yarnBerryYaml";

/** What the `yaml` library gives for a value, before it is reduced to a record. */
export type BerryMap = Map<string, BerryValue>;
export type BerryValue = string | BerryMap;

/** Scalars as strings (Yarn reads every value as a string), mappings as Maps; the first of duplicate keys wins. */
function toBerryValue(node: unknown, index: LineIndex, problems: ParseProblem[], fields?: ReadonlySet<string>): BerryValue {
  if (isScalar(node)) return node.value === null || node.value === undefined ? "" : String(node.value);
  if (isMap(node)) {
    const map: BerryMap = new Map();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (fields !== undefined && !fields.has(key)) continue;
      if (map.has(key)) {
        const r = isScalar(pair.key) ? pair.key.range : undefined;
        const range = r ? index.range(r[0], r[1]) : index.range(0, 0);
        problems.push({ range, severity: "warning", code: "duplicate-key", message: `\`${key}\` is written twice in this entry; the first value is used.` });
        continue;
      }
      map.set(key, toBerryValue(pair.value, index, problems));
    }
    return map;
  }
  if (isSeq(node)) return JSON.stringify(node.toJSON());
  return node === null || node === undefined ? "" : String((node as YamlNode).toJSON?.() ?? node);
}

/** The library's value of one entry, reduced to the record the scanner builds. */
function toRecord(key: string, line: number, keyStart: number, keyEnd: number, value: BerryValue): BerryRecord {
  const record = newRecord(key, line, keyStart, keyEnd);
  if (typeof value === "string") return record;
  record.fields = true;
  const scalar = (v: BerryValue | undefined): string | undefined => (typeof v === "string" ? v : undefined);
  record.version = scalar(value.get("version"));
  record.resolution = scalar(value.get("resolution"));
  record.checksum = scalar(value.get("checksum"));
  const deps = value.get("dependencies");
  if (typeof deps === "object") for (const [name, range] of deps) if (typeof range === "string") record.dependencies.push(name, range);
  const meta = value.get("dependenciesMeta");
  if (typeof meta === "object") {
    for (const [name, flags] of meta) if (typeof flags === "object" && flags.get("optional") === "true") record.optional.push(name);
  }
  return record;
}

/** The whole file through the `yaml` library: the fallback, and the reference the scanner is tested against. */
export function parseBerryYamlWithLibrary(text: string, index: LineIndex, problems: ParseProblem[]): BerryRecord[] {
  // failsafe: every scalar stays a string, as Yarn reads them (`version: 1.10` is not the number 1.1).
  const doc = parseDocument(text, { schema: "failsafe", uniqueKeys: false, prettyErrors: false });
  for (const error of doc.errors) {
    // The library may put the end of an error one past the text (an unclosed quote at the end of the file).
    const from = Math.min(error.pos[0], text.length);
    problems.push({
      range: index.range(from, Math.max(from, Math.min(error.pos[1], text.length))),
      severity: "error",
      code: "parse-error",
      message: `The lockfile is not valid YAML here (${error.code}); entries after this point may be missing.`,
    });
  }
  const records: BerryRecord[] = [];
  if (!isMap(doc.contents)) return records;
  const seen = new Set<string>();
  const errorAt = doc.errors.map((e) => e.pos[0]);
  const pairs = doc.contents.items;
  for (let p = 0; p < pairs.length; p++) {
    const pair = pairs[p];
    if (!isScalar(pair.key) || pair.key.range === undefined || pair.key.range === null) continue;
    // An entry the library had to repair (a cut-off quote, say) holds guesses, not what Yarn wrote: leave it out.
    const from = pair.key.range[0];
    const nextKey = pairs[p + 1]?.key;
    const to = isScalar(nextKey) && nextKey.range ? nextKey.range[0] : text.length + 1;
    if (errorAt.some((at) => at >= from && at < to)) continue;
    const key = String(pair.key.value);
    const start = index.position(pair.key.range[0]);
    const end = index.position(pair.key.range[1]);
    if (seen.has(key)) {
      problems.push(duplicate(start.line, start.character, end.character, key, false));
      continue;
    }
    seen.add(key);
    records.push(toRecord(key, start.line, start.character, end.character, toBerryValue(pair.value, index, problems, BERRY_FIELDS)));
  }
  return records;
}
