/**
 * The gallery at scale in a real browser, at phone and desktop sizes: scrolling through all of
 * 10,000 images (pages load as the end comes near) keeps the DOM as small as it is at 100, and
 * nothing scrolls sideways. Its own file, so it runs beside the gallery's other tests.
 */
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DESKTOP, expectNoSidewaysScroll, openGallery, PHONE, scrollThrough, signedIn, tiles } from "./gallery-kit";
import { type SeedSummary, type Stack, startStack } from "./stack";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const BIG_GALLERY = 10_000;
const SMALL_GALLERY = 100;

let stack: Stack;
let big: SeedSummary;
let small: SeedSummary;

beforeAll(async () => {
  stack = await startStack({
    timeoutMs: 240_000,
    seedImages: BIG_GALLERY,
    seedUsers: [{ email: `gallery-small-${Date.now()}@example.com`, images: SMALL_GALLERY }],
  });
  if (!stack.seed) throw new Error("The stack was not seeded");
  big = stack.seed;
  [small] = stack.seededUsers as [SeedSummary];
  expect([big.images, small.images]).toEqual([BIG_GALLERY, SMALL_GALLERY]);
}, 900_000);

afterAll(async () => {
  await stack?.stop();
});

describe.each([
  ["phone", PHONE],
  ["desktop", DESKTOP],
] as const)("the gallery on a %s", (_name, viewport) => {
  /**
   * A browser that fetches no images: the grid's DOM is the same (its <img> elements are there), and
   * the pages being counted don't wait behind thousands of thumbnails on six connections.
   */
  let imageless: Browser;
  beforeAll(async () => {
    imageless = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--blink-settings=imagesEnabled=false"],
    });
  });
  afterAll(async () => {
    await imageless?.close();
  });

  it("keeps the DOM as small at 10,000 images as at 100 while scrolling all of them", async () => {
    const smallContext = await signedIn(imageless, stack.url, small, viewport);
    const smallPage = await smallContext.newPage();
    await openGallery(smallPage);
    const atHundred = await scrollThrough(smallPage);
    expect(atHundred.listed).toBe(SMALL_GALLERY);
    await smallContext.close();

    const context = await signedIn(imageless, stack.url, big, viewport);
    const page = await context.newPage();
    await openGallery(page);
    // Until its thumbnail arrives (here: never), a tile shows a placeholder.
    expect(await page.locator(".gtile.is-loading").count()).toBe(await tiles(page).count());
    // Infinite scroll: every page arrives as the end comes near, 10,000 images in the end.
    const atTenThousand = await scrollThrough(page);
    expect(atTenThousand.listed).toBe(BIG_GALLERY);
    expect(atTenThousand.maxNodes).toBeLessThanOrEqual(Math.ceil(atHundred.maxNodes * 1.2));
    await expectNoSidewaysScroll(page, "the gallery scrolled to its end");
    await context.close();
  }, 900_000);
});
