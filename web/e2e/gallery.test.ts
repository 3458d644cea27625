/**
 * The gallery and session management in a real browser, at phone (360-390 px) and desktop (1280×800)
 * sizes, on a gallery seeded with 10,000 images (scrolling all of it: gallery-scale.test.ts): search
 * by prompt and by title, a filter, all in the URL;
 * the viewer's parameters, swipe, arrow keys and download name; stars; delete with Undo and the
 * trash; renaming, deleting, cloning, exporting and importing a session; a session of more than
 * 1,000 generations opening paged; no page scrolls sideways, 44 px targets; and the thumbnails seen
 * once show offline, while nothing of a person is served after they sign out.
 *
 * One stack for the whole file, seeded once (`npm run seed`, against the stack's own state).
 */
import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, watchConsole } from "./browser";
import {
  api,
  DESKTOP,
  expectNoSidewaysScroll,
  openGallery,
  PHONE,
  poll,
  SMALL_PHONE,
  shot,
  signedIn as signedInAt,
  tileIds,
  tiles,
} from "./gallery-kit";
import { type SeedSummary, type Stack, startStack } from "./stack";

const BIG_GALLERY = 10_000;
const SMALL_GALLERY = 100;
const BIG_SESSION_IMAGES = 2_000;

let stack: Stack;
let browser: Browser;
/** 10,000 images; 100 images; one session of more than 1,000 generations; three sessions to manage. */
let big: SeedSummary;
let small: SeedSummary;
let bigSession: SeedSummary;
let manager: SeedSummary;
const stamp = Date.now();

const signedIn = (who: SeedSummary, viewport: { width: number; height: number }) =>
  signedInAt(browser, stack.url, who, viewport);

type ImageJson = {
  id: string;
  prompt: string;
  model: string;
  sessionTitle: string;
  sessionId: string;
  favorite: boolean;
};
type SessionJson = { id: string; title: string; generationCount: number };
type PageJson<T> = { items: T[]; nextCursor: string | null };

/** The grid shows the list's first images, in its order (only those near the screen are in the DOM). */
async function expectGridToStartWith(page: Page, ids: readonly string[]): Promise<void> {
  const first = ids.slice(0, 9);
  await poll(async () => (await tileIds(page)).slice(0, first.length)).toEqual(first);
}

/**
 * What can be tapped but is smaller than 44×44 px (links inside running text aside), described so a
 * failure says which.
 */
const smallTargets = (page: Page) =>
  page.evaluate(() => {
    const selector = 'button, a[href], input:not([type="hidden"]), select, textarea, summary, [role="button"]';
    const small: string[] = [];
    for (const element of document.querySelectorAll<HTMLElement>(selector)) {
      if (element.closest(".visually-hidden, [inert], [aria-hidden='true']")) continue;
      // A file input or a check box is covered by the label the person taps.
      const target = element.matches("input[type=file], input[type=checkbox], input[type=radio]")
        ? (element.closest("label") ?? element)
        : element;
      const box = target.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      const style = getComputedStyle(target);
      if (style.visibility === "hidden" || style.display === "none") continue;
      if (element.matches("a") && element.closest("p, dd, li.import__issues li") && style.display === "inline")
        continue;
      // The tap area of a button can be its own padding around a smaller icon: the box is what counts.
      if (box.width < 43.5 || box.height < 43.5) {
        const name = (element.getAttribute("aria-label") ?? element.textContent ?? "").trim().slice(0, 40);
        small.push(
          `${element.tagName.toLowerCase()}.${[...element.classList].join(".")} "${name}" ${Math.round(box.width)}×${Math.round(box.height)}`,
        );
      }
    }
    return small;
  });

/** The grid shows thumbnails (srcset over both widths), never the full image. */
async function expectThumbnails(page: Page): Promise<void> {
  const thumbnail = page.locator(".gtile__image").first();
  await poll(() => thumbnail.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
  expect(await thumbnail.getAttribute("srcset")).toMatch(/thumbnail\?w=256 256w, .*thumbnail\?w=768 768w/);
  expect(await thumbnail.getAttribute("src")).toMatch(/\/api\/assets\/[^/]+\/thumbnail/);
  const full = await page.$$eval(
    ".gtile__image",
    (images) => images.filter((img) => /\/api\/assets\/[^/?]+$/.test((img as HTMLImageElement).currentSrc)).length,
  );
  expect(full).toBe(0);
}

/** A horizontal swipe with real touch events (Chromium turns them into pointer events). */
async function swipe(page: Page, context: BrowserContext, selector: string, dx: number): Promise<void> {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not on screen`);
  const cdp = await context.newCDPSession(page);
  const x = box.x + box.width / 2 - dx / 2;
  const y = box.y + box.height / 2;
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x, y }] });
  for (let i = 1; i <= 8; i += 1) {
    await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x: x + (dx * i) / 8, y }] });
  }
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  await cdp.detach();
}

beforeAll(async () => {
  stack = await startStack({
    timeoutMs: 240_000,
    seedImages: BIG_GALLERY,
    seedUsers: [
      { email: `gallery-small-${stamp}@example.com`, images: SMALL_GALLERY },
      { email: `big-session-${stamp}@example.com`, images: BIG_SESSION_IMAGES, imagesPerSession: BIG_SESSION_IMAGES },
      { email: `sessions-${stamp}@example.com`, images: 120 },
    ],
  });
  if (!stack.seed) throw new Error("The stack was not seeded");
  big = stack.seed;
  [small, bigSession, manager] = stack.seededUsers as [SeedSummary, SeedSummary, SeedSummary];
  expect([big.images, small.images, bigSession.images]).toEqual([BIG_GALLERY, SMALL_GALLERY, BIG_SESSION_IMAGES]);
  browser = await launchBrowser();
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("finding, viewing and keeping images", () => {
  it("searches prompts and session titles and filters by model, all kept in the URL", async () => {
    const context = await signedIn(big, DESKTOP);
    // A title word no prompt uses: the session of the tenth-newest image, renamed.
    const newest = await api<PageJson<ImageJson>>(context, "/api/images?limit=10");
    const titled = newest.items[9];
    if (!titled) throw new Error("The gallery has fewer than ten images");
    await api(context, `/api/sessions/${titled.sessionId}`, { method: "PATCH", data: { title: "Zanzibar sketches" } });

    const page = await context.newPage();
    await openGallery(page);
    const search = page.getByLabel("Search images");

    // A prompt word: about one prompt in forty has it.
    await search.fill(big.searchWord);
    await page.waitForURL(new RegExp(`[?&]q=${big.searchWord}`));
    const byPrompt = await api<PageJson<ImageJson>>(context, `/api/images?limit=100&q=${big.searchWord}`);
    expect(byPrompt.items.length).toBeGreaterThan(0);
    await expectGridToStartWith(
      page,
      byPrompt.items.map((i) => i.id),
    );
    for (const item of byPrompt.items)
      expect(`${item.prompt} ${item.sessionTitle}`.toLowerCase()).toContain(big.searchWord);
    await shot(page, "gallery-search-desktop");

    // A title word, and a prefix of it.
    await search.fill("zanzib");
    await page.waitForURL(/[?&]q=zanzib(&|$)/);
    const byTitle = await api<PageJson<ImageJson>>(context, "/api/images?limit=100&q=zanzib");
    expect(byTitle.items.length).toBeGreaterThan(0);
    expect(new Set(byTitle.items.map((item) => item.sessionId))).toEqual(new Set([titled.sessionId]));
    await expectGridToStartWith(
      page,
      byTitle.items.map((item) => item.id),
    );

    // A reload keeps the search.
    await page.reload();
    expect(await search.inputValue()).toBe("zanzib");
    await expectGridToStartWith(
      page,
      byTitle.items.map((item) => item.id),
    );

    // A search that finds nothing offers to show everything, and the box empties with it.
    await search.fill("qqxzvnomatch");
    await page.getByRole("heading", { name: "Nothing matches" }).waitFor();
    await page.getByRole("button", { name: "Show everything" }).click();
    await page.waitForURL((url) => !url.searchParams.has("q"));
    expect(await search.inputValue()).toBe("");

    // A filter chip, on top of nothing: the model of the first image.
    const model = newest.items[0]?.model ?? "";
    await page.getByTestId("filter-model").selectOption(model);
    await page.waitForURL((url) => url.searchParams.get("model") === model);
    const byModel = await api<PageJson<ImageJson>>(context, `/api/images?limit=24&model=${encodeURIComponent(model)}`);
    expect(byModel.items.every((item) => item.model === model)).toBe(true);
    await expectGridToStartWith(
      page,
      byModel.items.map((item) => item.id),
    );
    await shot(page, "gallery-filtered-desktop");
    await page.reload();
    await poll(() => page.getByTestId("filter-model").inputValue()).toBe(model);
    await context.close();
  }, 180_000);

  it("opens an image full size with its parameters, swipes and uses the arrow keys between images", async () => {
    const context = await signedIn(big, PHONE);
    const page = await context.newPage();
    await openGallery(page);
    const ids = await tileIds(page);
    const first = await api<PageJson<ImageJson & { downloadName: string }>>(context, "/api/images?limit=1");
    await tiles(page)
      .first()
      .getByRole("button", { name: /^Open image/ })
      .click();
    const lightbox = page.getByTestId("lightbox");
    const position = page.getByTestId("lightbox-position");
    await poll(() => position.textContent()).toMatch(/^1 of/);
    const image = page.getByTestId("lightbox-image");
    await poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    // The viewer shows the image itself, not a thumbnail.
    expect(await image.getAttribute("src")).toMatch(new RegExp(`/api/assets/${ids[0]}$`));
    expect(new URL(page.url()).searchParams.get("view")).toBe(ids[0]);

    // Its parameters, one tap away on a phone.
    await lightbox.getByRole("button", { name: "Details" }).click();
    const details = page.locator("#lightbox-details");
    await expect(details.getByText(first.items[0]?.prompt ?? "?", { exact: true }).count()).resolves.toBe(1);
    for (const name of ["Model", "Size", "Seed", "Outputs", "Made"]) {
      await expect(details.locator("dt", { hasText: new RegExp(`^${name}$`) }).count()).resolves.toBe(1);
    }
    // Labels people read, each said once: no parameter under its code name, no size twice.
    const labels = await details.locator("dt").allTextContents();
    expect(labels.filter((label) => /^[a-z]|[a-z][A-Z]|_/.test(label))).toEqual([]);
    expect(labels.filter((label) => /^(Width|Height)$/.test(label))).toEqual([]);
    await shot(page, "viewer-phone");
    await expectNoSidewaysScroll(page, "the viewer with its details");
    await lightbox.getByRole("button", { name: "Details" }).click();

    await swipe(page, context, '[data-testid="lightbox-stage"]', -200);
    await poll(() => position.textContent()).toMatch(/^2 of/);
    await poll(() => new URL(page.url()).searchParams.get("view")).toBe(ids[1]);
    // Two quick flicks are two moves (not a double tap that zooms).
    await swipe(page, context, '[data-testid="lightbox-stage"]', -200);
    await swipe(page, context, '[data-testid="lightbox-stage"]', -200);
    await poll(() => position.textContent()).toMatch(/^4 of/);
    // Not zoomed: the image slides back to rest.
    await poll(() => image.evaluate((img) => getComputedStyle(img).transform)).toBe("none");
    for (const _back of [1, 2, 3]) await swipe(page, context, '[data-testid="lightbox-stage"]', 200);
    await poll(() => position.textContent()).toMatch(/^1 of/);

    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await poll(() => position.textContent()).toMatch(/^3 of/);
    await page.keyboard.press("ArrowLeft");
    await poll(() => position.textContent()).toMatch(/^2 of/);

    // Zoom, and back to the whole image.
    const zoom = lightbox.getByRole("button", { name: "Zoom in" });
    await zoom.click();
    await poll(() => image.evaluate((img) => getComputedStyle(img).transform)).toMatch(/^matrix\(2\.5, /);
    await lightbox.getByRole("button", { name: "Fit to screen" }).click();
    await poll(() => image.evaluate((img) => getComputedStyle(img).transform)).toBe("none");

    // The download is named after the session or prompt and the image's place, not the asset id.
    const download = lightbox.getByTestId("download");
    const name = (await download.getAttribute("download")) ?? "";
    expect(name).toMatch(/^[a-z0-9-]+-\d+\.(png|webp|jpe?g)$/);
    expect(name).not.toMatch(/^ast_/);
    const [file] = await Promise.all([page.waitForEvent("download"), download.click()]);
    expect(file.suggestedFilename()).toBe(name);

    // Back closes the viewer.
    await page.goBack();
    await poll(() => lightbox.count()).toBe(0);
    await context.close();
  }, 120_000);

  it("turns a next page that never arrives into Try again, which brings it", async () => {
    const context = await signedIn(big, PHONE);
    const page = await context.newPage();
    // The first next page the gallery asks for is never answered.
    let held = 0;
    await context.route(/\/api\/images\?.*cursor=/, async (route) => {
      if (held++ === 0) return; // left hanging
      await route.continue();
    });
    await openGallery(page);
    const before = await tiles(page).count();
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const notice = page.getByRole("alert").filter({ hasText: "More images took too long to arrive." });
    await notice.waitFor({ timeout: 40_000 });
    await notice.getByRole("button", { name: "Try again" }).click();
    await notice.waitFor({ state: "detached" });
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await poll(() => page.locator(".vgrid").getAttribute("data-count")).not.toBe(String(before));
    expect(held).toBeGreaterThan(1);
    await context.close();
  }, 120_000);

  it("asks for the next page at once when the page that arrives still leaves the end in sight", async () => {
    // Tall enough that one page (96 images) does not carry the end out of the prefetch distance.
    const context = await signedIn(big, { width: 1280, height: 1500 });
    const page = await context.newPage();
    const asked: string[] = [];
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await context.route(/\/api\/images\?.*cursor=/, async (route) => {
      asked.push(route.request().url());
      // The first next page waits until the list sits at its end.
      if (asked.length === 1) await released;
      await route.continue();
    });
    await openGallery(page);
    await poll(() => asked.length).toBe(1);
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    release();
    // No scrolling from here on: the list, still near its end, asks for the page after.
    await poll(() => asked.length).toBeGreaterThanOrEqual(2);
    await context.close();
  }, 120_000);

  it("stars an image, and the Starred filter finds it", async () => {
    const context = await signedIn(big, DESKTOP);
    const page = await context.newPage();
    await openGallery(page);
    await expectThumbnails(page);
    await shot(page, "gallery-desktop");
    const tile = tiles(page).nth(3);
    const id = (await tile.getAttribute("data-id")) ?? "";
    await tile.hover();
    await tile.getByTestId("favorite").click();
    await poll(() => tile.getByTestId("favorite").getAttribute("aria-pressed")).toBe("true");
    const starred = async () =>
      (await api<PageJson<ImageJson>>(context, "/api/images?favorite=true")).items.map((i) => i.id);
    await poll(starred).toContain(id);

    await page.getByRole("button", { name: "Starred" }).click();
    await page.waitForURL(/[?&]starred=1/);
    await expectGridToStartWith(page, await starred());
    await shot(page, "gallery-starred-desktop");

    // Unstarred from the viewer.
    await page
      .locator(`[data-testid="gallery-item"][data-id="${id}"]`)
      .getByRole("button", { name: /^Open image/ })
      .click();
    const star = page.getByTestId("lightbox").getByTestId("favorite");
    await poll(() => star.getAttribute("aria-pressed")).toBe("true");
    await shot(page, "viewer-desktop");
    await star.click();
    await poll(() => star.getAttribute("aria-pressed")).toBe("false");
    await poll(starred).not.toContain(id);

    // "Iterate from this" opens its session with the image as the source and the prompt focused.
    const item = (await api<PageJson<ImageJson>>(context, "/api/images?limit=10")).items.find((i) => i.id === id);
    await page.getByTestId("lightbox").getByRole("link", { name: "Iterate from this" }).click();
    await page.waitForURL((url) => url.pathname === `/sessions/${item?.sessionId}`);
    await poll(() => page.evaluate(() => document.activeElement?.id ?? "")).toMatch(/-prompt$/);
    await poll(() => new URL(page.url()).searchParams.has("iterate")).toBe(false);
    await context.close();
  }, 120_000);

  it("deletes an image into the trash, Undo brings it back, and so does the Trash page", async () => {
    const context = await signedIn(big, PHONE);
    const page = await context.newPage();
    await openGallery(page);
    const ids = await tileIds(page);
    const id = ids[1] ?? "";
    await tiles(page)
      .nth(1)
      .getByRole("button", { name: /^Open image/ })
      .click();
    await page.getByTestId("lightbox").getByRole("button", { name: "Delete" }).click();

    const toast = page.getByTestId("toast").filter({ hasText: "moved to the trash" });
    await toast.waitFor();
    // The viewer shows the next image in its place; the server lists it no more, and has it in the trash.
    await poll(() => new URL(page.url()).searchParams.get("view")).toBe(ids[2]);
    const listed = async () => (await api<PageJson<ImageJson>>(context, "/api/images?limit=20")).items.map((i) => i.id);
    expect(await listed()).not.toContain(id);
    const trashed = async () => (await api<PageJson<{ id: string }>>(context, "/api/trash")).items.map((i) => i.id);
    expect(await trashed()).toContain(id);
    await shot(page, "viewer-deleted-phone");

    await toast.getByRole("button", { name: "Undo" }).click();
    await poll(listed).toContain(id);
    expect(await trashed()).not.toContain(id);
    await page.getByRole("button", { name: "Close" }).click();
    await poll(() => page.locator(`[data-testid="gallery-item"][data-id="${id}"]`).count()).toBe(1);

    // Deleted for good this time, then restored from the Trash page.
    await page.locator(`[data-testid="gallery-item"][data-id="${id}"]`).getByRole("button", { name: /^Open/ }).click();
    await page.getByTestId("lightbox").getByRole("button", { name: "Delete" }).click();
    await poll(listed).not.toContain(id);
    await page.goto(`${stack.url}/trash`);
    const row = page.locator(`[data-testid="trash-item"][data-id="${id}"]`);
    await row.waitFor();
    await shot(page, "trash-phone");
    await expectNoSidewaysScroll(page, "the trash");
    await row.getByRole("button", { name: /^Restore/ }).click();
    await poll(listed).toContain(id);
    await poll(trashed).not.toContain(id);
    await context.close();
  }, 120_000);
});

describe("managing sessions", () => {
  it("renames inline, deletes after asking (with Undo), clones, exports and imports a session", async () => {
    const context = await signedIn(manager, PHONE);
    const sessions = async () => (await api<PageJson<SessionJson>>(context, "/api/sessions?limit=50")).items;
    const [renamed, deleted, cloned] = (await sessions()) as [SessionJson, SessionJson, SessionJson];
    const page = await context.newPage();
    await page.goto(`${stack.url}/sessions`);
    const card = (title: string) => page.getByTestId("session-card").filter({ hasText: title });
    await card(renamed.title).waitFor();

    // Search looks at prompts too: a word of a prompt that no title has.
    const prompt = (await api<PageJson<ImageJson>>(context, `/api/images?limit=1&sessionId=${renamed.id}`)).items[0]
      ?.prompt;
    const word = (prompt ?? "").split(/\W+/)[1] ?? "";
    await page.getByLabel("Search sessions").fill(word);
    await page.waitForURL((url) => url.searchParams.get("q") === word);
    const found = (await api<PageJson<SessionJson>>(context, `/api/sessions?limit=50&q=${word}`)).items;
    expect(found.map((session) => session.id)).toContain(renamed.id);
    await poll(() => page.getByTestId("session-card").count()).toBe(found.length);
    await page.getByLabel("Search sessions").fill("");
    await page.waitForURL((url) => !url.searchParams.has("q"));
    await poll(() => page.getByTestId("session-card").count()).toBe(3);

    // Rename in place.
    await card(renamed.title).getByTestId("session-menu").click();
    await shot(page, "sessions-menu-phone");
    await expectNoSidewaysScroll(page, "the sessions page with a menu open");
    await page.getByRole("button", { name: "Rename" }).click();
    await page.getByLabel("Session title").fill("Red fox in snow");
    await page.getByLabel("Session title").press("Enter");
    await card("Red fox in snow").waitFor();
    await poll(async () => (await sessions()).find((s) => s.id === renamed.id)?.title).toBe("Red fox in snow");

    // Delete asks first, then Undo brings it back.
    await card(deleted.title).getByTestId("session-menu").click();
    await page.getByRole("button", { name: `Delete ${deleted.title}` }).click();
    await shot(page, "sessions-delete-confirm-phone");
    await page
      .getByRole("group", { name: /Move this session/ })
      .getByRole("button", { name: "Delete" })
      .click();
    await poll(() => card(deleted.title).count()).toBe(0);
    await poll(async () => (await sessions()).map((s) => s.id)).not.toContain(deleted.id);
    await page.getByTestId("toast").getByRole("button", { name: "Undo" }).click();
    await card(deleted.title).waitFor();
    expect((await sessions()).map((s) => s.id)).toContain(deleted.id);

    // Export as JSON, then import the file: a new session of the same shape.
    await card(cloned.title).getByTestId("session-menu").click();
    const [exported] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Export JSON" }).click(),
    ]);
    expect(exported.suggestedFilename()).toMatch(/\.json$/);
    const path = await exported.path();
    const document = JSON.parse(readFileSync(path, "utf8")) as { version: number; generations: unknown[] };
    expect(document.generations.length).toBe(cloned.generationCount);
    await page.getByLabel("Import a session (JSON or zip)").setInputFiles(path);
    await page.waitForURL(/\/sessions\/ses_/);
    const importedId = decodeURIComponent(new URL(page.url()).pathname.split("/").at(-1) ?? "");
    expect(importedId).not.toBe(cloned.id);
    const imported = await api<SessionJson>(context, `/api/sessions/${importedId}`);
    expect(imported.generationCount).toBe(cloned.generationCount);
    await page.getByTestId("toast").filter({ hasText: "Imported" }).waitFor();
    await shot(page, "session-imported-phone");

    // Clone opens the copy.
    await page.goto(`${stack.url}/sessions`);
    await card(cloned.title).first().waitFor();
    await card(cloned.title).first().getByTestId("session-menu").click();
    await page.getByRole("button", { name: "Clone" }).click();
    await page.waitForURL((url) => /^\/sessions\/ses_/.test(url.pathname) && !url.pathname.endsWith(cloned.id));
    await poll(async () => (await sessions()).length).toBe(5);
    await shot(page, "session-clone-phone");
    await context.close();
  }, 180_000);

  it("shows why an import was refused, with the path at fault, and creates nothing", async () => {
    const context = await signedIn(small, SMALL_PHONE);
    const count = async () => (await api<PageJson<SessionJson>>(context, "/api/sessions?limit=50")).items.length;
    const before = await count();
    const page = await context.newPage();
    await page.goto(`${stack.url}/sessions`);
    await page.getByLabel("Import a session (JSON or zip)").setInputFiles({
      name: "broken.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify({ version: 1, session: { title: "" }, generations: [{}], assets: [] })),
    });
    const error = page.getByTestId("import-error");
    await error.waitFor();
    await poll(() => error.locator("code").first().textContent()).toMatch(/\w+(\.\w+)*/);
    await shot(page, "sessions-import-error-phone");
    await expectNoSidewaysScroll(page, "the refused import");
    expect(await count()).toBe(before);
    await context.close();
  }, 60_000);

  it("opens a session of more than 1,000 generations a page at a time, older ones on demand", async () => {
    const context = await signedIn(bigSession, PHONE);
    const [session] = (await api<PageJson<SessionJson>>(context, "/api/sessions?limit=5")).items;
    if (!session) throw new Error("The big session is missing");
    expect(session.generationCount).toBeGreaterThan(1_000);
    const page = await context.newPage();
    await page.goto(`${stack.url}/sessions/${session.id}`);
    const generations = page.getByTestId("generation");
    await generations.first().waitFor({ timeout: 30_000 });
    const first = await generations.count();
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(100);
    // The header counts the whole session, not the page shown; the lineage says it is the newest part.
    await poll(() => page.locator(".session-head__meta").textContent()).toContain(
      `${session.generationCount.toLocaleString("en-US")} generations`,
    );
    expect(await page.locator(".lineage__summary").textContent()).toMatch(/^newest \d+ generations/);
    await page.getByTestId("load-older").click();
    await poll(() => generations.count()).toBeGreaterThan(first);
    expect(await generations.count()).toBeLessThan(session.generationCount);
    await shot(page, "session-big-phone");

    // An old image opened from the gallery comes with its session's newest generations, at once.
    const old = (
      await api<PageJson<ImageJson & { generationId: string }>>(
        context,
        `/api/images?limit=1&sessionId=${session.id}&to=${new Date(Date.now() - 300 * 86_400_000).toISOString().slice(0, 10)}`,
      )
    ).items[0];
    if (!old) throw new Error("No old image in the big session");
    await page.goto(`${stack.url}/sessions/${session.id}?g=${old.generationId}`);
    await page.locator(`[data-testid="generation"][data-generation-id="${old.generationId}"]`).waitFor();
    expect(await generations.count()).toBeLessThanOrEqual(100);
    await expectNoSidewaysScroll(page, "a session of 1,000 generations");
    await context.close();
  }, 120_000);
});

describe("every page fits the screen", () => {
  it.each([
    ["phone", SMALL_PHONE],
    ["desktop", DESKTOP],
  ] as const)(
    "on a %s, with long titles and many items: no sideways scroll, 44 px targets, Gallery in the navigation",
    async (name, viewport) => {
      const context = await signedIn(big, viewport);
      const watched = watchConsole(context);
      const long = `${"A very long session title that goes on ".repeat(4)}${"x".repeat(60)}`.slice(0, 200);
      const session = await api<SessionJson>(context, "/api/sessions", { method: "POST", data: { title: long } });
      const images = await api<PageJson<ImageJson>>(context, "/api/images?limit=1");
      const image = images.items[0];
      if (!image) throw new Error("No image");
      // A seeded session with a long title too, so its images carry it everywhere.
      await api(context, `/api/sessions/${image.sessionId}`, { method: "PATCH", data: { title: long } });
      const page = await context.newPage();
      const pages = [
        "/",
        "/sessions",
        "/sessions?q=zzzz-nothing",
        `/sessions/${session.id}`,
        `/sessions/${image.sessionId}`,
        "/gallery",
        `/gallery?view=${image.id}`,
        "/gallery?q=zzzz-nothing",
        "/trash",
        "/references",
        "/settings",
        "/no-such-page",
      ];
      for (const path of pages) {
        await page.goto(`${stack.url}${path}`);
        await page.locator("main").first().waitFor();
        await page.waitForLoadState("networkidle");
        await expectNoSidewaysScroll(page, path);
        if (name === "phone") {
          expect(await smallTargets(page), path).toEqual([]);
          // The bottom navigation reaches the gallery.
          const nav = page.getByRole("navigation", { name: "Main" }).last();
          expect(await nav.getByRole("link", { name: "Gallery" }).isVisible(), path).toBe(true);
          // Settings, left out of the bottom bar, is in the top bar.
          expect(await page.locator(".topbar").getByRole("link", { name: "Settings" }).isVisible(), path).toBe(true);
        } else {
          // On a wide screen Usage and Settings are in the navigation; the phone's icon links stay hidden.
          expect(await page.locator(".topbar__settings").first().isVisible(), path).toBe(false);
        }
        await shot(page, `fits-${name}${path.replace(/[/?=]/g, "_")}`);
      }
      // The gallery, its viewer and every other page work within the app's Content-Security-Policy.
      expect(watched.cspViolations()).toEqual([]);
      expect(watched.pageErrors()).toEqual([]);
      await context.close();

      // Signed out: the landing page and the sign-in page.
      const visitor = await browser.newContext({
        viewport,
        isMobile: viewport.width < 600,
        hasTouch: viewport.width < 600,
      });
      const signedOut = await visitor.newPage();
      for (const [path, arrived] of [
        ["/", /\/welcome/],
        ["/gallery", /\/sign-in/],
      ] as const) {
        await signedOut.goto(`${stack.url}${path}`);
        await signedOut.waitForURL(arrived);
        await signedOut.locator("main").first().waitFor();
        await signedOut.waitForLoadState("networkidle");
        const where = new URL(signedOut.url()).pathname;
        await expectNoSidewaysScroll(signedOut, where);
        if (name === "phone") expect(await smallTargets(signedOut), where).toEqual([]);
        await shot(signedOut, `fits-${name}${where.replace(/[/?=]/g, "_")}`);
      }
      await visitor.close();
    },
    240_000,
  );
});

describe("offline", () => {
  it("browses the gallery seen before with the network off, and serves nothing of a person after they sign out", async () => {
    const context = await signedIn(big, PHONE);
    const page = await context.newPage();
    await openGallery(page);
    // Installable: a manifest with the icons a phone asks for.
    const manifestUrl = await page.locator('link[rel="manifest"]').getAttribute("href");
    const manifest = await api<{ display: string; icons: { sizes: string }[] }>(context, manifestUrl ?? "/");
    expect(manifest.display).toBe("standalone");
    expect(manifest.icons.map((icon) => icon.sizes)).toEqual(expect.arrayContaining(["192x192", "512x512"]));
    // Once the service worker controls the page, the thumbnails it shows are kept.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
    await page.reload();
    await tiles(page).first().waitFor();
    const loaded = () =>
      page.$$eval(
        ".gtile__image",
        (images) =>
          images.filter((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0)
            .length,
      );
    await poll(loaded, { timeout: 30_000 }).toBeGreaterThanOrEqual(9);
    const online = await tileIds(page);

    await context.setOffline(true);
    await page.reload();
    await tiles(page).first().waitFor({ timeout: 30_000 });
    expect((await tileIds(page)).slice(0, 9)).toEqual(online.slice(0, 9));
    await poll(loaded, { timeout: 30_000 }).toBeGreaterThanOrEqual(9);
    await shot(page, "gallery-offline-phone");
    await context.setOffline(false);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/sign-in/);
    await poll(() =>
      page.evaluate(async () => (await caches.keys()).filter((name) => name.startsWith("studio-user:"))),
    ).toEqual([]);

    // Offline again: neither who they were nor their gallery nor a thumbnail comes from a cache.
    await context.setOffline(true);
    const thumbnail = `/api/assets/${online[0]}/thumbnail?w=256`;
    const served = await page.evaluate(
      async (paths) => {
        const answers: string[] = [];
        for (const path of paths) {
          const answer = await fetch(path).then(
            (response) => `${path} ${response.status}`,
            () => null,
          );
          if (answer) answers.push(answer);
        }
        return answers;
      },
      ["/api/me", "/api/images?limit=96", thumbnail],
    );
    expect(served).toEqual([]);
    await context.setOffline(false);
    await context.close();
  }, 120_000);
});
