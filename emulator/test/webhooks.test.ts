/** Webhook emission and delivery to a real local HTTP receiver. */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_WEBHOOK_SECRET } from "../webhooks";
import { type Harness, isPrediction, startHarness, uniqueTag, verifyWebhook } from "./helpers";

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

interface Delivery {
  seq: number;
  predictionId: string;
  event: string;
  url: string;
  webhookId: string;
  eventAt: number;
  headers: Record<string, string>;
  body: string;
  status: string;
  attempts: Array<{ at: number; status?: number; error?: string }>;
  delivered: boolean;
  dropped: boolean;
}

let harness: Harness;
let receiver: Server;
let hookBase: string;
const received: Received[] = [];
/** Per path: how many of its `completed` webhooks should be answered 500 before succeeding. */
const failCompletedTimes = new Map<string, number>();
/** Answers the receiver keeps back (the first request to each path under /hold-first/) until a test releases them. */
const held: ServerResponse[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const path = request.url ?? "";
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) if (typeof value === "string") headers[name] = value;
      received.push({ path, headers, body });
      const parsed: unknown = JSON.parse(body);
      const terminal = isPrediction(parsed) && ["succeeded", "failed", "canceled"].includes(parsed.status);
      const pathOnly = path.split("?")[0] ?? path;
      if (pathOnly.startsWith("/hold-first/") && received.filter((item) => item.path === path).length === 1) {
        held.push(response);
        return;
      }
      const failures = failCompletedTimes.get(pathOnly) ?? 0;
      if (pathOnly === "/always-500" || (terminal && failures > 0)) {
        if (terminal) failCompletedTimes.set(pathOnly, failures - 1);
        response.writeHead(500).end("nope");
        return;
      }
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  harness = await startHarness({ deliverWebhooks: true });
});
afterAll(async () => {
  for (const response of held.splice(0)) response.writeHead(204).end();
  await harness.close();
  await new Promise((resolve) => receiver.close(resolve));
});

async function deliveries(predictionId: string): Promise<Delivery[]> {
  return (await harness.control<{ items: Delivery[] }>(`/__control/webhooks?predictionId=${predictionId}`)).items;
}

const receivedFor = (path: string): Received[] => received.filter((item) => item.path === path);

describe("webhook delivery", () => {
  it("POSTs signed start/logs/output/completed; bodies equal the prediction at that moment", async () => {
    const path = `/hook/${uniqueTag("all")}`;
    const created = await harness.create("/v1/models/black-forest-labs/flux-dev/predictions", {
      input: { prompt: "a forest", seed: 1 },
      webhook: hookBase + path,
    });
    await harness.advance(500);
    expect(receivedFor(path).map((item) => JSON.parse(item.body).status)).toEqual(["processing"]);
    await harness.advance(30_000);

    const items = await deliveries(created.id);
    const events = items.map((item) => item.event);
    expect(events[0]).toBe("start");
    expect(events.at(-1)).toBe("completed");
    expect(events).toContain("logs");
    expect(events).toContain("output");
    expect(
      items.every((item) => item.delivered && item.attempts.length === 1 && item.attempts[0]?.status === 204),
    ).toBe(true);

    const got = receivedFor(path);
    expect(got.map((item) => item.body)).toEqual(items.map((item) => item.body));
    for (const item of got) {
      expect(item.headers["content-type"]).toBe("application/json");
      expect(item.headers["webhook-id"]).toMatch(/^msg_/);
      expect(await verifyWebhook(item.headers, item.body, DEFAULT_WEBHOOK_SECRET)).toBe(true);
    }

    // Non-terminal events are ≥ 500 ms apart; logs only grow; the last body is the final prediction.
    const nonTerminal = items.filter((item) => item.event !== "completed" && item.event !== "start");
    for (let i = 1; i < nonTerminal.length; i++) {
      expect(nonTerminal[i]!.eventAt - nonTerminal[i - 1]!.eventAt).toBeGreaterThanOrEqual(500);
    }
    const logs = items.map((item) => String(JSON.parse(item.body).logs));
    for (let i = 1; i < logs.length; i++) expect(logs[i]!.startsWith(logs[i - 1]!)).toBe(true);
    expect(JSON.parse(items.at(-1)!.body)).toEqual(await harness.get(created.id));
    expect(items.at(-1)?.headers["webhook-timestamp"]).toBe(String(Math.floor(items.at(-1)!.eventAt / 1000)));
  });

  it("sends webhooks to another origin when told to, path and query kept, and as addressed again after", async () => {
    // Nothing listens on the address the prediction names: only the redirected sends can arrive.
    const path = `/hook/${uniqueTag("moved")}?session=ses_1`;
    const addressed = `http://127.0.0.1:9${path}`;
    expect(
      await harness.control("/__control/webhooks/origin", { method: "POST", body: { origin: `${hookBase}/ignored` } }),
    ).toEqual({ origin: hookBase });
    try {
      const created = await harness.create("/v1/models/black-forest-labs/flux-schnell/predictions", {
        input: { prompt: "moved" },
        webhook: addressed,
        webhook_events_filter: ["completed"],
      });
      await harness.advance(2_500);
      expect(receivedFor(path).map((item) => JSON.parse(item.body).status)).toEqual(["succeeded"]);
      const [completed] = await deliveries(created.id);
      expect(completed).toMatchObject({ url: addressed, delivered: true });
    } finally {
      expect(await harness.control("/__control/webhooks/origin", { method: "POST", body: { origin: null } })).toEqual({
        origin: null,
      });
    }
    const again = await harness.create("/v1/models/black-forest-labs/flux-schnell/predictions", {
      input: { prompt: "as addressed" },
      webhook: addressed,
      webhook_events_filter: ["completed"],
    });
    await harness.advance(2_500);
    const [completed] = await deliveries(again.id);
    expect(completed?.delivered).toBe(false);
    expect(completed?.attempts[0]?.error).toBeTruthy();
    await expect(
      harness.control("/__control/webhooks/origin", { method: "POST", body: { origin: "ftp://127.0.0.1" } }),
    ).rejects.toThrow(/400/);
  });

  it("retries the terminal webhook after a 500 with the same webhook-id", async () => {
    const path = `/hook/${uniqueTag("flaky")}`;
    failCompletedTimes.set(path, 1);
    const created = await harness.create("/v1/models/black-forest-labs/flux-schnell/predictions", {
      input: { prompt: "retry me" },
      webhook: hookBase + path,
      webhook_events_filter: ["completed"],
    });
    // Completes at ~1.8 s; the first retry is due 2 s after the first attempt.
    await harness.advance(2_500);
    let [completed] = await deliveries(created.id);
    expect(completed?.event).toBe("completed");
    expect(completed?.delivered).toBe(false);
    expect(completed?.attempts.map((attempt) => attempt.status)).toEqual([500]);

    await harness.advance(2_000);
    [completed] = await deliveries(created.id);
    expect(completed?.delivered).toBe(true);
    expect(completed?.attempts.map((attempt) => attempt.status)).toEqual([500, 204]);
    expect(completed!.attempts[1]!.at - completed!.attempts[0]!.at).toBe(2_000);

    const got = receivedFor(path);
    expect(got).toHaveLength(2);
    expect(got[0]?.headers["webhook-id"]).toBe(got[1]?.headers["webhook-id"]);
    expect(got[0]?.body).toBe(got[1]?.body);
  });

  it("gives up after 6 tries within about a minute; never retries non-terminal events", async () => {
    const path = "/always-500";
    const created = await harness.create("/v1/models/black-forest-labs/flux-schnell/predictions", {
      input: { prompt: `give up ${uniqueTag("x")}` },
      webhook: `${hookBase}${path}?id=${uniqueTag("q")}`,
    });
    await harness.advance(10 * 60_000);
    const items = await deliveries(created.id);
    const completed = items.find((item) => item.event === "completed");
    expect(completed?.attempts).toHaveLength(6);
    expect(completed?.delivered).toBe(false);
    const first = completed!.attempts[0]!.at;
    expect(completed!.attempts.map((attempt) => attempt.at - first)).toEqual([0, 2_000, 6_000, 14_000, 30_000, 60_000]);
    for (const item of items.filter((entry) => entry.event !== "completed")) expect(item.attempts).toHaveLength(1);
  });

  it("records network errors as attempts", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/gone`;
    await new Promise((resolve) => closed.close(resolve));
    const created = await harness.create("/v1/models/black-forest-labs/flux-schnell/predictions", {
      input: { prompt: "nobody home" },
      webhook: deadUrl,
      webhook_events_filter: ["completed"],
    });
    await harness.advance(5_000);
    const [completed] = await deliveries(created.id);
    expect(completed?.attempts[0]?.error).toBeTypeOf("string");
    expect(completed?.attempts[0]?.status).toBeUndefined();
  });

  it("sends a completed webhook for cancellations, honouring the filter", async () => {
    const path = `/hook/${uniqueTag("cancel")}`;
    const created = await harness.create("/v1/models/minimax/video-01/predictions", {
      input: { prompt: "cancel me" },
      webhook: hookBase + path,
      webhook_events_filter: ["start", "completed"],
    });
    await harness.advance(1_000);
    const canceled = await harness.api(`/v1/predictions/${created.id}/cancel`, { method: "POST" });
    expect(canceled.status).toBe(200);
    await harness.advance(100);
    const items = await deliveries(created.id);
    expect(items.map((item) => [item.event, item.status])).toEqual([
      ["start", "processing"],
      ["completed", "canceled"],
    ]);
    await harness.advance(60_000);
    expect(await deliveries(created.id)).toHaveLength(2);
  });

  it("sends every webhook on its own: a receiver slow to answer one holds up no other, of any prediction", async () => {
    // Its own emulator: its background sender is what is tested, not a stepped `advance`.
    const own = await startHarness({ deliverWebhooks: true });
    try {
      const slowPath = `/hold-first/${uniqueTag("slow")}`;
      const otherPath = `/hook/${uniqueTag("other")}`;
      const slow = await own.create("/v1/models/black-forest-labs/flux-schnell/predictions", {
        input: { prompt: "a receiver that does not answer its first webhook" },
        webhook: hookBase + slowPath,
        webhook_events_filter: ["start", "completed"],
      });
      own.running.emulator.clock.advance(500);
      await eventually(() => receivedFor(slowPath).length === 1, "the first prediction's start webhook");
      const other = await own.create("/v1/models/black-forest-labs/flux-schnell/predictions", {
        input: { prompt: "a receiver that answers" },
        webhook: hookBase + otherPath,
        webhook_events_filter: ["start"],
      });
      own.running.emulator.clock.advance(500);
      await eventually(() => receivedFor(otherPath).length === 1, "the second prediction's start webhook");
      // The first prediction completes (about 1.8 s after it was created): its terminal webhook goes
      // out although its start webhook has not been answered yet.
      own.running.emulator.clock.advance(2_000);
      await eventually(() => receivedFor(slowPath).length === 2, "the first prediction's completed webhook");
      const deliveriesOf = async (id: string) =>
        (await own.control<{ items: Delivery[] }>(`/__control/webhooks?predictionId=${id}`)).items;
      const slowDeliveries = await deliveriesOf(slow.id);
      expect(slowDeliveries.map((item) => [item.event, item.attempts.length])).toEqual([
        ["start", 0],
        ["completed", 1],
      ]);
      expect((await deliveriesOf(other.id)).map((item) => item.delivered)).toEqual([true]);
    } finally {
      for (const response of held.splice(0)) response.writeHead(204).end();
      await own.close();
    }
  });
});

/** Waits for a condition the emulator's background sender brings about; fails after 10 s. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !condition(); ) {
    if (Date.now() > deadline) throw new Error(`Never saw ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
