// Settings: each key, its default and its description, declared once. The server pulls them per folder, the
// CLI maps its flags onto them, and package.json `contributes.configuration` is checked against this list
// by test/lsp/settingsContributions.test.ts.
import { PACKAGE_STATUSES, type PackageStatus } from "./verdicts";

export type DiagnosticLevel = "error" | "warning" | "information" | "hint" | "none";

export const DIAGNOSTIC_LEVELS: readonly DiagnosticLevel[] = ["error", "warning", "information", "hint", "none"];

export type SeverityLevels = Record<PackageStatus, DiagnosticLevel>;

export interface Settings {
  enable: boolean;
  offline: boolean;
  includeDev: boolean;
  /** Upstream registry override ("" = what npm's configuration says). */
  registry: string;
  /** Registries declared mirrors of registry.npmjs.org. */
  mirrorsOfNpmjs: string[];
  /** A Sigstore trusted_root.json ("" = the shipped public-good root). */
  trustedRootPath: string;
  /** A keys-endpoint-shaped JSON with the keys of registries other than npmjs ("" = their own endpoint). */
  registryKeysPath: string;
  /** Folder of the verdict cache ("" = the default folder). */
  cachePath: string;
  /** A trust bundle to verify from, offline ("" = none). */
  trustBundlePath: string;
  severity: SeverityLevels;
  /** While a review is active: diagnostics only on packages added or changed since its base (`diagnostics.changedOnly`). */
  diagnosticsChangedOnly: boolean;
}

export type SettingKey = keyof Settings;

export type SettingType = "boolean" | "string" | "array" | "object";

export interface SettingDeclaration<K extends SettingKey = SettingKey> {
  key: K;
  /** The configuration key below the section when it is not `key` itself (nested: `diagnostics.changedOnly`). */
  configKey?: string;
  type: SettingType;
  default: Settings[K];
  description: string;
  /**
   * Ignored when set by an untrusted workspace (package.json `capabilities.untrustedWorkspaces.restrictedConfigurations`):
   * a project must not be able to point the check at a registry, trust root or cache of its choosing.
   */
  restricted?: boolean;
}

/** The configuration section every key lives under: `provenanceLens.enable`... */
export const SETTINGS_SECTION = "provenanceLens";

/**
 * How loudly each package status is shown on its lockfile entry (issue 3, "Where verdicts show"); the
 * `provenanceLens.severity` setting overrides it per status.
 */
export const DEFAULT_STATUS_LEVELS: Readonly<SeverityLevels> = {
  invalid: "error",
  unsigned: "warning",
  unverifiable: "warning",
  signed: "information",
  verified: "none",
  "not-from-registry": "information",
};

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
  {
    key: "registry",
    type: "string",
    default: "",
    description:
      "Upstream registry to check packages against, instead of the one npm's configuration (.npmrc) names. Empty: as npm would. Ignored when set by an untrusted workspace.",
    restricted: true,
  },
  {
    key: "mirrorsOfNpmjs",
    type: "array",
    default: [],
    description:
      "Registries (base URLs) that mirror registry.npmjs.org: what they serve is verified with npmjs's pinned keys. Ignored when set by an untrusted workspace.",
    restricted: true,
  },
  {
    key: "trustedRootPath",
    type: "string",
    default: "",
    description:
      "A Sigstore trusted_root.json to verify provenance with, instead of the public-good root shipped in the extension. Ignored when set by an untrusted workspace.",
    restricted: true,
  },
  {
    key: "registryKeysPath",
    type: "string",
    default: "",
    description:
      "A JSON file shaped like a registry's /-/npm/v1/keys answer, with the signing keys of registries other than npmjs. Empty: each registry's own keys endpoint. Ignored when set by an untrusted workspace.",
    restricted: true,
  },
  {
    key: "cachePath",
    type: "string",
    default: "",
    description:
      "Folder of the verdict cache. Empty: $XDG_CACHE_HOME/provenance-lens or ~/.cache/provenance-lens. Ignored when set by an untrusted workspace.",
    restricted: true,
  },
  {
    key: "trustBundlePath",
    type: "string",
    default: "",
    description:
      "A trust bundle (made with `provenance-lens bundle`) to verify from instead of any registry: fully offline, with the same verdicts as the online check it recorded. Ignored when set by an untrusted workspace.",
    restricted: true,
  },
  {
    key: "severity",
    type: "object",
    default: { ...DEFAULT_STATUS_LEVELS },
    description: "How each package status is shown in the Problems panel: error, warning, information, hint or none.",
  },
  {
    key: "diagnosticsChangedOnly",
    configKey: "diagnostics.changedOnly",
    type: "boolean",
    default: false,
    description:
      "While a review (Provenance Lens: Review Dependency Changes...) is active, show diagnostics only on packages added or changed since its base.",
  },
];

/** The full configuration key of a setting, below SETTINGS_SECTION: `trustBundlePath`, `diagnostics.changedOnly`. */
export function configKeyOf(declaration: SettingDeclaration): string {
  return declaration.configKey ?? declaration.key;
}

export const DEFAULT_SETTINGS: Settings = {
  enable: true,
  offline: false,
  includeDev: true,
  registry: "",
  mirrorsOfNpmjs: [],
  trustedRootPath: "",
  registryKeysPath: "",
  cachePath: "",
  trustBundlePath: "",
  severity: { ...DEFAULT_STATUS_LEVELS },
  diagnosticsChangedOnly: false,
};

/** Reads one folder's settings from what `workspace/configuration` returned; anything malformed falls back to its default. */
export function settingsFrom(raw: unknown): Settings {
  const section = isRecord(raw) ? raw : {};
  const settings: Settings = { ...DEFAULT_SETTINGS, mirrorsOfNpmjs: [], severity: { ...DEFAULT_STATUS_LEVELS } };
  for (const declaration of SETTING_DECLARATIONS) {
    const value = valueAt(section, configKeyOf(declaration));
    switch (declaration.type) {
      case "boolean":
      case "string":
        if (typeof value === declaration.type) (settings as unknown as Record<string, unknown>)[declaration.key] = typeof value === "string" ? value.trim() : value;
        break;
      case "array":
        if (Array.isArray(value)) settings.mirrorsOfNpmjs = value.filter((v): v is string => typeof v === "string" && v.trim() !== "").map((v) => v.trim());
        break;
      case "object":
        if (isRecord(value)) {
          for (const status of PACKAGE_STATUSES) {
            const level = value[status];
            if (typeof level === "string" && (DIAGNOSTIC_LEVELS as readonly string[]).includes(level)) settings.severity[status] = level as DiagnosticLevel;
          }
        }
        break;
    }
  }
  return settings;
}

/** VS Code hands nested keys as objects (`{diagnostics: {changedOnly: true}}`); other clients may send them flat. */
function valueAt(section: Record<string, unknown>, key: string): unknown {
  if (key in section) return section[key];
  let at: unknown = section;
  for (const part of key.split(".")) at = isRecord(at) ? at[part] : undefined;
  return at;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
