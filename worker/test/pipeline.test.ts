/**
 * The generation path end to end on the real local stack: API → D1 → the session's Durable Object →
 * the emulator → signed webhooks → the completions queue → R2 → D1 → every open socket.
 */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
  SELF,
} from "cloudflare:test";
import type { Generation } from "@contract/api";
import { describe, expect, it } from "vitest";
import type { CompletionMessage } from "../completions/messages";
import { downloadOutput, OutputDownloadError } from "../generations/outputs";
import worker from "../index";
import { readConfig } from "../lib/config";
import { ReplicateGateway } from "../replicate/gateway";
import { sniffMedia } from "../storage/media-type";
import {
  api,
  createGeneration,
  createSession,
  deliver,
  deliverSigned,
  emulator,
  expectProblem,
  getGeneration,
  ORIGIN,
  openLiveSocket,
  type RecordedWebhook,
  signUp,
  type TestUser,
  terminalWebhooks,
  uniqueTag,
  waitFor,
  waitForGeneration,
} from "./helpers";

async function submitted(user: TestUser, generation: Generation): Promise<Generation & { predictionId: string }> {
  const ready = await waitForGeneration(user, generation.id, (g) => g.predictionId !== null, "submission to Replicate");
  return ready as Generation & { predictionId: string };
}

/** Feeds messages straight to the queue consumer and waits until it has finished with them. */
async function consume(messages: CompletionMessage[]): Promise<void> {
  const batch = createMessageBatch(
    "image-studio-completions",
    messages.map((body, index) => ({
      id: `m${index}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  const result = await getQueueResult(batch, ctx);
  expect(result.retryMessages).toEqual([]);
}

const asMessage = (webhook: RecordedWebhook): CompletionMessage => ({
  type: "prediction",
  source: "webhook",
  prediction: JSON.parse(webhook.body) as unknown,
  receivedAt: Date.now(),
});

async function r2Keys(prefix: string): Promise<string[]> {
  const listing = await env.BUCKET.list({ prefix });
  return listing.objects.map((object) => object.key);
}

describe("a generation from request to stored image", () => {
  it("runs text-to-image to succeeded, with the outputs stored in R2 byte for byte", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, {
      prompt: `a lighthouse at dawn ${uniqueTag()}`,
      params: { seed: 1234, numOutputs: 2, width: 1344, height: 768 },
    });
    expect(created).toMatchObject({
      status: "queued",
      sessionId: session.id,
      outputs: [],
      params: { seed: 1234, numOutputs: 2 },
    });

    const running = await submitted(user, created);
    const webhooks = await terminalWebhooks(running.predictionId);
    expect(webhooks.map((webhook) => webhook.event)).toContain("start");
    for (const webhook of webhooks) expect((await deliver(webhook)).status).toBe(200);

    const done = await waitForGeneration(user, created.id, (g) => g.status === "succeeded");
    expect(done.outputs).toHaveLength(2);
    expect(done).toMatchObject({ progress: 1, error: null, cost: 0.006 });
    expect(done.completedAt).not.toBeNull();
    expect(done.durationMs).toBeGreaterThanOrEqual(0);

    const prediction = JSON.parse(webhooks.find((webhook) => webhook.status === "succeeded")!.body) as {
      output: string[];
      input: Record<string, unknown>;
    };
    // The model got our parameters under its own input names.
    expect(prediction.input).toMatchObject({ seed: 1234, num_outputs: 2, aspect_ratio: "16:9" });
    for (const [index, asset] of done.outputs.entries()) {
      const original = new Uint8Array(await (await fetch(prediction.output[index]!)).arrayBuffer());
      const served = await api(user, "GET", asset.url);
      expect(served.status).toBe(200);
      expect(served.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(served.headers.get("Cache-Control")).toContain("max-age=31536000");
      expect(served.headers.get("ETag")).toBe(`"${asset.sha256}"`);
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(original);
      expect(asset).toMatchObject({ role: "output", mimeType: "image/webp", sizeBytes: original.length });
      expect(asset.width! / asset.height!).toBeCloseTo(1344 / 768, 1);
      const stored = await env.BUCKET.get(`outputs/${user.id}/${created.id}/${index}`);
      expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(original);
    }

    const detail = await (await api(user, "GET", `/api/sessions/${session.id}`)).json<{
      generationCount: number;
      succeededCount: number;
      title: string;
      thumbnailUrl: string;
      generations: Generation[];
    }>();
    expect(detail).toMatchObject({
      generationCount: 1,
      succeededCount: 1,
      title: expect.stringContaining("a lighthouse at dawn"),
    });
    expect(detail.thumbnailUrl).toContain(done.outputs.at(-1)!.id);
    expect(detail.generations.map((g) => g.id)).toEqual([created.id]);
  });

  it("keeps a batch's outputs side by side: every download is under way before the first one ends", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const tag = uniqueTag();
    // Each output trickles out over a while, so one kept after another could not overlap.
    await emulator.addFault({
      match: { promptIncludes: tag },
      effect: { type: "download", mode: "slow", delayMs: 400 },
    });
    const created = await createGeneration(user, session.id, {
      prompt: `four lanterns ${tag}`,
      params: { numOutputs: 4 },
    });
    const running = await submitted(user, created);
    for (const webhook of await terminalWebhooks(running.predictionId))
      expect((await deliver(webhook)).status).toBe(200);
    const done = await waitForGeneration(user, created.id, (g) => g.status === "succeeded");
    expect(done.outputs).toHaveLength(4);

    const downloads = (await emulator.requests(`?predictionId=${running.predictionId}`)).filter((request) =>
      request.path.startsWith("/delivery/"),
    );
    expect(downloads).toHaveLength(4);
    const lastArrival = Math.max(...downloads.map((download) => download.seq));
    const firstEnd = Math.min(...downloads.map((download) => download.endSeq ?? Number.POSITIVE_INFINITY));
    expect(lastArrival).toBeLessThan(firstEnd);
  });

  it("gives up an output download that has not finished within its time limit, to be tried again", async () => {
    const tag = uniqueTag();
    const gateway = new ReplicateGateway(readConfig(env));
    const { id } = await gateway.createPrediction({
      model: "black-forest-labs/flux-schnell",
      input: { prompt: `a slow delivery ${tag}` },
    });
    const url = await waitFor(
      async () => {
        const prediction = await gateway.getPrediction(id);
        return prediction.status === "succeeded" && Array.isArray(prediction.output)
          ? String(prediction.output[0])
          : null;
      },
      { what: `prediction ${id} to succeed` },
    );
    const hosts = readConfig(env).outputHosts;
    // Its head comes at once and its body trickles out over 3 s: the limit covers the body too.
    await emulator.addFault({
      match: { promptIncludes: tag },
      times: 1,
      effect: { type: "download", mode: "slow", delayMs: 3_000 },
    });
    const late = await downloadOutput(url, hosts, 300).catch((error: unknown) => error);
    expect(late).toBeInstanceOf(OutputDownloadError);
    expect(late).toMatchObject({ retryable: true, message: expect.stringContaining("did not finish within 0.3 s") });
    expect((await downloadOutput(url, hosts)).byteLength).toBeGreaterThan(0);
  });

  it("serves ranges and revalidation of a stored output", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, { prompt: `ranges ${uniqueTag()}` });
    const running = await submitted(user, created);
    for (const webhook of await terminalWebhooks(running.predictionId)) await deliver(webhook);
    const [asset] = (await waitForGeneration(user, created.id, (g) => g.status === "succeeded")).outputs;

    const partial = await api(user, "GET", asset!.url, undefined, { Range: "bytes=0-9" });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("Content-Range")).toBe(`bytes 0-9/${asset!.sizeBytes}`);
    expect((await partial.arrayBuffer()).byteLength).toBe(10);
    // A range for the version the client holds; the whole object when it holds another.
    const resumed = await api(user, "GET", asset!.url, undefined, {
      Range: "bytes=10-19",
      "If-Range": `"${asset!.sha256}"`,
    });
    expect(resumed.status).toBe(206);
    expect(resumed.headers.get("Content-Range")).toBe(`bytes 10-19/${asset!.sizeBytes}`);
    const changed = await api(user, "GET", asset!.url, undefined, {
      Range: "bytes=10-19",
      "If-Range": '"an-older-version"',
    });
    expect(changed.status).toBe(200);
    expect((await changed.arrayBuffer()).byteLength).toBe(asset!.sizeBytes);
    const cached = await api(user, "GET", asset!.url, undefined, { "If-None-Match": `"${asset!.sha256}"` });
    expect(cached.status).toBe(304);
    expect((await api(user, "GET", asset!.url, undefined, { Range: `bytes=${asset!.sizeBytes + 10}-` })).status).toBe(
      416,
    );
  });

  it("makes a thumbnail once and keeps it in R2", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, {
      prompt: `thumbnail ${uniqueTag()}`,
      params: { width: 1024, height: 1024 },
    });
    const running = await submitted(user, created);
    for (const webhook of await terminalWebhooks(running.predictionId)) await deliver(webhook);
    const [asset] = (await waitForGeneration(user, created.id, (g) => g.status === "succeeded")).outputs;

    const response = await api(user, "GET", asset!.thumbnailUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("image/webp");
    const media = sniffMedia(new Uint8Array(await response.arrayBuffer()));
    expect(media?.mimeType).toBe("image/webp");
    expect(media!.width).toBeLessThanOrEqual(256);
    expect(await env.BUCKET.head(`thumbnails/256/outputs/${user.id}/${created.id}/0`)).not.toBeNull();
    const other = await signUp("other");
    await expectProblem(await api(other, "GET", asset!.thumbnailUrl), 404);
  });

  it("applies duplicated, late and reordered events exactly once", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, {
      prompt: `duplicates ${uniqueTag()}`,
      params: { numOutputs: 3 },
    });
    const running = await submitted(user, created);
    const webhooks = await terminalWebhooks(running.predictionId);
    const terminal = webhooks.filter((webhook) => webhook.status === "succeeded");
    const early = webhooks.filter((webhook) => webhook.status !== "succeeded");

    // Terminal first, three times over, then the earlier events arrive late.
    await consume([...terminal, ...terminal, ...terminal].map(asMessage));
    const first = await getGeneration(user, created.id);
    expect(first.status).toBe("succeeded");
    await consume([...early, ...terminal, ...early.reverse()].map(asMessage));
    // And once more through the signed endpoint, concurrently.
    const responses = await Promise.all([...terminal, ...terminal, ...early].map(deliver));
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));

    const after = await getGeneration(user, created.id);
    expect(after).toMatchObject({ status: "succeeded", completedAt: first.completedAt, progress: 1 });
    expect(after.outputs.map((asset) => asset.id)).toEqual(first.outputs.map((asset) => asset.id));
    expect(after.outputs).toHaveLength(3);
    expect(await r2Keys(`outputs/${user.id}/${created.id}/`)).toHaveLength(3);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM assets WHERE generation_id = ?")
      .bind(created.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(3);
    const session2 = await (await api(user, "GET", `/api/sessions/${session.id}`)).json<{
      succeededCount: number;
      generationCount: number;
    }>();
    expect(session2).toMatchObject({ succeededCount: 1, generationCount: 1 });
  });

  it("recovers a generation whose webhooks were all lost by polling from the session's alarm", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, { prompt: `lost webhooks ${uniqueTag()}` });
    const running = await submitted(user, created);
    await terminalWebhooks(running.predictionId); // finished at Replicate; we deliver none of it

    const room = env.SESSION_ROOM.getByName(session.id);
    await runInDurableObject(room, (_instance, state) => {
      state.storage.sql.exec("UPDATE jobs SET due_at = 0");
    });
    await runDurableObjectAlarm(room);
    const done = await waitForGeneration(user, created.id, (g) => g.status === "succeeded");
    expect(done.outputs).toHaveLength(1);
    expect(await room.pendingJobs()).toEqual([]);
    const polls = await emulator.requests(`?predictionId=${running.predictionId}`);
    expect(
      polls.some((request) => request.method === "GET" && request.path === `/v1/predictions/${running.predictionId}`),
    ).toBe(true);
  });

  it("records a failed prediction's error", async () => {
    const user = await signUp();
    const tag = uniqueTag();
    await emulator.addFault({ match: { promptIncludes: tag }, effect: { type: "fail", error: "CUDA out of memory" } });
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, { prompt: `doomed ${tag}` });
    const running = await submitted(user, created);
    for (const webhook of await terminalWebhooks(running.predictionId)) await deliver(webhook);
    const failed = await waitForGeneration(user, created.id, (g) => g.status === "failed");
    expect(failed).toMatchObject({ error: "CUDA out of memory", outputs: [], cost: null });
    const detail = await (await api(user, "GET", `/api/sessions/${session.id}`)).json<{ failedCount: number }>();
    expect(detail.failedCount).toBe(1);
  });

  it("validates the request and stores nothing when it is bad", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const bad = await expectProblem(
      await api(user, "POST", `/api/sessions/${session.id}/generations`, {
        model: "black-forest-labs/flux-schnell",
        prompt: "",
        params: { width: 10, numOutputs: 9 },
      }),
      400,
    );
    expect(bad.errors?.map((error) => error.path).sort()).toEqual(["params.numOutputs", "params.width", "prompt"]);
    await expectProblem(
      await api(user, "POST", `/api/sessions/${session.id}/generations`, { model: "someone/unknown", prompt: "x" }),
      400,
    );
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM generations WHERE session_id = ?")
      .bind(session.id)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
  });
});

describe("the live session channel", () => {
  it("sends a snapshot, then progress and the terminal update to every open socket", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const tabs = [await openLiveSocket(user, session.id), await openLiveSocket(user, session.id)];
    for (const tab of tabs) {
      await waitFor(async () => tab.messages.length > 0, { what: "snapshot" });
      expect(tab.messages[0]).toMatchObject({ type: "snapshot", session: { id: session.id }, generations: [] });
    }

    const created = await createGeneration(user, session.id, {
      model: "black-forest-labs/flux-dev",
      prompt: `live ${uniqueTag()}`,
    });
    const running = await submitted(user, created);
    const webhooks = await terminalWebhooks(running.predictionId);
    // A progress event halfway through, applied before the terminal one (a loaded emulator may
    // emit few log events, and the queue may reorder them; a late one is rightly ignored).
    const terminal = JSON.parse(webhooks.find((webhook) => webhook.status === "succeeded")!.body) as Record<
      string,
      unknown
    >;
    const midway = (percent: number, step: number) =>
      JSON.stringify({
        ...terminal,
        status: "processing",
        output: null,
        completed_at: null,
        metrics: {},
        logs: `Using seed: 7\n ${percent}%|███       | ${step}/28 [00:01<00:01, 9.61it/s]`,
      });
    expect((await deliverSigned(midway(25, 7))).status).toBe(200);
    await waitForGeneration(user, created.id, (g) => g.status === "running" && g.progress === 0.25);
    expect((await deliverSigned(midway(50, 14))).status).toBe(200);
    await waitForGeneration(user, created.id, (g) => g.progress === 0.5);
    for (const webhook of webhooks) await deliver(webhook);
    await waitForGeneration(user, created.id, (g) => g.status === "succeeded");

    for (const tab of tabs) {
      const final = await waitFor(
        async () => tab.messages.find((m) => m.type === "generation.updated" && m.generation.status === "succeeded"),
        { what: "terminal update over the socket" },
      );
      expect(final.type === "generation.updated" && final.generation.outputs).toHaveLength(1);
      const statuses = tab.messages.flatMap((m) => (m.type === "generation.updated" ? [m.generation.status] : []));
      expect(statuses[0]).toBe("queued");
      expect(statuses).toContain("running");
      expect(statuses.filter((status) => status === "succeeded")).toHaveLength(1);
      const progress = tab.messages.flatMap((m) => (m.type === "generation.progress" ? [m.progress] : []));
      expect(progress.length).toBeGreaterThan(0);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(tab.messages.some((m) => m.type === "session.updated" && m.session.succeededCount === 1)).toBe(true);
    }

    tabs[0]!.socket.send(JSON.stringify({ type: "ping" }));
    await waitFor(async () => tabs[0]!.messages.some((m) => m.type === "pong"), { what: "pong" });
    for (const tab of tabs) tab.socket.close(1000, "done");
  });

  it("refuses the upgrade without credentials, from another origin, or for someone else's session", async () => {
    const owner = await signUp("owner");
    const other = await signUp("other");
    const session = await createSession(owner);
    const path = `${ORIGIN}/api/sessions/${session.id}/live`;
    await expectProblem(await SELF.fetch(path, { headers: { Upgrade: "websocket" } }), 401);
    await expectProblem(
      await SELF.fetch(path, { headers: { Upgrade: "websocket", Authorization: `Bearer ${other.token}` } }),
      404,
    );
    await expectProblem(
      await SELF.fetch(path, {
        headers: { Upgrade: "websocket", Cookie: owner.cookie, Origin: "https://evil.example" },
      }),
      403,
    );
    await expectProblem(await SELF.fetch(path, { headers: { Authorization: `Bearer ${owner.token}` } }), 426);
  });
});

describe("isolation between users", () => {
  it("answers 404 for another user's session, generation and asset, and changes nothing", async () => {
    const owner = await signUp("owner");
    const intruder = await signUp("intruder");
    const session = await createSession(owner, "Private");
    const created = await createGeneration(owner, session.id, { prompt: `private ${uniqueTag()}` });
    const running = await submitted(owner, created);
    for (const webhook of await terminalWebhooks(running.predictionId)) await deliver(webhook);
    const done = await waitForGeneration(owner, created.id, (g) => g.status === "succeeded");
    const asset = done.outputs[0]!;

    await expectProblem(await api(intruder, "GET", `/api/sessions/${session.id}`), 404);
    await expectProblem(await api(intruder, "PATCH", `/api/sessions/${session.id}`, { title: "mine now" }), 404);
    await expectProblem(await api(intruder, "DELETE", `/api/sessions/${session.id}`), 404);
    await expectProblem(
      await api(intruder, "POST", `/api/sessions/${session.id}/generations`, {
        model: "black-forest-labs/flux-schnell",
        prompt: "x",
      }),
      404,
    );
    await expectProblem(await api(intruder, "GET", `/api/generations/${created.id}`), 404);
    await expectProblem(await api(intruder, "POST", `/api/generations/${created.id}/cancel`), 404);
    await expectProblem(await api(intruder, "GET", asset.url), 404);
    await expectProblem(await api(null, "GET", asset.url), 401);
    const intruderList = await (await api(intruder, "GET", "/api/sessions")).json<{ items: unknown[] }>();
    expect(intruderList.items).toEqual([]);

    const still = await (await api(owner, "GET", `/api/sessions/${session.id}`)).json<{
      title: string;
      generationCount: number;
    }>();
    expect(still).toMatchObject({ title: "Private", generationCount: 1 });
    expect(await env.BUCKET.head(`outputs/${owner.id}/${created.id}/0`)).not.toBeNull();
  });
});

describe("cancel and retry", () => {
  it("cancels a running generation at Replicate and retries it as a new generation with the same settings", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, {
      model: "black-forest-labs/flux-dev",
      prompt: `second thoughts ${uniqueTag()}`,
      params: { seed: 7, guidance: 3.5 },
    });
    const running = await submitted(user, created);

    const canceled = await api(user, "POST", `/api/generations/${created.id}/cancel`);
    expect(canceled.status).toBe(200);
    expect(await canceled.json<Generation>()).toMatchObject({ id: created.id, status: "canceled" });
    const calls = await emulator.requests(`?predictionId=${running.predictionId}`);
    expect(
      calls.some((call) => call.method === "POST" && call.path === `/v1/predictions/${running.predictionId}/cancel`),
    ).toBe(true);
    // Canceling again is harmless, and a late success cannot revive it.
    expect((await (await api(user, "POST", `/api/generations/${created.id}/cancel`)).json<Generation>()).status).toBe(
      "canceled",
    );

    const retried = await api(user, "POST", `/api/generations/${created.id}/retry`);
    expect(retried.status).toBe(202);
    const copy = await retried.json<Generation>();
    expect(copy).toMatchObject({
      status: "queued",
      model: "black-forest-labs/flux-dev",
      prompt: created.prompt,
      params: { seed: 7, guidance: 3.5 },
    });
    expect(copy.id).not.toBe(created.id);
    const copyRunning = await submitted(user, copy);
    for (const webhook of await terminalWebhooks(copyRunning.predictionId)) await deliver(webhook);
    await waitForGeneration(user, copy.id, (g) => g.status === "succeeded");
    expect((await getGeneration(user, created.id)).status).toBe("canceled");

    const other = await signUp("other");
    await expectProblem(await api(other, "POST", `/api/generations/${created.id}/retry`), 404);
  });
});
