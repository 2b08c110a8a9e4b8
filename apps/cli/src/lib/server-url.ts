/**
 * Normalise a control-plane URL: http or https, no credentials, query or
 * fragment, no trailing slash. Throws a message naming what is wrong.
 */
export function normaliseServerUrl(input: string): string {
  const trimmed = input.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new Error(
      `"${input}" is not a URL (expected e.g. http://localhost:3000 or https://berth.example.com)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    const hint = /^[a-z0-9.-]+:\d+$/i.test(trimmed) ? `; did you mean http://${trimmed}?` : "";
    throw new Error(`"${input}" must start with http:// or https://${hint}`);
  }
  if (url.username || url.password) throw new Error(`"${input}" must not carry a user name or password`);
  if (url.search || url.hash) throw new Error(`"${input}" must not have a query or fragment`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}
