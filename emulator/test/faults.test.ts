/** Every fault type, isolated by a unique token in the prompt as parallel tests must do. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Replicate from "replicate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { download, type Harness, outputUrls, type PredictionBody, startHarness, TOKEN, uniqueTag } from "./helpers";

interface Delivery {
  seq: number;
  event: string;
  webhookId: string;
  eventAt: number;
  status: string;
  attempts: Array<{ at: number; status?: number }>;
  delivered: boolean;
  dropped: boolean;
}

let harness: Harness;
let receiver: Server;
let hookUrl: string;
const receivedIds: Array<{ path: string; webhookId: string; status: string }> = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const status = typeof body === "object" && body !== null && "status" in body ? String(body.status) : "";
      receivedIds.push({ path: request.url ?? "", webhookId: String(request.headers["webhook-id"]), status });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  harness = await startHarness({ deliverWebhooks: true });
});
afterAll(async () => {
  await harness.close();
  await new Promise((resolve) => receiver.close(resolve));
});

async function addFault(rule: unknown): Promise<string> {
  return (await harness.control<{ id: string }>("/__control/faults", { body: rule })).id;
}

async function deliveries(predictionId: string): Promise<Delivery[]> {
  return (await harness.control<{ items: Delivery[] }>(`/__control/webhooks?predictionId=${predictionId}`)).items;
}

const SCHNELL = "/v1/models/black-forest-labs/flux-schnell/predictions";

async function finished(prompt: string, extra: Record<string, unknown> = {}): Promise<PredictionBody> {
  const created = await harness.create(SCHNELL, { input: { prompt, seed: 1 }, ...extra });
  await harness.advance(10_000);
  return harness.get(created.id);
}

describe("http faults", () => {
  it("429 with Retry-After for matching creates only, `times` uses", async () => {
    const tag = uniqueTag("throttle");
    await addFault({ match: { promptIncludes: tag }, times: 2, effect: { type: "http", status: 429, retryAfter: 3 } });
    const unrelated = await harness.api(SCHNELL, { body: { input: { prompt: "no tag here" } } });
    expect(unrelated.status).toBe(201);
    for (let i = 0; i < 2; i++) {
      const throttled = await harness.api(SCHNELL, { body: { input: { prompt: `a ${tag}` } } });
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get("retry-after")).toBe("3");
      expect(throttled.headers.get("content-type")).toBe("application/problem+json");
      expect(await throttled.json()).toEqual({ detail: "Request was throttled. Expected available in 1 second." });
    }
    expect((await harness.api(SCHNELL, { body: { input: { prompt: `a ${tag}` } } })).status).toBe(201);
  });

  it("the replicate client's immediate retries get through a short burst of 429s", async () => {
    const tag = uniqueTag("burst");
    await addFault({ match: { promptIncludes: tag }, times: 3, effect: { type: "http", status: 429 } });
    const replicate = new Replicate({ auth: TOKEN, baseUrl: `${harness.url}/v1` });
    const created = await replicate.predictions.create({
      model: "black-forest-labs/flux-schnell",
      input: { prompt: tag },
    });
    expect(created.status).toBe("starting");
    const log = await harness.control<{ items: Array<{ status: number; predictionId?: string }> }>(
      `/__control/requests?path=${encodeURIComponent("flux-schnell/predictions$")}`,
    );
    expect(log.items.slice(-4).map((item) => item.status)).toEqual([429, 429, 429, 201]);
    expect(log.items.at(-1)?.predictionId).toBe(created.id);
  });

  it("4xx refusals answer as Replicate words them, and the client does not retry them", async () => {
    const tag = uniqueTag("refused");
    await addFault({ match: { promptIncludes: tag }, times: 1, effect: { type: "http", status: 422 } });
    await addFault({ match: { promptIncludes: tag }, times: 1, effect: { type: "http", status: 402 } });
    const replicate = new Replicate({ auth: TOKEN, baseUrl: `${harness.url}/v1` });
    const create = () =>
      replicate.predictions.create({ model: "black-forest-labs/flux-schnell", input: { prompt: tag } });
    await expect(create()).rejects.toThrow(/status 422.*Invalid version or not permitted/s);
    await expect(create()).rejects.toThrow(/status 402.*insufficient credit/s);
    const log = await harness.control<{ items: Array<{ status: number }> }>(
      `/__control/requests?path=${encodeURIComponent("flux-schnell/predictions$")}`,
    );
    expect(log.items.slice(-2).map((item) => item.status)).toEqual([422, 402]);
    expect((await create()).status).toBe("starting");
  });

  it("5xx on a prediction's GET, matched by path regex or by its prompt", async () => {
    const tag = uniqueTag("flaky-get");
    const created = await harness.create(SCHNELL, { input: { prompt: tag } });
    await addFault({
      match: { path: `^/v1/predictions/${created.id}$` },
      times: 1,
      effect: { type: "http", status: 503 },
    });
    await addFault({ match: { promptIncludes: tag }, times: 1, effect: { type: "http", status: 502 } });
    expect((await harness.api(`/v1/predictions/${created.id}`)).status).toBe(503);
    const second = await harness.api(`/v1/predictions/${created.id}`);
    expect(second.status).toBe(502);
    expect(await second.json()).toMatchObject({ status: 502 });
    expect((await harness.api(`/v1/predictions/${created.id}`)).status).toBe(200);
  });

  it("cut: the request is carried out, then the connection closes with no answer", async () => {
    const tag = uniqueTag("cut");
    await addFault({ match: { promptIncludes: tag }, times: 1, effect: { type: "cut" } });
    await expect(harness.api(SCHNELL, { body: { input: { prompt: `a ${tag}` } } })).rejects.toThrow();
    const log = await harness.control<{ items: Array<{ predictionId?: string }> }>(
      `/__control/requests?path=${encodeURIComponent("flux-schnell/predictions$")}`,
    );
    const lost = log.items.at(-1)?.predictionId;
    expect(lost).toEqual(expect.any(String));
    // The prediction exists all the same, as at Replicate when only its answer is lost.
    expect((await harness.get(lost ?? "")).input).toMatchObject({ prompt: `a ${tag}` });
    expect((await harness.api(SCHNELL, { body: { input: { prompt: `a ${tag}` } } })).status).toBe(201);
  });

  it("stall: the request is carried out, and its answer held back for `ms`", async () => {
    const created = await harness.create(SCHNELL, { input: { prompt: uniqueTag("stall") } });
    await addFault({
      match: { path: `^/v1/predictions/${created.id}$` },
      times: 1,
      effect: { type: "stall", ms: 5_000 },
    });
    const read = (timeoutMs: number) =>
      fetch(`${harness.url}/v1/predictions/${created.id}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
    await expect(read(300)).rejects.toThrow(/timeout|aborted/i);
    expect((await read(5_000)).status).toBe(200);
  });

  it("rejects malformed rules", async () => {
    const response = await fetch(`${harness.url}/__control/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ effect: { type: "http", status: 418 } }),
    });
    expect(response.status).toBe(400);
    const badRegex = await fetch(`${harness.url}/__control/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ match: { path: "(" }, effect: { type: "http", status: 500 } }),
    });
    expect(badRegex.status).toBe(400);
  });
});

describe("prediction failure", () => {
  it("fails matching predictions with the error in `error` and the logs", async () => {
    const tag = uniqueTag("boom");
    await addFault({
      match: { promptIncludes: tag },
      effect: { type: "fail", error: "CUDA error: device-side assert triggered" },
    });
    const failed = await finished(`paint ${tag}`, { webhook: `${hookUrl}?${tag}` });
    expect(failed).toMatchObject({ status: "failed", error: "CUDA error: device-side assert triggered", output: null });
    expect(failed.logs).toContain("CUDA error: device-side assert triggered");
    expect(failed.metrics.predict_time).toBeGreaterThan(0);
    const items = await deliveries(failed.id);
    expect(items.at(-1)).toMatchObject({ event: "completed", status: "failed" });
    expect((await finished("an unrelated prompt")).status).toBe("succeeded");
  });
});

describe("webhook faults", () => {
  it("drop: recorded as dropped, never sent", async () => {
    const tag = uniqueTag("drop");
    await addFault({
      match: { promptIncludes: tag },
      effect: { type: "webhook", mode: "drop", events: ["completed"] },
    });
    const prediction = await finished(tag, { webhook: `${hookUrl}?${tag}` });
    const items = await deliveries(prediction.id);
    const completed = items.find((item) => item.event === "completed");
    expect(completed).toMatchObject({ dropped: true, delivered: false, attempts: [] });
    expect(items.filter((item) => item.event !== "completed").every((item) => item.delivered && !item.dropped)).toBe(
      true,
    );
    expect(receivedIds.filter((item) => item.path.endsWith(tag) && item.status === "succeeded")).toEqual([]);
  });

  it("duplicate: N copies with the same webhook-id", async () => {
    const tag = uniqueTag("dup");
    await addFault({
      match: { promptIncludes: tag },
      effect: { type: "webhook", mode: "duplicate", events: ["completed"], copies: 3 },
    });
    const prediction = await finished(tag, { webhook: `${hookUrl}?${tag}` });
    const completed = (await deliveries(prediction.id)).filter((item) => item.event === "completed");
    expect(completed).toHaveLength(3);
    expect(new Set(completed.map((item) => item.webhookId)).size).toBe(1);
    const got = receivedIds.filter((item) => item.path.endsWith(tag) && item.status === "succeeded");
    expect(got).toHaveLength(3);
    expect(got.every((item) => item.webhookId === completed[0]?.webhookId)).toBe(true);
  });

  it("delay: the start webhook arrives after later events", async () => {
    const tag = uniqueTag("delay");
    await addFault({
      match: { promptIncludes: tag },
      effect: { type: "webhook", mode: "delay", events: ["start"], delayMs: 5_000 },
    });
    const created = await harness.create(SCHNELL, { input: { prompt: tag }, webhook: `${hookUrl}?${tag}` });
    await harness.advance(3_000);
    expect((await deliveries(created.id)).map((item) => item.event)).not.toContain("start");
    await harness.advance(5_000);
    const items = await deliveries(created.id);
    expect(items.at(-1)?.event).toBe("start");
    expect(items.map((item) => item.event)).toContain("completed");
    const start = items.at(-1)!;
    expect(start.attempts[0]!.at - start.eventAt).toBe(5_000);
  });

  it("reorder: non-terminal events are sent after the terminal one", async () => {
    const tag = uniqueTag("reorder");
    await addFault({ match: { promptIncludes: tag }, effect: { type: "webhook", mode: "reorder" } });
    const prediction = await finished(tag, { webhook: `${hookUrl}?${tag}` });
    const items = await deliveries(prediction.id);
    expect(items[0]?.event).toBe("completed");
    expect(items.slice(1).map((item) => item.event)[0]).toBe("start");
    expect(items.length).toBeGreaterThan(2);
    const got = receivedIds.filter((item) => item.path.endsWith(tag)).map((item) => item.status);
    expect(got[0]).toBe("succeeded");
    expect(got.slice(1).every((status) => status === "processing")).toBe(true);
  });
});

describe("download faults", () => {
  async function outputOf(tag: string): Promise<string> {
    const prediction = await finished(tag);
    const [url] = outputUrls(prediction);
    if (!url) throw new Error("no output");
    return url;
  }

  it("error: answers the configured status, then recovers", async () => {
    const tag = uniqueTag("dl-error");
    await addFault({
      match: { promptIncludes: tag },
      times: 1,
      effect: { type: "download", mode: "error", status: 502 },
    });
    const url = await outputOf(tag);
    expect((await fetch(url)).status).toBe(502);
    expect((await fetch(url)).status).toBe(200);
  });

  it("truncate: the body stops short of its Content-Length", async () => {
    const tag = uniqueTag("dl-trunc");
    const url = await outputOf(tag);
    const full = await download(url);
    await addFault({ match: { promptIncludes: tag }, times: 1, effect: { type: "download", mode: "truncate" } });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe(String(full.length));
    await expect(response.arrayBuffer()).rejects.toThrow();
  });

  it("slow and chunked: complete bytes, chunked without Content-Length", async () => {
    const tag = uniqueTag("dl-slow");
    const url = await outputOf(tag);
    const full = await download(url);
    await addFault({
      match: { promptIncludes: tag },
      times: 1,
      effect: { type: "download", mode: "slow", delayMs: 100 },
    });
    const slow = await fetch(url);
    expect(slow.headers.get("content-length")).toBe(String(full.length));
    expect(Buffer.from(await slow.arrayBuffer()).equals(full)).toBe(true);

    await addFault({ match: { promptIncludes: tag }, times: 1, effect: { type: "download", mode: "chunked" } });
    const chunked = await fetch(url);
    expect(chunked.headers.get("content-length")).toBeNull();
    expect(chunked.headers.get("transfer-encoding")).toBe("chunked");
    expect(Buffer.from(await chunked.arrayBuffer()).equals(full)).toBe(true);
  });

  it("clearing faults stops them", async () => {
    const tag = uniqueTag("dl-clear");
    const url = await outputOf(tag);
    const id = await addFault({ match: { promptIncludes: tag }, effect: { type: "download", mode: "error" } });
    expect((await fetch(url)).status).toBe(500);
    expect((await fetch(`${harness.url}/__control/faults/${id}`, { method: "DELETE" })).status).toBe(204);
    expect((await fetch(url)).status).toBe(200);
  });
});
