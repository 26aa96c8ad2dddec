// One place that turns URLs into text safe for messages: credentials can hide in a URL's userinfo and
// (for some mirrors) in its query, so neither is ever shown.

/** `https://user:secret@host/path?token=x` -> `https://host/path`. Unparseable input is not echoed. */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    // Not a URL: it could be anything (even a token pasted in the wrong place), so say only that.
    return "(invalid URL)";
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}
