import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createUser } from "@berth/control";
import { createDb } from "@berth/db";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freshDatabase } from "../support/fresh-database.ts";
import { launchChromium, screenshotter, visible } from "./browser.ts";
import { childEnv, freePort, startNode, type TestProcess, waitFor } from "./processes.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVER_JS = path.join(ROOT, "apps/web/dist/server.js");
const AGENT_JS = path.join(ROOT, "agents/agent/dist/berth-agent.js");
const ADMIN_PASSWORD = "e2e-admin-password-0123";
const VIEWER = { username: "vera", password: "e2e-viewer-password-0123" };
const HOST_TTL_MS = 3000;
const shoot = screenshotter(path.join(ROOT, "test-results/e2e"));

function requireBuilt(file: string, build: string) {
  if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`${build}\` first`);
}

describe("dashboard", () => {
  let tmp = "";
  let url = "";
  let databaseUrl = "";
  let dropDatabase: (() => Promise<void>) | null = null;
  let server: TestProcess | null = null;
  let agent: TestProcess | null = null;
  let browser: Browser | null = null;
  let page: Page;
  let joinToken = "";
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requireBuilt(SERVER_JS, "npx turbo run build --filter=@berth/web");
    requireBuilt(AGENT_JS, "npx turbo run build --filter=@berth/agent");
    tmp = await mkdtemp(path.join(os.tmpdir(), "berth-e2e-"));
    const db = await freshDatabase(inject("databaseUrl"));
    dropDatabase = db.drop;
    databaseUrl = db.url;
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = startNode("control-plane", [SERVER_JS], {
      cwd: ROOT,
      env: childEnv({
        NODE_ENV: "production",
        DATABASE_URL: db.url,
        PORT: String(port),
        HOST: "127.0.0.1",
        BERTH_HOME: path.join(tmp, "home"),
        BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
        BERTH_HOST_TTL_MS: String(HOST_TTL_MS),
        BERTH_HEARTBEAT_MS: "500",
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
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") console.log(`browser console error: ${msg.text()}`);
    });
  });

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await agent?.stop("SIGKILL");
    await server?.stop("SIGTERM");
    await dropDatabase?.().catch(() => {});
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function logIn(username: string, password: string) {
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', password);
    await page.click('button[type="submit"]');
  }

  it("sends a visitor to the login page and logs in through the form", async () => {
    await page.goto(`${url}/`);
    await page.waitForURL(/\/login\?next=%2Fhosts$/, { timeout: 15_000 });
    await visible(page, '[data-testid="login-form"]', "the login form");
    await shoot(page, "01-login");

    await logIn("admin", "not-the-password");
    const error = await visible(page, '[data-testid="login-error"]', "the inline login error");
    expect(await error.textContent()).toBe("wrong username or password");
    await shoot(page, "02-login-error");

    await logIn("admin", ADMIN_PASSWORD);
    await page.waitForURL(`${url}/hosts`, { timeout: 15_000 });
    const user = await visible(page, '[data-testid="current-user"]', "the logged-in user in the top bar");
    expect(await user.textContent()).toContain("admin");
    await visible(page, '[data-testid="hosts-empty"]', "the empty hosts page explaining how to add a host");
    expect(await page.locator('[data-testid="hosts-empty"]').textContent()).toContain(
      `berth-agent --server ${url} --join-token`,
    );
    await shoot(page, "03-hosts-empty");
  });

  it("creates a join token in the Join tokens page and shows it once", async () => {
    await page.click('nav >> text="Join tokens"');
    await page.waitForURL(`${url}/join-tokens`);
    await visible(page, '[data-testid="join-token-form"]', "the join token form");
    await page.fill('input[name="description"]', "e2e agent");
    await page.selectOption('select[name="ttl"]', { label: "1 hour" });
    await page.click('[data-testid="join-token-form"] button[type="submit"]');
    const token = await visible(page, '[data-testid="new-join-token"]', "the new join token");
    joinToken = ((await token.textContent()) ?? "").trim();
    expect(joinToken).toMatch(/^bjt_[A-Za-z0-9_-]{20,}$/);
    const command = await page.locator('[data-testid="join-command"]').textContent();
    expect(command?.trim()).toBe(`berth-agent --server ${url} --join-token ${joinToken}`);
    const row = await visible(
      page,
      '[data-testid="join-token-row"][data-status="active"]',
      "the active token row",
    );
    expect(await row.textContent()).toContain("e2e agent");
    await shoot(page, "04-join-token-created");
  });

  it("shows a joining host as ready, then down after its agent dies, without reloading", async () => {
    await page.click('nav >> text="Hosts"');
    await page.waitForURL(`${url}/hosts`);
    await visible(page, '[data-testid="live-indicator"][data-status="live"]', "the hosts page to go live");
    // A full reload would clear this marker.
    await page.evaluate(() => {
      (window as unknown as { __e2eNoReload: boolean }).__e2eNoReload = true;
    });

    agent = startNode(
      "agent",
      [
        AGENT_JS,
        "--server",
        url,
        "--join-token",
        joinToken,
        "--state-dir",
        path.join(tmp, "agent"),
        "--log-level",
        "info",
      ],
      { cwd: ROOT, env: childEnv({}) },
    );
    const joinedAt = await agent.waitForLine(/joined the control plane/, "the agent to join", 30_000);
    const hostname = os.hostname();
    const row = `[data-testid="host-row"][data-host-name="${hostname}"]`;
    await visible(page, `${row}[data-state="ready"]`, `host ${hostname} to show as ready`, 10_000);
    const readyLatency = Date.now() - joinedAt;
    expect(await page.locator(`${row} [data-testid="host-state"]`).textContent()).toBe("ready");
    await visible(
      page,
      `${row} [data-testid="host-connected"][data-connected="true"]`,
      "the connected indicator",
    );
    expect(await page.locator('[data-testid="host-row"]').count()).toBe(1);
    await shoot(page, "05-host-ready");

    await agent.stop("SIGKILL");
    const killedAt = Date.now();
    await visible(page, `${row}[data-state="down"]`, `host ${hostname} to turn down after its TTL`, 15_000);
    const downLatency = Date.now() - killedAt;
    expect(await page.locator(`${row} [data-testid="host-state"]`).textContent()).toBe("down");
    await shoot(page, "06-host-down");
    console.log(
      `e2e: ready shown ${readyLatency} ms after the join; down shown ${downLatency} ms after SIGKILL`,
    );

    // Live updates, not the periodic refresh: the join is on screen within a
    // couple of seconds, and down arrives soon after the TTL, not before it.
    expect(readyLatency).toBeLessThan(2_000);
    expect(downLatency).toBeGreaterThanOrEqual(HOST_TTL_MS - 1000);
    expect(downLatency).toBeLessThan(HOST_TTL_MS + 3_000);
    expect(await page.evaluate(() => (window as unknown as { __e2eNoReload?: boolean }).__e2eNoReload)).toBe(
      true,
    );
  });

  it("shows the host's facts and events on its page", async () => {
    await page.click(`[data-testid="host-row"] a`);
    const detail = await visible(page, '[data-testid="host-detail"]', "the host detail page");
    expect(await detail.getAttribute("data-state")).toBe("down");
    const kinds = await page
      .locator('[data-testid="event-row"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-kind")));
    expect(kinds).toEqual(expect.arrayContaining(["host.joined", "host.down"]));
    await shoot(page, "07-host-detail");

    await page.click('nav >> text="Events"');
    await visible(
      page,
      '[data-testid="event-row"][data-kind="host.down"]',
      "the host.down event on the events page",
    );
    await shoot(page, "08-events");
    expect(pageErrors).toEqual([]);
  });

  it("creates a user, and a team where the user gets and changes a role", async () => {
    await page.click('nav >> text="Users"');
    await page.waitForURL(`${url}/users`);
    await page.fill('[data-testid="new-user-form"] input[name="username"]', "dora");
    await page.selectOption('[data-testid="new-user-form"] select[name="role"]', "operator");
    await page.click('[data-testid="new-user-form"] button[type="submit"]');
    const shown = await visible(page, '[data-testid="new-user-password"]', "dora's password, shown once");
    const password = ((await shown.textContent()) ?? "").trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    await visible(page, '[data-testid="user-row"][data-username="dora"][data-role="operator"]', "dora's row");
    await shoot(page, "10-users");

    await page.click('nav >> text="Teams"');
    await page.waitForURL(`${url}/teams`);
    await page.fill('[data-testid="new-team-form"] input[name="name"]', "Payments");
    await page.click('[data-testid="new-team-form"] button[type="submit"]');
    await visible(page, '[data-testid="team-row"][data-team="payments"][data-members="0"]', "the new team");
    await page.click('[data-testid="team-row"][data-team="payments"] a');
    await page.waitForURL(`${url}/teams/payments`);
    const form = '[data-testid="add-member-form"]';
    await page.fill(`${form} input[name="username"]`, "nobody");
    await page.click(`${form} button[type="submit"]`);
    expect(
      await (await visible(page, '[data-testid="add-member-error"]', "the unknown user")).textContent(),
    ).toBe("no user nobody");
    await page.fill(`${form} input[name="username"]`, "dora");
    await page.selectOption(`${form} select[name="new-role"]`, "admin");
    await page.click(`${form} button[type="submit"]`);
    const dora = '[data-testid="member-row"][data-username="dora"]';
    await visible(page, `${dora}[data-role="admin"]`, "dora as admin of payments");
    await page.selectOption(`${dora} select[name="role"]`, "viewer");
    await visible(page, `${dora}[data-role="viewer"]`, "dora as viewer of payments");
    await shoot(page, "11-team");

    // The password shown once is dora's: she logs in with it, and sees the team as a viewer.
    const other = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await other.goto(`${url}/teams/payments`);
      await other.waitForURL(/\/login\?next=/, { timeout: 15_000 });
      await other.fill('input[name="username"]', "dora");
      await other.fill('input[name="password"]', password);
      await other.click('button[type="submit"]');
      await other.waitForURL(`${url}/teams/payments`, { timeout: 15_000 });
      await visible(other, '[data-testid="team-page"][data-team="payments"]', "the team page, for dora");
      expect(await other.locator('[data-testid="add-member-form"]').count()).toBe(0);
      expect(await other.locator('[data-testid="remove-member"]').count()).toBe(0);
    } finally {
      await other.close();
    }

    // Disabled, dora's row says so; enabled again, it does not.
    await page.click('nav >> text="Users"');
    await page.click('[data-testid="user-row"][data-username="dora"] [data-testid="disable-user"]');
    await visible(
      page,
      '[data-testid="user-row"][data-username="dora"][data-disabled="true"]',
      "dora disabled",
    );
    expect(await page.locator('[data-testid="user-row"][data-username="admin"] button').count()).toBe(0);
    await page.click('[data-testid="user-row"][data-username="dora"] [data-testid="enable-user"]');
    await visible(
      page,
      '[data-testid="user-row"][data-username="dora"][data-disabled="false"]',
      "dora enabled",
    );
    expect(pageErrors).toEqual([]);
  });

  it("logs out, and tells a viewer that join tokens need an admin", async () => {
    const db = createDb(databaseUrl, { max: 1 });
    try {
      await createUser(db.db, { userId: null, name: "e2e" }, { ...VIEWER, role: "viewer" });
    } finally {
      await db.close();
    }
    await page.click('[data-testid="current-user"] button');
    await page.waitForURL(`${url}/login`, { timeout: 15_000 });
    await page.goto(`${url}/join-tokens`);
    await page.waitForURL(/\/login\?next=%2Fjoin-tokens$/, { timeout: 15_000 });
    await visible(page, '[data-testid="login-form"]', "the login form");
    await logIn(VIEWER.username, VIEWER.password);
    await page.waitForURL(`${url}/join-tokens`, { timeout: 15_000 });
    const notice = await visible(
      page,
      '[data-testid="join-tokens-forbidden"]',
      "the viewer's forbidden notice",
    );
    expect(await notice.textContent()).toContain("Only team owners and admins manage join tokens");
    expect(await page.locator('[data-testid="join-token-form"]').count()).toBe(0);
    await shoot(page, "09-join-tokens-viewer");
    expect(pageErrors).toEqual([]);
  });
});
