// Settings: each key, its default and its description, declared once. The server pulls them per folder, the
// CLI maps its flags onto them, and package.json `contributes.configuration` is checked against this list
// by test/lsp/settingsContributions.test.ts.
import type { PackageStatus } from "./verdicts";

export type DiagnosticLevel = "error" | "warning" | "information" | "hint" | "none";

export interface Settings {
  enable: boolean;
  offline: boolean;
  includeDev: boolean;
}

export type SettingKey = keyof Settings;

export interface SettingDeclaration<K extends SettingKey = SettingKey> {
  key: K;
  type: "boolean";
  default: Settings[K];
  description: string;
}

/** The configuration section every key lives under: `provenanceLens.enable`... */
export const SETTINGS_SECTION = "provenanceLens";

export const SETTING_DECLARATIONS: readonly SettingDeclaration[] = [
  {
    key: "enable",
    type: "boolean",
    default: true,
    description: "Check lockfiles in this folder and show diagnostics on their entries.",
  },
  {
    key: "offline",
    type: "boolean",
    default: false,
    description:
      "Never contact a registry: use cached verdicts and the shipped trust material only. Always on in untrusted workspaces.",
  },
  {
    key: "includeDev",
    type: "boolean",
    default: true,
    description: "Also report packages that are only needed for development (devDependencies and what they pull in).",
  },
];

export const DEFAULT_SETTINGS: Settings = {
  enable: true,
  offline: false,
  includeDev: true,
};

/**
 * How loudly each package status is shown on its lockfile entry. One place so that a future setting can
 * override it. Registry packages are silent until verification exists ("unverifiable" is what parse-only
 * checking says of every one of them).
 */
export const DEFAULT_STATUS_LEVELS: Readonly<Record<PackageStatus, DiagnosticLevel>> = {
  invalid: "error",
  unsigned: "warning",
  unverifiable: "none",
  signed: "none",
  verified: "none",
  "not-from-registry": "information",
};

/** Reads one folder's settings from what `workspace/configuration` returned; anything malformed falls back to its default. */
export function settingsFrom(raw: unknown): Settings {
  const section = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  const settings: Settings = { ...DEFAULT_SETTINGS };
  for (const declaration of SETTING_DECLARATIONS) {
    const value = section[declaration.key];
    if (typeof value === typeof declaration.default) (settings as unknown as Record<string, unknown>)[declaration.key] = value;
  }
  return settings;
}
