// The hand scanner for pnpm-lock.yaml: one pass over the lines (indexOf, charCodeAt), a state per indentation
// level that knows the lockfile's shape (importers, packages, snapshots, 5.x root groups), writing straight into
// the records of pnpmYaml.ts. Anything outside pnpm's subset or shape (tabs, odd indentation, anchors, block
// scalars, duplicate keys, a flow collection where a block is expected) throws Unexpected and the `yaml` library
// reads the file instead, so correctness never depends on the subset holding.
//
// Why hand-written, and why no general tree (issue #2 "Speed"): a Map tree of the whole file, then records built
// from it, measured 0.48-0.52x of js-yaml `load`, more than half of it GC copying the tree. Earlier rounds moved
// per-character work to native searches (a JavaScript loop costs ~5-7 ns a character here, indexOf next to
// nothing): the comment search looks for '#', the usual `{integrity: ...}` line is checked with indexOf, quoted
// keys are sliced in place; field names are sliced (matching them with startsWith was 3-5% slower).
// This round (issue #2's last target): the reader has no id index (its (name, reference) index is one), so the
// sections are arrays in file order and no long key is hashed; repeats are found by the reader. Entry fields the
// model does not read are skipped by first letter and length, unsliced. Tried and not kept: an intern table for
// names in JavaScript (sampled hash, span comparison: ~170 ns a name, more than V8 hashing a fresh string, which
// costs ~40 ns + ~3 ns a character), and one search for CR per text instead of a check per line (TurboFan's loop
// came out 1.8x slower). Profile now (v9): this scan ~35-40% self, name lookups (the hash of each freshly sliced
// dependency name, a floor without interning) ~11%, GC ~4-6%. Fourth round: `<`/`===` on two slices of the text are
// V8 runtime calls (~80 ns, against ~15 for flat strings), so sort checks compare names in the text; each record's
// dependencies go to a scratch list copied at its end (5-10% less allocated per parse).
import type { Range } from "./model";
import { type PnpmDoc, type PnpmEntryRecord, type PnpmImporterRecord, newDoc, setResolution } from "./pnpmYaml";
import * as fields from "./pnpmFields";
import * as syntax from "./pnpmYamlSyntax";
import { FlowReader, quoted, Unexpected } from "./pnpmYamlSyntax";

// The value readers run on nearly every line. Under tsx (how bench/parse.ts and the tests run) every use of an
// imported binding goes through the module's export getter, which measured 18% of a pnpm parse once these moved to
// pnpmYamlSyntax.ts; bound once here, they are plain function calls whatever compiles the code.
const { commentScan, inlineScalar, inlineValue, listOf, plainStart, readsAsItself, restIsEmpty, spanAfter, str } = syntax;
const { entryFieldBit, importerField, mayBeEntryField } = fields;

// What a map at some indentation level holds.
const SKIP = 0;
const ROOT = 1;
const IMPORTERS = 2; // importer paths
const IMPORTER = 3; // an importer's groups (also the root in 5.x/6.x single-project files)
const GROUP = 4; // dependency names of an importer group
const IMPORTER_DEP = 5; // specifier / version
const SPECIFIERS = 6; // 5.x name -> specifier
const ENTRIES = 7; // packages or snapshots keys
const ENTRY = 8; // an entry's fields
const ENTRY_DEPS = 9; // name -> reference
const RESOLUTION = 10; // a block-form resolution

const MAX_LEVELS = 8;

export function scanPnpmYaml(text: string, start: number): PnpmDoc[] {
  const docs: PnpmDoc[] = [];
  commentScan.next = -1;
  let doc: PnpmDoc | undefined;
  const length = text.length;
  // kinds[level]: what the map at indentation 2*level holds.
  // A fixed array and a depth, not pushes and `length =` per line (shrinking an array's length measured as a hot spot).
  const kinds: number[] = new Array<number>(MAX_LEVELS).fill(SKIP);
  kinds[0] = ROOT;
  let open = 1;
  let root: PnpmImporterRecord = { path: ".", range: undefined, deps: [], specifiers: new Map() };
  let importer: PnpmImporterRecord = root;
  let group = 0;
  let entries: PnpmEntryRecord[] = [];
  let entry: PnpmEntryRecord | undefined;
  let depIndex = -1;
  let topSeen = new Set<string>();
  let importerPaths = new Set<string>();
  // Per level: bits of the keys already seen (duplicates go to the library), and the last name of a sorted map.
  const seenAt: number[] = new Array<number>(MAX_LEVELS).fill(0);
  const lastAt: string[] = new Array<string>(MAX_LEVELS).fill("");
  // Where that last name is written (-1: a quoted name with escapes, which is no span of the text).
  const lastFromAt = new Int32Array(MAX_LEVELS);
  let seen = 0;
  let lastName = "";
  // The open entry's dependencies (name, reference...), copied into a list of their size when the next entry starts:
  // arrays grown by push per record were a large share of a scan's allocation (and of the scavenges landing in it).
  const depScratch: string[] = [];
  let depCount = 0;
  // A key with nothing after it: the kind of map it opens if the next line is deeper.
  let pendingKind = -1;
  let pendingLevel = 0;
  let skipDeeperThan = -1;
  let line = -1;
  for (let pos = start; pos < length; ) {
    line++;
    let eol = text.indexOf("\n", pos);
    if (eol === -1) eol = length;
    let end = eol;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--;
    const lineStart = pos;
    pos = eol + 1;
    let i = lineStart;
    while (i < end && text.charCodeAt(i) === 32) i++;
    if (i === end) continue;
    const first = text.charCodeAt(i);
    if (first === 35 /* # */) continue;
    if (first === 9) throw new Unexpected(i, "tab indentation");
    const indent = i - lineStart;
    const isDash = first === 45 && (i + 1 === end || text.charCodeAt(i + 1) === 32);
    if (skipDeeperThan >= 0) {
      if (indent > skipDeeperThan || (indent === skipDeeperThan && isDash)) continue;
      skipDeeperThan = -1;
    }
    if (indent === 0 && first === 45 && text.startsWith("---", i) && (end === i + 3 || text.charCodeAt(i + 3) === 32)) {
      if (end > i + 3 && text.slice(i + 3, end).trim() !== "") throw new Unexpected(i, "content after ---");
      finish(doc, root);
      doc = undefined;
      pendingKind = -1;
      continue;
    }
    if (indent === 0 && text.startsWith("...", i)) throw new Unexpected(i, "document end marker");
    if (isDash) throw new Unexpected(i, "a sequence where pnpm writes none");
    if ((indent & 1) !== 0) throw new Unexpected(i, "indentation other than two spaces");
    const level = indent >> 1;
    if (doc === undefined) {
      if (indent !== 0) throw new Unexpected(i, "document root is not a map");
      doc = newDoc();
      open = 1;
      docs.push(doc);
      root = importer = { path: ".", range: undefined, deps: [], specifiers: new Map() };
      topSeen = new Set();
      importerPaths = new Set();
    }
    if (pendingKind !== -1) {
      if (level === pendingLevel + 1) {
        if (level >= MAX_LEVELS) throw new Unexpected(i, "nesting deeper than pnpm writes");
        kinds[level] = pendingKind;
        open = level + 1;
        seenAt[level] = 0;
        lastAt[level] = "";
        lastFromAt[level] = 0;
        if (pendingKind === IMPORTER_DEP) importer.deps[depIndex].mapForm = true;
      } else if (level > pendingLevel + 1) throw new Unexpected(i, "indentation other than two spaces");
      pendingKind = -1;
    }
    if (level >= open) throw new Unexpected(i, "indentation that does not match an open map");
    const kind = kinds[level];
    open = level + 1;
    seen = seenAt[level];
    lastName = lastAt[level];
    // The key: quoted, or plain up to ": " / a final ":".
    let key: string;
    let keyEnd: number;
    let j: number;
    let keyFrom = i;
    const close = first === 39 ? text.indexOf("'", i + 1) : -1;
    if (close !== -1 && close < end && text.charCodeAt(close + 1) === 58) {
      // The usual quoted key ('@scope/name@1.0.0':) sliced here: no result object or call into the syntax module.
      key = text.slice(i + 1, close);
      keyFrom = i + 1;
      keyEnd = j = close + 1;
    } else if (first === 39 || first === 34) {
      const q = quoted(text, i, end);
      key = q.value;
      keyFrom = -1;
      keyEnd = j = q.end;
      if (text.charCodeAt(j) !== 58) throw new Unexpected(j, "quoted key without ':'");
    } else {
      if (!plainStart(first)) throw new Unexpected(i, "unsupported key syntax");
      j = text.indexOf(":", i);
      while (j !== -1 && j + 1 < end && text.charCodeAt(j + 1) !== 32) j = text.indexOf(":", j + 1);
      if (j === -1 || j >= end) throw new Unexpected(i, "line without a key");
      keyEnd = j;
      while (keyEnd > i && text.charCodeAt(keyEnd - 1) === 32) keyEnd--;
      if (kind === ENTRY && !mayBeEntryField(first, keyEnd - i)) {
        // A field the model does not read (engines, hasBin, peerDependencies, transitivePeerDependencies...: a
        // third of the entry lines), told by its first letter and length: passed over with its children unsliced.
        j++;
        while (j < end && text.charCodeAt(j) === 32) j++;
        if (j === end || text.charCodeAt(j) === 35) skipDeeperThan = indent;
        continue;
      }
      // Sliced even where only compared with field names: matching them in the text with startsWith (no slice)
      // allocated less but measured 3-5% slower than a slice and === comparisons.
      key = text.slice(i, keyEnd);
    }
    j++;
    while (j < end && text.charCodeAt(j) === 32) j++;
    const empty = j === end || text.charCodeAt(j) === 35;
    // What the key means where it stands; SKIP keys are passed over with their children.
    let opens = SKIP;
    switch (kind) {
      case ROOT: {
        if (topSeen.has(key)) throw new Unexpected(i, "duplicate key");
        topSeen.add(key);
        if (key === "lockfileVersion") {
          if (empty) throw new Unexpected(i, "lockfileVersion without a value");
          doc.lockfileVersion = inlineValue(text, j, end);
          doc.lockfileVersionRange = keyRange(line, indent, keyEnd - lineStart);
          continue;
        }
        if (key === "importers") {
          doc.hasImporters = true;
          doc.importersIsMap = true;
          opens = IMPORTERS;
        } else if (key === "packages" || key === "snapshots") {
          entries = [];
          if (key === "packages") (doc.hasPackages = true), (doc.packages = entries);
          else (doc.hasSnapshots = true), (doc.snapshots = entries);
          opens = ENTRIES;
        } else if (key === "specifiers") {
          importer = root;
          opens = SPECIFIERS;
        } else if (importerField(key) !== 0) {
          // A dependency group (not `in` on an object: `constructor:` or `toString:` would count as one).
          importer = root;
          group = importerField(key) >> 1;
          opens = GROUP;
        }
        break;
      }
      case IMPORTERS:
        if (importerPaths.has(key)) throw new Unexpected(i, "duplicate importer");
        importerPaths.add(key);
        importer = { path: key, range: keyRange(line, indent, keyEnd - lineStart), deps: [], specifiers: new Map() };
        doc.importers.push(importer);
        opens = IMPORTER;
        break;
      case IMPORTER: {
        const bit = importerField(key);
        if (bit === 0) break;
        if ((seen & bit) !== 0) throw new Unexpected(i, "duplicate group");
        seen |= bit;
        seenAt[level] = seen;
        if (bit === 8) opens = SPECIFIERS;
        else (group = bit >> 1), (opens = GROUP);
        break;
      }
      case GROUP:
      case SPECIFIERS:
      case ENTRY_DEPS: {
        // pnpm writes names sorted: a duplicate can only follow a name that is not smaller. Compared in the text
        // where both names are spans of it: `<=` on two slices of a text is a V8 runtime call (~80 ns a name).
        const lastFrom = lastFromAt[level];
        const after =
          lastName.length === 0 ? key.length !== 0 : keyFrom >= 0 && lastFrom >= 0 ? spanAfter(text, keyFrom, keyFrom + key.length, lastFrom, lastFrom + lastName.length) : key > lastName;
        if (!after) checkRepeat(kind, key, i, importer, group, depScratch, depCount);
        lastName = key;
        lastAt[level] = key;
        lastFromAt[level] = keyFrom;
        if (kind === SPECIFIERS) {
          importer.specifiers.set(key, empty ? undefined : inlineScalar(text, j, end));
          continue;
        }
        if (kind === ENTRY_DEPS) {
          if (empty) throw new Unexpected(i, "a dependency without a reference");
          depScratch[depCount++] = key;
          depScratch[depCount++] = inlineScalar(text, j, end) ?? "";
          continue;
        }
        depIndex = importer.deps.length;
        const dep = { group, name: key, ref: "", spec: undefined as string | undefined, mapForm: false, line, start: indent, end: keyEnd - lineStart };
        importer.deps.push(dep);
        if (!empty) dep.ref = inlineScalar(text, j, end) ?? "";
        opens = IMPORTER_DEP;
        break;
      }
      case IMPORTER_DEP: {
        const bit = key === "specifier" ? 1 : key === "version" ? 2 : 0;
        if (bit === 0) break;
        if ((seen & bit) !== 0) throw new Unexpected(i, "duplicate key");
        seen |= bit;
        seenAt[level] = seen;
        if (empty) throw new Unexpected(i, "a specifier or version without a value");
        const dep = importer.deps[depIndex];
        if (bit === 1) dep.spec = inlineScalar(text, j, end);
        else dep.ref = inlineScalar(text, j, end) ?? "";
        continue;
      }
      case ENTRIES: {
        // A repeated key is found by the reader (pnpm.ts), which indexes every key anyway.
        if (depCount > 0) (entry!.deps = listOf(depScratch, depCount)), (depCount = 0);
        entry = newEntryRecord(key, line, indent, line, keyEnd - lineStart, NO_STRINGS);
        entries.push(entry);
        opens = ENTRY;
        break;
      }
      case ENTRY: {
        const bit = entryFieldBit(key);
        if (bit === 0) break;
        if ((seen & bit) !== 0) throw new Unexpected(i, "duplicate field");
        seen |= bit;
        seenAt[level] = seen;
        if (bit === 1) {
          if (!empty) readFlowResolution(text, j, end, entry!);
          else opens = RESOLUTION;
          break;
        }
        if (bit === 2 || bit === 4) {
          // dependencies / optionalDependencies; optionalDependencies follow dependencies in the model's order.
          if (!empty) {
            if (!text.startsWith("{}", j)) throw new Unexpected(j, "a flow map of dependencies");
            continue;
          }
          if (bit === 2 && (seen & 4) !== 0) throw new Unexpected(i, "optionalDependencies before dependencies");
          opens = ENTRY_DEPS;
          break;
        }
        if (empty) continue;
        const value = bit === 8 || bit === 16 ? inlineValue(text, j, end) : inlineScalar(text, j, end);
        if (bit === 8) entry!.dev = value === true;
        else if (bit === 16) entry!.optional = value === true;
        else if (bit === 32) entry!.name = str(value);
        else entry!.version = str(value);
        continue;
      }
      case RESOLUTION: {
        if (empty) throw new Unexpected(i, "a nested resolution field");
        setResolution(entry!, key, inlineValue(text, j, end));
        continue;
      }
      default:
        throw new Unexpected(i, "a key inside a skipped value");
    }
    if (opens === SKIP) {
      if (empty) skipDeeperThan = indent;
      continue;
    }
    if (empty) {
      pendingKind = opens;
      pendingLevel = level;
      continue;
    }
    // A container written inline: only `{}` (an empty map), as pnpm writes for entries without fields.
    if (!text.startsWith("{}", j) || !restIsEmpty(text, j + 2, end)) {
      if (opens === GROUP || opens === IMPORTER_DEP) continue; // a 5.x reference, read above
      throw new Unexpected(j, "a value where pnpm writes a map");
    }
    if (opens === IMPORTER_DEP) importer.deps[depIndex].mapForm = true;
  }
  if (depCount > 0) entry!.deps = listOf(depScratch, depCount);
  finish(doc, root);
  return docs;

}

/**
 * Every record is built here, by both readers, so they have one shape. Here and not in pnpmYaml.ts, which imports this
 * module: under tsx a call into the other module is an export-getter call, once per entry of every parse.
 */
export function newEntryRecord(key: string, line: number, start: number, endLine: number, end: number, deps?: string[]): PnpmEntryRecord {
  return { key, line, start, endLine, end, name: undefined, version: undefined, resolution: {}, dev: false, optional: false, deps: deps ?? [], claimed: false };
}

/** The deps of a scanned record without dependencies: one frozen list (the reader only reads them). */
const NO_STRINGS = Object.freeze([]) as unknown as string[];


function keyRange(line: number, start: number, end: number): Range {
  return { start: { line, character: start }, end: { line, character: end } };
}

function checkRepeat(kind: number, key: string, at: number, importer: PnpmImporterRecord, group: number, deps: string[], depCount: number): void {
  const repeated =
    kind === SPECIFIERS ? importer.specifiers.has(key) : kind === ENTRY_DEPS ? deps.some((d, k) => k < depCount && k % 2 === 0 && d === key) : importer.deps.some((d) => d.group === group && d.name === key);
  if (repeated) throw new Unexpected(at, "duplicate key");
}

/** Without `importers`, the root's own groups are importer "." (5.x/6.x single-project files). */
function finish(doc: PnpmDoc | undefined, root: PnpmImporterRecord): void {
  if (doc !== undefined && !doc.importersIsMap) doc.importers = [root];
}

/** `resolution: {integrity: sha512-..., tarball: ...}` on one line. */
function readFlowResolution(text: string, i: number, end: number, entry: PnpmEntryRecord): void {
  if (text.charCodeAt(i) !== 123) throw new Unexpected(i, "resolution is not a map");
  // The usual line, `{integrity: sha512-<base64>}`, is sliced directly: the general flow reader (a Map and a
  // regex per line) was a tenth of the scan.
  if (text.startsWith("{integrity: sha", i)) {
    const close = text.indexOf("}", i);
    if (close !== -1 && close < end && restIsEmpty(text, close + 1, end)) {
      const value = text.slice(i + 12, close);
      if (readsAsItself(value)) {
        entry.resolution.integrity = value;
        return;
      }
    }
  }
  const flow = new FlowReader(text, i, end);
  const value = flow.value();
  flow.expectEnd();
  for (const [key, v] of value as Map<string, unknown>) setResolution(entry, key, v);
}
