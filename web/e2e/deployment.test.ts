/**
 * The app as it is deployed: the web app on Pages, whose Function forwards /api/* to the API Worker
 * through a service binding — `wrangler pages dev` on the built site, bound to the Worker that
 * `npm run dev` runs. The Worker talks to a Replicate it does not start (the emulator, started here
 * on its own, as a real backend would be) and has no PUBLIC_URL: no webhook is asked for, and the
 * session's room polls for the result.
 *
 * A person signs up, generates, and the image arrives over the live socket — all through the Pages
 * origin, with every page and file carrying the app's security headers and no CSP violation.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../emulator/server";
import { launchBrowser, missingShellHeaders, readApi, watchConsole } from "./browser";
import { freePort, offlineWranglerEnv, type Stack, type StartedProcess, startProcess, startStack } from "./stack";

const TOKEN = "r8_deployment_test";

let emulator: RunningEmulator;
let stack: Stack;
let pages: StartedProcess & { url: string };
let browser: Browser;
let scratch: string;

/** `wrangler pages dev` on the built site, bound to the stack's Worker by the `API` service binding. */
async function startPagesDev(registryPath: string, webDir: string): Promise<typeof pages> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const started = startProcess(
    "../node_modules/.bin/wrangler",
    ["pages", "dev", webDir, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)],
    { cwd: "pages", env: offlineWranglerEnv(registryPath) },
  );
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && started.child.exitCode === null) {
    // Ready once the Function reaches the Worker: the health probe answers through the proxy.
    const health = await fetch(`${url}/api/health`).catch(() => null);
    if (health?.ok) return { ...started, url };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`wrangler pages dev did not serve ${url}:\n${started.output().slice(-4000)}`);
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "studio-deployment-"));
  emulator = await startEmulator({ port: 0, deliverWebhooks: false });
  const devVars = join(scratch, "dev.vars");
  // A real backend as `.dev.vars` names one: a base URL and a token, and no PUBLIC_URL.
  writeFileSync(
    devVars,
    [
      `REPLICATE_BASE_URL=${emulator.url}/v1`,
      `REPLICATE_API_TOKEN=${TOKEN}`,
      `REPLICATE_OUTPUT_HOSTS=${new URL(emulator.url).host}`,
      "",
    ].join("\n"),
  );
  stack = await startStack({ env: { STUDIO_DEV_VARS: devVars } });
  pages = await startPagesDev(stack.registryPath, stack.webDir);
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await pages?.stop();
  await stack?.stop();
  await emulator?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe("npm run dev with a real Replicate and no PUBLIC_URL", () => {
  it("starts no emulator of its own and says results arrive by polling", () => {
    expect(stack.output()).toContain(`Replicate at ${emulator.url}/v1; no PUBLIC_URL, so results arrive by polling`);
    expect(stack.output()).not.toContain("Replicate emulator at");
  });
});

describe("the Pages deployment, bound to the Worker", () => {
  it("serves every page and a hashed asset with the app's security headers, and the API with its own", async () => {
    const assets = readdirSync(join(stack.webDir, "assets")).filter((name) => /\.(js|css)$/.test(name));
    expect(assets.length).toBeGreaterThan(0);
    const paths = ["/", "/sign-in", "/sign-up", "/sessions", "/sessions/ses_anything", "/references", "/settings"];
    for (const path of [...paths, `/assets/${assets[0]}`]) {
      const response = await fetch(`${pages.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(missingShellHeaders(response.headers), path).toEqual([]);
      await response.arrayBuffer();
    }
    const health = await fetch(`${pages.url}/api/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get("cache-control")).toBe("no-store");
    expect(health.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await health.json()).toMatchObject({ ok: true, replicate: true, replicateBaseUrl: `${emulator.url}/v1` });
  });

  it("signs up, generates, and the image arrives over the live socket, polled without a webhook", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const watched = watchConsole(context);
    const page = await context.newPage();
    const sockets: { url: string; frames: string[] }[] = [];
    page.on("websocket", (socket) => {
      const seen = { url: socket.url(), frames: [] as string[] };
      sockets.push(seen);
      socket.on("framereceived", (frame) => seen.frames.push(String(frame.payload)));
    });

    await page.goto(`${pages.url}/sign-up`);
    await page.getByLabel("Email").fill(`pages-${Date.now()}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByLabel("Prompt", { exact: true }).waitFor();
    const cookies = await context.cookies(pages.url);
    expect(cookies.find((cookie) => cookie.name === "studio_session")).toMatchObject({ httpOnly: true });

    await page.getByLabel("Prompt", { exact: true }).fill("a paper boat on a rainy street");
    await page.getByLabel("Prompt", { exact: true }).press("Control+Enter");
    await page.waitForURL(/\/sessions\/ses_/);
    const sessionId = new URL(page.url()).pathname.split("/").at(-1);
    const card = page.locator('[data-testid="generation"]').first();
    // Well within the 20 s a room waits before its safety-net poll when webhooks are expected.
    await card.locator('[data-testid="output-image"]').first().waitFor({ timeout: 15_000 });
    expect(await card.getAttribute("data-status")).toBe("succeeded");

    // The live socket went through the Pages origin and carried the result.
    const live = sockets.find(
      (socket) => socket.url === `${pages.url.replace("http", "ws")}/api/sessions/${sessionId}/live`,
    );
    expect(live, JSON.stringify(sockets.map((socket) => socket.url))).toBeDefined();
    expect(live!.frames.some((frame) => frame.includes('"generation.updated"') && frame.includes('"succeeded"'))).toBe(
      true,
    );

    // Replicate was asked for no webhook, and found the result by polling.
    const generationId = await card.getAttribute("data-generation-id");
    const generation = (await (await readApi(page.request, `${pages.url}/api/generations/${generationId}`)).json()) as {
      predictionId: string;
    };
    const prediction = (await (
      await fetch(`${emulator.url}/v1/predictions/${generation.predictionId}`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      })
    ).json()) as Record<string, unknown>;
    expect(prediction.status).toBe("succeeded");
    expect(prediction).not.toHaveProperty("webhook");
    const polls = emulator.emulator.state.requests
      .list({ predictionId: generation.predictionId })
      .filter((request) => request.method === "GET");
    expect(polls.length).toBeGreaterThan(0);

    expect(watched.cspViolations()).toEqual([]);
    expect(watched.pageErrors()).toEqual([]);
    await context.close();
  }, 120_000);
});
