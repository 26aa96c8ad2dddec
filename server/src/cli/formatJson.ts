import type { Report } from "./report";

/** Exactly one JSON object on one line, so tools can read stdout whole. */
export function formatJson(report: Report): string {
  return `${JSON.stringify(report)}\n`;
}
