import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { inspect } from "node:util";
import { loadNpmConfig, nerfDart, type NpmConfig } from "../../../server/src/registry/npmConfig";

const TOKEN = "npm_SECRETtoken0123456789";
const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");

interface Case {
  name: string;
  global?: string;
  user?: string;
  project?: string;
  env?: Record<string, string>;
  overrides?: Record<string, string | boolean>;
  trusted?: boolean;
  /** package name -> expected registry */
  registries?: Record<string, string>;
  /** request URL -> expected Authorization header (undefined = none) */
  auth?: Record<string, string | undefined>;
  strictSSL?: boolean;
  ca?: number;
  problems?: RegExp[];
  ignoredProject?: boolean;
}

const cases: Case[] = [
  {
    name: "defaults with no files",
    registries: { lodash: "https://registry.npmjs.org/", "@babel/core": "https://registry.npmjs.org/" },
    auth: { "https://registry.npmjs.org/lodash": undefined },
    strictSSL: true,
  },
  {
    name: "precedence: override > env > project > user > global",
    global: "registry=https://global.example/\n@a:registry=https://ga.example\n@b:registry=https://gb.example\n@c:registry=https://gc.example\n@d:registry=https://gd.example\n",
    user: "@a:registry=https://ua.example/\n@b:registry=https://ub.example/\n@c:registry=https://uc.example/\n",
    project: "@a:registry=https://pa.example/\n@b:registry=https://pb.example/\n",
    env: { "npm_config_@a:registry": "https://ea.example/" },
    overrides: { registry: "https://override.example/npm" },
    registries: {
      lodash: "https://override.example/npm/",
      "@a/x": "https://ea.example/",
      "@b/x": "https://pb.example/",
      "@c/x": "https://uc.example/",
      "@d/x": "https://gd.example/",
      "@e/x": "https://override.example/npm/",
    },
  },
  {
    name: "environment names are case-insensitive and _ means -",
    env: { NPM_CONFIG_REGISTRY: "https://env.example/", npm_config_strict_ssl: "false" },
    registries: { lodash: "https://env.example/" },
    strictSSL: false,
  },
  {
    name: "${VAR} expansion in keys and values, optional form, unset reported",
    user: "registry=https://${HOST}/r/\n//${HOST}/r/:_authToken=${TOKEN}\n//other.example/:_authToken=${MISSING}\n//opt.example/:_authToken=x${MAYBE?}y\n",
    env: { HOST: "reg.example", TOKEN },
    registries: { lodash: "https://reg.example/r/" },
    auth: {
      "https://reg.example/r/lodash": `Bearer ${TOKEN}`,
      "https://opt.example/a": "Bearer xy",
      // npm leaves an unset ${VAR} as written.
      "https://other.example/a": "Bearer ${MISSING}",
    },
    problems: [/unset environment variable MISSING/],
  },
  {
    name: "nerf-dart matching: longest path wins, exact host and port",
    user: [
      `//reg.example/:_authToken=root-${TOKEN}`,
      `//reg.example/deep/path/:_authToken=deep-${TOKEN}`,
      `//reg.example:8443/:_authToken=port-${TOKEN}`,
      `//reg.example:443/:_authToken=literal443-${TOKEN}`,
    ].join("\n"),
    auth: {
      "https://reg.example/lodash": `Bearer root-${TOKEN}`,
      "https://reg.example/deep/path/lodash": `Bearer deep-${TOKEN}`,
      "https://reg.example/deep/other/lodash": `Bearer root-${TOKEN}`,
      "https://reg.example:8443/x": `Bearer port-${TOKEN}`,
      // WHATWG URL drops the default port, so the request is //reg.example/ and the :443 key never matches.
      "https://reg.example:443/x": `Bearer root-${TOKEN}`,
      // http on :443 keeps the port: the literal key applies.
      "http://reg.example:443/x": `Bearer literal443-${TOKEN}`,
      "https://reg.example.evil/x": undefined,
      "https://sub.reg.example/x": undefined,
      "https://evil.example/reg.example/x": undefined,
    },
  },
  {
    name: "_auth and username + base64 _password; token beats _auth",
    user: [
      `//basic.example/:_auth=${b64("alice:pw1")}`,
      `//userpass.example/:username=bob`,
      `//userpass.example/:_password=${b64("pw2")}`,
      `//both.example/:_auth=${b64("carol:pw3")}`,
      `//both.example/:_authToken=${TOKEN}`,
      `//halfpass.example/:username=dave`,
    ].join("\n"),
    auth: {
      "https://basic.example/x": `Basic ${b64("alice:pw1")}`,
      "https://userpass.example/x": `Basic ${b64("bob:pw2")}`,
      "https://both.example/x": `Bearer ${TOKEN}`,
      "https://halfpass.example/x": undefined,
    },
  },
  {
    name: "legacy top-level _authToken only for the default registry",
    user: `registry=https://main.example/npm/\n_authToken=${TOKEN}\n@s:registry=https://scoped.example/\n`,
    registries: { "@s/x": "https://scoped.example/" },
    auth: {
      "https://main.example/npm/lodash": `Bearer ${TOKEN}`,
      "https://scoped.example/@s%2fx": undefined,
      "https://other.example/npm/lodash": undefined,
    },
  },
  {
    name: "tarball on the registry host outside its path uses the registry's credentials",
    user: `registry=https://host.example/npm/\n//host.example/npm/:_authToken=${TOKEN}\n`,
    auth: { "https://host.example/tarballs/a.tgz": `Bearer ${TOKEN}`, "https://cdn.example/tarballs/a.tgz": undefined },
  },
  {
    name: "untrusted workspace ignores the project .npmrc entirely",
    user: `//user.example/:_authToken=${TOKEN}\n`,
    project: `registry=https://attacker.example/\n//attacker.example/:_authToken=\${HOME_TOKEN}\nstrict-ssl=false\n@a:registry=https://attacker.example/\n`,
    env: { HOME_TOKEN: TOKEN },
    trusted: false,
    registries: { lodash: "https://registry.npmjs.org/", "@a/x": "https://registry.npmjs.org/" },
    auth: { "https://attacker.example/x": undefined, "https://user.example/x": `Bearer ${TOKEN}` },
    strictSSL: true,
    ignoredProject: true,
  },
  {
    name: "trusted workspace reads the same project .npmrc",
    project: `registry=https://proj.example/\nstrict-ssl=false\n`,
    registries: { lodash: "https://proj.example/" },
    strictSSL: false,
  },
  {
    name: "ca inline with \\n escapes, array form",
    user: "ca[]=-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\nca[]=-----BEGIN CERTIFICATE-----\\nBBBB\\n-----END CERTIFICATE-----\n",
    ca: 2,
  },
  {
    name: "a bad registry URL is reported and the default kept",
    user: "registry=ftp://nope.example/\n",
    registries: { lodash: "https://registry.npmjs.org/" },
    problems: [/not an http\(s\) registry URL/],
  },
];

interface Dirs {
  root: string;
  home: string;
  project: string;
  lockDir: string;
  global: string;
}

function makeDirs(c: Pick<Case, "global" | "user" | "project">): Dirs {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "pl-npmrc-"));
  const home = path.join(root, "home");
  const project = path.join(root, "work", "proj");
  const lockDir = path.join(project, "packages", "app");
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(lockDir, { recursive: true });
  fs.writeFileSync(path.join(project, "package.json"), "{}");
  const global = path.join(root, "etc", "npmrc");
  fs.mkdirSync(path.dirname(global));
  if (c.global !== undefined) fs.writeFileSync(global, c.global);
  if (c.user !== undefined) fs.writeFileSync(path.join(home, ".npmrc"), c.user);
  if (c.project !== undefined) fs.writeFileSync(path.join(project, ".npmrc"), c.project);
  return { root, home, project, lockDir, global };
}

function load(c: Case, dirs: Dirs): NpmConfig {
  return loadNpmConfig({
    projectDir: dirs.lockDir,
    env: c.env ?? {},
    homeDir: dirs.home,
    globalConfigPath: dirs.global,
    trusted: c.trusted ?? true,
    overrides: c.overrides,
  });
}

for (const c of cases) {
  test(`npmrc: ${c.name}`, () => {
    const dirs = makeDirs(c);
    try {
      const config = load(c, dirs);
      for (const [name, expected] of Object.entries(c.registries ?? {})) assert.equal(config.registryFor(name), expected, name);
      for (const [url, expected] of Object.entries(c.auth ?? {})) assert.equal(config.authHeaderFor(url), expected, url);
      if (c.strictSSL !== undefined) assert.equal(config.tls.strictSSL, c.strictSSL);
      if (c.ca !== undefined) {
        assert.equal(config.tls.ca?.length, c.ca);
        for (const cert of config.tls.ca ?? []) assert.match(cert, /^-----BEGIN CERTIFICATE-----\n.+\n-----END CERTIFICATE-----$/);
      }
      for (const re of c.problems ?? []) assert.ok(config.problems.some((p) => re.test(p.message)), `expected a problem ${re}: ${JSON.stringify(config.problems)}`);
      if (c.problems === undefined) assert.deepEqual(config.problems, []);
      const projectFile = path.join(dirs.project, ".npmrc");
      if (c.ignoredProject) {
        assert.deepEqual(config.ignoredFiles, [projectFile]);
        assert.ok(!config.files.includes(projectFile));
      } else if (c.project !== undefined) {
        assert.equal(config.files[0], projectFile);
      }
      // Redaction: no credential of any case shows up in what we hand out.
      const shown = [JSON.stringify(config), inspect(config, { depth: 10, showHidden: true }), String(config), JSON.stringify(config.problems)];
      for (const text of shown) {
        assert.ok(!text.includes(TOKEN), `token leaked: ${text}`);
        assert.ok(!text.includes(b64("alice:pw1")) && !text.includes(b64("pw2")), `basic credentials leaked: ${text}`);
      }
    } finally {
      fs.rmSync(dirs.root, { recursive: true, force: true });
    }
  });
}

test("npmrc: cafile is split into certificates and wins over ca", () => {
  const dirs = makeDirs({});
  try {
    const pem = (body: string): string => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
    fs.writeFileSync(path.join(dirs.home, "bundle.pem"), `# comment\n${pem("AAAA")}\r\n${pem("BBBB")}${pem("CCCC")}`);
    fs.writeFileSync(path.join(dirs.home, ".npmrc"), `cafile=bundle.pem\nca=-----BEGIN CERTIFICATE-----\\nZZZZ\\n-----END CERTIFICATE-----\n`);
    const config = load({ name: "cafile" }, dirs);
    assert.deepEqual(config.tls.ca, [pem("AAAA").trim(), pem("BBBB").trim(), pem("CCCC").trim()]);
    fs.writeFileSync(path.join(dirs.home, ".npmrc"), `cafile=missing.pem\n`);
    const missing = load({ name: "cafile missing" }, dirs);
    assert.equal(missing.tls.ca, undefined);
    assert.match(missing.problems[0]?.message ?? "", /cafile .*missing\.pem could not be read: ENOENT/);
  } finally {
    fs.rmSync(dirs.root, { recursive: true, force: true });
  }
});

test("npmrc: NPM_CONFIG_USERCONFIG and NPM_CONFIG_GLOBALCONFIG name the files", () => {
  const dirs = makeDirs({});
  try {
    const user = path.join(dirs.root, "elsewhere-user");
    const global = path.join(dirs.root, "elsewhere-global");
    fs.writeFileSync(user, "@u:registry=https://u.example/\n");
    fs.writeFileSync(global, "@g:registry=https://g.example/\n");
    const config = load({ name: "paths", env: { NPM_CONFIG_USERCONFIG: user, npm_config_globalconfig: global } }, dirs);
    assert.equal(config.registryFor("@u/x"), "https://u.example/");
    assert.equal(config.registryFor("@g/x"), "https://g.example/");
    assert.deepEqual(config.files, [user, global]);
  } finally {
    fs.rmSync(dirs.root, { recursive: true, force: true });
  }
});

test("nerfDart is npm's: scheme, query and last segment dropped", () => {
  const table: [string, string][] = [
    ["https://registry.npmjs.org/", "//registry.npmjs.org/"],
    ["https://registry.npmjs.org", "//registry.npmjs.org/"],
    ["https://r.example:8080/a/b?x=1", "//r.example:8080/a/"],
    ["https://user:pw@r.example:443/a/b/", "//r.example/a/b/"],
  ];
  for (const [url, expected] of table) assert.equal(nerfDart(url), expected, url);
});
