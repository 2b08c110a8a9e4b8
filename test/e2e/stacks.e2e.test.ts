// The stack pages against the real control plane (no hosts: tasks stay pending with the scheduler's reason).
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTeam, createUser } from "@berth/control";
import { createDb } from "@berth/db";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freshDatabase } from "../support/fresh-database.ts";
import { launchChromium, screenshotter, visible } from "./browser.ts";
import { childEnv, freePort, startNode, type TestProcess, waitFor } from "./processes.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVER_JS = path.join(ROOT, "apps/web/dist/server.js");
const ADMIN_PASSWORD = "e2e-admin-password-0123";
const VIEWER = { username: "vic", password: "e2e-viewer-password-0123" };
const shoot = screenshotter(path.join(ROOT, "test-results/e2e"));

const STACK = "e2e-shop";
const YAML = `# The e2e test's stack.
name: ${STACK}
services:
  web:
    image: busybox:1.36
    command: ["httpd", "-f", "-p", "8080"]
    environment:
      MODE: production
    ports: ["8080:8080"]
    deploy:
      replicas: 2
  worker:
    image: busybox:1.36
    command: ["sleep", "3600"]
`;
/** Line 11 column 17 is `two`; line 13 column 5 is `imagee`. */
const INVALID = YAML.replace("replicas: 2", "replicas: two").replace(
  '    image: busybox:1.36\n    command: ["sleep"',
  '    imagee: busybox:1.36\n    command: ["sleep"',
);

describe("stack pages", () => {
  let tmp = "";
  let url = "";
  let dropDatabase: (() => Promise<void>) | null = null;
  let server: TestProcess | null = null;
  let browser: Browser | null = null;
  let page: Page;
  /** A viewer in a second browser context, watching the same pages. */
  let viewer: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(SERVER_JS)) {
      throw new Error(
        "apps/web/dist/server.js is missing: run `npx turbo run build --filter=@berth/web` first",
      );
    }
    tmp = await mkdtemp(path.join(os.tmpdir(), "berth-e2e-stacks-"));
    const db = await freshDatabase(inject("databaseUrl"));
    dropDatabase = db.drop;
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
    const conn = createDb(db.url, { max: 1 });
    try {
      await createUser(conn.db, { userId: null, name: "e2e" }, { ...VIEWER, role: "viewer" });
      await createTeam(conn.db, { userId: null, name: "e2e" }, { name: "Payments" });
    } finally {
      await conn.close();
    }
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    viewer = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    for (const p of [page, viewer]) {
      p.on("pageerror", (err) => pageErrors.push(err.message));
      p.on("console", (msg) => {
        if (msg.type() === "error") console.log(`browser console error: ${msg.text()}`);
      });
    }
  });

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await server?.stop("SIGTERM");
    await dropDatabase?.().catch(() => {});
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function logIn(p: Page, next: string, username: string, password: string) {
    await p.goto(`${url}${next}`);
    await p.waitForURL(/\/login\?next=/, { timeout: 15_000 });
    await p.fill('input[name="username"]', username);
    await p.fill('input[name="password"]', password);
    await p.click('button[type="submit"]');
    await p.waitForURL(`${url}${next}`, { timeout: 15_000 });
  }

  /** The last lines the control plane printed (warnings and errors), for a failure message. */
  const tail = (p: TestProcess | null) => p?.output().split("\n").slice(-30).join("\n") ?? "";

  const row = (n: number) => `[data-testid="revision-row"][data-n="${n}"]`;

  it("shows an empty Stacks page that explains how to deploy", async () => {
    await logIn(page, "/hosts", "admin", ADMIN_PASSWORD);
    await page.click('nav >> text="Stacks"');
    await page.waitForURL(`${url}/stacks`);
    const empty = await visible(page, '[data-testid="stacks-empty"]', "the empty stacks page");
    expect(await empty.textContent()).toContain("berth stack deploy -f stack.yml");
    await visible(page, '[data-testid="stacks-empty"] a[href="/stacks/-/new"]', "the New stack button");
    await shoot(page, "stacks-01-empty");

    // The viewer sits on the list while the admin deploys: the stack must appear without a reload.
    await logIn(viewer, "/stacks", VIEWER.username, VIEWER.password);
    await visible(viewer, '[data-testid="stacks-empty"]', "the viewer's empty stacks page");
    expect(await viewer.locator('[data-testid="new-stack"]').count()).toBe(0);
    await visible(
      viewer,
      '[data-testid="live-indicator"][data-status="live"]',
      "the viewer's list to go live",
    );
  });

  it("plans a new stack in the editor, points at the line and column of an error, and applies", async () => {
    await page.click('[data-testid="new-stack"]');
    await page.waitForURL(`${url}/stacks/-/new`);
    const editor = await visible(page, '[data-testid="yaml-input"]', "the YAML editor");
    expect(await editor.inputValue()).toContain("services:");
    const apply = page.locator('[data-testid="apply-button"]');
    expect(await apply.isDisabled()).toBe(true);

    await editor.fill(YAML);
    await page.click('[data-testid="plan-button"]');
    await visible(page, '[data-testid="plan-service"][data-service="web"]', "the plan for web");
    const actions = await page
      .locator('[data-testid="plan-service"]')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute("data-service")}:${e.getAttribute("data-action")}`),
      );
    expect(actions).toEqual(["web:create", "worker:create"]);
    expect(
      await page
        .locator('[data-testid="plan-service"][data-service="web"] [data-testid="plan-tasks"]')
        .textContent(),
    ).toBe("2 to start");
    expect(await apply.isDisabled()).toBe(false);
    expect(await page.locator('[data-testid="editor-status"]').textContent()).toContain(
      `creates stack ${STACK}`,
    );
    await shoot(page, "stacks-02-editor-plan");

    // An invalid edit: the plan lists each issue at its line and column; Apply is off again.
    await editor.fill(INVALID);
    expect(await apply.isDisabled()).toBe(true);
    await page.click('[data-testid="plan-button"]');
    await visible(page, '[data-testid="plan-error"]', "the plan's errors");
    const errors = await page
      .locator('[data-testid="plan-error"]')
      .evaluateAll((els) => els.map((e) => (e.textContent ?? "").trim()));
    expect(errors[0]).toMatch(/^11:17\s*services\.web\.deploy\.replicas: .*"two"/);
    expect(errors.some((e) => /^13:5\s*services\.worker\.imagee: unknown key/.test(e))).toBe(true);
    expect(await apply.isDisabled()).toBe(true);
    await page.click('[data-testid="plan-error"][data-line="13"] button');
    const caret = await editor.evaluate((el: HTMLTextAreaElement) => ({
      focused: document.activeElement === el,
      line: el.value.slice(0, el.selectionStart).split("\n").length,
      column: el.selectionStart - el.value.lastIndexOf("\n", el.selectionStart - 1),
    }));
    expect(caret).toEqual({ focused: true, line: 13, column: 5 });
    await shoot(page, "stacks-03-editor-errors");

    // Back to the valid file: plan, then apply, lands on the new stack's page.
    await editor.fill(YAML);
    await page.click('[data-testid="plan-button"]');
    await visible(page, '[data-testid="plan-service"][data-action="create"]', "the plan after the fix");
    await apply.click();
    await page.waitForURL(`${url}/stacks/${STACK}`, { timeout: 15_000 });
    await visible(page, '[data-testid="stack-page"][data-revision="1"]', "the stack page at revision 1");
  });

  it("shows the stack's services and its tasks pending with the scheduler's reason", async () => {
    const services = await page
      .locator('[data-testid="service-row"]')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute("data-service")}:${e.getAttribute("data-replicas")}`),
      );
    expect(services).toEqual(["web:2", "worker:1"]);
    expect(
      await page.locator('[data-testid="service-row"][data-service="web"] td.mono').first().textContent(),
    ).toBe("busybox:1.36");
    expect(await page.locator('[data-testid="service-row"][data-service="web"]').textContent()).toContain(
      "8080->8080/tcp",
    );
    await visible(page, '[data-testid="task-row"][data-task="web.1"]', "task web.1");
    // No host runs anything: the scheduler leaves the tasks pending and says why.
    let seen = "";
    await waitFor(
      "every task to show as pending with a reason",
      async () => {
        const tasks = await page.locator('[data-testid="task-row"]').evaluateAll((els) =>
          els.map((e) => ({
            observed: e.getAttribute("data-observed"),
            reason: (e.querySelector('[data-testid="task-reason"]')?.textContent ?? "").trim(),
          })),
        );
        const live = await page.locator('[data-testid="live-indicator"]').getAttribute("data-status");
        seen = JSON.stringify({ live, tasks });
        return tasks.length === 3 && tasks.every((t) => t.observed === "pending" && t.reason.length > 1);
      },
      20_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}; the page showed ${seen}; the control plane's last lines:\n${tail(server)}`,
      );
    });
    expect(await page.locator('[data-testid="task-group"]').getAttribute("data-host")).toBe("Not placed");
    await visible(page, `${row(1)}[data-current="true"]`, "revision 1 as current");
    await visible(
      page,
      '[data-testid="revision-diff"][data-n="1"] [data-testid="diff-add"]',
      "revision 1's YAML",
    );
    await visible(page, '[data-testid="event-row"][data-kind="stack.deploy"]', "the deploy event");
    await shoot(page, "stacks-04-stack-page");

    // The viewer's list showed the new stack without a reload; its stack page has no change buttons.
    const listed = await visible(
      viewer,
      `[data-testid="stack-row"][data-stack-name="${STACK}"]`,
      "the stack in the viewer's list",
      5_000,
    );
    expect(await listed.getAttribute("data-revision")).toBe("1");
    expect(await listed.getAttribute("data-desired")).toBe("3");
    await shoot(viewer, "stacks-05-list");
    await viewer.click(`[data-testid="stack-row"] a`);
    await visible(viewer, '[data-testid="stack-page"]', "the viewer's stack page");
    for (const control of ["edit-stack", "remove-stack", "scale-form", "rollback"]) {
      expect(await viewer.locator(`[data-testid="${control}"]`).count(), control).toBe(0);
    }
  });

  it("scales a service to a new revision, with its diff, live on another viewer's page", async () => {
    const web = '[data-testid="service-row"][data-service="web"]';
    await page.fill(`${web} input[name="replicas"]`, "3");
    await page.click(`${web} [data-testid="scale-form"] button`);
    await visible(page, '[data-testid="stack-page"][data-revision="2"]', "the stack at revision 2");
    await visible(page, `${web}[data-replicas="3"]`, "web at 3 replicas");
    await visible(page, `${row(2)}[data-kind="scale"][data-current="true"]`, "revision 2 (scale) as current");
    // The newest revision is selected: its diff against revision 1.
    const change = await visible(
      page,
      '[data-testid="revision-diff"][data-n="2"] [data-testid="plan-change"][data-field="deploy.replicas"]',
      "the replicas change in revision 2's diff",
    );
    expect((await change.textContent())?.replace(/\s+/g, "")).toBe("deploy.replicas2→3");
    const yamlDiff = async (kind: "add" | "del") =>
      page
        .locator(`[data-testid="revision-diff"][data-n="2"] [data-testid="diff-${kind}"] .diff-text`)
        .evaluateAll((els) => els.map((e) => (e.textContent ?? "").trim()));
    expect(await yamlDiff("del")).toContain("replicas: 2");
    expect(await yamlDiff("add")).toContain("replicas: 3");
    await visible(
      viewer,
      '[data-testid="stack-page"][data-revision="2"]',
      "revision 2 on the viewer's page, live",
      5_000,
    );
    await shoot(page, "stacks-06-scaled");
  });

  it("rolls back to revision 1 as revision 3 after a confirmation", async () => {
    await page.click(`${row(1)} [data-testid="rollback"]`);
    const dialog = await visible(page, '[data-testid="rollback-dialog"]', "the rollback dialog");
    await visible(
      page,
      '[data-testid="rollback-plan"] [data-testid="plan-change"][data-field="deploy.replicas"]',
      "what the rollback changes",
    );
    expect(await dialog.textContent()).toContain("as a new revision 3");
    await shoot(page, "stacks-07-rollback-dialog");
    await page.click('[data-testid="rollback-dialog"] [data-testid="confirm"]');
    await visible(page, `${row(3)}[data-current="true"]`, "revision 3 as current");
    expect(await page.locator(`${row(3)} [data-testid="revision-kind"]`).textContent()).toBe("rollback of 1");
    await visible(
      page,
      '[data-testid="service-row"][data-service="web"][data-replicas="2"]',
      "web back at 2 replicas",
    );
    expect(await page.locator('[data-testid="rollback-dialog"]').isVisible()).toBe(false);
    await visible(page, '[data-testid="event-row"][data-kind="stack.rollback"]', "the rollback event");
  });

  it("edits the stack from its current revision", async () => {
    await page.click('[data-testid="edit-stack"]');
    await page.waitForURL(`${url}/stacks/${STACK}/edit`);
    const editor = await visible(page, '[data-testid="yaml-input"]', "the editor with the current file");
    expect(await editor.inputValue()).toBe(YAML);
    // DEBUG without a value is left out, with a warning at its place (line 9, after the colon).
    await editor.fill(YAML.replace("MODE: production", "MODE: staging\n      DEBUG:"));
    await page.click('[data-testid="plan-button"]');
    const warning = await visible(page, '[data-testid="plan-warnings"] li', "the plan's warning");
    expect((await warning.textContent())?.trim()).toMatch(
      /^9:13\s*DEBUG has no value and is not set; left out$/,
    );
    const change = await visible(
      page,
      '[data-testid="plan-change"][data-field="environment.MODE"]',
      "the MODE change",
    );
    expect((await change.textContent())?.replace(/\s+/g, "")).toBe(
      "environment.MODEproduction→stagingrestartstasks",
    );
    expect(
      await page
        .locator('[data-testid="plan-service"][data-service="web"] [data-testid="plan-tasks"]')
        .textContent(),
    ).toBe("2 to restart");
    expect(await page.locator('[data-testid="plan-service"][data-service="worker"]').count()).toBe(0);
    expect(await page.locator('[data-testid="editor-status"]').textContent()).toContain(
      `revision 4 of ${STACK}`,
    );
    await shoot(page, "stacks-08-edit-plan");
    await page.click(`a.back`);
    await visible(
      page,
      '[data-testid="stack-page"][data-revision="3"]',
      "the stack page, still at revision 3",
    );
  });

  it("removes the stack after its name is typed", async () => {
    await page.click('[data-testid="remove-stack"]');
    await visible(page, '[data-testid="remove-dialog"]', "the remove dialog");
    const confirm = page.locator('[data-testid="remove-dialog"] [data-testid="confirm"]');
    expect(await confirm.isDisabled()).toBe(true);
    await page.fill('[data-testid="remove-dialog"] input[name="confirm-name"]', "e2e-sho");
    expect(await confirm.isDisabled()).toBe(true);
    await page.fill('[data-testid="remove-dialog"] input[name="confirm-name"]', STACK);
    await shoot(page, "stacks-09-remove-dialog");
    await confirm.click();
    await page.waitForURL(`${url}/stacks`, { timeout: 15_000 });
    await visible(page, '[data-testid="stacks-empty"]', "the empty list after the removal");
    await visible(
      viewer,
      '[data-testid="stack-not-found"]',
      "the viewer's page saying the stack is gone",
      5_000,
    );
    expect(pageErrors).toEqual([]);
  });

  it("deploys and lists another team's stack, picked on the Stacks page", async () => {
    await page.goto(`${url}/stacks`);
    await page.selectOption('[data-testid="team-picker"]', "payments");
    await page.waitForURL(`${url}/stacks?team=payments`);
    await visible(page, '[data-testid="stacks-empty"]', "payments' empty stacks page");
    await page.click('[data-testid="new-stack"]');
    await page.waitForURL(`${url}/stacks/-/new?team=payments`);
    const editor = await visible(page, '[data-testid="yaml-input"]', "the YAML editor");
    await editor.fill(
      'name: pay-api\nservices:\n  api:\n    image: busybox:1.36\n    command: ["sleep", "3600"]\n',
    );
    await page.click('[data-testid="plan-button"]');
    await visible(page, '[data-testid="plan-service"][data-service="api"][data-action="create"]', "the plan");
    await page.click('[data-testid="apply-button"]');
    await page.waitForURL(`${url}/stacks/pay-api?team=payments`, { timeout: 15_000 });
    await visible(page, '[data-testid="stack-page"][data-revision="1"]', "pay-api's page");
    await page.click("a.back");
    await page.waitForURL(`${url}/stacks?team=payments`);
    await visible(page, '[data-testid="stack-row"][data-stack-name="pay-api"]', "pay-api in payments' list");
    await shoot(page, "stacks-10-team");
    // The default team's list does not have it.
    await page.selectOption('[data-testid="team-picker"]', "default");
    await page.waitForURL(`${url}/stacks`);
    await visible(page, '[data-testid="stacks-empty"]', "the default team's empty list");
    // The viewer is in the default team only: no picker, and payments' stacks are not theirs to see.
    await viewer.goto(`${url}/stacks`);
    await visible(viewer, '[data-testid="stacks-empty"]', "the viewer's list");
    expect(await viewer.locator('[data-testid="team-picker"]').count()).toBe(0);
    await viewer.goto(`${url}/stacks/pay-api?team=payments`);
    await visible(viewer, '[data-testid="stack-not-found"]', "payments' stack hidden from the viewer");
    expect(pageErrors).toEqual([]);
  });
});
