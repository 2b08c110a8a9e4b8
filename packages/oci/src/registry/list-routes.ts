// GET /v2/<name>/tags/list and GET /v2/_catalog, with ?n=&last= and Link pagination.
import type { RouteContext } from "./context.ts";
import { RegistryError } from "./errors.ts";
import { parseN, send } from "./http-util.ts";

function page(ctx: RouteContext): { n: number; last?: string } {
  const n = parseN(ctx.url.searchParams.get("n"), ctx.maxPageSize);
  const last = ctx.url.searchParams.get("last") ?? undefined;
  return { n: n ?? ctx.maxPageSize, ...(last === undefined ? {} : { last }) };
}

/** Asks for one entry more than the page to learn whether a next page exists. */
function nextLink(path: string, entries: string[], n: number): { link?: string; entries: string[] } {
  if (entries.length <= n || n === 0) return { entries: entries.slice(0, n) };
  const shown = entries.slice(0, n);
  const last = shown[shown.length - 1]!;
  return { entries: shown, link: `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"` };
}

export async function listTags(ctx: RouteContext, name: string): Promise<void> {
  await ctx.authorize({ repository: name, action: "pull" });
  const { n, last } = page(ctx);
  const tags = await ctx.metadata.listTags(name, { n: n + 1, ...(last === undefined ? {} : { last }) });
  if (!tags) throw new RegistryError("NAME_UNKNOWN", `repository ${name} is unknown`, { detail: { name } });
  const result = nextLink(`/v2/${name}/tags/list`, tags, n);
  send(ctx.res, 200, result.link ? { Link: result.link } : {}, { name, tags: result.entries });
}

export async function listCatalog(ctx: RouteContext): Promise<void> {
  await ctx.authorize({ repository: null, action: "catalog" });
  const { n, last } = page(ctx);
  const repositories = await ctx.metadata.listRepositories({
    n: n + 1,
    ...(last === undefined ? {} : { last }),
  });
  const result = nextLink("/v2/_catalog", repositories, n);
  send(ctx.res, 200, result.link ? { Link: result.link } : {}, { repositories: result.entries });
}
