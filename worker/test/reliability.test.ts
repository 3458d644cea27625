/**
 * What happens when things go wrong: Replicate throttling, failing downloads, lost webhooks, hostile
 * output URLs.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  completionOf,
  consumeBatch,
  createGeneration,
  createSession,
  emulator,
  getGeneration,
  runScheduled,
  signUp,
  type TestUser,
  terminalWebhooks,
  uniqueTag,
  waitFor,
  waitForGeneration,
} from "./helpers";

async function finishedAtReplicate(user: TestUser, prompt: string) {
  const session = await createSession(user);
  const created = await createGeneration(user, session.id, { prompt });
  const running = await waitForGeneration(user, created.id, (g) => g.predictionId !== null);
  const webhooks = await terminalWebhooks(running.predictionId!);
  const terminal = JSON.parse(webhooks.find((webhook) => webhook.status === "succeeded")!.body) as Record<
    string,
    unknown
  >;
  return { session, generation: running, terminal };
}

afterEach(() => vi.restoreAllMocks());

describe("Replicate throttling on create", () => {
  it("waits and retries a 429 within one submission", async () => {
    const user = await signUp();
    const tag = uniqueTag();
    const { id: faultId } = await emulator.addFault({
      match: { promptIncludes: tag },
      times: 2,
      effect: { type: "http", status: 429 },
    });
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, { prompt: `throttled ${tag}` });
    const running = await waitForGeneration(user, created.id, (g) => g.predictionId !== null);
    // Both refusals were answered, and the call after them created the prediction…
    expect(await emulator.fault(faultId)).toMatchObject({ hits: 2, remaining: 0 });
    expect(running).toMatchObject({ error: null, predictionId: expect.any(String) });
    expect(["starting", "running", "succeeded"]).toContain(running.status);
    // …within the room's first submission: no backoff in the room, no second attempt.
    const attempts = await runInDurableObject(env.SESSION_ROOM.getByName(session.id), async (_room, state) =>
      state.storage.sql
        .exec<{ attempts: number }>("SELECT attempts FROM jobs WHERE generation_id = ?", created.id)
        .toArray()
        .map((job) => job.attempts),
    );
    expect(attempts).toEqual([1]);
  });

  it("fails the generation with a clear message when Replicate keeps refusing, and the queue moves on", async () => {
    const user = await signUp();
    const tag = uniqueTag();
    await emulator.addFault({ match: { promptIncludes: tag }, effect: { type: "http", status: 429, retryAfter: 1 } });
    const session = await createSession(user);
    const doomed = await createGeneration(user, session.id, { prompt: `always throttled ${tag}` });
    const room = env.SESSION_ROOM.getByName(session.id);
    // Skip the backoff between submission attempts: make the job due and let the alarm fire.
    const failed = await waitFor(
      async () => {
        const current = await getGeneration(user, doomed.id);
        if (current.status === "failed") return current;
        await runInDurableObject(room, async (_instance, state) => {
          state.storage.sql.exec("UPDATE jobs SET due_at = 0");
          await state.storage.setAlarm(Date.now());
        });
        return null;
      },
      { timeoutMs: 50_000, intervalMs: 500, what: "the generation to fail" },
    );
    expect(failed.error).toMatch(/did not accept the prediction after 5 attempts/);
    expect(failed.error).toMatch(/throttled/i);
    expect(failed.predictionId).toBeNull();

    const next = await createGeneration(user, session.id, { prompt: `after the storm ${uniqueTag()}` });
    await waitForGeneration(user, next.id, (g) => g.predictionId !== null);
  }, 60_000);
});

describe("storing outputs", () => {
  it("retries a failing download, then the dead-letter queue fails the generation with the reason", async () => {
    const user = await signUp();
    const tag = uniqueTag();
    await emulator.addFault({
      match: { promptIncludes: tag },
      effect: { type: "download", mode: "error", status: 503 },
    });
    const { generation, terminal } = await finishedAtReplicate(user, `unreachable outputs ${tag}`);

    const first = await consumeBatch("image-studio-completions", [completionOf(terminal)]);
    expect(first.retried).toBe(1);
    const pending = await getGeneration(user, generation.id);
    expect(pending.status).not.toBe("succeeded");
    expect(pending.outputs).toEqual([]);

    await consumeBatch("image-studio-completions-dlq", [completionOf(terminal)], 7);
    const failed = await getGeneration(user, generation.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/Could not keep the outputs after several attempts: .*HTTP 503/);
  });

  it("stores a truncated download only once it arrives whole", async () => {
    const user = await signUp();
    const tag = uniqueTag();
    await emulator.addFault({
      match: { promptIncludes: tag },
      times: 1,
      effect: { type: "download", mode: "truncate" },
    });
    const { generation, terminal } = await finishedAtReplicate(user, `truncated ${tag}`);
    expect((await consumeBatch("image-studio-completions", [completionOf(terminal)])).retried).toBe(1);
    expect((await env.BUCKET.list({ prefix: `outputs/${user.id}/${generation.id}/` })).objects).toHaveLength(0);
    await consumeBatch("image-studio-completions", [completionOf(terminal)], 2);
    const done = await getGeneration(user, generation.id);
    expect(done.status).toBe("succeeded");
    const original = new Uint8Array(await (await fetch((terminal.output as string[])[0]!)).arrayBuffer());
    expect(done.outputs[0]!.sizeBytes).toBe(original.length);
  });

  it("never fetches an output from a host outside REPLICATE_OUTPUT_HOSTS", async () => {
    const user = await signUp();
    const { generation, terminal } = await finishedAtReplicate(user, `hostile ${uniqueTag()}`);
    const spy = vi.spyOn(globalThis, "fetch");
    const hostile = [
      "https://evil.example/out-0.png",
      "https://replicate.delivery.evil.example/x.png",
      "http://169.254.169.254/latest",
      "https://user@replicate.delivery/x.png",
    ];
    for (const url of hostile) {
      await consumeBatch("image-studio-completions", [completionOf({ ...terminal, output: [url] })]);
    }
    const fetched = spy.mock.calls.map(([input]) => String(input instanceof Request ? input.url : input));
    expect(fetched.filter((url) => hostile.includes(url))).toEqual([]);
    const failed = await getGeneration(user, generation.id);
    expect(failed).toMatchObject({ status: "failed", outputs: [] });
    expect(failed.error).toMatch(/host that is not allowed/);
  });

  it("acknowledges a completion for a prediction that is not ours and stores nothing", async () => {
    const stranger = {
      id: `notours${uniqueTag()}`,
      status: "succeeded",
      output: ["https://replicate.delivery/x/out-0.png"],
    };
    const spy = vi.spyOn(globalThis, "fetch");
    const result = await consumeBatch("image-studio-completions", [completionOf(stranger)]);
    expect(result).toMatchObject({ retried: 0, acked: 1 });
    expect(spy).not.toHaveBeenCalled();
  });
});

describe("repeated completions", () => {
  const queue = "image-studio-completions";
  const outputUrl = (terminal: Record<string, unknown>) => (terminal.output as string[])[0]!;
  const fetchesOf = (spy: { mock: { calls: unknown[][] } }, url: string) =>
    spy.mock.calls.filter(([input]) => String(input instanceof Request ? input.url : input) === url).length;

  it("acknowledges a webhook-id already processed and does nothing more; a new one does the work", async () => {
    const user = await signUp();
    const { generation, terminal } = await finishedAtReplicate(user, `repeat ${uniqueTag()}`);
    const webhookId = `msg_${crypto.randomUUID()}`;
    expect(await consumeBatch(queue, [{ ...completionOf(terminal), webhookId }])).toEqual({ acked: 1, retried: 0 });
    expect((await getGeneration(user, generation.id)).status).toBe("succeeded");
    const receipts = await env.DB.prepare("SELECT id FROM webhook_receipts WHERE id = ?").bind(webhookId).all();
    expect(receipts.results).toHaveLength(1);

    // Lose the object, so that only real work could bring it back.
    const key = `outputs/${user.id}/${generation.id}/0`;
    await env.BUCKET.delete(key);
    const spy = vi.spyOn(globalThis, "fetch");
    expect(await consumeBatch(queue, [{ ...completionOf(terminal), webhookId }])).toEqual({ acked: 1, retried: 0 });
    expect(fetchesOf(spy, outputUrl(terminal))).toBe(0);
    expect(await env.BUCKET.head(key)).toBeNull();

    expect(await consumeBatch(queue, [{ ...completionOf(terminal), webhookId: `msg_${crypto.randomUUID()}` }])).toEqual(
      {
        acked: 1,
        retried: 0,
      },
    );
    expect(fetchesOf(spy, outputUrl(terminal))).toBe(1);
    expect(await env.BUCKET.head(key)).not.toBeNull();
  });

  it("gives copies of one state in one batch a single download, and acknowledges them all", async () => {
    const user = await signUp();
    const { generation, terminal } = await finishedAtReplicate(user, `copies ${uniqueTag()}`);
    const spy = vi.spyOn(globalThis, "fetch");
    const copies = Array.from({ length: 10 }, (_, i) => ({
      ...completionOf(terminal),
      webhookId: `msg_${crypto.randomUUID()}`,
      receivedAt: Date.now() + i,
    }));
    expect(await consumeBatch(queue, copies)).toEqual({ acked: 10, retried: 0 });
    expect(fetchesOf(spy, outputUrl(terminal))).toBe(1);
    const done = await getGeneration(user, generation.id);
    expect(done.status).toBe("succeeded");
    expect(done.outputs).toHaveLength(1);
    const ids = copies.map((copy) => copy.webhookId);
    const receipts = await env.DB.prepare(
      `SELECT id FROM webhook_receipts WHERE id IN (${ids.map(() => "?").join(",")})`,
    )
      .bind(...ids)
      .all();
    expect(receipts.results).toHaveLength(10);
  });

  it("retries a failing state without recording it, so a repeat of its webhook-id is still worked on", async () => {
    const user = await signUp();
    const tag = uniqueTag();
    await emulator.addFault({
      match: { promptIncludes: tag },
      times: 1,
      effect: { type: "download", mode: "error", status: 503 },
    });
    const { generation, terminal } = await finishedAtReplicate(user, `retry then repeat ${tag}`);
    const webhookId = `msg_${crypto.randomUUID()}`;
    expect(await consumeBatch(queue, [{ ...completionOf(terminal), webhookId }])).toEqual({ acked: 0, retried: 1 });
    expect(
      (await env.DB.prepare("SELECT id FROM webhook_receipts WHERE id = ?").bind(webhookId).all()).results,
    ).toHaveLength(0);
    expect(await consumeBatch(queue, [{ ...completionOf(terminal), webhookId }], 2)).toEqual({ acked: 1, retried: 0 });
    expect((await getGeneration(user, generation.id)).status).toBe("succeeded");
  });
});

describe("the cron sweep", () => {
  it("completes generations stuck without webhooks by nudging their session", async () => {
    const user = await signUp();
    const { session, generation } = await finishedAtReplicate(user, `stuck ${uniqueTag()}`);
    await env.DB.prepare("UPDATE generations SET submitted_at = ? WHERE id = ?")
      .bind(Date.now() - 10 * 60_000, generation.id)
      .run();
    await runScheduled();
    await runDurableObjectAlarm(env.SESSION_ROOM.getByName(session.id));
    const done = await waitForGeneration(user, generation.id, (g) => g.status === "succeeded");
    expect(done.outputs).toHaveLength(1);

    // Running it again changes nothing.
    await runScheduled();
    expect(await getGeneration(user, generation.id)).toEqual(done);
  });
});
