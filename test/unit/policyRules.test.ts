// Rules: verdicts + policy -> findings. Each policy field as data: a policy text, the packages it meets, and the
// findings (code:level, "accepted" when an exception or pattern accepts it) each package ends up with.
import { test } from "node:test";
import assert from "node:assert/strict";
import { packageKey, type LockedPackage } from "../../server/src/lockfile/model";
import type { PackageStatus, Verdict, VerdictHistory } from "../../server/src/protocol/verdicts";
import { applyPolicy, blockingFinding } from "../../server/src/policy/applyPolicy";
import { parsePolicy } from "../../server/src/policy/policyFile";

const NOW = Date.parse("2026-03-01T00:00:00Z");

interface Pkg {
  name: string;
  version?: string;
  status: PackageStatus;
  dev?: boolean;
  direct?: boolean;
  history?: VerdictHistory;
}

function locked(p: Pkg): LockedPackage {
  const range = { start: { line: 1, character: 0 }, end: { line: 1, character: 1 } };
  return { name: p.name, version: p.version ?? "1.0.0", source: "registry", dev: p.dev ?? false, optional: false, direct: p.direct ?? true, entryIds: [p.name], locations: [range] };
}

function verdictOf(p: Pkg): Verdict {
  return {
    status: p.status,
    signature: { status: p.status === "unsigned" ? "missing" : "valid" },
    provenance: p.status === "verified" ? { status: "verified", sourceRepository: "https://github.com/org/repo", workflow: ".github/workflows/release.yml" } : { status: "absent" },
    reasons: [`${p.name} is ${p.status}`],
    ...(p.history ? { history: p.history } : {}),
  };
}

const DOWNGRADE: VerdictHistory = { lastWithProvenance: { version: "1.1.0" }, downgrade: "lost provenance" };
const DRIFT_TO = (repository: string): VerdictHistory => ({
  provenanceSince: "1.0.0",
  drift: { kinds: ["repository"], current: { version: "1.2.0", repository, builder: "https://github.com/actions/runner/github-hosted" }, previous: { version: "1.1.0", repository: "https://github.com/org/repo" }, message: "moved" },
});

interface Case {
  name: string;
  policy: string;
  packages: Pkg[];
  /** Per package name: its findings as code:level or code:level:accepted. */
  expect: Record<string, string[]>;
  weakenings?: number;
  /** code@line of findings about the policy file itself. */
  policyFindings?: string[];
  blocking?: boolean;
}

const CASES: Case[] = [
  {
    name: "no policy: default levels per status and per finding code",
    policy: "{}",
    packages: [{ name: "a", status: "verified" }, { name: "b", status: "signed", history: DOWNGRADE }, { name: "c", status: "invalid" }, { name: "d", status: "verified", history: DRIFT_TO("https://github.com/evil/repo") }],
    expect: { a: ["verified:none"], b: ["signed:information", "provenance-downgrade:warning"], c: ["invalid:error"], d: ["verified:none", "build-identity-drift:warning"] },
    weakenings: 0,
    blocking: true,
  },
  {
    name: "severity per status and per finding code",
    policy: `{"severity":{"signed":"none","provenance-downgrade":"error","invalid":"warning"}}`,
    packages: [{ name: "b", status: "signed", history: DOWNGRADE }, { name: "c", status: "invalid" }],
    expect: { b: ["signed:none", "provenance-downgrade:error"], c: ["invalid:warning"] },
    // Lowering signed and invalid weakens the defaults; raising the downgrade does not.
    weakenings: 2,
    blocking: true,
  },
  {
    name: "requireProvenance direct",
    policy: `{"requireProvenance":"direct"}`,
    packages: [{ name: "a", status: "signed" }, { name: "t", status: "signed", direct: false }, { name: "v", status: "verified" }],
    expect: { a: ["signed:information", "provenance-required:error"], t: ["signed:information"], v: ["verified:none"] },
    blocking: true,
  },
  {
    name: "requireProvenance production leaves dev-only packages out",
    policy: `{"requireProvenance":"production"}`,
    packages: [{ name: "p", status: "signed", direct: false }, { name: "d", status: "signed", dev: true }],
    expect: { p: ["signed:information", "provenance-required:error"], d: ["signed:information"] },
  },
  {
    name: "requireProvenance all",
    policy: `{"requireProvenance":"all"}`,
    packages: [{ name: "d", status: "signed", dev: true, direct: false }],
    expect: { d: ["signed:information", "provenance-required:error"] },
  },
  {
    name: "an exception accepts the codes it names within its range; others stay",
    policy: `{"exceptions":[{"package":"b","versions":"^1.0.0","codes":["provenance-downgrade"],"reason":"hand-published, SEC-1","expires":"2027-01-01"}]}`,
    packages: [{ name: "b", status: "signed", history: DOWNGRADE }, { name: "b", version: "2.0.0", status: "signed", history: DOWNGRADE }],
    expect: { "b@1.0.0": ["signed:information", "provenance-downgrade:warning:accepted"], "b@2.0.0": ["signed:information", "provenance-downgrade:warning"] },
    weakenings: 1,
  },
  {
    name: "an exception without codes accepts every finding of the package, including invalid (CI passes, still shown)",
    policy: `{"exceptions":[{"package":"@corp/*","versions":"*","reason":"internal mirror"}]}`,
    packages: [{ name: "@corp/x", status: "invalid" }],
    expect: { "@corp/x": ["invalid:error:accepted"] },
    blocking: false,
  },
  {
    name: "an expired exception accepts nothing and is itself a finding, on the package and in the policy file",
    policy: `{\n  "exceptions": [\n    {"package":"c","versions":"1.0.0","reason":"old","expires":"2026-01-01"}\n  ]\n}`,
    packages: [{ name: "c", status: "invalid" }, { name: "other", status: "verified" }],
    expect: { c: ["invalid:error", "exception-expired:warning"], other: ["verified:none"] },
    policyFindings: ["exception-expired@2"],
    blocking: true,
  },
  {
    name: "ignorePackages and ignoreDev: shown as accepted with the rule, never dropped",
    policy: `{"ignorePackages":["@types/*"],"ignoreDev":true}`,
    packages: [{ name: "@types/node", status: "unsigned" }, { name: "jest", status: "invalid", dev: true }, { name: "react", status: "unsigned" }],
    expect: { "@types/node": ["unsigned:warning:accepted"], jest: ["invalid:error:accepted"], react: ["unsigned:warning"] },
    weakenings: 2,
    blocking: false,
  },
  {
    name: "trustedRepositories accepts drift towards a trusted repository only",
    policy: `{"trustedRepositories":["https://github.com/our-org/**"]}`,
    packages: [{ name: "x", status: "verified", history: DRIFT_TO("https://github.com/our-org/x-monorepo") }, { name: "y", status: "verified", history: DRIFT_TO("https://github.com/someone/else") }],
    expect: { x: ["verified:none", "build-identity-drift:warning:accepted"], y: ["verified:none", "build-identity-drift:warning"] },
  },
  {
    name: "trustedBuilders accepts drift built by a trusted builder",
    policy: `{"trustedBuilders":["https://github.com/actions/runner/*"]}`,
    packages: [{ name: "x", status: "verified", history: DRIFT_TO("https://github.com/someone/else") }],
    expect: { x: ["verified:none", "build-identity-drift:warning:accepted"] },
  },
  {
    name: "a policy file that does not parse applies the defaults (no exception, no ignore)",
    policy: `{"ignorePackages":["*"], "exceptions": [}`,
    packages: [{ name: "c", status: "invalid" }],
    expect: { c: ["invalid:error"] },
    weakenings: 0,
    blocking: true,
  },
];

for (const c of CASES) {
  test(`rules: ${c.name}`, () => {
    const packages = c.packages.map(locked);
    const verdicts = new Map(c.packages.map((p, i) => [packageKey(packages[i]), verdictOf(p)]));
    const outcome = applyPolicy({ packages, result: { verdicts } }, parsePolicy(c.policy).policy, { now: NOW });
    const ambiguous = new Set(c.packages.filter((p, i) => c.packages.findIndex((q) => q.name === p.name) !== i).map((p) => p.name));
    const got: Record<string, string[]> = {};
    for (const [i, p] of c.packages.entries()) {
      const label = ambiguous.has(p.name) ? `${p.name}@${packages[i].version}` : p.name;
      got[label] = outcome.packages.get(packageKey(packages[i]))!.findings.map((f) => `${f.code}:${f.level}${f.accepted ? ":accepted" : ""}`);
    }
    assert.deepEqual(got, c.expect);
    for (const finding of [...outcome.packages.values()].flatMap((p) => p.findings)) {
      if (finding.accepted) assert.ok(finding.accepted.reason.length > 0, "the reason is carried wherever the accepted finding appears");
    }
    if (c.weakenings !== undefined) assert.equal(outcome.weakenings.length, c.weakenings, outcome.weakenings.join("\n"));
    assert.deepEqual(outcome.policyFindings.map((f) => `${f.code}@${f.range.start.line}`), c.policyFindings ?? []);
    if (c.blocking !== undefined) assert.equal(blockingFinding(outcome) !== undefined, c.blocking);
  });
}

test("the accepted reason and expiry are the exception's own", () => {
  const pkg = locked({ name: "b", status: "signed" });
  const verdicts = new Map([[packageKey(pkg), verdictOf({ name: "b", status: "signed", history: DOWNGRADE })]]);
  const policy = parsePolicy(`{"exceptions":[{"package":"b","versions":"1.0.0","reason":"SEC-9","expires":"2026-12-31"}]}`).policy;
  const [, downgrade] = applyPolicy({ packages: [pkg], result: { verdicts } }, policy, { now: NOW }).packages.get(packageKey(pkg))!.findings;
  assert.deepEqual(downgrade.accepted, { reason: "SEC-9", expires: "2026-12-31" });
});
