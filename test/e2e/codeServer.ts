// code-server as a child process for the e2e suite: where scripts/setup-code-server.sh installed it, installing
// the packaged .vsix into an isolated profile, starting it on loopback and stopping it for sure.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

export const CODE_SERVER_VERSION = "4.100.3";

/** Same folder as scripts/setup-code-server.sh uses. */
export function codeServerEntry(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.PROVENANCE_LENS_E2E_CACHE ?? path.join(homedir(), ".cache/provenance-lens-e2e");
  return path.join(cache, `code-server-${CODE_SERVER_VERSION}`, "node_modules/code-server/out/node/entry.js");
}

export interface Profile {
  userDataDir: string;
  extensionsDir: string;
}

/** A fresh profile: user settings that keep the workbench quiet and off the network, and an empty extensions folder. */
export function createProfile(dir: string): Profile {
  const profile = { userDataDir: path.join(dir, "user-data"), extensionsDir: path.join(dir, "extensions") };
  mkdirSync(path.join(profile.userDataDir, "User"), { recursive: true });
  mkdirSync(profile.extensionsDir, { recursive: true });
  const userSettings = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "extensions.ignoreRecommendations": true,
    "git.enabled": false,
    "npm.autoDetect": "off",
    "typescript.disableAutomaticTypeAcquisition": true,
    "workbench.colorTheme": "Default Light Modern",
    // Hovers open on the keyboard command in the test; a mouse resting on the editor must not open others.
    "editor.hover.enabled": true,
    "editor.minimap.enabled": false,
  };
  writeFileSync(path.join(profile.userDataDir, "User/settings.json"), JSON.stringify(userSettings, null, 2) + "\n");
  return profile;
}

/** The environment code-server and its extension host run in: no user .npmrc, nothing pointing outside loopback. */
export function isolatedEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (/^npm_/i.test(key) || key === "NODE_OPTIONS") delete env[key];
  return {
    ...env,
    HOME: dir,
    XDG_CACHE_HOME: path.join(dir, "cache"),
    XDG_DATA_HOME: path.join(dir, "data"),
    XDG_CONFIG_HOME: path.join(dir, "config"),
    NPM_CONFIG_USERCONFIG: path.join(dir, "no-npmrc"),
    NO_PROXY: "127.0.0.1,localhost",
  };
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, killing it at `deadlineMs`. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; deadlineMs: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not finish within ${options.deadlineMs} ms\n${stdout}\n${stderr}`));
    }, options.deadlineMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function installExtension(entry: string, profile: Profile, vsix: string, env: NodeJS.ProcessEnv): Promise<string> {
  const result = await run(
    process.execPath,
    [entry, "--user-data-dir", profile.userDataDir, "--extensions-dir", profile.extensionsDir, "--install-extension", vsix, "--force"],
    { env, deadlineMs: 120_000 },
  );
  const output = `${result.stdout}${result.stderr}`;
  if (result.code !== 0 || !/successfully installed/i.test(output)) throw new Error(`code-server --install-extension failed (exit ${result.code}):\n${output}`);
  return output.trim();
}

export interface RunningCodeServer {
  url: string;
  /** Everything it printed, for a failure message. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts code-server on 127.0.0.1 with a port the OS picks, and resolves once it says where it listens. Rejects
 * (after killing it) if it exits first or says nothing within `deadlineMs`.
 */
export function startCodeServer(entry: string, profile: Profile, env: NodeJS.ProcessEnv, deadlineMs = 60_000): Promise<RunningCodeServer> {
  const args = [
    entry,
    "--auth", "none",
    "--bind-addr", "127.0.0.1:0",
    "--disable-telemetry",
    "--disable-update-check",
    "--user-data-dir", profile.userDataDir,
    "--extensions-dir", profile.extensionsDir,
  ];
  // Its own process group, so stop() also ends the extension host and the language server under it.
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`code-server did not report a listening address within ${deadlineMs} ms`)), deadlineMs);
    const onData = (chunk: string): void => {
      output += chunk;
      const match = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\/?/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ url: match[1], log: () => output, stop: () => stopProcessGroup(child) });
    };
    child.stdout?.setEncoding("utf8").on("data", onData);
    child.stderr?.setEncoding("utf8").on("data", onData);
    child.once("error", (error) => fail(error));
    child.once("exit", (code, signal) => fail(new Error(`code-server exited early (${code ?? signal}):\n${output}`)));
    function fail(error: Error): void {
      clearTimeout(timer);
      void stopProcessGroup(child).finally(() => reject(error));
    }
  });
}

/** SIGTERM to the whole group, SIGKILL if it is still there after 5 s; resolves when the leader is gone. */
export function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const kill = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-pid, signal);
      } catch (error) {
        // ESRCH: the group is already gone, which is what we want.
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    };
    const timer = setTimeout(() => kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      // Anything the leader left behind in its group (extension host, language server) goes too.
      kill("SIGKILL");
      resolve();
    });
    kill("SIGTERM");
  });
}

export function codeServerInstalled(entry: string): boolean {
  return existsSync(entry);
}
