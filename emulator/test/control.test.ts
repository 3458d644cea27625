/** Control API, request log, data retention, deadlines, pagination, in-process use, the ticker. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import Replicate, { type Prediction } from "replicate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmulator } from "../app";
import { download, type Harness, outputUrls, startHarness, TOKEN } from "./helpers";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

interface LogItem {
  seq: number;
  at: number;
  method: string;
  path: string;
  status: number | null;
  predictionId?: string;
}

const requestLog = async (query = ""): Promise<LogItem[]> =>
  (await harness.control<{ items: LogItem[] }>(`/__control/requests${query}`)).items;

describe("clock", () => {
  it("reports and advances emulator time", async () => {
    const { now } = await harness.control<{ now: number; speed: number }>("/__control/clock");
    const advanced = await harness.control<{ now: number }>("/__control/clock/advance", { body: { ms: 1_500 } });
    expect(advanced.now).toBe(now + 1_500);
    const bad = await fetch(`${harness.url}/__control/clock/advance`, {
      method: "POST",
      body: JSON.stringify({ ms: -1 }),
    });
    expect(bad.status).toBe(400);
  });

  it("sync never moves the clock backwards and reaches at least wall-clock time", async () => {
    const before = Date.now();
    const { now } = await harness.control<{ now: number }>("/__control/clock/sync", { body: {} });
    expect(now).toBeGreaterThanOrEqual(before);
    const ahead = await harness.control<{ now: number }>("/__control/clock/advance", { body: { ms: 3_600_000 } });
    const again = await harness.control<{ now: number }>("/__control/clock/sync", { body: {} });
    expect(again.now).toBe(ahead.now);
  });
});

describe("request log", () => {
  it("records API calls and downloads in order, filterable by prediction and path", async () => {
    const parent = await harness.create("/v1/models/black-forest-labs/flux-schnell/predictions", {
      input: { prompt: "parent" },
    });
    await harness.advance(5_000);
    const done = await harness.get(parent.id);
    const [url] = outputUrls(done);
    await download(url ?? "");
    const child = await harness.create("/v1/models/black-forest-labs/flux-kontext-pro/predictions", {
      input: { prompt: "child", input_image: url },
    });

    const forParent = await requestLog(`?predictionId=${parent.id}`);
    expect(forParent.map((item) => [item.method, item.status])).toEqual([
      ["POST", 201],
      ["GET", 200],
      ["GET", 200],
    ]);
    const download0 = forParent.find((item) => item.path.startsWith("/delivery/"));
    const childCreate = (await requestLog(`?predictionId=${child.id}`))[0];
    expect(download0 && childCreate && download0.seq < childCreate.seq).toBe(true);
    const downloads = await requestLog(`?path=${encodeURIComponent("^/delivery/")}`);
    expect(downloads.every((item) => item.path.startsWith("/delivery/"))).toBe(true);
  });
});

describe("data retention", () => {
  it("removes outputs an hour after completion: 404 downloads, data_removed, output null", async () => {
    const created = await harness.create("/v1/models/black-forest-labs/flux-schnell/predictions", {
      input: { prompt: "ephemeral" },
    });
    await harness.advance(5_000);
    const done = await harness.get(created.id);
    const [url] = outputUrls(done);
    expect((await fetch(url ?? "")).status).toBe(200);
    await harness.advance(60 * 60 * 1000);
    const removed = await harness.get(created.id);
    expect(removed).toMatchObject({ status: "succeeded", data_removed: true, output: null, input: {} });
    expect(removed.completed_at).toBe(done.completed_at);
    expect((await fetch(url ?? "")).status).toBe(404);
  });
});

describe("Cancel-After", () => {
  it("cancels a prediction that runs past its deadline", async () => {
    const created = await harness.create(
      "/v1/models/minimax/video-01/predictions",
      { input: { prompt: "too long" } },
      { "cancel-after": "5s" },
    );
    expect(created.deadline).toBe(new Date(Date.parse(String(created.created_at)) + 5_000).toISOString());
    await harness.advance(60_000);
    const ended = await harness.get(created.id);
    expect(ended.status).toBe("canceled");
    expect(ended.completed_at).toBe(created.deadline);
  });
});

describe("pagination", () => {
  it("pages predictions 100 at a time, newest first, with absolute next URLs", async () => {
    const fresh = await startHarness();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 105; i++)
        ids.push(
          (
            await fresh.create("/v1/predictions", {
              version: "black-forest-labs/flux-schnell",
              input: { prompt: `p${i}` },
            })
          ).id,
        );
      const replicate = new Replicate({ auth: TOKEN, baseUrl: `${fresh.url}/v1` });
      const first = await replicate.predictions.list();
      expect(first.results).toHaveLength(100);
      expect(first.next).toMatch(new RegExp(`^${fresh.url}/v1/predictions\\?cursor=`));
      const seen: string[] = [];
      for await (const page of replicate.paginate(() => replicate.predictions.list()))
        seen.push(...page.map((p: Prediction) => p.id));
      expect(seen).toEqual([...ids].reverse());
    } finally {
      await fresh.close();
    }
  });
});

describe("reset", () => {
  it("clears predictions, files, faults, logs and the clock offset", async () => {
    const fresh = await startHarness();
    try {
      const { now: start } = await fresh.control<{ now: number }>("/__control/clock");
      const created = await fresh.create("/v1/models/black-forest-labs/flux-schnell/predictions", {
        input: { prompt: "x" },
      });
      await fresh.control("/__control/faults", {
        body: { effect: { type: "http", status: 500 }, match: { path: "^/never$" } },
      });
      await fresh.advance(10_000);
      await fresh.control("/__control/reset", { body: {} });
      expect((await fresh.api(`/v1/predictions/${created.id}`)).status).toBe(404);
      expect((await fresh.control<{ items: unknown[] }>("/__control/faults")).items).toEqual([]);
      expect((await fresh.control<{ items: LogItem[] }>("/__control/requests")).items.map((item) => item.path)).toEqual(
        [`/v1/predictions/${created.id}`],
      );
      expect((await fresh.control<{ now: number }>("/__control/clock")).now).toBe(start);
    } finally {
      await fresh.close();
    }
  });
});

describe("in-process and background ticking", () => {
  it("works without a server through app.request", async () => {
    const emulator = createEmulator({ baseUrl: "http://emulator.test", speed: 0 });
    try {
      const response = await emulator.app.request("/v1/models/black-forest-labs/flux-schnell/predictions", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ input: { prompt: "in process" } }),
      });
      expect(response.status).toBe(201);
      const { id } = (await response.json()) as { id: string };
      await emulator.advance(5_000);
      const done = (await (
        await emulator.app.request(`/v1/predictions/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as {
        output: string[];
      };
      expect(done.output[0]).toMatch(/^http:\/\/emulator\.test\/delivery\/xezq\//);
      const file = await emulator.app.request(new URL(done.output[0] ?? "").pathname);
      expect(file.headers.get("content-type")).toBe("image/webp");
    } finally {
      emulator.close();
    }
  });

  it("delivers webhooks on its own when the clock runs", async () => {
    const received: string[] = [];
    const receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      request.on("end", () => {
        received.push(body);
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const running = await startHarness({ speed: 20, deliverWebhooks: true });
    try {
      const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const created = await running.create("/v1/models/black-forest-labs/flux-schnell/predictions", {
        input: { prompt: "ticking" },
        webhook,
        webhook_events_filter: ["completed"],
      });
      // Poll (not time) until the ticker has delivered it.
      for (let i = 0; i < 500 && received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(received).toHaveLength(1);
      expect(JSON.parse(received[0] ?? "{}")).toMatchObject({ id: created.id, status: "succeeded" });
    } finally {
      await running.close();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});

describe("configured models", () => {
  it("serves and runs any owner/name configured over the control API, versioned or official", async () => {
    const versioned = await harness.control<{ id: string; versionId: string }>("/__control/models", {
      body: {
        id: "acme/pixel-painter",
        description: "Pixel art from a prompt",
        inputs: {
          prompt: { kind: "string", description: "Prompt", required: true },
          palette: { kind: "enum", description: "Colours", values: [8, 16, 32], default: 16 },
          num_inference_steps: { kind: "integer", description: "Steps", default: 10, minimum: 1, maximum: 20 },
          seed: { kind: "integer", description: "Seed" },
        },
      },
    });
    expect(versioned.versionId).toMatch(/^[0-9a-f]{64}$/);
    const model = (await (await harness.api("/v1/models/acme/pixel-painter")).json()) as {
      is_official: boolean;
      latest_version: { id: string; openapi_schema: { components: { schemas: Record<string, unknown> } } };
    };
    expect(model.is_official).toBe(false);
    expect(model.latest_version.id).toBe(versioned.versionId);
    // An integer enum, as Cog emits it: a $ref to an integer enumeration.
    expect(model.latest_version.openapi_schema.components.schemas.palette).toMatchObject({
      type: "integer",
      enum: [8, 16, 32],
    });

    // Community models run by version only.
    const byName = await harness.api("/v1/models/acme/pixel-painter/predictions", { body: { input: { prompt: "x" } } });
    expect(byName.status).toBe(404);
    const invalid = await harness.api("/v1/predictions", {
      body: { version: `acme/pixel-painter:${versioned.versionId}`, input: { prompt: "x", palette: 12 } },
    });
    expect(invalid.status).toBe(422);
    const created = await harness.create("/v1/predictions", {
      version: versioned.versionId,
      input: { prompt: "a castle", palette: 32 },
    });
    expect(created).toMatchObject({ model: "acme/pixel-painter", version: versioned.versionId });
    await harness.advance(60_000);
    expect((await harness.get(created.id)).status).toBe("succeeded");

    await harness.control("/__control/models", { body: { id: "acme/official-one", official: true } });
    const official = await harness.create("/v1/models/acme/official-one/predictions", { input: { prompt: "x" } });
    expect(official.version).toBe("hidden");

    // Built-in models cannot be replaced; a reset forgets configured ones.
    const clash = await fetch(`${harness.url}/__control/models`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "stability-ai/sdxl" }),
    });
    expect(clash.status).toBe(400);
    await harness.control("/__control/reset", { body: {} });
    expect((await harness.api("/v1/models/acme/pixel-painter")).status).toBe(404);
  });
});
