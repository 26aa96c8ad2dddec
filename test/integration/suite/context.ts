// What the runner (runIntegration.ts) tells the suite running inside VS Code, through PROVENANCE_LENS_IT_CONTEXT.
export interface IntegrationContext {
  lockfilePath: string;
  packageJsonPath: string;
  /** 1-based line of each scenario package's lockfile entry. */
  lineOf: Record<string, number>;
}
