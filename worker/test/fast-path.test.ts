/**
 * Results on screen at once: a verified webhook naming its session is handed straight to the
 * session's room, which stores the outputs and pushes the change itself, while the same state also
 * goes through the completions queue (the durable path). Both paths together have one effect.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../index";
import { predictionSchema } from "../replicate/prediction";
import { signWebhook } from "../replicate/webhook-signature";
import { TEST_WEBHOOK_SECRET } from "./constants";
import {
  createGeneration,
  createSession,
  ORIGIN,
  openLiveSocket,
  type RecordedWebhook,
  signUp,
  terminalWebhooks,
  waitFor,
  waitForGeneration,
} from "./helpers";

/**
 * One delivery of a recorded webhook to the route, under `path`, with the request's own work
 * awaited; with `webhookId`, as a fresh delivery signed now under that id.
 */
async function deliverTo(path: string, webhook: RecordedWebhook, webhookId?: string) {
  const timestamp = webhookId ? String(Math.floor(Date.now() / 1000)) : webhook.headers["webhook-timestamp"]!;
  const signature = webhookId
    ? `v1,${await signWebhook(TEST_WEBHOOK_SECRET, webhookId, timestamp, webhook.body)}`
    : webhook.headers["webhook-signature"]!;
  const ctx = createExecutionContext();
  const request = new Request<unknown, IncomingRequestCfProperties>(`${ORIGIN}${path}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "webhook-id": webhookId ?? webhook.headers["webhook-id"]!,
      "webhook-timestamp": timestamp,
      "webhook-signature": signature,
    },
    body: webhook.body,
  });
  const response = await worker.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

type Stored = {
  status: string;
  cost: number | null;
  completed_via: string | null;
  assets: number;
  succeeded_count: number;
};
async function storedState(generationId: string): Promise<Stored> {
  return (await env.DB.prepare(
    `SELECT g.status, g.cost, g.completed_via,
       (SELECT count(*) FROM assets a WHERE a.generation_id = g.id AND a.role = 'output') AS assets,
       s.succeeded_count
     FROM generations g JOIN image_sessions s ON s.id = g.session_id WHERE g.id = ?`,
  )
    .bind(generationId)
    .first<Stored>())!;
}

async function runningGeneration(label: string) {
  const user = await signUp(label);
  const session = await createSession(user);
  const created = await createGeneration(user, session.id, { prompt: `${label} lighthouse` });
  const running = await waitForGeneration(user, created.id, (g) => g.predictionId !== null, "submission");
  const webhooks = await terminalWebhooks(running.predictionId!);
  return { user, session, generation: running, webhooks };
}

describe("the webhook's fast path to the session's room", () => {
  it("asks Replicate to name the session in the webhook URL", async () => {
    const { session, generation } = await runningGeneration("fast-url");
    const { items } = await (
      await fetch(`${env.EMULATOR_URL}/__control/webhooks?predictionId=${generation.predictionId}`)
    ).json<{ items: { url: string }[] }>();
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) expect(new URL(item.url).searchParams.get("session")).toBe(session.id);
  });

  it("stores the outputs and pushes the success from the room itself, before any queue message", async () => {
    const { user, session, generation, webhooks } = await runningGeneration("fast-room");
    const tab = await openLiveSocket(user, session.id);
    const terminal = predictionSchema.parse(JSON.parse(webhooks.at(-1)!.body));
    expect(terminal.status).toBe("succeeded");

    // The RPC the route makes, awaited: the work is done when it returns, without the queue.
    await env.SESSION_ROOM.getByName(session.id).receiveWebhook(terminal);

    const stored = await storedState(generation.id);
    expect(stored).toMatchObject({ status: "succeeded", completed_via: "webhook", assets: 1, succeeded_count: 1 });
    expect(stored.cost).toBeGreaterThan(0);
    const asset = await env.DB.prepare("SELECT r2_key FROM assets WHERE generation_id = ? AND role = 'output'")
      .bind(generation.id)
      .first<{ r2_key: string }>();
    expect(await env.BUCKET.head(asset!.r2_key)).not.toBeNull();
    await waitFor(
      async () =>
        tab.messages.find(
          (m) =>
            m.type === "generation.updated" &&
            m.generation.id === generation.id &&
            m.generation.status === "succeeded" &&
            m.generation.outputs.length === 1,
        ),
      { what: "the success on the socket" },
    );
    // The room forgot the job: the room ignores a repeat without touching anything.
    expect(await env.SESSION_ROOM.getByName(session.id).pendingJobs()).toEqual([]);
    tab.socket.close(1000, "done");
  });

  it("pushes progress from the room as the webhook arrives", async () => {
    const { user, session, generation, webhooks } = await runningGeneration("fast-progress");
    const tab = await openLiveSocket(user, session.id);
    const withProgress = webhooks.filter((webhook) => {
      const body = JSON.parse(webhook.body) as { status: string; logs?: string };
      return body.status === "processing" && /\d+%\|/.test(body.logs ?? "");
    });
    expect(withProgress.length).toBeGreaterThan(0);
    const response = await deliverTo(`/api/webhooks/replicate?session=${session.id}`, withProgress.at(-1)!);
    expect(response.status).toBe(200);
    // The request's own work (the hand-over to the room) is done: the socket has heard.
    const heard = tab.messages.filter(
      (m) =>
        (m.type === "generation.updated" && m.generation.id === generation.id && m.generation.progress > 0) ||
        (m.type === "generation.progress" && m.generationId === generation.id),
    );
    expect(heard.length).toBeGreaterThan(0);
    const row = await env.DB.prepare("SELECT status, progress FROM generations WHERE id = ?")
      .bind(generation.id)
      .first<{ status: string; progress: number }>();
    expect(row).toMatchObject({ status: "running" });
    expect(row!.progress).toBeGreaterThan(0);
    tab.socket.close(1000, "done");
  });

  it("has one effect when the room and the queue both take the same success, repeatedly and at once", async () => {
    const { user, session, generation, webhooks } = await runningGeneration("fast-both");
    const tab = await openLiveSocket(user, session.id);
    const terminal = webhooks.at(-1)!;
    // Five deliveries through the route (each handed to the room and queued) and Replicate's own
    // retries of the same webhook-id, all at once.
    const ids = Array.from({ length: 5 }, () => `msg_${crypto.randomUUID()}`);
    const responses = await Promise.all([
      ...ids.map((id) => deliverTo(`/api/webhooks/replicate?session=${session.id}`, terminal, id)),
      deliverTo(`/api/webhooks/replicate?session=${session.id}`, terminal),
      deliverTo(`/api/webhooks/replicate?session=${session.id}`, terminal),
    ]);
    expect(responses.map((r) => r.status)).toEqual(Array(7).fill(200));
    // Once the queue has worked every copy (its receipts are written after the effect)…
    await waitFor(
      async () => {
        const { n } = (await env.DB.prepare(
          `SELECT count(*) AS n FROM webhook_receipts WHERE id IN (${ids.map(() => "?").join(",")})`,
        )
          .bind(...ids)
          .first<{ n: number }>())!;
        return n === ids.length;
      },
      { what: "the queue to work every copy" },
    );
    // …there is one output, one success counted, one cost, and one success pushed.
    const stored = await storedState(generation.id);
    expect(stored).toMatchObject({ status: "succeeded", completed_via: "webhook", assets: 1, succeeded_count: 1 });
    const successes = tab.messages.filter(
      (m) =>
        m.type === "generation.updated" && m.generation.id === generation.id && m.generation.status === "succeeded",
    );
    expect(successes).toHaveLength(1);
    const objects = await env.BUCKET.list({ prefix: `outputs/${user.id}/${generation.id}/` });
    expect(objects.objects).toHaveLength(1);
    tab.socket.close(1000, "done");
  });

  it("a session parameter naming another room changes nothing there; the queue still completes the generation", async () => {
    const { user, generation, webhooks } = await runningGeneration("fast-wrong-room");
    const stranger = await signUp("fast-stranger");
    const strangersSession = await createSession(stranger);
    const strangersTab = await openLiveSocket(stranger, strangersSession.id);
    const response = await deliverTo(`/api/webhooks/replicate?session=${strangersSession.id}`, webhooks.at(-1)!);
    expect(response.status).toBe(200);
    await waitForGeneration(user, generation.id, (g) => g.status === "succeeded", "the queue's completion");
    expect(await storedState(generation.id)).toMatchObject({ status: "succeeded", assets: 1, succeeded_count: 1 });
    expect(strangersTab.messages.filter((m) => m.type !== "snapshot")).toEqual([]);
    const strangersRow = await env.DB.prepare("SELECT generation_count FROM image_sessions WHERE id = ?")
      .bind(strangersSession.id)
      .first<{ generation_count: number }>();
    expect(strangersRow?.generation_count).toBe(0);
    strangersTab.socket.close(1000, "done");
  });
});
