// The real lockfiles of /work/shared/corpus: the fast path must give exactly what the full library parse gives,
// with the counts corpus/SOURCES.md states. Broken variants are made here, at test time.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseLockfile } from "../../../server/src/lockfile/index";
import type { ParsedLockfile } from "../../../server/src/lockfile/model";
import { parseNpmLockfile, parseNpmLockfileWithLibrary } from "../../../server/src/lockfile/npm";
import { scanNpmKeys } from "../../../server/src/lockfile/jsonKeyScan";
import { scanNpmKeysByLayout } from "../../../server/src/lockfile/jsonLayoutScan";
import { sharedDir } from "./npmExpect";

const shared = sharedDir(__dirname);
const corpus = shared === undefined ? undefined : path.join(shared, "corpus/lockfiles");
const missing = corpus === undefined || !fs.existsSync(corpus) ? "the shared corpus (../shared/corpus/lockfiles) is not here" : undefined;

interface Counts {
  entries: number;
  workspaces: number;
  links: number;
  nested: number;
  aliases: number;
  inBundle?: number;
}

// From corpus/SOURCES.md.
const EXPECTED: Record<string, Counts> = {
  "npm-v2-create-react-app-package-lock.json": { entries: 2589, workspaces: 12, links: 12, nested: 803, aliases: 1 },
  "npm-v3-npm-cli-package-lock.json": { entries: 1273, workspaces: 16, links: 16, nested: 472, aliases: 3 },
};

function countsOf(parsed: ParsedLockfile): Counts {
  return {
    entries: parsed.entries.length,
    workspaces: parsed.entries.filter((e) => e.source === "workspace").length,
    links: parsed.entries.filter((e) => e.source === "link").length,
    nested: parsed.entries.filter((e) => e.id.includes("/node_modules/") && e.id.startsWith("node_modules/")).length,
    aliases: parsed.entries.filter((e) => e.alias !== undefined && e.source !== "link").length,
  };
}

const files = missing === undefined ? fs.readdirSync(corpus as string).filter((f) => f.startsWith("npm-")).sort() : [];

test("the corpus has npm lockfiles", { skip: missing }, () => {
  assert.deepEqual(files, Object.keys(EXPECTED).sort());
});

for (const file of files) {
  const text = (): string => fs.readFileSync(path.join(corpus as string, file), "utf8");

  test(`${file}: counts as SOURCES.md states`, () => {
    const parsed = parseLockfile("package-lock.json", text());
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(countsOf(parsed), EXPECTED[file]);
    // Integrity as written: exactly the entries whose JSON has one carry it (bundled ones often do not).
    const raw = (JSON.parse(text()) as { packages: Record<string, { integrity?: string }> }).packages;
    for (const entry of parsed.entries) assert.equal(entry.integrity, raw[entry.id].integrity, entry.id);
    // Every importer dependency that is installed resolves; the root's resolve to top-level entries or workspaces.
    const ids = new Set(parsed.entries.map((e) => e.id));
    for (const importer of parsed.importers) for (const dep of importer.dependencies) if (dep.entryId) assert.ok(ids.has(dep.entryId));
  });

  test(`${file}: the fast path equals the library parse`, () => {
    const t = text();
    assert.deepEqual(parseNpmLockfile(t, {}), parseNpmLockfileWithLibrary(t, {}));
  });

  test(`${file}: the layout scan and the general scanner find the same keys`, () => {
    const t = text();
    const root = JSON.parse(t) as Record<string, unknown>;
    const byLayout = scanNpmKeysByLayout(t, 0, root);
    const general = scanNpmKeys(t, 0, true);
    assert.ok(byLayout?.packageOrder !== undefined, "npm's own layout is recognised");
    assert.ok(general !== undefined);
    assert.deepEqual(general.duplicates, []);
    const { keys, offsets } = byLayout.packageOrder;
    const fromLayout = keys.map((k, i) => [k, offsets[4 * i], offsets[4 * i + 1]]);
    assert.deepEqual(fromLayout, [...general.packages].map(([k, r]) => [k, r.start, r.end]));
    assert.deepEqual(byLayout.lockfileVersion, general.lockfileVersion);
  });

  // Rewritten copies: what a person may really open.
  const variants: { name: string; rewrite: (t: string) => string; check: (parsed: ParsedLockfile, original: ParsedLockfile) => void }[] = [
    {
      name: "CRLF",
      rewrite: (t) => t.replace(/\n/g, "\r\n"),
      check: (parsed, original) => assert.deepEqual(parsed.entries, original.entries),
    },
    {
      name: "minified (general scanner)",
      rewrite: (t) => JSON.stringify(JSON.parse(t)),
      check: (parsed, original) => {
        assert.equal(parsed.entries.length, original.entries.length);
        assert.ok(parsed.entries.every((e) => e.range.start.line === 0));
      },
    },
    {
      name: "truncated at two thirds",
      rewrite: (t) => t.slice(0, Math.floor((t.length * 2) / 3)),
      check: (parsed, original) => {
        assert.ok(parsed.problems.some((p) => p.code === "parse-error"));
        assert.ok(parsed.entries.length > original.entries.length / 3, `only ${parsed.entries.length} entries read`);
        const byId = new Map(original.entries.map((e) => [e.id, e]));
        for (const entry of parsed.entries) {
          assert.equal(entry.integrity, byId.get(entry.id)?.integrity, `${entry.id}: a cut-short entry must not be read`);
        }
      },
    },
    {
      name: "a duplicated entry",
      rewrite: (t) => {
        const at = t.indexOf('\n    "node_modules/');
        const end = t.indexOf("\n    },", at) + 7;
        return t.slice(0, end) + t.slice(at, end) + t.slice(end);
      },
      check: (parsed, original) => {
        assert.equal(parsed.entries.length, original.entries.length);
        assert.equal(parsed.problems.filter((p) => p.code === "duplicate-key").length, 1);
      },
    },
  ];
  for (const variant of variants) {
    test(`${file} ${variant.name}: readable, and the same through the library`, () => {
      const original = parseNpmLockfile(text(), {});
      const rewritten = variant.rewrite(text());
      const parsed = parseNpmLockfile(rewritten, {});
      variant.check(parsed, original);
      assert.deepEqual(parsed, parseNpmLockfileWithLibrary(rewritten, {}));
    });
  }
}
