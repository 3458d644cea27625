/**
 * A person in a phone-sized browser: signs up, types a prompt, generates with Ctrl+Enter, watches
 * the generation arrive live and sees the image, served from our own storage.
 */
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "./stack";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function signUp(page: Page): Promise<void> {
  await page.goto(stack.url);
  await page.getByRole("link", { name: /create an account|sign up/i }).first().click().catch(() => undefined);
  await page.getByLabel("Email").fill(`e2e-${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByLabel("Prompt").waitFor();
}

describe("generating an image in the browser", () => {
  it("signs up, generates with Ctrl+Enter and shows the stored image live", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const page = await context.newPage();
    await signUp(page);
    await page.screenshot({ path: "docs/screenshots/studio-landing.png" });

    await page.getByLabel("Prompt").fill("a lighthouse on a cliff at dawn, volumetric light");
    await page.getByLabel("Prompt").press("Control+Enter");
    await page.waitForURL(/\/sessions\/ses_/);

    const card = page.locator('[data-testid="generation"]').first();
    await card.locator('[data-testid="output-image"]').first().waitFor({ timeout: 60_000 });
    expect(await card.getAttribute("data-status")).toBe("succeeded");
    const image = card.locator('[data-testid="output-image"]').first();
    await expect.poll(() => image.evaluate((element) => (element as HTMLImageElement).naturalWidth), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await image.getAttribute("src")).toMatch(/^\/api\/assets\/ast_/);
    await expect.poll(() => page.locator('[aria-live="polite"]').first().textContent()).toMatch(/succeeded/i);
    await page.screenshot({ path: "docs/screenshots/studio-session.png", fullPage: true });

    await page.goto(`${stack.url}/sessions`);
    await expect.poll(() => page.getByText("a lighthouse on a cliff at dawn").count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: "docs/screenshots/studio-sessions.png" });
    await context.close();
  }, 120_000);
});
