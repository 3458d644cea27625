/**
 * Recovering from failures of the platform itself — a D1 or R2 hiccup, a Durable Object call that
 * fails — on the real local D1, R2 and Durable Objects, with the hiccups made by wrappers around the
 * real bindings (failing-bindings.ts) handed to the code under test.
 */
import { env, runInDurableObject } from "cloudflare:test";
import type { CreateGenerationRequest, ReferenceUploadResult } from "@contract/api";
import { describe, expect, it } from "vitest";
import { FAILED_RETENTION_MS, removeOldFailedGenerations } from "../cron/retention";
import { ENQUEUE_GIVE_UP_MS, STUCK_AFTER_MS, sweepStuckGenerations } from "../cron/sweep-stuck";
import { createDb, D1_MAX_BOUND_PARAMETERS } from "../db/client";
import { SessionRoom } from "../durable-objects/session-room";
import { createGeneration } from "../generations/create";
import { deleteGenerationData, deleteSessionEverywhere } from "../generations/deletion";
import { readConfig } from "../lib/config";
import { newId } from "../lib/ids";
import { PipelineError } from "../lib/retryable";
import { DEFAULT_RETRY_BUDGET, ReplicateGateway } from "../replicate/gateway";
import { findOwnedSession } from "../sessions/queries";
import { outputKey, thumbnailKey } from "../storage/objects";
import { D1_HICCUP, FailurePlan, failingD1, failingR2, failingRooms, R2_HICCUP } from "./failing-bindings";
import {
  api,
  completeGeneration,
  createSession,
  createGeneration as createThroughApi,
  emulator,
  getGeneration,
  openLiveSocket,
  predictionInput,
  signUp,
  type TestUser,
  uniqueTag,
  upload,
  waitFor,
  waitForGeneration,
} from "./helpers";
import { makePng } from "./images";

const PRO = "black-forest-labs/flux-1.1-pro";
const db = createDb(env.DB);

async function uploadReference(user: TestUser): Promise<string> {
  const bytes = await makePng(24, 16, (x, y) => [(x * 9) % 256, (y * 13) % 256, 120]);
  const response = await upload(user, "/api/references", [{ name: "palette.png", bytes, type: "image/png" }]);
  expect(response.status).toBe(201);
  return (await response.json<ReferenceUploadResult>()).items[0]!.id;
}

/**
 * A signed-up user, an empty session of theirs (as D1 holds it) and a request with a reference, its
 * prompt tagged for emulator faults.
 */
async function newSessionWithRequest(): Promise<{
  user: TestUser;
  sessionId: string;
  request: CreateGenerationRequest;
  tag: string;
}> {
  const user = await signUp();
  const { id: sessionId } = await createSession(user);
  const tag = uniqueTag();
  const request: CreateGenerationRequest = {
    model: PRO,
    prompt: `a lighthouse ${tag}`,
    referenceImageIds: [await uploadReference(user)],
  };
  return { user, sessionId, request, tag };
}

async function storedRows(sessionId: string) {
  const generations = await env.DB.prepare("SELECT id, status FROM generations WHERE session_id = ?")
    .bind(sessionId)
    .all<{ id: string; status: string }>();
  const links = await env.DB.prepare(
    "SELECT gr.reference_id FROM generation_references gr JOIN generations g ON g.id = gr.generation_id WHERE g.session_id = ?",
  )
    .bind(sessionId)
    .all();
  const session = await env.DB.prepare(
    "SELECT title, model, generation_count AS generationCount FROM image_sessions WHERE id = ?",
  )
    .bind(sessionId)
    .first<{ title: string; model: string | null; generationCount: number }>();
  return { generations: generations.results, links: links.results.length, session };
}

/** A generation stored as queued whose hand-over to its room failed, as after a failed RPC. */
async function createUnclaimed() {
  const { user, sessionId, request, tag } = await newSessionWithRequest();
  const refused = new FailurePlan({ times: 1, message: "Durable Object reset because its code was updated." });
  const created = await createGeneration(
    { ...env, SESSION_ROOM: failingRooms(env.SESSION_ROOM, "enqueue", refused) },
    db,
    { userId: user.id, sessionId },
    request,
  );
  expect(refused.failures).toBe(1);
  return { user, sessionId, created, tag };
}

const pendingJobs = (sessionId: string) => env.SESSION_ROOM.getByName(sessionId).pendingJobs();

describe("creating a generation", () => {
  it("writes the generation, its references and the session's counters in one batch, or nothing", async () => {
    const { user, sessionId, request } = await newSessionWithRequest();
    const owner = { userId: user.id, sessionId };
    const before = await storedRows(sessionId);
    const plan = new FailurePlan({
      times: 1,
      when: (call) => call.includes('insert into "generations"'),
      message: D1_HICCUP,
    });

    await expect(createGeneration(env, createDb(failingD1(env.DB, plan)), owner, request)).rejects.toThrow(
      /Network connection lost/,
    );
    // Every write of the generation went in the one round trip that failed, so none of them happened.
    // (The attempt is not counted against the rate limit either: its counter is in that batch too. The
    // model's schema cache may be filled.)
    const writes = plan.calls.filter(
      (call) => /^(insert|update|delete)/i.test(call) && !/^insert into "model_schemas"/i.test(call),
    );
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/insert into "generation_references"/);
    expect(writes[0]).toMatch(/update "image_sessions"/);
    expect(writes[0]).toMatch(/insert into "rate_limits"/);
    expect(await storedRows(sessionId)).toEqual(before);
    expect(before).toMatchObject({ generations: [], links: 0, session: { generationCount: 0 } });
    expect(await pendingJobs(sessionId)).toEqual([]);

    // The same call once D1 answers again: all of it, and the room has it.
    const created = await createGeneration(env, createDb(failingD1(env.DB, plan)), owner, request);
    expect(await storedRows(sessionId)).toEqual({
      generations: [{ id: created.id, status: expect.any(String) }],
      links: 1,
      session: { title: expect.stringContaining("lighthouse"), model: PRO, generationCount: 1 },
    });
    expect((await pendingJobs(sessionId)).map((job) => job.generationId)).toEqual([created.id]);
  });
});

describe("a generation no room has", () => {
  it("is stored as queued, and the cron sweep hands it to its room once, which runs it", async () => {
    const { user, sessionId, created } = await createUnclaimed();
    expect(created.status).toBe("queued");
    expect(await getGeneration(user, created.id)).toMatchObject({ status: "queued", predictionId: null });
    expect(await pendingJobs(sessionId)).toEqual([]);

    // Too recent to be unclaimed: the hand-over may still be on its way.
    await sweepStuckGenerations(db, env.SESSION_ROOM, Date.now());
    expect(await pendingJobs(sessionId)).toEqual([]);

    const later = Date.now() + STUCK_AFTER_MS + 1_000;
    expect((await sweepStuckGenerations(db, env.SESSION_ROOM, later)).enqueued).toBeGreaterThanOrEqual(1);
    expect((await pendingJobs(sessionId)).map((job) => job.generationId)).toEqual([created.id]);
    const submitted = await waitForGeneration(user, created.id, (g) => g.predictionId !== null);
    expect(submitted.status).not.toBe("failed");

    // Swept again: the room already has it, nothing is queued twice.
    expect(await sweepStuckGenerations(db, env.SESSION_ROOM, later)).toMatchObject({ enqueued: 0, failed: 0 });
    expect((await getGeneration(user, created.id)).predictionId).toBe(submitted.predictionId);
  });

  it("fails with the reason once no room would take it for half an hour", async () => {
    const { user, sessionId, created } = await createUnclaimed();
    const unreachable = new FailurePlan({
      times: Number.POSITIVE_INFINITY,
      when: (call) => call.includes(sessionId),
      message: "Durable Object is overloaded.",
    });
    const rooms = failingRooms(env.SESSION_ROOM, "enqueue", unreachable);

    await sweepStuckGenerations(db, rooms, Date.now() + STUCK_AFTER_MS + 1_000);
    expect(unreachable.failures).toBe(1);
    expect((await getGeneration(user, created.id)).status).toBe("queued");

    await sweepStuckGenerations(db, rooms, Date.now() + ENQUEUE_GIVE_UP_MS + 1_000);
    expect(unreachable.failures).toBe(2);
    const failed = await getGeneration(user, created.id);
    expect(failed).toMatchObject({ status: "failed", error: "It could not be queued: Durable Object is overloaded." });
    const counters = await env.DB.prepare("SELECT failed_count AS failedCount FROM image_sessions WHERE id = ?")
      .bind(sessionId)
      .first<{ failedCount: number }>();
    expect(counters).toEqual({ failedCount: 1 });
  });
});

describe("a hand-over that reaches the room after the answer", () => {
  const DEV = "black-forest-labs/flux-dev";

  /** A generation stored through the same code as the route, its hand-over held until `handOver()`. */
  async function createHeld(user: TestUser, sessionId: string, request: CreateGenerationRequest) {
    let held: (() => Promise<void>) | undefined;
    const created = await createGeneration(env, db, { userId: user.id, sessionId }, request, (handOver) => {
      held = handOver;
    });
    return { created, handOver: () => held!() };
  }

  /** A rule at the emulator that counts every request to create a prediction with `tag` in its prompt. */
  async function creationsOf(tag: string): Promise<() => Promise<number>> {
    const { id } = await emulator.addFault({
      match: { promptIncludes: tag },
      effect: { type: "http", status: 503 },
    });
    return async () => (await emulator.fault(id)).hits;
  }

  it("runs a parent whose hand-over comes after its child's first, taken from D1, then the child", async () => {
    const user = await signUp();
    const { id: sessionId } = await createSession(user);
    const parent = await createHeld(user, sessionId, { model: DEV, prompt: `parent ${uniqueTag()}` });
    const child = await createGeneration(
      env,
      db,
      { userId: user.id, sessionId },
      { model: DEV, prompt: "child", parentGenerationId: parent.created.id },
    );

    const submitted = await waitForGeneration(user, parent.created.id, (g) => g.predictionId !== null);
    expect((await getGeneration(user, child.id)).predictionId).toBeNull();
    // The parent's own hand-over, when it comes, adds nothing.
    await parent.handOver();
    expect((await pendingJobs(sessionId)).map((job) => [job.generationId, job.state]).sort()).toEqual(
      [
        [parent.created.id, "active"],
        [child.id, "waiting"],
      ].sort(),
    );

    await completeGeneration(user, parent.created.id);
    const done = await completeGeneration(user, child.id);
    expect(done.status).toBe("succeeded");
    expect(String((await predictionInput(done.predictionId!)).image)).toMatch(/\/v1\/files\//);
    const creates = (await emulator.requests()).filter(
      (entry) =>
        entry.method === "POST" && [submitted.predictionId, done.predictionId].includes(entry.predictionId ?? ""),
    );
    expect(creates).toHaveLength(2);
  });

  it("runs generations in the order they were stored, whichever hand-over comes first", async () => {
    const user = await signUp();
    const { id: sessionId } = await createSession(user);
    const tag = uniqueTag();
    const first = await createHeld(user, sessionId, { model: DEV, prompt: `first ${tag}` });
    const second = await createGeneration(
      env,
      db,
      { userId: user.id, sessionId },
      { model: DEV, prompt: `second ${tag}` },
    );

    const secondStarted = await waitForGeneration(user, second.id, (g) => g.predictionId !== null);
    const firstStarted = await getGeneration(user, first.created.id);
    expect(firstStarted.predictionId).not.toBeNull();
    const order = (await emulator.requests())
      .filter((entry) => entry.method === "POST" && entry.predictionId)
      .map((entry) => entry.predictionId)
      .filter((id) => id === firstStarted.predictionId || id === secondStarted.predictionId);
    expect(order).toEqual([firstStarted.predictionId, secondStarted.predictionId]);
    // The first one's own hand-over, when it comes, adds nothing.
    await first.handOver();
    expect((await pendingJobs(sessionId)).map((job) => job.state)).toEqual(["active", "active"]);
  });

  it("never submits one canceled before its hand-over, nor shows it queued again when the hand-over comes", async () => {
    const user = await signUp();
    const { id: sessionId } = await createSession(user);
    const tag = uniqueTag();
    const creations = await creationsOf(tag);
    const tab = await openLiveSocket(user, sessionId);
    const { created, handOver } = await createHeld(user, sessionId, { model: DEV, prompt: `canceled ${tag}` });

    const canceled = await api(user, "POST", `/api/generations/${created.id}/cancel`);
    expect(await canceled.json()).toMatchObject({ id: created.id, status: "canceled", predictionId: null });
    await handOver();
    expect(await pendingJobs(sessionId)).toEqual([]);
    // The socket answers in order: once the pong is in, everything sent before it is too.
    tab.socket.send(JSON.stringify({ type: "ping" }));
    await waitFor(async () => tab.messages.some((m) => m.type === "pong"), { what: "pong" });
    const shown = tab.messages.flatMap((m) =>
      m.type === "generation.updated" && m.generation.id === created.id ? [m.generation.status] : [],
    );
    expect(shown).toEqual(["canceled"]);
    expect(await getGeneration(user, created.id)).toMatchObject({ status: "canceled", predictionId: null });
    expect(await creations()).toBe(0);
    tab.socket.close();
  });

  it("never submits one deleted before its hand-over", async () => {
    const user = await signUp();
    const { id: sessionId } = await createSession(user);
    const tag = uniqueTag();
    const creations = await creationsOf(tag);
    const { created, handOver } = await createHeld(user, sessionId, { model: DEV, prompt: `deleted ${tag}` });

    expect((await api(user, "DELETE", `/api/generations/${created.id}`)).status).toBe(204);
    await handOver();
    expect(await pendingJobs(sessionId)).toEqual([]);
    const row = await env.DB.prepare("SELECT status, prediction_id, trashed_at FROM generations WHERE id = ?")
      .bind(created.id)
      .first();
    expect(row).toEqual({ status: "canceled", prediction_id: null, trashed_at: expect.any(Number) });
    expect(await creations()).toBe(0);
  });

  it("never submits one whose session went to the trash before its hand-over", async () => {
    const user = await signUp();
    const { id: sessionId } = await createSession(user);
    const tag = uniqueTag();
    const creations = await creationsOf(tag);
    const { created, handOver } = await createHeld(user, sessionId, { model: DEV, prompt: `session gone ${tag}` });

    expect((await api(user, "DELETE", `/api/sessions/${sessionId}`)).status).toBe(204);
    const row = await env.DB.prepare("SELECT status, prediction_id FROM generations WHERE id = ?")
      .bind(created.id)
      .first();
    expect(row).toEqual({ status: "canceled", prediction_id: null });
    await handOver();
    expect(await pendingJobs(sessionId)).toEqual([]);
    expect(await creations()).toBe(0);
  });

  it("never submits one stored while its session went to the trash, after the trash canceled the rest", async () => {
    const user = await signUp();
    const { id: sessionId } = await createSession(user);
    const tag = uniqueTag();
    const creations = await creationsOf(tag);
    const { created, handOver } = await createHeld(user, sessionId, { model: DEV, prompt: `stored late ${tag}` });
    // As if the session's trash (its stamp, then its room's cancellations) ran between this request's
    // checks and its write: the session is in the trash, and no one canceled this generation.
    await env.DB.prepare("UPDATE image_sessions SET trashed_at = ? WHERE id = ?").bind(Date.now(), sessionId).run();

    await handOver();
    await waitFor(async () => (await pendingJobs(sessionId)).length === 0, { what: "the room to let it go" });
    const row = await env.DB.prepare("SELECT status, prediction_id FROM generations WHERE id = ?")
      .bind(created.id)
      .first();
    expect(row).toEqual({ status: "canceled", prediction_id: null });
    expect(await creations()).toBe(0);
  });
});

type Job = { state: string; attempts: number; due_at: number; prediction_id: string | null };

/** The room under test, the generation's job in its queue, and one submission attempt on demand. */
type RoomUnderTest = {
  job: () => Job | undefined;
  /** Makes the job due and runs the room's alarm once; returns the job as it stands after. */
  attempt: () => Promise<Job | undefined>;
};

/**
 * Runs `work` inside the session's Durable Object with a second SessionRoom over the same state —
 * its SQLite queue and its alarm — built with `bindings` in place of the real ones: the room's own
 * code on its real storage, facing D1 or R2 that fail on purpose. The generation is handed to it,
 * and the test runs its alarm by hand: the scheduled alarm is cleared after each step, so the real
 * instance (with the real bindings) never runs it meanwhile.
 */
function inRoomWith<T>(
  sessionId: string,
  generationId: string,
  bindings: Partial<Env>,
  work: (under: RoomUnderTest) => Promise<T>,
): Promise<T> {
  return runInDurableObject(env.SESSION_ROOM.getByName(sessionId), async (_real, state) => {
    const room = new SessionRoom(state, { ...env, ...bindings });
    const job = () => state.storage.sql.exec<Job>("SELECT * FROM jobs").toArray()[0];
    await room.enqueue(sessionId, [{ generationId, waitFor: null }]);
    await state.storage.deleteAlarm();
    const attempt = async () => {
      state.storage.sql.exec("UPDATE jobs SET due_at = 0");
      await room.alarm();
      await state.storage.deleteAlarm();
      return job();
    };
    return work({ job, attempt });
  });
}

describe("preparing a generation's inputs", () => {
  it("retries a D1 hiccup with backoff, then submits", async () => {
    const { user, sessionId, created } = await createUnclaimed();
    const plan = new FailurePlan({ times: 2, when: (call) => call.includes("replicate_uploads"), message: D1_HICCUP });
    await inRoomWith(sessionId, created.id, { DB: failingD1(env.DB, plan) }, async ({ job, attempt }) => {
      let before = Date.now();
      expect(await attempt()).toMatchObject({ state: "waiting", attempts: 1, prediction_id: null });
      // Backoff: 2 s after the first failure, 4 s after the second.
      expect(job()!.due_at).toBeGreaterThanOrEqual(before + 2_000);
      before = Date.now();
      expect(await attempt()).toMatchObject({ state: "waiting", attempts: 2, prediction_id: null });
      expect(job()!.due_at).toBeGreaterThanOrEqual(before + 4_000);
      expect((await getGeneration(user, created.id)).status).toBe("queued");
      expect(await attempt()).toMatchObject({ state: "active", attempts: 3, prediction_id: expect.any(String) });
    });
    expect(plan.failures).toBe(2);
    const submitted = await getGeneration(user, created.id);
    expect(submitted).toMatchObject({ status: "starting", error: null, predictionId: expect.any(String) });
    expect(submitted.references[0]!.usageCount).toBe(1);
    expect(String((await predictionInput(submitted.predictionId!)).image_prompt)).toMatch(/\/v1\/files\//);
    // The room with the real bindings takes it from there.
    const done = await completeGeneration(user, created.id);
    expect(done).toMatchObject({ status: "succeeded", outputs: [expect.anything()] });
  });

  it("retries an R2 hiccup reading an input", async () => {
    const { user, sessionId, created } = await createUnclaimed();
    const plan = new FailurePlan({ times: 1, message: R2_HICCUP });
    await inRoomWith(sessionId, created.id, { BUCKET: failingR2(env.BUCKET, ["get"], plan) }, async ({ attempt }) => {
      expect(await attempt()).toMatchObject({ state: "waiting", attempts: 1 });
      expect(await attempt()).toMatchObject({ state: "active", attempts: 2 });
    });
    expect(plan.failures).toBe(1);
    expect((await getGeneration(user, created.id)).predictionId).not.toBeNull();
  });

  it("fails the generation with the last reason once the attempts run out, without calling Replicate", async () => {
    const { user, sessionId, created } = await createUnclaimed();
    const plan = new FailurePlan({
      times: Number.POSITIVE_INFINITY,
      when: (call) => call.includes("replicate_uploads"),
      message: D1_HICCUP,
    });
    await inRoomWith(sessionId, created.id, { DB: failingD1(env.DB, plan) }, async ({ attempt }) => {
      for (let tries = 1; tries < 5; tries++) expect(await attempt()).toMatchObject({ attempts: tries });
      expect(await attempt()).toBeUndefined();
    });
    expect(plan.failures).toBe(5);
    expect(await getGeneration(user, created.id)).toMatchObject({
      status: "failed",
      predictionId: null,
      error:
        "Its inputs could not be prepared after 5 attempts. The database failed: D1_ERROR: Network connection lost.",
    });
    const uploads = await env.DB.prepare("SELECT count(*) AS n FROM replicate_uploads WHERE user_id = ?")
      .bind(user.id)
      .first<{ n: number }>();
    expect(uploads).toEqual({ n: 0 });
  });

  it("never submits twice when D1 fails just after the prediction was created; the next poll records it", async () => {
    const { user, sessionId, created } = await createUnclaimed();
    const plan = new FailurePlan({
      times: 1,
      when: (call) => call.includes('update "references"'),
      message: D1_HICCUP,
    });
    await inRoomWith(sessionId, created.id, { DB: failingD1(env.DB, plan) }, async ({ attempt }) => {
      const active = await attempt();
      expect(active).toMatchObject({ state: "active", attempts: 1, prediction_id: expect.any(String) });
      expect(plan.failures).toBe(1);
      expect(await getGeneration(user, created.id)).toMatchObject({ status: "queued", predictionId: null });
      // The next alarm polls the running prediction, and records it first.
      expect(await attempt()).toMatchObject({ state: "active", attempts: 1, prediction_id: active!.prediction_id });
      const recorded = await getGeneration(user, created.id);
      expect(recorded.predictionId).toBe(active!.prediction_id);
      expect(recorded.status).not.toBe("queued");
      expect(recorded.references[0]!.usageCount).toBe(1);
    });
  });

  it("fails at once, with the reason, when an input is gone", async () => {
    const { user, sessionId, request } = await newSessionWithRequest();
    const reference = await env.DB.prepare('SELECT r2_key AS key FROM "references" WHERE id = ?')
      .bind(request.referenceImageIds![0])
      .first<{ key: string }>();
    await env.BUCKET.delete(reference!.key);
    const created = await createThroughApi(user, sessionId, request);
    const failed = await waitForGeneration(user, created.id, (g) => g.status === "failed");
    // Not "…could not be prepared after N attempts": the first attempt was the last.
    expect(failed.error).toBe(`The stored file ${reference!.key} is missing, so it cannot be sent to Replicate.`);
    expect(failed.predictionId).toBeNull();
  });
});

describe("Replicate refusing a prediction", () => {
  it("fails it at once with Replicate's reason when the refusal is not throttling (402)", async () => {
    const user = await signUp();
    const tag = uniqueTag();
    const { id: faultId } = await emulator.addFault({
      match: { promptIncludes: tag },
      effect: { type: "http", status: 402 },
    });
    const { id: sessionId } = await createSession(user);
    const created = await createThroughApi(user, sessionId, { prompt: `no credit ${tag}` });
    const failed = await waitForGeneration(user, created.id, (g) => g.status === "failed");
    expect(failed).toMatchObject({
      predictionId: null,
      error: "Replicate rejected the request (402): You have insufficient credit to run this model.",
    });
    // One request: neither the client nor the room asked again.
    expect((await emulator.fault(faultId)).hits).toBe(1);
  });
});

/** The path a prediction's reads take at the emulator (for faults), and how many it has had. */
function readsOf(predictionId: string) {
  const path = `^/v1/predictions/${predictionId}$`;
  return { path, reads: async () => (await emulator.requests(`?path=${encodeURIComponent(path)}`)).length };
}

describe("Replicate's answer lost on its way back", () => {
  it("asks again only as the room retries, with backoff: never at once, where each ask may be billed", async () => {
    const { user, sessionId, created, tag } = await createUnclaimed();
    // Each create is carried out at Replicate (a prediction made), and its answer never arrives.
    const { id: faultId } = await emulator.addFault({
      match: { promptIncludes: tag },
      times: 2,
      effect: { type: "cut" },
    });
    await inRoomWith(sessionId, created.id, {}, async ({ job, attempt }) => {
      const before = Date.now();
      expect(await attempt()).toMatchObject({ state: "waiting", attempts: 1, prediction_id: null });
      expect((await emulator.fault(faultId)).hits).toBe(1);
      expect(job()!.due_at).toBeGreaterThanOrEqual(before + 2_000);
      expect(await attempt()).toMatchObject({ state: "waiting", attempts: 2, prediction_id: null });
      expect((await emulator.fault(faultId)).hits).toBe(2);
      expect(await attempt()).toMatchObject({ state: "active", attempts: 3, prediction_id: expect.any(String) });
    });
    const done = await completeGeneration(user, created.id);
    expect(done).toMatchObject({ status: "succeeded", error: null, outputs: [expect.anything()] });
  });

  it("reads a prediction again, with backoff, as often as the budget allows, and no more", async () => {
    const gateway = new ReplicateGateway(readConfig(env));
    const { id } = await gateway.createPrediction({
      model: "black-forest-labs/flux-schnell",
      input: { prompt: `a read ${uniqueTag()}` },
    });
    const { path, reads } = readsOf(id);

    await emulator.addFault({ match: { path }, times: 1, effect: { type: "cut" } });
    expect((await gateway.getPrediction(id)).id).toBe(id);
    expect(await reads()).toBe(2);

    await emulator.addFault({ match: { path }, times: DEFAULT_RETRY_BUDGET.attempts, effect: { type: "cut" } });
    await expect(gateway.getPrediction(id)).rejects.toMatchObject({ kind: "network" });
    expect(await reads()).toBe(2 + DEFAULT_RETRY_BUDGET.attempts);
  });
});

describe("a Replicate that has stopped answering", () => {
  it("is given up on after the budget's time limit per ask, named so, and asked again within the budget", async () => {
    const gateway = new ReplicateGateway(readConfig(env), {
      attempts: 2,
      baseDelayMs: 0,
      maxDelayMs: 0,
      timeoutMs: 300,
    });
    const { id } = await gateway.createPrediction({
      model: "black-forest-labs/flux-schnell",
      input: { prompt: `an unanswered read ${uniqueTag()}` },
    });
    const { path, reads } = readsOf(id);

    await emulator.addFault({ match: { path }, times: 2, effect: { type: "stall", ms: 10_000 } });
    await expect(gateway.getPrediction(id)).rejects.toMatchObject({
      kind: "network",
      retryable: true,
      message: "Replicate did not answer within 0.3 s",
    });
    expect(await reads()).toBe(2);

    await emulator.addFault({ match: { path }, times: 1, effect: { type: "stall", ms: 10_000 } });
    expect((await gateway.getPrediction(id)).id).toBe(id);
    expect(await reads()).toBe(4);
  });
});

describe("the cron sweep and a room that refuses for good", () => {
  it("fails the generation at once when the hand-over fails permanently", async () => {
    const { user, sessionId, created } = await createUnclaimed();
    const refused = new FailurePlan({
      times: Number.POSITIVE_INFINITY,
      when: (call) => call.includes(sessionId),
      message: "This session cannot take generations.",
      error: (message) => new PipelineError(message, { retryable: false }),
    });
    const result = await sweepStuckGenerations(
      db,
      failingRooms(env.SESSION_ROOM, "enqueue", refused),
      Date.now() + STUCK_AFTER_MS + 1_000,
    );
    expect(result.failed).toBeGreaterThanOrEqual(1);
    expect(await getGeneration(user, created.id)).toMatchObject({
      status: "failed",
      error: "It could not be queued: This session cannot take generations.",
    });
  });
});

/** `count` recorded outputs of a generation, each with its object and thumbnail in R2. */
async function seedOutputs(userId: string, generationId: string, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, index) => outputKey(userId, generationId, index));
  await env.DB.batch(
    keys.map((key, index) =>
      env.DB.prepare(
        "INSERT INTO assets (id, user_id, generation_id, role, output_index, r2_key, mime_type, size_bytes, sha256, created_at) VALUES (?, ?, ?, 'output', ?, ?, 'image/png', 3, 'x', ?)",
      ).bind(newId("ast"), userId, generationId, index, key, Date.now()),
    ),
  );
  await Promise.all(keys.flatMap((key) => [env.BUCKET.put(key, "png"), env.BUCKET.put(thumbnailKey(key, 256), "png")]));
  return keys;
}

async function stored(generationId: string, keys: readonly string[]) {
  const rows = await env.DB.prepare(
    "SELECT (SELECT count(*) FROM assets WHERE generation_id = ?1) AS assets, (SELECT count(*) FROM generations WHERE id = ?1) AS generations",
  )
    .bind(generationId)
    .first<{ assets: number; generations: number }>();
  const heads = await Promise.all(
    keys.flatMap((key) => [env.BUCKET.head(key), env.BUCKET.head(thumbnailKey(key, 256))]),
  );
  return { ...rows, objects: heads.filter((head) => head !== null).length };
}

/** The most parameters any one statement of these round trips binds. */
const mostParameters = (calls: readonly string[]) =>
  Math.max(...calls.flatMap((call) => call.split(";\n").map((statement) => statement.split("?").length - 1)));

describe("deleting", () => {
  it("removes a generation with 150 outputs in one batch within D1's parameter limit: all of it or nothing", async () => {
    const { user, created } = await createUnclaimed();
    const keys = await seedOutputs(user.id, created.id, 150);
    expect(await stored(created.id, keys)).toEqual({ assets: 150, generations: 1, objects: 300 });

    const plan = new FailurePlan({
      times: 1,
      when: (call) => call.includes('delete from "assets"'),
      message: D1_HICCUP,
    });
    const failingDb = createDb(failingD1(env.DB, plan));
    await expect(deleteGenerationData(failingDb, env.BUCKET, created.id)).rejects.toThrow();
    // The rows were not touched, so neither were the bytes they point to.
    expect(await stored(created.id, keys)).toEqual({ assets: 150, generations: 1, objects: 300 });

    await deleteGenerationData(failingDb, env.BUCKET, created.id);
    expect(await stored(created.id, keys)).toEqual({ assets: 0, generations: 0, objects: 0 });
    // Per attempt: reads, then one batch of deletes; after it, reads of the keys still in use.
    const kinds = plan.calls.map((call) => call.split(" ")[0]);
    expect(kinds.slice(0, 6)).toEqual(["select", "select", "delete", "select", "select", "delete"]);
    expect(new Set(kinds.slice(6))).toEqual(new Set(["select"]));
    expect(mostParameters(plan.calls)).toBeLessThanOrEqual(D1_MAX_BOUND_PARAMETERS);
  });

  it("removes a session with 150 outputs the same way", async () => {
    const { user, sessionId, created } = await createUnclaimed();
    const keys = await seedOutputs(user.id, created.id, 150);
    const session = await findOwnedSession(db, user.id, sessionId);
    const plan = new FailurePlan({
      times: 1,
      when: (call) => call.includes('delete from "assets"'),
      message: D1_HICCUP,
    });
    const failingDb = createDb(failingD1(env.DB, plan));

    await expect(deleteSessionEverywhere(env, failingDb, session)).rejects.toThrow();
    expect(await stored(created.id, keys)).toEqual({ assets: 150, generations: 1, objects: 300 });

    await deleteSessionEverywhere(env, failingDb, session);
    expect(await stored(created.id, keys)).toEqual({ assets: 0, generations: 0, objects: 0 });
    const left = await env.DB.prepare("SELECT count(*) AS n FROM image_sessions WHERE id = ?")
      .bind(sessionId)
      .first<{ n: number }>();
    expect(left).toEqual({ n: 0 });
    const kinds = plan.calls.map((call) => call.split(" ")[0]);
    expect(kinds.slice(0, 4)).toEqual(["select", "delete", "select", "delete"]);
    expect(new Set(kinds.slice(4))).toEqual(new Set(["select"]));
    expect(mostParameters(plan.calls)).toBeLessThanOrEqual(D1_MAX_BOUND_PARAMETERS);
  });

  it("retention removes old failed generations without outputs in one batch, or changes nothing", async () => {
    const { sessionId, created } = await createUnclaimed();
    const withOutput = await createUnclaimed();
    await seedOutputs(withOutput.user.id, withOutput.created.id, 1);
    for (const id of [created.id, withOutput.created.id]) {
      await env.DB.prepare("UPDATE generations SET status = 'failed', created_at = ? WHERE id = ?")
        .bind(Date.now() - FAILED_RETENTION_MS - 60_000, id)
        .run();
    }
    const sessionRow = () =>
      env.DB.prepare("SELECT generation_count AS generations FROM image_sessions WHERE id = ?")
        .bind(sessionId)
        .first<{ generations: number }>();
    const generationRow = (id: string) =>
      env.DB.prepare("SELECT count(*) AS n FROM generations WHERE id = ?").bind(id).first<{ n: number }>();
    const plan = new FailurePlan({
      times: 1,
      when: (call) => call.includes('delete from "generations"'),
      message: D1_HICCUP,
    });
    const failingDb = createDb(failingD1(env.DB, plan));

    await expect(removeOldFailedGenerations(failingDb, Date.now())).rejects.toThrow();
    expect(await generationRow(created.id)).toEqual({ n: 1 });
    expect(await sessionRow()).toEqual({ generations: 1 });

    expect(await removeOldFailedGenerations(failingDb, Date.now())).toBeGreaterThanOrEqual(1);
    expect(await generationRow(created.id)).toEqual({ n: 0 });
    expect(await sessionRow()).toEqual({ generations: 0 });
    // One with outputs stays: its images are in the gallery, with their prompt.
    expect(await generationRow(withOutput.created.id)).toEqual({ n: 1 });
  });
});
