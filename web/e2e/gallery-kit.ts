/**
 * What the gallery's browser tests share: screen sizes, signing in a seeded person, the API as that
 * person, and the grid (its tiles, sideways scroll, scrolling it all). Contexts carry the stack's
 * URL as their base, so pages and requests take paths.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { expect } from "vitest";
import { readApi } from "./browser";
import type { SeedSummary } from "./stack";

export const PHONE = { width: 390, height: 844 };
export const SMALL_PHONE = { width: 360, height: 780 };
export const DESKTOP = { width: 1280, height: 800 };
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? ".e2e/screenshots";

/** Waits for a value to match (the app answers, lays out and paints first). */
export const poll = <T>(read: () => T | Promise<T>, options = { timeout: 20_000 }) => expect.poll(read, options);

export const shot = (page: Page, name: string, fullPage = false) =>
  page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png`, fullPage });

/** A browser signed in as `who` at one size, on the stack at `baseURL`; its `request` shares the cookie with its pages. */
export async function signedIn(
  on: Browser,
  baseURL: string,
  who: SeedSummary,
  viewport: { width: number; height: number },
): Promise<BrowserContext> {
  const phone = viewport.width < 600;
  const context = await on.newContext({
    baseURL,
    viewport,
    deviceScaleFactor: 2,
    hasTouch: phone,
    isMobile: phone,
    acceptDownloads: true,
  });
  // What the app says in the console is part of a failure's story.
  context.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") console.warn(`[browser] ${message.text()}`);
  });
  const response = await context.request.post("/api/auth/login", {
    data: { email: who.email, password: who.password },
  });
  expect(response.status()).toBe(200);
  return context;
}

export async function api<T>(context: BrowserContext, path: string, init: { method?: string; data?: unknown } = {}) {
  const method = init.method ?? "GET";
  const response =
    method === "GET"
      ? await readApi(context.request, path)
      : await context.request.fetch(path, { method, data: init.data });
  expect(response.status(), path).toBeLessThan(300);
  return (await response.json()) as T;
}

export const tiles = (page: Page) => page.locator('[data-testid="gallery-item"]');
export const tileIds = (page: Page) =>
  page.$$eval('[data-testid="gallery-item"]', (nodes) => nodes.map((node) => node.getAttribute("data-id") ?? ""));
const overflow = (page: Page) =>
  page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
export async function expectNoSidewaysScroll(page: Page, where: string): Promise<void> {
  const { scrollWidth, innerWidth } = await overflow(page);
  expect(scrollWidth, `${where} is ${scrollWidth} px wide on a ${innerWidth} px screen`).toBeLessThanOrEqual(
    innerWidth,
  );
}

export async function openGallery(page: Page, query = ""): Promise<void> {
  // Not the page's `load`, which waits for every image on screen to arrive (each a thumbnail the
  // Worker may be making for the first time, on a loaded machine): a person waits for the grid.
  await page.goto(`/gallery${query}`, { waitUntil: "domcontentloaded" });
  await tiles(page).first().waitFor({ timeout: 30_000 });
}

/**
 * Scrolls the gallery from top to end, a screen per frame (pages load as the end comes near),
 * counting the DOM's nodes at every step. A page that failed to arrive is asked for again with the
 * list's own Try again, as a person would. Returns the largest count seen, how many images were
 * listed in the end and how often Try again was needed.
 */
export function scrollThrough(page: Page): Promise<{ maxNodes: number; listed: number; retries: number }> {
  return page.evaluate(async () => {
    // The grid renders in the scroll event's handler: by the next frame the DOM is what it will be.
    // A frame, or a quarter second if the loaded machine's Chromium holds its frames back: the loop
    // must reach its deadline (and say so) rather than wait for a frame that may not come.
    let steps = 0;
    let drawn = 0;
    let scrolls = 0;
    const countScroll = () => scrolls++;
    window.addEventListener("scroll", countScroll, { passive: true });
    const frame = () =>
      new Promise((resolve) => {
        steps++;
        requestAnimationFrame(() => {
          drawn++;
          resolve(undefined);
        });
        setTimeout(resolve, 250);
      });
    const grid = () => document.querySelector<HTMLElement>(".vgrid");
    let maxNodes = 0;
    let retries = 0;
    const deadline = Date.now() + 400_000;
    window.scrollTo(0, 0);
    while (Date.now() < deadline) {
      window.scrollBy(0, window.innerHeight);
      await frame();
      maxNodes = Math.max(maxNodes, document.getElementsByTagName("*").length);
      const atEnd = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
      const tryAgain = document.querySelector<HTMLButtonElement>(".gallery__more button");
      if (tryAgain) {
        retries++;
        tryAgain.click();
        continue;
      }
      if (grid()?.dataset.more === "false" && atEnd)
        return { maxNodes, listed: Number(grid()?.dataset.count), retries };
    }
    const state = `${grid()?.dataset.count} images listed, more: ${grid()?.dataset.more}, scrolled to ${window.scrollY + window.innerHeight} of ${document.documentElement.scrollHeight}, loading: ${Boolean(document.querySelector("p.gallery__more"))}, retries: ${retries}, frames drawn: ${drawn} of ${steps} steps, scroll events: ${scrolls}, visibility: ${document.visibilityState}`;
    throw new Error(`The gallery never reached its end (${state})`);
  });
}
