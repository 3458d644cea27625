/**
 * A person in a phone-sized browser: signs up, types a prompt, generates with Ctrl+Enter, watches
 * the generation arrive live and sees the image, served from our own storage.
 *
 * Then iterates: picks one image of a batch and iterates from it, attaches reference photos (one
 * refused, one a duplicate), paints a mask, deletes a generation whose child then shows "source
 * deleted", and manages the References page (infinite scroll, delete). All of it under the app's
 * Content-Security-Policy, which the console never reports a violation of.
 *
 * A stranger first sees what the app is, and signs up from there; in Settings, a person manages
 * API tokens and deletes their account.
 *
 * One stack for the whole file: starting the app is the slow part.
 */
import { deflateSync } from "node:zlib";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleWatch, launchBrowser, readApi, watchConsole } from "./browser";
import { type Stack, startStack } from "./stack";

/** Screenshots of each step, to look at; `SCREENSHOT_DIR=docs/screenshots` refreshes the ones in the docs. */
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? ".e2e/screenshots";

const shot = (page: Page, name: string, fullPage = false) =>
  page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png`, fullPage });
let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack();
  // A public model outside the curated list, as Replicate would serve it: references as a list.
  const configured = await fetch(`${stack.emulatorUrl}/__control/models`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      id: "acme/moodboard",
      description: "Pictures in the mood of up to four reference images",
      inputs: {
        prompt: { kind: "string", description: "What to make", required: true },
        reference_images: { kind: "uri-list", description: "Images whose mood to follow", maxItems: 4 },
        seed: { kind: "integer", description: "Random seed" },
      },
    }),
  });
  expect(configured.status).toBe(201);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Signs up from the first page a stranger sees; the email it used. */
async function signUp(page: Page): Promise<string> {
  await page.goto(stack.url);
  await page.getByRole("link", { name: "Create an account" }).first().click();
  const email = `e2e-${Date.now()}@example.com`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByLabel("Prompt", { exact: true }).waitFor();
  return email;
}

describe("generating an image in the browser", () => {
  it("signs up, generates with Ctrl+Enter and shows the stored image live", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const watched = watchConsole(context);
    const page = await context.newPage();
    await signUp(page);
    await shot(page, "studio-landing");

    await page.getByLabel("Prompt", { exact: true }).fill("a lighthouse on a cliff at dawn, volumetric light");
    await page.getByLabel("Prompt", { exact: true }).press("Control+Enter");
    await page.waitForURL(/\/sessions\/ses_/);

    const card = page.locator('[data-testid="generation"]').first();
    await card.locator('[data-testid="output-image"]').first().waitFor({ timeout: 60_000 });
    expect(await card.getAttribute("data-status")).toBe("succeeded");
    const image = card.locator('[data-testid="output-image"]').first();
    await expect
      .poll(() => image.evaluate((element) => (element as HTMLImageElement).naturalWidth), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(await image.getAttribute("src")).toMatch(/^\/api\/assets\/ast_/);
    await expect.poll(() => page.locator('[aria-live="polite"]').first().textContent()).toMatch(/succeeded/i);
    await shot(page, "studio-session", true);

    await page.goto(`${stack.url}/sessions`);
    await expect
      .poll(() => page.getByText("a lighthouse on a cliff at dawn").count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    await shot(page, "studio-sessions");
    expect(watched.cspViolations()).toEqual([]);
    expect(watched.pageErrors()).toEqual([]);
    await context.close();
  }, 120_000);
});

// ---- A real PNG, different for every seed (references are deduplicated by SHA-256) -------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (bytes: Buffer): number => {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
};
const pngChunk = (type: string, data: Buffer): Buffer => {
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const out = Buffer.alloc(4 + body.length + 4);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 4 + body.length);
  return out;
};
function png(seed: number, size = 64): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    const row = y * (1 + size * 3);
    for (let x = 0; x < size; x++)
      rows.set([(x * 4 + seed * 37) & 255, (y * 4 + seed * 11) & 255, (seed * 53) & 255], row + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(rows)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

// ---- Helpers ------------------------------------------------------------------------------------

const TERMINAL = ["succeeded", "failed", "canceled", "timed_out"];

/** At least `count` generations, all finished. */
async function settled(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    ([n, terminal]) => {
      const cards = [...document.querySelectorAll<HTMLElement>('[data-testid="generation"]')];
      return cards.length >= n && cards.every((card) => terminal.includes(card.dataset.status ?? ""));
    },
    [count, TERMINAL] as const,
    { timeout: 60_000 },
  );
}

/** Adds a public model by name in the picker (the emulator serves it); it becomes the chosen one. */
async function addModel(page: Page, id: string): Promise<void> {
  await page.getByTestId("model-picker").click();
  await page.getByLabel("Add any public model from Replicate").fill(id);
  await page.locator(".modeldlg").getByRole("button", { name: "Add" }).click();
  await page.locator(".modeldlg").waitFor({ state: "detached" });
}

/** Opens the model picker and chooses a model. */
async function chooseModel(page: Page, id: string): Promise<void> {
  await page.getByTestId("model-picker").click();
  await page.locator(`.modeldlg button[data-model-id="${id}"]`).click();
  await page.locator(".modeldlg").waitFor({ state: "detached" });
}

async function submit(page: Page, prompt: string): Promise<void> {
  const before = await page.locator('[data-testid="lineage-node"]').count();
  await page.getByLabel("Prompt", { exact: true }).fill(prompt);
  await page.getByLabel("Prompt", { exact: true }).press("Control+Enter");
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="lineage-node"]').length > n, before, {
    timeout: 15_000,
  });
  await page.waitForFunction(() => document.querySelector("form.composer")?.getAttribute("aria-busy") !== "true");
}

type GenerationJson = {
  id: string;
  parentGenerationId: string | null;
  sourceOutputIndex: number | null;
  inputs: { role: string }[];
  references: { id: string }[];
};

async function selectedGeneration(page: Page): Promise<GenerationJson> {
  const id = await page
    .locator('[data-testid="lineage-node"][data-selected="true"]')
    .getAttribute("data-generation-id");
  const response = await readApi(page.request, `${stack.url}/api/generations/${id}`);
  expect(response.status()).toBe(200);
  return (await response.json()) as GenerationJson;
}

describe("iterating in the browser", () => {
  let context: BrowserContext;
  let page: Page;
  let watched: ConsoleWatch;

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true });
    watched = watchConsole(context);
    page = await context.newPage();
    await signUp(page);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
  });

  it("iterates from one image of a batch, shown in the viewer, rail and lineage", async () => {
    await page.getByLabel("Prompt", { exact: true }).fill("a red fox in fresh snow");
    await page.getByLabel("Prompt", { exact: true }).press("Control+Enter");
    await page.waitForURL(/\/sessions\/ses_/);
    await page.locator('[data-testid="viewer"] img[data-testid="viewer-image"]').waitFor({ timeout: 60_000 });
    // Made from a prompt with a text-only model, the session opens on "New from text", not on a mode
    // its model would refuse.
    expect(await page.getByRole("button", { name: "New from text" }).getAttribute("aria-pressed")).toBe("true");
    expect(await page.locator(".composer__note").count()).toBe(0);

    await page.getByRole("button", { name: "New from text" }).click();
    await page.getByRole("button", { name: "More options" }).click();
    // flux-schnell's own setting, from its schema.
    await page.getByLabel("Num Outputs", { exact: true }).fill("2");
    await page.getByRole("button", { name: "More options" }).click();
    await submit(page, "a watercolor map of an island");
    await settled(page, 2);
    await expect.poll(() => page.locator('[data-testid="history-item"]').count()).toBe(3);
    const batchId = await page.locator('[data-testid="generation"]').nth(1).getAttribute("data-generation-id");

    // The second image of the batch, on its own.
    await page.locator('[data-testid="history-item"]').nth(2).click();
    await expect.poll(() => page.locator(".viewer__bar").textContent()).toContain("batch image 2 of 2");
    await page.getByRole("button", { name: "Iterate from this image" }).click();
    // flux-schnell can't start from an image: the form says so, and the person chooses another.
    expect(await page.locator(".composer__note").textContent()).toContain("can't start from an image");
    await page.getByRole("button", { name: /^Use .* instead$/ }).click();
    await submit(page, "the island at sunset");
    await settled(page, 3);

    const child = await selectedGeneration(page);
    expect(child.parentGenerationId).toBe(batchId);
    expect(child.sourceOutputIndex).toBe(1);
    expect(await page.locator('[data-testid="lineage-node"][data-selected="true"]').textContent()).toContain(
      "from image 2",
    );
    expect(await page.locator('[data-testid="viewer-image"]').getAttribute("src")).toMatch(/^\/api\/assets\/ast_/);
    await shot(page, "iterate-lineage", true);
  });

  it("attaches reference images: one refused, one deduplicated, the rest sent", async () => {
    await page.getByRole("button", { name: "New from text" }).click();
    // The tray says what the chosen model takes before anything is uploaded: this one takes none, so
    // the person adds (by name) a public model that takes a list of references.
    expect(await page.getByTestId("reference-limit").textContent()).toContain("takes none");
    await addModel(page, "acme/moodboard");
    await expect.poll(() => page.getByTestId("reference-limit").textContent()).toBe("0 of 4 for moodboard");
    const photo = png(1);
    await page.getByLabel("Add reference images").setInputFiles([
      { name: "fox.png", mimeType: "image/png", buffer: photo },
      { name: "fox-again.png", mimeType: "image/png", buffer: photo },
      { name: "notes.png", mimeType: "image/png", buffer: Buffer.from("not an image") },
    ]);
    const tray = page.locator('[data-testid="reference-tray"]');
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLElement>('[data-testid="reference-chip"]')].every(
        (chip) => chip.dataset.status !== "uploading",
      ),
    );
    await expect.poll(() => tray.locator('[data-testid="reference-chip"][data-status="ready"]').count()).toBe(1);
    const refused = tray.locator('[data-testid="reference-chip"][data-status="failed"]');
    expect(await refused.count()).toBe(1);
    expect(await refused.textContent()).toContain("notes.png");
    expect(await tray.locator('[data-testid="reference-chip"][data-status="ready"]').textContent()).toMatch(
      /fresh|will refresh on use/,
    );

    await refused.getByRole("button", { name: /^Remove/ }).click();
    await submit(page, "a fox portrait after the reference");
    await settled(page, 4);
    const made = await selectedGeneration(page);
    expect(made.references).toHaveLength(1);
    await shot(page, "references-tray", true);

    // "Use this batch" brings the references back after they're cleared.
    await tray
      .locator('[data-testid="reference-chip"]')
      .first()
      .getByRole("button", { name: /^Remove/ })
      .click();
    expect(await tray.locator('[data-testid="reference-chip"]').count()).toBe(0);
    await page.getByRole("button", { name: "Use this batch" }).click();
    expect(await tray.locator('[data-testid="reference-chip"]').count()).toBe(1);
    expect(await page.getByLabel("Prompt", { exact: true }).inputValue()).toBe("a fox portrait after the reference");
    await tray
      .locator('[data-testid="reference-chip"]')
      .first()
      .getByRole("button", { name: /^Remove/ })
      .click();
  });

  it("paints a mask on the selected image and sends it with the next generation", async () => {
    await page.locator('[data-testid="history-item"]').first().click();
    await page.getByRole("button", { name: "Iterate from this image" }).click();
    // The model picked for iterating takes no mask: the form says so and offers one that does.
    await page.getByRole("button", { name: /^Switch to/ }).click();
    await page.getByRole("button", { name: "Draw a mask" }).click();
    const canvas = page.locator('[data-testid="mask-canvas"]');
    await canvas.waitFor();
    await expect.poll(() => canvas.evaluate((element) => (element as HTMLCanvasElement).width)).toBeGreaterThan(0);
    const box = await canvas.boundingBox();
    if (!box) throw new Error("no canvas box");
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++)
      await page.mouse.move(box.x + box.width * (0.3 + i * 0.04), box.y + box.height * (0.3 + i * 0.04));
    await page.mouse.up();
    await shot(page, "mask-editor");
    await page.getByRole("button", { name: "Use mask" }).click();
    await page.locator('[data-testid="mask-chip"]').waitFor({ timeout: 15_000 });

    await submit(page, "the fox wearing a tiny scarf");
    await settled(page, 5);
    const masked = await selectedGeneration(page);
    expect(masked.parentGenerationId).not.toBeNull();
    expect(masked.inputs.some((asset) => asset.role === "mask")).toBe(true);
  });

  it("deletes a generation after confirming; its child becomes a root marked source deleted", async () => {
    await page.locator('[data-testid="lineage-node"]').filter({ hasText: "watercolor map" }).click();
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Delete" }).click();
    await expect
      .poll(() => page.locator('[data-testid="lineage-node"]').filter({ hasText: "watercolor map" }).count())
      .toBe(0);
    expect(
      await page.locator('[data-testid="lineage-node"]').filter({ hasText: "the island at sunset" }).textContent(),
    ).toContain("source deleted");
    await shot(page, "source-deleted", true);
  });

  it("lists references newest first with infinite scroll, and deletes one", async () => {
    for (let seed = 10; seed < 42; seed++) {
      const response = await page.request.post(`${stack.url}/api/references`, {
        multipart: { file: { name: `ref-${seed}.png`, mimeType: "image/png", buffer: png(seed) } },
      });
      expect(response.status()).toBe(201);
    }
    await page.goto(`${stack.url}/references`);
    const rows = page.locator('[data-testid="reference-row"]');
    await rows.first().waitFor();
    expect(await rows.first().textContent()).toContain("ref-41.png");
    await rows.last().scrollIntoViewIfNeeded();
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(33);

    await rows
      .first()
      .getByRole("button", { name: /^Delete/ })
      .click();
    await rows.first().getByRole("button", { name: "Delete", exact: true }).click();
    await expect.poll(() => rows.count()).toBe(32);
    expect(await rows.first().textContent()).toContain("ref-40.png");
    await shot(page, "references-page");
  });

  it("did all of it without one Content-Security-Policy violation", () => {
    expect(watched.cspViolations()).toEqual([]);
    expect(watched.pageErrors()).toEqual([]);
  });
});

describe("any model, video and usage in the browser", () => {
  /** No sideways scrolling at this size. */
  const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  /** Controls under `scope` that are shown but smaller than a 44 px touch target, described. */
  const smallTargets = (page: Page, scope: string) =>
    page.evaluate((selector) => {
      const controls = document.querySelectorAll<HTMLElement>(
        `${selector} :is(button, a[href], input:not([type="hidden"]), select, textarea, summary)`,
      );
      return [...controls].flatMap((control) => {
        const own = control.getBoundingClientRect();
        if (own.width === 0 || own.height === 0 || getComputedStyle(control).visibility === "hidden") return [];
        // A file picker or a switch is tapped through its label; a range's track takes the tap anywhere
        // along it, and its number field is the precise target.
        const label = control instanceof HTMLInputElement ? control.labels?.[0]?.getBoundingClientRect() : undefined;
        const width = Math.max(own.width, label?.width ?? 0);
        const height = control.matches('input[type="range"]') ? 44 : Math.max(own.height, label?.height ?? 0);
        if (height >= 44 && width >= 44) return [];
        const name = control.getAttribute("aria-label") ?? control.textContent?.trim() ?? control.id;
        return [`${control.tagName.toLowerCase()} "${name}" ${Math.round(width)}×${Math.round(height)}`];
      });
    }, scope);

  for (const [size, viewport] of [
    ["desktop", { width: 1280, height: 860 }],
    ["phone", { width: 390, height: 844 }],
  ] as const) {
    it(`on a ${size}: SDXL's own controls, a model added by name, an image animated, the usage chart`, async () => {
      const phone = size === "phone";
      const context = await browser.newContext({ viewport, deviceScaleFactor: phone ? 2 : 1, hasTouch: phone });
      const page = await context.newPage();
      await signUp(page);
      const tooSmall: string[] = [];

      // SDXL: its scheduler as a select, its guidance as a slider with a number, from its schema.
      await chooseModel(page, "stability-ai/sdxl");
      expect(await page.getByTestId("model-picker").textContent()).toContain("sdxl");
      expect(await page.getByTestId("cost-estimate").textContent()).toMatch(/About \$0\.0078 \(billed by GPU time\)/);
      await page.getByRole("button", { name: "More options" }).click();
      const scheduler = page.getByLabel("Scheduler", { exact: true });
      await scheduler.waitFor();
      expect(await scheduler.evaluate((element) => element.tagName)).toBe("SELECT");
      expect(await scheduler.locator("option").allTextContents()).toContain("K_EULER_ANCESTRAL");
      await scheduler.selectOption("DDIM");
      const guidance = page.locator('[data-field="guidance_scale"]');
      expect(await guidance.locator('input[type="range"]').count()).toBe(1);
      await guidance.getByLabel("Guidance Scale", { exact: true }).fill("9");
      expect(await page.getByText("More settings").count()).toBe(1);
      await shot(page, `models-sdxl-form-${size}`, true);
      expect(await fitsWidth(page)).toBe(true);
      tooSmall.push(...(await smallTargets(page, "form.composer")));
      await page.getByLabel("Prompt", { exact: true }).fill("a paper boat on a pond, morning mist");
      await page.getByLabel("Prompt", { exact: true }).press("Control+Enter");
      await page.waitForURL(/\/sessions\/ses_/);
      await page.locator('[data-testid="viewer"] img[data-testid="viewer-image"]').waitFor({ timeout: 60_000 });
      const first = await selectedGeneration(page);
      const stored = (await (await readApi(page.request, `${stack.url}/api/generations/${first.id}`)).json()) as {
        params: Record<string, unknown>;
      };
      expect(stored.params).toMatchObject({ scheduler: "DDIM", guidance_scale: 9, seed: expect.any(Number) });
      // Its details name the model's own settings as labels, not by their code names.
      const labels = await page.locator("dl.params dt").allTextContents();
      expect(labels).toEqual(expect.arrayContaining(["Seed", "Scheduler", "Guidance scale"]));
      expect(labels.filter((label) => /_|[a-z][A-Z]/.test(label))).toEqual([]);
      await expect.poll(() => page.getByTestId("quota-left").textContent()).toContain("generations");

      // A public model by name: its own form (kling's duration is a select of integers).
      await page.getByTestId("model-picker").click();
      await page.getByLabel("Add any public model from Replicate").fill("nobody/no-such-model");
      await page.locator(".modeldlg").getByRole("button", { name: "Add" }).click();
      await expect.poll(() => page.locator(".modeldlg .field__error").textContent()).toContain("does not know");
      await shot(page, `models-picker-${size}`);
      tooSmall.push(...(await smallTargets(page, ".modeldlg")));
      await page.getByLabel("Add any public model from Replicate").fill("kwaivgi/kling-v2.0");
      await page.locator(".modeldlg").getByRole("button", { name: "Add" }).click();
      await page.locator(".modeldlg").waitFor({ state: "detached" });
      expect(await page.getByTestId("model-picker").textContent()).toContain("kling-v2.0");
      await page.getByRole("button", { name: "More options" }).click();
      const duration = page.getByLabel("Duration", { exact: true });
      await expect.poll(() => duration.locator("option").allTextContents()).toEqual(["5", "10"]);
      expect(await page.locator('[data-field="cfg_scale"] input[type="range"]').count()).toBe(1);
      // The session was made from text, so it opened on "New from text": the start image follows the
      // person's choice of source.
      expect(await page.locator('[data-field="start_image"]').textContent()).toContain("None");
      await page.getByRole("button", { name: "Iterate from this image" }).click();
      expect(await page.locator('[data-field="start_image"]').textContent()).toContain("From");
      await shot(page, `models-kling-form-${size}`, true);
      tooSmall.push(...(await smallTargets(page, "form.composer")));
      await page.getByRole("button", { name: "More options" }).click();
      await chooseModel(page, "stability-ai/sdxl");

      // Animate the image (with the default video model, $0.50): a real MP4 that plays inline, with its poster.
      await page.getByRole("button", { name: "Animate" }).click();
      const video = page.locator('[data-testid="viewer-video"]');
      await video.waitFor({ timeout: 90_000 });
      expect(await video.getAttribute("poster")).toMatch(/^\/api\/assets\/ast_\w+\/thumbnail\?w=768$/);
      expect(await video.evaluate((element) => (element as HTMLVideoElement).canPlayType("video/mp4"))).not.toBe("");
      await video.evaluate((element) => {
        const player = element as HTMLVideoElement;
        player.muted = true;
        return player.play();
      });
      // Decoded (a frame to show) and playing on: the clock moves.
      await expect
        .poll(() => video.evaluate((element) => (element as HTMLVideoElement).readyState), { timeout: 20_000 })
        .toBeGreaterThanOrEqual(2);
      await expect
        .poll(() => video.evaluate((element) => (element as HTMLVideoElement).currentTime), { timeout: 20_000 })
        .toBeGreaterThan(0.2);
      expect(await video.evaluate((element) => (element as HTMLVideoElement).error)).toBeNull();
      await shot(page, `video-playing-${size}`, true);
      expect(await fitsWidth(page)).toBe(true);
      tooSmall.push(...(await smallTargets(page, ".viewer")));

      // Usage: today's bars and the session that cost the most.
      await page.getByRole("link", { name: "Usage" }).first().click();
      const chart = page.getByTestId("usage-chart");
      await chart.waitFor();
      expect(await chart.locator("rect.usagechart__bar").count()).toBe(30);
      const lastBar = chart.locator("rect.usagechart__bar").last();
      expect(Number(await lastBar.getAttribute("height"))).toBeGreaterThan(0);
      expect(await page.getByTestId("usage-total").textContent()).toMatch(/^\$0\.5\d/);
      expect(await page.locator(".usage__sessions li").count()).toBe(1);
      await shot(page, `usage-${size}`, true);
      expect(await fitsWidth(page)).toBe(true);
      tooSmall.push(...(await smallTargets(page, "main.usage")));
      expect(tooSmall).toEqual([]);
      await context.close();
    }, 180_000);
  }
});

describe("loading a page's data", () => {
  it("asks once per visit: the route's preload and the page share the request; coming back asks again", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signUp(page);
    const created = await page.request.post(`${stack.url}/api/sessions`, { data: { title: "Preloaded session" } });
    expect(created.status()).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const requests: string[] = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith("/api/sessions")) requests.push(`${request.method()} ${url.pathname}`);
    });
    const count = (key: string) => requests.filter((request) => request === key).length;

    // Clicking a link hovers it first (a preload), then navigates (the preload again, and the page).
    await page.getByRole("link", { name: "Sessions" }).first().click();
    await page.getByText("Preloaded session").waitFor();
    expect(count("GET /api/sessions")).toBe(1);

    await page.getByText("Preloaded session").click();
    await page.waitForURL(`**/sessions/${id}`);
    await page.getByLabel("Prompt", { exact: true }).waitFor();
    expect(count(`GET /api/sessions/${id}`)).toBe(1);

    await page.goBack();
    await page.getByText("Preloaded session").waitFor();
    await expect.poll(() => count("GET /api/sessions")).toBe(2);
    await context.close();
  }, 60_000);
});

describe("a first visit", () => {
  it("shows a stranger what the app does, with examples, and the way to sign up", async () => {
    for (const viewport of [
      { width: 360, height: 780 },
      { width: 1280, height: 860 },
    ]) {
      const context = await browser.newContext({ viewport });
      const watched = watchConsole(context);
      const page = await context.newPage();
      await page.goto(stack.url);
      await page.waitForURL(`${stack.url}/welcome`);
      await page.getByRole("heading", { level: 1 }).waitFor();
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toMatch(/prompt/i);
      const examples = page.locator(".welcome__examples img");
      expect(await examples.count()).toBe(4);
      for (const image of await examples.all()) {
        await image.scrollIntoViewIfNeeded();
        await expect.poll(() => image.evaluate((element) => (element as HTMLImageElement).naturalWidth)).toBe(384);
      }
      expect(
        await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
      ).toBe(0);
      for (const link of await page.getByRole("link", { name: /create an account|sign in|start making/i }).all()) {
        const box = await link.boundingBox();
        expect(box?.height ?? 0).toBeGreaterThanOrEqual(44);
      }
      await shot(page, `welcome-${viewport.width}`, true);
      await page.getByRole("link", { name: "Create an account" }).first().click();
      await page.waitForURL(`${stack.url}/sign-up`);
      expect(watched.cspViolations()).toEqual([]);
      await context.close();
    }
  }, 60_000);
});

describe("settings", () => {
  it("creates, lists and revokes an API token, then deletes the account with the password", async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 780 } });
    const watched = watchConsole(context);
    const page = await context.newPage();
    const email = await signUp(page);
    await page.getByRole("link", { name: "Settings" }).last().click();
    await page.waitForURL(`${stack.url}/settings`);

    // A token: its secret shown once, and it works.
    await page.getByLabel("Token name").fill("nightly export");
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = await page.getByLabel("Secret of nightly export").inputValue();
    expect(secret).toMatch(/^isk_/);
    const rows = page.locator('[data-testid="token-row"]');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain("nightly export");
    const asScript = () => fetch(`${stack.url}/api/me`, { headers: { Authorization: `Bearer ${secret}` } });
    expect((await asScript()).status).toBe(200);
    await shot(page, "settings-tokens", true);

    // Revoked: gone from the list, refused by the API.
    await rows.first().getByRole("button", { name: "Revoke nightly export" }).click();
    await rows.first().getByRole("button", { name: "Revoke", exact: true }).click();
    await expect.poll(() => rows.count()).toBe(0);
    expect((await asScript()).status).toBe(401);

    // Deleting the account: the wrong password deletes nothing; the right one deletes it all.
    await page.getByLabel("Your password").fill("not my password");
    await page.getByRole("button", { name: "Delete my account" }).click();
    await expect.poll(() => page.locator("#delete-password-error").textContent()).toBe("That password is not right");
    expect((await readApi(page.request, `${stack.url}/api/me`)).status()).toBe(200);
    await page.getByLabel("Your password").fill("correct horse battery");
    await page.getByRole("button", { name: "Delete my account" }).click();
    await page.waitForURL(`${stack.url}/welcome?deleted=1`);
    await page.getByText("Your account and everything in it were deleted.").waitFor();
    expect((await readApi(page.request, `${stack.url}/api/me`)).status()).toBe(401);
    const signIn = await page.request.post(`${stack.url}/api/auth/login`, {
      data: { email, password: "correct horse battery" },
      headers: { Origin: stack.url },
    });
    expect(signIn.status()).toBe(401);
    expect(watched.cspViolations()).toEqual([]);
    await context.close();
  }, 90_000);
});
