import { AGENT_PATH } from "@berth/protocol";
import { z } from "zod";

const SCHEMES: Record<string, string> = { "http:": "ws:", "https:": "wss:", "ws:": "ws:", "wss:": "wss:" };

/**
 * Normalise a control-plane URL: http(s) or ws(s), no query, no fragment, no
 * credentials, no trailing slash. Throws a message naming what is wrong.
 */
export function normaliseServerUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new Error(`"${input}" is not a URL (expected e.g. https://berth.example.com)`);
  }
  if (!(url.protocol in SCHEMES)) {
    throw new Error(`"${input}" must start with http://, https://, ws:// or wss://`);
  }
  if (url.username || url.password) throw new Error(`"${input}" must not carry a user name or password`);
  if (url.search || url.hash) throw new Error(`"${input}" must not have a query or fragment`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

/** zod schema accepting a control-plane URL and yielding its normalised form. */
export const serverUrlSchema = z.string().transform((value, ctx) => {
  try {
    return normaliseServerUrl(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});

/** The agent socket URL for a (normalised) control-plane URL: http→ws, https→wss, plus AGENT_PATH. */
export function agentSocketUrl(server: string): string {
  const url = new URL(normaliseServerUrl(server));
  url.protocol = SCHEMES[url.protocol]!;
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${AGENT_PATH}`;
  return url.toString();
}
