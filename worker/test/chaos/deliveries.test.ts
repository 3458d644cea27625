/** Chaos: duplicated, shuffled and late webhooks, each state taking effect once (see support.ts). */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import type { SessionDetail } from "@contract/api";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../../emulator/seeded-random";
import worker from "../../index";
import {
  api,
  deliver,
  getGeneration,
  ORIGIN,
  type RecordedWebhook,
  signUp,
  uniqueTag,
  waitForGeneration,
} from "../helpers";
import { allRows, finishedAtReplicate, inBatches, shuffle, sourceSha } from "./support";

describe("the completion pipeline under duplicated, shuffled and late webhooks", () => {
  it("gives 50 identical deliveries at once one effect", async () => {
    const user = await signUp();
    const { generations, webhooks } = await finishedAtReplicate(user, 1, `fifty ${uniqueTag()}`);
    const terminal = webhooks.get(generations[0]!.id)!.find((w) => w.status === "succeeded")!;
    const statuses = await Promise.all(Array.from({ length: 50 }, () => deliver(terminal).then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([200]));
    const done = await waitForGeneration(user, generations[0]!.id, (g) => g.status === "succeeded");
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // let the other 49 messages drain
    const after = await getGeneration(user, done.id);
    expect(after).toEqual(done);
    expect((await env.BUCKET.list({ prefix: `outputs/${user.id}/` })).objects).toHaveLength(1);
    const session = await (await api(user, "GET", `/api/sessions/${done.sessionId}`)).json<SessionDetail>();
    expect(session).toMatchObject({ succeededCount: 1, generationCount: 1 });
  }, 60_000);

  it("turns 1,000 shuffled, duplicated and late deliveries for 100 predictions into exactly 100 stored results", async () => {
    const user = await signUp();
    const { generations, webhooks } = await finishedAtReplicate(user, 100, `chaos ${uniqueTag()}`);
    const random = seededRandom(20261121);
    const deliveries: RecordedWebhook[] = [];
    for (const generation of generations) {
      const events = webhooks.get(generation.id)!;
      const terminal = events.filter((w) => w.status === "succeeded");
      const early = events.filter((w) => w.status !== "succeeded");
      deliveries.push(...early);
      for (let copies = 1 + Math.floor(random() * 5); copies > 0; copies--) deliveries.push(...terminal);
      // 30% also get a late `processing` event after they succeeded.
      if (random() < 0.3 && early.length) deliveries.push(early.at(-1)!);
    }
    while (deliveries.length < 1000) deliveries.push(deliveries[Math.floor(random() * deliveries.length)]!);
    const shuffled = shuffle(deliveries.slice(0, 1000), random);
    expect(shuffled).toHaveLength(1000);

    // Every delivery through the signed endpoint (repeats of a webhook-id are acknowledged once)…
    const statuses: number[] = [];
    // The Worker's own fetch handler with the real bindings: the same endpoint, without the cost
    // the test pool's SELF adds per call (it grows with every call a test makes).
    const post = async (webhook: RecordedWebhook) => {
      const request = new Request<unknown, IncomingRequestCfProperties>(`${ORIGIN}/api/webhooks/replicate`, {
        method: "POST",
        headers: webhook.headers,
        body: webhook.body,
      });
      const ctx = createExecutionContext();
      const response = await worker.fetch(request, env, ctx);
      await waitOnExecutionContext(ctx);
      return response.status;
    };
    await inBatches(shuffled, 25, async (webhook) => statuses.push(await post(webhook)));
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    // …and the same thousand handed straight to the consumer, so it faces every repeat itself. (Not
    // through the shared local queue: test files run side by side, and a thousand extra messages
    // would delay theirs.)
    for (let i = 0; i < shuffled.length; i += 50) {
      const batch = createMessageBatch(
        "image-studio-completions",
        shuffled.slice(i, i + 50).map((webhook, j) => ({
          id: `chaos-${i + j}`,
          timestamp: new Date(),
          attempts: 1,
          body: {
            type: "prediction",
            source: "webhook",
            prediction: JSON.parse(webhook.body) as unknown,
            receivedAt: Date.now(),
          },
        })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, env);
      await getQueueResult(batch, ctx);
    }

    await allRows(
      generations.map((g) => g.id),
      (row) => row.status === "succeeded",
      "all 100 generations to succeed",
      480_000,
    );
    const done = await Promise.all(generations.map((g) => getGeneration(user, g.id)));
    expect(done.filter((g) => g.status === "succeeded")).toHaveLength(100);
    expect(done.every((g) => g.outputs.length === 1 && g.progress === 1)).toBe(true);
    const objects = await env.BUCKET.list({ prefix: `outputs/${user.id}/`, limit: 1000 });
    expect(objects.objects).toHaveLength(100);
    const rows = await env.DB.prepare(
      "SELECT count(*) AS n, count(DISTINCT generation_id) AS g FROM assets WHERE user_id = ?",
    )
      .bind(user.id)
      .first<{ n: number; g: number }>();
    expect(rows).toEqual({ n: 100, g: 100 });
    // Bytes equal to what Replicate served (a sample of 20, compared by SHA-256).
    for (const generation of done.slice(0, 20)) {
      expect(generation.outputs[0]!.sha256).toBe(await sourceSha(webhooks.get(generation.id)!));
    }
  }, 600_000);
});
