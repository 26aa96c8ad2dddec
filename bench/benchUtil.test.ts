// The benchmarks' own arithmetic, as data: medians, and the profile's categories and self times. No timing here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { median } from "./benchUtil";
import { categoryOf, selfTimeByCategory, type Category } from "./profileCold";

test("median of odd, even and empty lists", () => {
  const cases: [number[], number][] = [
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
    [[10, 10, 1000], 10],
  ];
  for (const [values, expected] of cases) assert.equal(median(values), expected, JSON.stringify(values));
  assert.ok(Number.isNaN(median([])));
});

test("profile frames land in the categories the benchmarks document names", () => {
  const cases: [{ functionName: string; url: string }, Category][] = [
    [{ functionName: "(idle)", url: "" }, "idle (waiting: network or workers)"],
    [{ functionName: "(garbage collector)", url: "" }, "garbage collector"],
    [{ functionName: "parse", url: "" }, "JSON parse/stringify"],
    [{ functionName: "writeLatin1String", url: "" }, "V8 and native (program, builtins)"],
    [{ functionName: "verifyOneShot", url: "node:internal/crypto/sig" }, "crypto (node:crypto)"],
    [{ functionName: "socketOnData", url: "node:_http_client" }, "network and streams (node http/net)"],
    [{ functionName: "toDER", url: "file:///work/main/node_modules/@sigstore/core/dist/asn1/obj.js" }, "Sigstore libraries"],
    [{ functionName: "parseAnswer", url: "file:///work/main/server/src/registry/registryClient.ts" }, "our code (server/src)"],
    [{ functionName: "parseAnswer", url: "file:///work/main/dist/cli.js" }, "other libraries"],
    [{ functionName: "main", url: "file:///work/main/bench/checkLoopback.ts" }, "benchmark harness (bench, test registry specs)"],
    [{ functionName: "load", url: "file:///work/main/node_modules/tsx/dist/cjs/index.cjs" }, "module loading and TS compile (tsx)"],
    [{ functionName: "FastBuffer", url: "node:internal/buffer" }, "other node internals"],
  ];
  for (const [frame, expected] of cases) assert.equal(categoryOf(frame), expected, `${frame.functionName} ${frame.url}`);
});

test("self time goes to the sampled frame's category, in milliseconds", () => {
  const profile = {
    nodes: [
      { id: 1, callFrame: { functionName: "(idle)", url: "" } },
      { id: 2, callFrame: { functionName: "verifyOneShot", url: "node:internal/crypto/sig" } },
      { id: 3, callFrame: { functionName: "parse", url: "" } },
    ],
    samples: [2, 1, 2, 3, 99],
    timeDeltas: [1000, 5000, 3000, 500, 700],
    startTime: 0,
    endTime: 10_200,
  };
  assert.deepEqual(
    Object.fromEntries(selfTimeByCategory(profile)),
    { "crypto (node:crypto)": 4, "idle (waiting: network or workers)": 5, "JSON parse/stringify": 0.5 },
  );
});
