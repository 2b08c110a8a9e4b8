// The registry pages against the real control plane: skopeo pushes an image, the dashboard shows it.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { basicAuth, pushImage, tinyImage } from "../../apps/web/src/server/registry-testing.ts";
import {
  exec,
  layoutBlob,
  makeOciLayout,
  type OciLayout,
  requireProgram,
} from "../../packages/oci/src/registry/interop-support.ts";
import { freshDatabase } from "../support/fresh-database.ts";
import { launchChromium, screenshotter, visible } from "./browser.ts";
import { childEnv, freePort, startNode, type TestProcess, waitFor } from "./processes.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVER_JS = path.join(ROOT, "apps/web/dist/server.js");
const ADMIN_PASSWORD = "e2e-admin-password-0123";
const shoot = screenshotter(path.join(ROOT, "test-results/e2e"));

describe("registry pages", () => {
  let tmp = "";
  let url = "";
  let host = "";
  let dropDatabase: (() => Promise<void>) | null = null;
  let server: TestProcess | null = null;
  let browser: Browser | null = null;
  let layout: OciLayout | null = null;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(SERVER_JS)) {
      throw new Error(
        "apps/web/dist/server.js is missing: run `npx turbo run build --filter=@berth/web` first",
      );
    }
    await requireProgram("skopeo", "apt-get install -y skopeo");
    tmp = await mkdtemp(path.join(os.tmpdir(), "berth-e2e-registry-"));
    const db = await freshDatabase(inject("databaseUrl"));
    dropDatabase = db.drop;
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    url = `http://${host}`;
    server = startNode("control-plane", [SERVER_JS], {
      cwd: ROOT,
      env: childEnv({
        NODE_ENV: "production",
        DATABASE_URL: db.url,
        PORT: String(port),
        HOST: "127.0.0.1",
        BERTH_HOME: path.join(tmp, "home"),
        BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
        BERTH_LOG_LEVEL: "warn",
      }),
    });
    const cp = server;
    await waitFor(
      `the control plane to answer GET ${url}/healthz with 200`,
      async () => {
        if (!cp.running()) throw new Error(`the control plane exited during start-up:\n${cp.output()}`);
        const res = await fetch(`${url}/healthz`).catch(() => null);
        return res?.status === 200;
      },
      60_000,
    );
    layout = await makeOciLayout();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.on("pageerror", (err) => pageErrors.push(err.message));
  });

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await server?.stop("SIGTERM");
    await dropDatabase?.().catch(() => {});
    if (layout) await rm(path.join(layout.dir, ".."), { recursive: true, force: true });
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("explains how to push while the registry is empty", async () => {
    await page.goto(`${url}/registry`);
    await page.waitForURL(/\/login\?next=%2Fregistry$/, { timeout: 15_000 });
    await page.fill('input[name="username"]', "admin");
    await page.fill('input[name="password"]', ADMIN_PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${url}/registry`, { timeout: 15_000 });
    await visible(page, '[data-testid="registry-empty"]', "the empty registry page");
    const skopeo = await page.locator('[data-testid="registry-push-skopeo"]').textContent();
    expect(skopeo?.replace(/\s*\\\n\s*/g, " ")).toBe(
      `skopeo copy --dest-tls-verify=false oci:./image:latest docker://${host}/team/app:1 --dest-creds USER:PASSWORD`,
    );
    expect(await page.locator('[data-testid="registry-push-podman"]').textContent()).toContain(
      `podman login --tls-verify=false ${host}`,
    );
    expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe("Registry");
    await shoot(page, "registry-01-empty");
  });

  it("lists an image skopeo pushed, with its tag count and pusher", async () => {
    await exec(
      [
        "skopeo",
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        `admin:${ADMIN_PASSWORD}`,
        `oci:${layout!.dir}:latest`,
        `docker://${host}/demo/app:1`,
      ],
      120_000,
    );
    await page.reload();
    const row = await visible(
      page,
      '[data-testid="registry-repository-row"][data-repository="demo/app"]',
      "the demo/app repository row",
    );
    expect(await row.locator('[data-testid="registry-tag-count"]').textContent()).toBe("1");
    expect(await row.locator('[data-testid="registry-last-pushed-by"]').textContent()).toBe("admin");
    await shoot(page, "registry-02-repositories");
  });

  it("shows the repository's tags and, for a tag, its layers, config and platform", async () => {
    await page.click('[data-testid="registry-repository-row"] a');
    await page.waitForURL(`${url}/registry/demo/app`, { timeout: 15_000 });
    const tag = await visible(page, '[data-testid="registry-tag-row"][data-tag="1"]', "tag 1 of demo/app");
    expect(await tag.locator('[data-testid="registry-tag-digest"]').getAttribute("data-digest")).toBe(
      layout!.manifestDigest,
    );
    expect(await tag.locator('[data-testid="registry-tag-digest"]').textContent()).toBe(
      layout!.manifestDigest.slice(0, "sha256:".length + 12),
    );
    expect(await tag.locator('[data-testid="registry-tag-pushed-by"]').textContent()).toBe("admin");
    const blobSizes = await Promise.all(
      layout!.blobDigests.map(async (d) => (await layoutBlob(layout!.dir, d)).length),
    );
    const imageSize = blobSizes.reduce((a, b) => a + b, 0);
    const size = tag.locator('[data-testid="registry-tag-size"]');
    expect(await size.getAttribute("title")).toBe(`${imageSize} bytes`);
    expect(await size.textContent()).toMatch(/^\d+(\.\d)? (B|KiB)$/);
    await shoot(page, "registry-03-tags");

    await tag.locator('[data-testid="registry-tag-link"]').click();
    await page.waitForURL(`${url}/registry/demo/app?digest=${encodeURIComponent(layout!.manifestDigest)}`);
    const manifest = await visible(page, '[data-testid="registry-manifest"]', "the manifest of tag 1");
    expect(await manifest.getAttribute("data-digest")).toBe(layout!.manifestDigest);
    const [config, ...layers] = layout!.blobDigests;
    await visible(page, '[data-testid="registry-layer-row"]', "the layer rows");
    const shown = await page
      .locator('[data-testid="registry-layer-row"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-digest")));
    expect(shown).toEqual(layers);
    const layerSizes = await page
      .locator('[data-testid="registry-layer-size"]')
      .evaluateAll((cells) => cells.map((c) => c.getAttribute("title")));
    expect(layerSizes).toEqual(blobSizes.slice(1).map((n) => `${n} bytes`));
    expect(
      await page.locator('[data-testid="registry-config-digest"] code').getAttribute("data-digest"),
    ).toBe(config);
    expect(await page.locator('[data-testid="registry-platform"]').textContent()).toBe("linux/amd64");
    expect(await page.locator('[data-testid="registry-manifest-pushed"]').textContent()).toContain("admin");
    expect(await page.locator('[data-testid="registry-pull-command"]').textContent()).toBe(
      `podman pull --tls-verify=false ${host}/demo/app:1`,
    );
    expect(await tag.getAttribute("aria-selected")).toBe("true");
    await shoot(page, "registry-04-layers");
  });

  it("shows a push and a delete while the page is open, without a reload", async () => {
    const admin = basicAuth("admin", ADMIN_PASSWORD);
    await page.goto(`${url}/registry`);
    await visible(
      page,
      '[data-testid="live-indicator"][data-status="live"]',
      "the live indicator saying Live",
    );
    // A mark on the window: a reload would drop it.
    await page.evaluate(() => {
      (window as unknown as { berthMark: boolean }).berthMark = true;
    });
    expect(await pushImage(url, admin, "live/app", "1")).toMatchObject({ ok: true });
    await visible(
      page,
      '[data-testid="registry-repository-row"][data-repository="live/app"]',
      "the live/app row to appear after the push",
      5000,
    );

    await page.click('[data-testid="registry-repository-row"][data-repository="live/app"] a');
    await page.waitForURL(`${url}/registry/live/app`, { timeout: 15_000 });
    await visible(page, '[data-testid="registry-tag-row"][data-tag="1"]', "tag 1 of live/app");
    await visible(
      page,
      '[data-testid="live-indicator"][data-status="live"]',
      "the live indicator on the repository",
    );
    const second = tinyImage();
    expect(await pushImage(url, admin, "live/app", "2", second)).toMatchObject({ ok: true });
    const tag = await visible(
      page,
      '[data-testid="registry-tag-row"][data-tag="2"]',
      "tag 2 to appear after the push",
      5000,
    );
    expect(await tag.locator('[data-testid="registry-tag-digest"]').getAttribute("data-digest")).toBe(
      second.digests.manifest,
    );
    const deleted = await fetch(`${url}/v2/live/app/manifests/1`, {
      method: "DELETE",
      headers: { authorization: admin },
    });
    expect(deleted.status).toBe(202);
    await page
      .locator('[data-testid="registry-tag-row"][data-tag="1"]')
      .waitFor({ state: "detached", timeout: 5000 })
      .catch((err: unknown) => {
        throw new Error("timed out after 5000 ms waiting for tag 1 to go after its delete", { cause: err });
      });
    expect(await page.evaluate(() => (window as unknown as { berthMark?: boolean }).berthMark)).toBe(true);
    await shoot(page, "registry-05-live");
  });

  it("names each repository's team and lists one team's alone", async () => {
    // The default team's slug, "default", makes default/… its namespace; demo/ and live/ are no team's.
    const admin = basicAuth("admin", ADMIN_PASSWORD);
    expect(await pushImage(url, admin, "default/tools", "1")).toMatchObject({ ok: true });
    await page.goto(`${url}/registry`);
    const teamOf = (repository: string) =>
      page
        .locator(
          `[data-testid="registry-repository-row"][data-repository="${repository}"] [data-testid="registry-team"]`,
        )
        .textContent();
    await visible(
      page,
      '[data-testid="registry-repository-row"][data-repository="default/tools"]',
      "default/tools",
    );
    expect(await teamOf("default/tools")).toBe("default");
    expect(await teamOf("demo/app")).toBe("shared");
    const listed = () =>
      page
        .locator('[data-testid="registry-repository-row"]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-repository")));
    expect(await listed()).toEqual(["default/tools", "demo/app", "live/app"]);

    await page.selectOption('[data-testid="registry-team-picker"]', "default");
    await page.waitForURL(`${url}/registry?team=default`, { timeout: 15_000 });
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="registry-repository-row"]').length === 1,
      undefined,
      { timeout: 5000 },
    );
    expect(await listed()).toEqual(["default/tools"]);
    await shoot(page, "registry-06-team");

    await page.selectOption('[data-testid="registry-team-picker"]', "-");
    await page.waitForURL(`${url}/registry?team=-`, { timeout: 15_000 });
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="registry-repository-row"]').length === 2,
      undefined,
      { timeout: 5000 },
    );
    expect(await listed()).toEqual(["demo/app", "live/app"]);
    expect(await page.locator(".page-header .subtitle").textContent()).toMatch(/^2 repositories · /);

    // A team with nothing listed: a notice, and the picker still offers the way back.
    await page.goto(`${url}/registry?team=nobody`);
    await visible(page, '[data-testid="registry-team-empty"]', "the notice for a team with no repositories");
    expect(await page.locator('[data-testid="registry-team-picker"]').inputValue()).toBe("nobody");
    await page.selectOption('[data-testid="registry-team-picker"]', "");
    await page.waitForURL(`${url}/registry`, { timeout: 15_000 });
    await visible(
      page,
      '[data-testid="registry-repository-row"][data-repository="live/app"]',
      "every row again",
    );
    expect(await listed()).toEqual(["default/tools", "demo/app", "live/app"]);
  });

  it("says so when a repository does not exist", async () => {
    await page.goto(`${url}/registry/demo/nothing-here`);
    await visible(page, '[data-testid="registry-repository-missing"]', "the not-found notice");
    expect(pageErrors).toEqual([]);
  });
});
