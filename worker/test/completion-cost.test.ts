/**
 * What a generation's webhooks cost the completion pipeline, and that the cuts keep every guarantee.
 * A running update (start, logs) that names its session goes to the room alone; a terminal one is
 * queued once, with its session, and the room applies it once however often it arrives; the queue's
 * copy of a state the room already applied costs one call to the room and no D1 or R2 of its own.
 * A state the room has not applied is still worked on by the consumer, as before.
 */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CompletionMessage } from "../completions/messages";
import worker from "../index";
import { predictionSchema } from "../replicate/prediction";
import { FailurePlan, failingD1, failingR2, failingRooms } from "./failing-bindings";
import {
  completionOf,
  createGeneration,
  createSession,
  emulator,
  openLiveSocket,
  type RecordedWebhook,
  signUp,
  terminalWebhooks,
  waitFor,
  waitForGeneration,
  webhookRequest,
} from "./helpers";

/** A completions queue that only records what is sent to it. */
function recordingQueue(): { queue: Queue<CompletionMessage>; sent: CompletionMessage[] } {
  const sent: CompletionMessage[] = [];
  const queue = {
    send: async (body: CompletionMessage) => {
      sent.push(body);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<CompletionMessage>>) => {
      for (const message of messages) sent.push(message.body);
    },
  } as unknown as Queue<CompletionMessage>;
  return { queue, sent };
}

/** One delivery of a recorded webhook to the route under `path`, the request's own work awaited. */
async function deliverTo(path: string, webhook: RecordedWebhook, workerEnv: Env) {
  const ctx = createExecutionContext();
  const request = webhookRequest(webhook, path);
  const response = await worker.fetch(request, workerEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function runningGeneration(label: string) {
  const user = await signUp(label);
  const session = await createSession(user);
  const created = await createGeneration(user, session.id, { prompt: `${label} lighthouse` });
  const running = await waitForGeneration(user, created.id, (g) => g.predictionId !== null, "submission");
  const webhooks = await terminalWebhooks(running.predictionId!);
  const terminal = webhooks.at(-1)!;
  expect(predictionSchema.parse(JSON.parse(terminal.body)).status).toBe("succeeded");
  const running_ = webhooks.find((webhook) => (JSON.parse(webhook.body) as { status: string }).status === "processing");
  expect(running_).toBeTruthy();
  return { user, session, generation: running, terminal, processing: running_! };
}

const storedRow = (generationId: string) =>
  env.DB.prepare(
    `SELECT g.status, (SELECT count(*) FROM assets a WHERE a.generation_id = g.id AND a.role = 'output') AS assets
     FROM generations g WHERE g.id = ?`,
  )
    .bind(generationId)
    .first<{ status: string; assets: number }>();

describe("a generation's webhooks through the route", () => {
  it("hands a running update to the room alone, and queues a terminal one once, naming its session", async () => {
    const { user, session, generation, terminal, processing } = await runningGeneration("cost-route");
    const tab = await openLiveSocket(user, session.id);
    const { queue, sent } = recordingQueue();
    const routed = { ...env, COMPLETIONS: queue };
    const path = `/api/webhooks/replicate?session=${session.id}`;

    expect((await deliverTo(path, processing, routed)).status).toBe(200);
    // Applied by the room and pushed to the tab, with nothing queued.
    expect(sent).toEqual([]);
    expect(await storedRow(generation.id)).toMatchObject({ status: "running" });
    expect(tab.messages.some((m) => m.type === "generation.updated" && m.generation.status === "running")).toBe(true);

    expect((await deliverTo(path, terminal, routed)).status).toBe(200);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      source: "webhook",
      sessionId: session.id,
      webhookId: terminal.headers["webhook-id"],
    });
    expect(await storedRow(generation.id)).toMatchObject({ status: "succeeded", assets: 1 });
    tab.socket.close(1000, "done");
  });

  it("queues a running update the named room does not run, so it is not lost", async () => {
    const { generation, processing } = await runningGeneration("cost-fallback");
    const stranger = await signUp("cost-stranger");
    const strangersSession = await createSession(stranger);
    const { queue, sent } = recordingQueue();
    const response = await deliverTo(`/api/webhooks/replicate?session=${strangersSession.id}`, processing, {
      ...env,
      COMPLETIONS: queue,
    });
    expect(response.status).toBe(200);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ sessionId: strangersSession.id });
    expect(predictionSchema.parse(sent[0]!.prediction).status).toBe("processing");
    // Without a session the route queues every state, as before.
    const plain = recordingQueue();
    await deliverTo("/api/webhooks/replicate", processing, { ...env, COMPLETIONS: plain.queue });
    expect(plain.sent).toHaveLength(1);
    expect(plain.sent[0]!.sessionId).toBeUndefined();
    expect(await storedRow(generation.id)).toMatchObject({ status: "starting" });
  });
});

describe("a terminal state at the session's room", () => {
  it("is downloaded and stored once when repeats arrive while the room is applying it", async () => {
    const { user, session, generation, terminal } = await runningGeneration("cost-repeats");
    const tab = await openLiveSocket(user, session.id);
    const room = env.SESSION_ROOM.getByName(session.id);
    const state = predictionSchema.parse(JSON.parse(terminal.body));
    // Replicate retrying an answer that was slow, and copies, all at once.
    await Promise.all(Array.from({ length: 5 }, () => room.receiveWebhook(state)));

    expect(await storedRow(generation.id)).toMatchObject({ status: "succeeded", assets: 1 });
    const downloads = (await emulator.requests(`?predictionId=${generation.predictionId}`)).filter((request) =>
      request.path.includes("/delivery/"),
    );
    expect(downloads).toHaveLength(1);
    await waitFor(
      async () =>
        tab.messages.some(
          (m) =>
            m.type === "generation.updated" && m.generation.id === generation.id && m.generation.status === "succeeded",
        ),
      { what: "the success on the socket" },
    );
    const successes = tab.messages.filter(
      (m) =>
        m.type === "generation.updated" && m.generation.id === generation.id && m.generation.status === "succeeded",
    );
    expect(successes).toHaveLength(1);
    // Later repeats find it finished.
    expect(await room.receiveWebhook(state)).toBe(false);
    expect(await room.appliedTerminal([state.id])).toEqual({ [state.id]: "succeeded" });
    tab.socket.close(1000, "done");
  });
});

describe("the safety-net poll", () => {
  it("waits longer while webhooks reach the room late (a busy Worker), and as ever when they are on time", async () => {
    const { session, generation, processing } = await runningGeneration("cost-poll");
    const room = env.SESSION_ROOM.getByName(session.id);
    const state = predictionSchema.parse(JSON.parse(processing.body));
    const dueAt = async () =>
      runInDurableObject(room, async (_instance, storage) => {
        const [row] = storage.storage.sql
          .exec<{ due_at: number }>("SELECT due_at FROM jobs WHERE generation_id = ?", generation.id)
          .toArray();
        return row!.due_at;
      });
    /** The due time after delivering `prediction` sent `lagMs` before now, and the window it was set in. */
    const deliverLate = async (prediction: typeof state, lagMs: number) => {
      const before = Date.now();
      expect(await room.receiveWebhook(prediction, before - lagMs)).toBe(true);
      const due = await dueAt();
      return { due, before, after: Date.now() };
    };

    // Sent 10 s before it arrived: the next poll waits the usual 20 s and twice that lag.
    const late = await deliverLate(state, 10_000);
    expect(late.due).toBeGreaterThanOrEqual(late.before + 40_000);
    expect(late.due).toBeLessThanOrEqual(late.after + 40_000 + 2 * (late.after - late.before));
    // On time again: the usual interval.
    const halfway = { ...state, logs: " 50%|█████     | 2/4 [00:00<00:00, 6.67it/s]\n" };
    const onTime = await deliverLate(halfway, 0);
    expect(onTime.due).toBeGreaterThanOrEqual(onTime.before + 20_000);
    expect(onTime.due).toBeLessThanOrEqual(onTime.after + 20_000 + 2 * (onTime.after - onTime.before));
    // However late they come, the poll still comes within 20 s + 60 s.
    const later = { ...state, logs: " 75%|███████▌  | 3/4 [00:00<00:00, 6.67it/s]\n" };
    const veryLate = await deliverLate(later, 290_000);
    expect(veryLate.due).toBeLessThanOrEqual(veryLate.after + 80_000);
    expect(veryLate.due).toBeGreaterThanOrEqual(veryLate.before + 80_000);
  });
});

describe("the queue's copy of a terminal state", () => {
  /** Runs one batch with D1, R2 and the rooms' `appliedTerminal` counted. */
  async function consumeCounted(message: CompletionMessage) {
    const d1 = new FailurePlan({ times: 0, message: "unused" });
    const r2 = new FailurePlan({ times: 0, message: "unused" });
    const rooms = new FailurePlan({ times: 0, message: "unused" });
    const counted: Env = {
      ...env,
      DB: failingD1(env.DB, d1),
      BUCKET: failingR2(env.BUCKET, ["head", "get", "put"], r2),
      SESSION_ROOM: failingRooms(env.SESSION_ROOM, "appliedTerminal", rooms),
    };
    const batch = createMessageBatch("image-studio-completions", [
      { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: message },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, counted);
    const result = await getQueueResult(batch, ctx);
    return { d1: d1.calls, r2: r2.calls, rooms: rooms.calls, acked: result.explicitAcks.length, result };
  }

  it("costs one call to the room and no D1 or R2 of its own when the room already applied it", async () => {
    const { session, generation, terminal } = await runningGeneration("cost-queue");
    const state = predictionSchema.parse(JSON.parse(terminal.body));
    await env.SESSION_ROOM.getByName(session.id).receiveWebhook(state);
    expect(await storedRow(generation.id)).toMatchObject({ status: "succeeded", assets: 1 });

    const message = {
      ...completionOf(state),
      webhookId: terminal.headers["webhook-id"]!,
      sessionId: session.id,
    };
    const withRoom = await consumeCounted(message);
    expect(withRoom.acked).toBe(1);
    expect(withRoom.result.retryMessages).toEqual([]);
    expect(withRoom.rooms).toHaveLength(1);
    expect(withRoom.r2).toEqual([]);
    // Only the batch's receipts: is this webhook-id a repeat, and that it is now processed.
    expect(withRoom.d1).toHaveLength(2);
    expect(withRoom.d1[0]).toMatch(/^select "id" from "webhook_receipts"/);
    expect(withRoom.d1[1]).toMatch(/^insert into "webhook_receipts"/);

    // The same state without its session (a webhook from before the URL named it) is decided from
    // D1 and R2 as before, and changes nothing either.
    const { sessionId: _dropped, ...unnamed } = { ...message, webhookId: `msg_${crypto.randomUUID()}` };
    const withoutRoom = await consumeCounted(unnamed);
    expect(withoutRoom.acked).toBe(1);
    expect(withoutRoom.rooms).toEqual([]);
    expect(withoutRoom.d1.length).toBeGreaterThan(2);
    expect(withoutRoom.r2.length).toBeGreaterThan(0);
    expect(await storedRow(generation.id)).toMatchObject({ status: "succeeded", assets: 1 });
  });

  it("is worked on by the consumer when the room has not applied it (its fast path lost)", async () => {
    const { session, generation, terminal } = await runningGeneration("cost-lost");
    const state = predictionSchema.parse(JSON.parse(terminal.body));
    const outcome = await consumeCounted({
      ...completionOf(state),
      webhookId: terminal.headers["webhook-id"]!,
      sessionId: session.id,
    });
    expect(outcome.acked).toBe(1);
    expect(outcome.rooms).toHaveLength(1);
    expect(outcome.r2.some((call) => call.startsWith("put "))).toBe(true);
    expect(await storedRow(generation.id)).toMatchObject({ status: "succeeded", assets: 1 });
    expect(await env.SESSION_ROOM.getByName(session.id).pendingJobs()).toEqual([]);
  });
});
