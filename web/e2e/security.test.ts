/**
 * The app shell defends itself, served as `npm run dev` serves it (the Worker's static assets):
 *
 * - every page and a hashed asset carry the security headers;
 * - another site cannot frame it;
 * - hostile text — in session titles, prompts, a failure's message, reference file names, a token's
 *   name — is shown as text on every page: no element injected, no script run (a canary would set
 *   a global), no link made of it, and no sideways overflow on a phone or a desktop; no CSP report.
 */
import { readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, missingShellHeaders, readApi, watchConsole } from "./browser";
import { freePort, type Stack, startStack } from "./stack";

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
}, 200_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const APP_ROUTES = [
  "/",
  "/welcome",
  "/sign-in",
  "/sign-up",
  "/sessions",
  "/sessions/ses_x",
  "/references",
  "/settings",
];

describe("headers", () => {
  it("every page and a hashed asset carry the app shell's security headers", async () => {
    const asset = readdirSync(join(stack.webDir, "assets")).find((name) => name.endsWith(".js"));
    for (const path of [...APP_ROUTES, `/assets/${asset}`, "/favicon.svg", "/examples/fox.webp"]) {
      const response = await fetch(`${stack.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(missingShellHeaders(response.headers), path).toEqual([]);
      await response.arrayBuffer();
    }
  });

  it("hashed assets are kept for a year, pages are asked for again, and no source map is served", async () => {
    // The stack's own build of the web app: no map beside the bundles, nor beside the service worker.
    const built = readdirSync(join(stack.webDir, "assets"));
    expect(built.filter((name) => name.endsWith(".map"))).toEqual([]);
    expect(readdirSync(stack.webDir).filter((name) => name.endsWith(".map"))).toEqual([]);
    for (const name of built) {
      const response = await fetch(`${stack.url}/assets/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.headers.get("Cache-Control"), name).toBe("public, max-age=31536000, immutable");
      // The bundle does not point at a map.
      expect(await response.text(), name).not.toContain("sourceMappingURL");
    }
    const page = await fetch(`${stack.url}/sessions`);
    expect(page.headers.get("Cache-Control") ?? "").not.toContain("immutable");
    await page.arrayBuffer();
    const js = built.find((name) => name.endsWith(".js"));
    const map = await fetch(`${stack.url}/assets/${js}.map`);
    // Unknown paths fall back to the app's page: never to a map's JSON.
    expect(await map.text()).not.toContain('"mappings"');
  });
});

describe("framing", () => {
  let other: Server;
  let otherUrl: string;

  beforeAll(async () => {
    // Another origin (another port) whose page frames the app.
    const port = await freePort();
    other = createServer((_request, response) => {
      response.setHeader("Content-Type", "text/html");
      response.end(`<!doctype html><title>elsewhere</title><iframe id="victim" src="${stack.url}/sign-in"></iframe>`);
    });
    await new Promise<void>((resolve) => other.listen(port, "127.0.0.1", resolve));
    otherUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(() => new Promise<void>((resolve) => other.close(() => resolve())));

  it("a page of another origin cannot show the app in a frame", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const refusals: string[] = [];
    page.on("console", (message) => {
      if (/frame-ancestors|X-Frame-Options/i.test(message.text())) refusals.push(message.text());
    });
    await page.goto(otherUrl);
    await page.locator("#victim").waitFor();
    await expect.poll(() => refusals.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(refusals.join("\n")).toMatch(/frame-ancestors 'none'/);
    // Nothing of the app rendered inside: the frame holds the browser's error page.
    const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
    expect(frame).toBeDefined();
    expect(await frame!.locator("#auth-email").count()).toBe(0);
    expect(frame!.url()).not.toContain("/sign-in");
    await context.close();
  });
});

// ---- Hostile content ------------------------------------------------------------------------

const CANARY = "__pwned";
const HOSTILE = [
  `<script>window.${CANARY}=1</script>`,
  `<img src=x onerror="window.${CANARY}=1">`,
  `javascript:window.${CANARY}=1`,
  "\u202Egnp.exe\u202C ‮reversed‬ \u2067isolated\u2069",
];
const longWord = (length: number) => "W".repeat(length);

function png(seed: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let value = 0xffffffff;
    for (const byte of bytes) value = (crcTable[(value ^ byte) & 0xff] ?? 0) ^ (value >>> 8);
    return (value ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(16, 0);
  header.writeUInt32BE(16, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc(16 * 49, seed & 255);
  for (let y = 0; y < 16; y++) rows[y * 49] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Whatever a hostile string could have done to the page. */
async function damage(page: Page) {
  return page.evaluate((canary) => {
    const injected = [...document.querySelectorAll("script:not([src]), img[src='x'], [onerror], [onload]")].map(
      (element) => element.outerHTML.slice(0, 120),
    );
    const scriptLinks = [...document.querySelectorAll("a[href]")]
      .map((link) => link.getAttribute("href") ?? "")
      .filter((href) => href.trim().toLowerCase().startsWith("javascript:"));
    return {
      canary: canary in window,
      injected,
      scriptLinks,
      overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    };
  }, CANARY);
}

describe("hostile content", () => {
  it("is shown as text on every page, runs nothing and never breaks the layout", async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 780 } });
    const watched = watchConsole(context);
    const page = await context.newPage();
    const signup = await page.request.post(`${stack.url}/api/auth/signup`, {
      data: { email: `hostile-${Date.now()}@example.com`, password: "correct horse battery" },
      headers: { Origin: stack.url },
    });
    expect(signup.status()).toBe(201);
    const post = async (path: string, data: unknown) => {
      const response = await page.request.post(`${stack.url}${path}`, { data, headers: { Origin: stack.url } });
      expect(response.status(), `${path}: ${await response.text()}`).toBeLessThan(300);
      return (await response.json()) as { id: string };
    };

    // Sessions titled with each hostile string and the longest unbroken title there can be.
    const sessions = [];
    for (const title of [...HOSTILE, longWord(200)]) sessions.push(await post("/api/sessions", { title }));
    // Generations whose prompts are hostile; one fails with a hostile message from Replicate.
    const tag = `t${Date.now()}`;
    const failing = await fetch(`${stack.emulatorUrl}/__control/faults`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        match: { promptIncludes: tag },
        effect: { type: "fail", error: `${HOSTILE[1]} ${HOSTILE[0]} ${longWord(3000)}` },
      }),
    });
    expect(failing.status).toBe(201);
    const target = sessions[0]!.id;
    for (const prompt of [...HOSTILE, longWord(4000), `${tag} ${HOSTILE[1]}`]) {
      await post(`/api/sessions/${target}/generations`, {
        // A model that takes a negative prompt, so it is stored and shown too.
        model: "stability-ai/sdxl",
        prompt,
        negativePrompt: HOSTILE[0],
      });
    }
    // References named with them (names are kept up to 200 characters).
    for (const [index, name] of [...HOSTILE.map((text) => `${text}.png`), `${longWord(196)}.png`].entries()) {
      const response = await page.request.post(`${stack.url}/api/references`, {
        multipart: { file: { name, mimeType: "image/png", buffer: png(index) } },
        headers: { Origin: stack.url },
      });
      expect(response.status()).toBe(201);
    }
    // API tokens too.
    await post("/api/tokens", { name: HOSTILE[1] });
    await post("/api/tokens", { name: longWord(100) });

    // Let every generation finish (one fails), so the pages show results and the failure.
    await expect
      .poll(
        async () => {
          const detail = (await (await readApi(page.request, `${stack.url}/api/sessions/${target}`)).json()) as {
            generations: { status: string }[];
          };
          return detail.generations.filter((g) => ["succeeded", "failed"].includes(g.status)).length;
        },
        { timeout: 60_000 },
      )
      .toBe(HOSTILE.length + 2);

    const pages = [
      "/",
      "/sessions",
      ...sessions.map((s) => `/sessions/${s.id}`),
      "/references",
      // The most expensive sessions, by their titles.
      "/usage",
      "/settings",
    ];
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: width === 360 ? 780 : 860 });
      for (const path of pages) {
        await page.goto(`${stack.url}${path}`);
        await page.locator("main").first().waitFor();
        await page.waitForLoadState("networkidle");
        expect(await damage(page), `${path} at ${width} px`).toEqual({
          canary: false,
          injected: [],
          scriptLinks: [],
          overflow: 0,
        });
      }
      // The hostile text is there, as text.
      await page.goto(`${stack.url}/sessions`);
      await expect.poll(() => page.getByText(HOSTILE[1]!, { exact: true }).count()).toBeGreaterThan(0);
      await page.goto(`${stack.url}/sessions/${target}`);
      await expect.poll(() => page.getByText(HOSTILE[1]!).count()).toBeGreaterThan(0);
      await page.screenshot({ path: `.e2e/screenshots/hostile-session-${width}.png` });
      await page.goto(`${stack.url}/references`);
      await page.screenshot({ path: `.e2e/screenshots/hostile-references-${width}.png` });
      await page.goto(`${stack.url}/settings`);
      await page.screenshot({ path: `.e2e/screenshots/hostile-settings-${width}.png`, fullPage: true });
    }

    expect(watched.cspViolations()).toEqual([]);
    expect(watched.pageErrors()).toEqual([]);
    await context.close();
  }, 180_000);
});
