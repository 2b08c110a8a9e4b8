import next from "next";
import type { PageHandler } from "./http.ts";

/** Next.js renders the dashboard pages; the custom server owns everything else. */
export async function createPages(options: { dev: boolean; dir: string }): Promise<PageHandler> {
  const app = next({ dev: options.dev, dir: options.dir });
  await app.prepare();
  const handle = app.getRequestHandler();
  const upgrade = app.getUpgradeHandler();
  return {
    handle: (req, res) => handle(req, res),
    upgrade: (req, socket, head) => upgrade(req, socket, head),
  };
}
