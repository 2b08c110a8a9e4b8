import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Debian's Chromium, headless. Fails (never skips) when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the e2e tests drive Debian's Chromium at ${CHROMIUM}, which is not installed: run \`apt-get install -y chromium\``,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Wait until `selector` matches a visible element; the timeout names what it waited for. */
export async function visible(page: Page, selector: string, what: string, timeoutMs = 10_000) {
  const locator = page.locator(selector).first();
  try {
    await locator.waitFor({ state: "visible", timeout: timeoutMs });
  } catch (err) {
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${selector}) on ${page.url()}`, {
      cause: err,
    });
  }
  return locator;
}

/** Full-page screenshots land in test-results/e2e/<name>.png. */
export function screenshotter(dir: string) {
  return async (page: Page, name: string) => {
    await mkdir(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
  };
}
