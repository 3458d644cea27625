/** The emulator driven through the official `replicate` client, as the Worker uses it. */
import { createHash } from "node:crypto";
import Replicate, { type Prediction, parseProgressFromLogs } from "replicate";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_WEBHOOK_SECRET } from "../webhooks";
import {
  type Harness,
  isPrediction,
  outputUrls,
  type PredictionBody,
  SDXL,
  startHarness,
  TOKEN,
  verifyWebhook,
} from "./helpers";

function asBody(prediction: Prediction): PredictionBody {
  if (!isPrediction(prediction)) throw new Error("not a prediction");
  return prediction;
}

let harness: Harness;
let replicate: Replicate;

beforeAll(async () => {
  harness = await startHarness();
  replicate = new Replicate({ auth: TOKEN, baseUrl: `${harness.url}/v1` });
});
afterAll(() => harness.close());

describe("prediction lifecycle through the replicate client", () => {
  it("creates an official-model prediction, reports progress mid-run and succeeds with files", async () => {
    const created = await replicate.predictions.create({
      model: "black-forest-labs/flux-schnell",
      input: { prompt: "a lighthouse at dusk", seed: 1234, num_outputs: 2 },
    });
    expect(created).toMatchObject({
      model: "black-forest-labs/flux-schnell",
      version: "hidden",
      status: "starting",
      output: null,
      error: null,
      data_removed: false,
      source: "api",
      input: { prompt: "a lighthouse at dusk", seed: 1234, num_outputs: 2 },
    });
    expect(created.id).toMatch(/^[a-z0-9]{26}$/);
    expect(created.urls).toEqual({
      get: `${harness.url}/v1/predictions/${created.id}`,
      cancel: `${harness.url}/v1/predictions/${created.id}/cancel`,
      web: `https://replicate.com/p/${created.id}`,
    });

    await harness.advance(900);
    const running = await replicate.predictions.get(created.id);
    expect(running.status).toBe("processing");
    expect(running.started_at).toBeTypeOf("string");
    expect(running.logs).toContain("Using seed: 1234");
    const progress = parseProgressFromLogs(running);
    expect(progress).not.toBeNull();
    expect(progress?.total).toBe(4);
    expect(progress?.percentage).toBeGreaterThan(0);
    expect(progress?.percentage).toBeLessThan(1);

    // wait() polls until terminal; the clock moves while it polls.
    const waiting = replicate.wait(running, { interval: 5 });
    await harness.advance(10_000);
    const done = await waiting;
    expect(done.status).toBe("succeeded");
    expect(parseProgressFromLogs(done)).toEqual({ percentage: 1, current: 4, total: 4 });
    expect(done.completed_at).toBeTypeOf("string");
    expect(done.metrics).toMatchObject({ image_count: 2 });
    expect(done.metrics?.predict_time).toBeGreaterThan(0);
    const urls = outputUrls(asBody(done));
    expect(Array.isArray(done.output)).toBe(true);
    expect(urls).toHaveLength(2);
    expect(urls[0]).toMatch(new RegExp(`^${harness.url}/delivery/xezq/[A-Za-z0-9]+/out-0\\.webp$`));
    const response = await fetch(urls[1] ?? "");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/webp");
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect(meta.format).toBe("webp");
  });

  it("runs a community model by version, lists and cancels predictions", async () => {
    const sdxl = await replicate.predictions.create({ version: SDXL, input: { prompt: "a cat", seed: 1 } });
    expect(sdxl.version).toBe(SDXL);
    expect(sdxl.model).toBe("stability-ai/sdxl");
    const pinned = await replicate.predictions.create({ version: `stability-ai/sdxl:${SDXL}`, input: {} });
    const canceled = await replicate.predictions.cancel(pinned.id);
    expect(canceled.status).toBe("canceled");
    expect(canceled.output).toBeNull();
    expect(canceled.completed_at).toBeTypeOf("string");
    const list = await replicate.predictions.list();
    expect(list.results.slice(0, 2).map((p: Prediction) => p.id)).toEqual([pinned.id, sdxl.id]);
    expect(list.next).toBeNull();
  });

  it("run() blocks with Prefer: wait and returns the output URL", async () => {
    // A running clock here: block mode needs time to pass on its own.
    const fast = await startHarness({ speed: 40 });
    try {
      const client = new Replicate({ auth: TOKEN, baseUrl: `${fast.url}/v1` });
      const output: unknown = await client.run("black-forest-labs/flux-1.1-pro", {
        input: { prompt: "a red bicycle", seed: 5 },
      });
      // The client wraps only `https:`/`data:` strings in FileOutput; the emulator serves plain http.
      expect(output).toBeTypeOf("string");
      const url = String(output);
      expect(new URL(url).pathname).toMatch(/\/out-0\.webp$/);
      const response = await fetch(url);
      expect(response.headers.get("content-type")).toBe("image/webp");
      const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      expect([meta.width, meta.height]).toEqual([256, 256]);
      const requests = await fast.control<{ items: Array<{ path: string }> }>("/__control/requests");
      expect(requests.items.map((item) => item.path)).toEqual([
        "/v1/models/black-forest-labs/flux-1.1-pro/predictions",
        expect.stringMatching(/^\/delivery\/xezq\//),
      ]);
    } finally {
      await fast.close();
    }
  });

  it("answers Prefer: wait=N with Preference-Applied", async () => {
    const fast = await startHarness({ speed: 40 });
    try {
      const response = await fast.api("/v1/models/black-forest-labs/flux-schnell/predictions", {
        body: { input: { prompt: "a boat" } },
        headers: { prefer: "wait=30" },
      });
      expect(response.status).toBe(201);
      expect(response.headers.get("preference-applied")).toBe("wait=30");
      const body = (await response.json()) as { status: string; output: unknown };
      // Returned as soon as the files exist (possibly still `processing`), or finished.
      expect(["processing", "succeeded"]).toContain(body.status);
      expect(Array.isArray(body.output)).toBe(true);
    } finally {
      await fast.close();
    }
  });
});

describe("files API through the replicate client", () => {
  it("uploads with metadata, lists, expires after 24 hours", async () => {
    const bytes = Buffer.from("hello emulator");
    const file = await replicate.files.create(new File([bytes], "hello.txt", { type: "text/plain" }), {
      purpose: "test",
    });
    expect(file).toMatchObject({
      name: "hello.txt",
      content_type: "text/plain",
      size: bytes.length,
      metadata: { purpose: "test" },
      checksums: {
        sha256: createHash("sha256").update(bytes).digest("hex"),
        md5: createHash("md5").update(bytes).digest("hex"),
      },
      urls: { get: `${harness.url}/v1/files/${file.id}` },
    });
    expect(Date.parse(file.expires_at ?? "") - Date.parse(file.created_at)).toBe(24 * 60 * 60 * 1000);
    expect((await replicate.files.get(file.id)).id).toBe(file.id);
    expect((await replicate.files.list()).results.map((f: { id: string }) => f.id)).toContain(file.id);

    await harness.advance(24 * 60 * 60 * 1000);
    await expect(replicate.files.get(file.id)).rejects.toThrow(/404/);
    const gone = await harness.api(`/v1/files/${file.id}`);
    expect(gone.headers.get("content-type")).toBe("application/problem+json");
    expect(await gone.json()).toEqual({ detail: "File not found" });
  });

  it("deletes with 204, uploads Buffers, and uses an uploaded file as a model input", async () => {
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 0, g: 0, b: 255 } } })
      .png()
      .toBuffer();
    const file = await replicate.files.create(png);
    expect(file.content_type).toBe("application/octet-stream");
    const prediction = await replicate.predictions.create({
      model: "black-forest-labs/flux-kontext-pro",
      input: { prompt: "make it night", input_image: file.urls.get },
    });
    await harness.advance(10_000);
    const done = await replicate.predictions.get(prediction.id);
    expect(done.status).toBe("succeeded");
    const meta = await sharp(Buffer.from(await (await fetch(String(done.output))).arrayBuffer())).metadata();
    // match_input_image: 4:3 input → 4:3-ish output at the emulator's 1/4 scale.
    expect(meta.format).toBe("png");
    expect(Math.abs((meta.width ?? 0) / (meta.height ?? 1) - 4 / 3)).toBeLessThan(0.03);

    expect(await replicate.files.delete(file.id)).toBe(true);
    await expect(replicate.files.get(file.id)).rejects.toThrow(/404/);
  });
});

describe("webhooks recorded for replay", () => {
  it("records signed deliveries that validateWebhook accepts", async () => {
    const secret = await replicate.webhooks.default.secret.get();
    expect(secret.key).toBe(DEFAULT_WEBHOOK_SECRET);
    const prediction = await replicate.predictions.create({
      model: "black-forest-labs/flux-dev",
      input: { prompt: "a forest", seed: 9 },
      webhook: "https://example.invalid/api/webhooks/replicate?generation=g1",
    });
    expect(prediction.webhook).toBe("https://example.invalid/api/webhooks/replicate?generation=g1");
    expect(prediction.webhook_events_filter).toEqual(["start", "output", "logs", "completed"]);
    await harness.advance(10_000);
    const { items } = await harness.control<{
      items: Array<{
        event: string;
        body: string;
        headers: Record<string, string>;
        status: string;
        attempts: unknown[];
        delivered: boolean;
      }>;
    }>(`/__control/webhooks?predictionId=${prediction.id}`);
    expect(items[0]?.event).toBe("start");
    expect(items.at(-1)?.event).toBe("completed");
    expect(items.map((item) => item.event)).toEqual(expect.arrayContaining(["logs", "output"]));
    for (const item of items) {
      expect(await verifyWebhook(item.headers, item.body, secret.key)).toBe(true);
      expect(item.delivered).toBe(false);
      expect(item.attempts).toEqual([]);
    }
    const final: unknown = JSON.parse(items.at(-1)?.body ?? "{}");
    expect(final).toEqual(await replicate.predictions.get(prediction.id));
    expect(isPrediction(final) && final.status).toBe("succeeded");
  });
});
