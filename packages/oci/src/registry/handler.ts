// createRegistryHandler: the OCI Distribution API (v1.1) as one framework-free Node request handler.
import type { IncomingMessage, ServerResponse } from "node:http";
import { withGcHeadroom } from "../gc-headroom.ts";
import { deleteBlob, getBlob } from "./blob-routes.ts";
import type { RegistryHandlerOptions, RouteContext } from "./context.ts";
import { isRegistryError, RegistryError } from "./errors.ts";
import { send, sendError } from "./http-util.ts";
import { listCatalog, listTags } from "./list-routes.ts";
import { deleteManifest, getManifest, putManifest } from "./manifest-routes.ts";
import { assertRepositoryName } from "./names.ts";
import { cancelUpload, completeUpload, patchUpload, startUpload, uploadStatus } from "./upload-routes.ts";

type Route = (ctx: RouteContext, name: string, param: string) => Promise<void>;
type Methods = Partial<Record<string, Route>>;

const apiVersion = { "Docker-Distribution-API-Version": "registry/2.0" };

/** A route that moves a blob's bytes: V8 gets room for the Buffers in flight meanwhile (see withGcHeadroom). */
const streaming =
  (route: Route): Route =>
  (ctx, name, param) =>
    withGcHeadroom(() => route(ctx, name, param));

/** Routes under /v2/<name>/…, matched on the path's tail so names may have several components. */
const routes: { pattern: RegExp; methods: Methods }[] = [
  { pattern: /^(.+)\/tags\/list$/, methods: { GET: (ctx, name) => listTags(ctx, name) } },
  {
    pattern: /^(.+)\/manifests\/([^/]+)$/,
    methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest },
  },
  { pattern: /^(.+)\/blobs\/uploads\/?$/, methods: { POST: (ctx, name) => startUpload(ctx, name) } },
  {
    pattern: /^(.+)\/blobs\/uploads\/([^/]+)$/,
    methods: {
      GET: uploadStatus,
      PATCH: streaming(patchUpload),
      PUT: streaming(completeUpload),
      DELETE: cancelUpload,
    },
  },
  {
    pattern: /^(.+)\/blobs\/([^/]+)$/,
    methods: { GET: streaming(getBlob), HEAD: getBlob, DELETE: deleteBlob },
  },
];

/**
 * Returns a handler for requests whose path starts with /v2/. The caller mounts it (auth through
 * `authorize`, metadata through `metadata`); it never throws, every failure becomes an error response.
 */
export function createRegistryHandler(
  options: RegistryHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const maxManifestBytes = options.maxManifestBytes ?? 4 * 1024 * 1024;
  const maxPageSize = options.maxPageSize ?? 1000;
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://registry.invalid");
    const ctx: RouteContext = {
      req,
      res,
      url,
      head: req.method === "HEAD",
      blobs: options.blobs,
      metadata: options.metadata,
      maxManifestBytes,
      maxPageSize,
      authorize: (access) => options.authorize?.(req, access) ?? Promise.resolve(),
    };
    for (const [key, value] of Object.entries(apiVersion)) res.setHeader(key, value);
    try {
      await dispatch(ctx);
    } catch (error) {
      const registryError = toRegistryError(error);
      if (registryError.status >= 500)
        options.log?.error({ err: error, url: req.url }, "registry request failed");
      sendError(res, registryError, ctx.head);
      req.resume();
    }
  };
}

async function dispatch(ctx: RouteContext): Promise<void> {
  const { pathname } = ctx.url;
  const method = ctx.req.method ?? "GET";
  if (pathname === "/v2/" || pathname === "/v2") {
    if (method !== "GET" && method !== "HEAD") throw methodNotAllowed(method);
    await ctx.authorize({ repository: null, action: "pull" });
    send(ctx.res, 200, {}, ctx.head ? undefined : {});
    return;
  }
  if (pathname === "/v2/_catalog") {
    if (method !== "GET") throw methodNotAllowed(method);
    await listCatalog(ctx);
    return;
  }
  const rest = pathname.startsWith("/v2/") ? pathname.slice(4) : "";
  for (const { pattern, methods } of routes) {
    const match = pattern.exec(rest);
    if (!match) continue;
    const route = methods[method];
    if (!route) throw methodNotAllowed(method);
    const name = assertRepositoryName(match[1]!);
    await route(ctx, name, decodeURIComponent(match[2] ?? ""));
    return;
  }
  throw new RegistryError("NAME_UNKNOWN", `no registry route for ${pathname}`, { status: 404 });
}

function methodNotAllowed(method: string): RegistryError {
  return new RegistryError("UNSUPPORTED", `method ${method} is not allowed here`, { status: 405 });
}

function toRegistryError(error: unknown): RegistryError {
  if (isRegistryError(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE") {
    return new RegistryError("BLOB_UPLOAD_INVALID", "the request body ended early", { cause: error });
  }
  return new RegistryError("UNKNOWN", "internal registry error", { cause: error });
}
