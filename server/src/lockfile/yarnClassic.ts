// Yarn classic (v1) yarn.lock. The format is Yarn's own (not YAML): `"a@^1", a@^1.1:` headers, then
// `key value` fields and one level of `key:` blocks, two-space indented. Written by hand as a line scanner
// because lockfiles run to tens of thousands of lines and are re-parsed on every edit; it also keeps exact
// positions, which @yarnpkg/lockfile does not give.
import type { Importer, LockEntry, ParsedLockfile, ParseProblem, SourceKind } from "./model";
import type { ParseOptions } from "./index";
import type { LineIndex } from "./lineIndex";
import {
  type OptionalEdges,
  addOptionalEdge,
  aliasOf,
  aliasTarget,
  importersFromManifests,
  isGitSpec,
  isRegistryTarball,
  markDevAndOptional,
  problemOnLine,
  splitDescriptor,
  urlSourceKind,
} from "./yarnShared";

export type ClassicValue = string | Record<string, string>;

/** One entry as scanned: its header and fields, before any interpretation. */
export interface ClassicRecord {
  /** The header as written, without the trailing colon. */
  id: string;
  specs: string[];
  line: number;
  keyStart: number;
  keyEnd: number;
  fields: Record<string, ClassicValue>;
}

const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COLON = 58;

/** Reads a token at `i`: a JSON-quoted string or a bare word ending at a space, comma or colon. */
function readToken(line: string, i: number): { value: string; end: number } | undefined {
  if (line.charCodeAt(i) === QUOTE) {
    let j = i + 1;
    let escaped = false;
    for (; j < line.length; j++) {
      const c = line.charCodeAt(j);
      if (c === 92) {
        escaped = true;
        j++;
      } else if (c === QUOTE) break;
    }
    if (j >= line.length) return undefined;
    // Yarn writes quoted strings with JSON.stringify, so JSON.parse reads the escapes exactly.
    const value = escaped ? (JSON.parse(line.slice(i, j + 1)) as string) : line.slice(i + 1, j);
    return { value, end: j + 1 };
  }
  let j = i;
  while (j < line.length) {
    const c = line.charCodeAt(j);
    if (c === SPACE || c === 44 || (c === COLON && (j + 1 === line.length || line.charCodeAt(j + 1) === SPACE))) break;
    j++;
  }
  return j === i ? undefined : { value: line.slice(i, j), end: j };
}

/** Scans the text into records. `text` must already have conflict regions masked. */
export function scanYarnClassic(text: string, lines: () => LineIndex, problems: ParseProblem[]): ClassicRecord[] {
  const records: ClassicRecord[] = [];
  let current: ClassicRecord | undefined;
  let block: Record<string, string> | undefined;
  let fieldIndent = -1;
  const bad = (line: number, message: string): void => {
    problems.push(problemOnLine(lines(), line, "error", "parse-error", message));
  };
  let lineNo = -1;
  // A byte-order mark is skipped; positions on line 0 still count it, as the editor's text does.
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let start = bom; start <= text.length; ) {
    lineNo++;
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    const line = text.slice(start, end);
    start = next;
    let indent = 0;
    while (indent < line.length && line.charCodeAt(indent) === SPACE) indent++;
    if (indent === line.length || line.charCodeAt(indent) === HASH) continue;
    if (indent === 0) {
      block = undefined;
      fieldIndent = -1;
      current = readHeader(line, lineNo, lineNo === 0 ? bom : 0);
      if (current === undefined) bad(lineNo, "Expected an entry header such as `\"name@^1.0.0\", name@^1.1.0:`.");
      else records.push(current);
      continue;
    }
    if (current === undefined) continue; // fields of a header that could not be read: already reported
    if (fieldIndent === -1) fieldIndent = indent;
    if (indent > fieldIndent && block !== undefined) {
      const key = readToken(line, indent);
      let at = key === undefined ? -1 : key.end;
      if (at !== -1 && line.charCodeAt(at) === COLON) at++;
      while (at !== -1 && line.charCodeAt(at) === SPACE) at++;
      const value = at === -1 ? undefined : readToken(line, at);
      if (key === undefined || value === undefined) bad(lineNo, "Expected `name range` inside a dependency block.");
      else block[key.value] = value.value;
      continue;
    }
    if (indent !== fieldIndent) {
      bad(lineNo, "Unexpected indentation.");
      continue;
    }
    block = undefined;
    const key = readToken(line, indent);
    if (key === undefined) {
      bad(lineNo, "Expected a field such as `version \"1.0.0\"`.");
      continue;
    }
    let at = key.end;
    if (line.charCodeAt(at) === COLON) {
      at++;
      if (line.slice(at).trim() === "") {
        block = {};
        current.fields[key.value] = block;
        continue;
      }
    }
    while (line.charCodeAt(at) === SPACE) at++;
    const value = readToken(line, at);
    if (value === undefined) bad(lineNo, `The value of \`${key.value}\` is missing or its quote is not closed.`);
    else current.fields[key.value] = value.value;
  }
  return records;
}

function readHeader(line: string, lineNo: number, shift: number): ClassicRecord | undefined {
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === SPACE) end--;
  if (line.charCodeAt(end - 1) !== COLON) return undefined;
  const keyEnd = end - 1;
  const specs: string[] = [];
  for (let i = 0; i < keyEnd; ) {
    const token = readToken(line, i);
    if (token === undefined) return undefined;
    specs.push(token.value);
    i = token.end;
    while (i < keyEnd && (line.charCodeAt(i) === SPACE || line.charCodeAt(i) === 44)) i++;
  }
  if (specs.length === 0) return undefined;
  return { id: line.slice(0, keyEnd), specs, line: lineNo, keyStart: shift, keyEnd: keyEnd + shift, fields: {} };
}

function sourceOf(record: ClassicRecord, name: string, version: string, resolved: string | undefined): SourceKind {
  const ranges = record.specs.map((s) => splitDescriptor(s).range);
  if (ranges.some((r) => r.startsWith("link:"))) return "link";
  if (resolved !== undefined) {
    if (isRegistryTarball(resolved, name, version)) return "registry";
    const kind = urlSourceKind(resolved);
    if (kind !== undefined) return kind;
  }
  if (ranges.some((r) => r.startsWith("file:"))) return "file";
  if (ranges.some((r) => isGitSpec(r))) return "git";
  if (ranges.some((r) => /^https?:/.test(r))) return "tarball";
  return "registry";
}

export function parseYarnClassic(text: string, lines: () => LineIndex, options: ParseOptions, problems: ParseProblem[]): ParsedLockfile {
  const header = /^\uFEFF?# yarn lockfile v(\d+)/m.exec(text.slice(0, 500));
  const lockfileVersion = header === null ? undefined : Number(header[1]);
  if (header === null) {
    problems.push(
      problemOnLine(lines(), 0, "warning", "unknown-lockfile-version", "No `# yarn lockfile v1` line: read as a Yarn classic lockfile."),
    );
  } else if (lockfileVersion !== 1) {
    const line = lines().position(header.index).line;
    problems.push(
      problemOnLine(lines(), line, "warning", "unknown-lockfile-version", `Yarn lockfile v${header[1]} is not a version this reader knows; read as v1.`),
    );
  }
  const records = scanYarnClassic(text, lines, problems);
  const entries: LockEntry[] = [];
  const bySpec = new Map<string, string>();
  const kept: ClassicRecord[] = [];
  for (const record of records) {
    const range = { start: { line: record.line, character: record.keyStart }, end: { line: record.line, character: record.keyEnd } };
    const version = record.fields.version;
    if (typeof version !== "string") {
      problems.push({ range, severity: "error", code: "incomplete-entry", message: "This entry has no version (the file may be cut short); it is left out." });
      continue;
    }
    let duplicate = false;
    for (const spec of record.specs) {
      if (bySpec.has(spec)) {
        duplicate = true;
        problems.push({ range, severity: "warning", code: "duplicate-key", message: `\`${spec}\` is locked twice; the first entry is used.` });
      } else bySpec.set(spec, record.id);
    }
    if (duplicate && record.specs.every((s) => bySpec.get(s) !== record.id)) continue;
    const first = splitDescriptor(record.specs[0]);
    const realName = aliasTarget(first.range) ?? first.name;
    const names = record.specs.map((s) => splitDescriptor(s).name);
    const resolved = typeof record.fields.resolved === "string" ? record.fields.resolved : undefined;
    const integrity = typeof record.fields.integrity === "string" ? record.fields.integrity : undefined;
    const entry: LockEntry = {
      id: record.id,
      name: realName,
      version,
      source: sourceOf(record, realName, version, resolved),
      range,
      dependencies: [],
    };
    const alias = aliasOf(names, realName);
    if (alias !== undefined) entry.alias = alias;
    if (resolved !== undefined) entry.resolved = resolved;
    if (integrity !== undefined) entry.integrity = integrity;
    entries.push(entry);
    kept.push(record);
  }
  const optionalEdges: OptionalEdges = new Map();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    for (const [block, optional] of [["dependencies", false], ["optionalDependencies", true]] as const) {
      const deps = kept[i].fields[block];
      if (typeof deps !== "object") continue;
      for (const name in deps) {
        const to = bySpec.get(`${name}@${deps[name]}`);
        if (to === undefined) {
          problems.push({
            range: entry.range,
            severity: "warning",
            code: "unresolved-dependency",
            message: `${entry.name}@${entry.version} depends on \`${name}@${deps[name]}\`, which no entry locks. Run \`yarn install\` to update the lockfile.`,
          });
          continue;
        }
        if (!entry.dependencies.includes(to)) entry.dependencies.push(to);
        if (optional) addOptionalEdge(optionalEdges, entry.id, to);
      }
    }
  }
  const importers: Importer[] = importersFromManifests(options.manifests ?? [], (name, spec) => bySpec.get(`${name}@${spec}`));
  markDevAndOptional(entries, optionalEdges, importers);
  return { format: "yarn-classic", lockfileVersion, entries, importers, problems };
}
