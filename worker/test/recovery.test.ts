/**
 * Recovering from failures of the platform itself — a D1 or R2 hiccup, a Durable Object call that
 * fails — on the real local D1, R2 and Durable Objects, with the hiccups made by wrappers around the
 * real bindings (failing-bindings.ts) handed to the code under test.
 */
import { env } from "cloudflare:test";
import type { CreateGenerationRequest, ReferenceUploadResult } from "@contract/api";
import { describe, expect, it } from "vitest";
import { ENQUEUE_GIVE_UP_MS, STUCK_AFTER_MS, sweepStuckGenerations } from "../cron/sweep-stuck";
import { createDb } from "../db/client";
import { createGeneration } from "../generations/create";
import { findOwnedSession } from "../sessions/queries";
import { D1_HICCUP, FailurePlan, failingD1, failingRooms } from "./failing-bindings";
import { createSession, getGeneration, signUp, type TestUser, uniqueTag, upload, waitForGeneration } from "./helpers";
import { makePng } from "./images";

const PRO = "black-forest-labs/flux-1.1-pro";
const db = createDb(env.DB);

async function uploadReference(user: TestUser): Promise<string> {
  const bytes = await makePng(24, 16, (x, y) => [(x * 9) % 256, (y * 13) % 256, 120]);
  const response = await upload(user, "/api/references", [{ name: "palette.png", bytes, type: "image/png" }]);
  expect(response.status).toBe(201);
  return (await response.json<ReferenceUploadResult>()).items[0]!.id;
}

/** A signed-up user, an empty session of theirs (as D1 holds it) and a request with a reference. */
async function newSessionWithRequest(): Promise<{
  user: TestUser;
  sessionId: string;
  request: CreateGenerationRequest;
}> {
  const user = await signUp();
  const { id: sessionId } = await createSession(user);
  const request: CreateGenerationRequest = {
    model: PRO,
    prompt: `a lighthouse ${uniqueTag()}`,
    referenceImageIds: [await uploadReference(user)],
  };
  return { user, sessionId, request };
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

const pendingJobs = (sessionId: string) => env.SESSION_ROOM.getByName(sessionId).pendingJobs();

describe("creating a generation", () => {
  it("writes the generation, its references and the session's counters in one batch, or nothing", async () => {
    const { user, sessionId, request } = await newSessionWithRequest();
    const session = await findOwnedSession(db, user.id, sessionId);
    const before = await storedRows(sessionId);
    const plan = new FailurePlan({
      times: 1,
      when: (call) => call.includes('insert into "generations"'),
      message: D1_HICCUP,
    });

    await expect(createGeneration(env, createDb(failingD1(env.DB, plan)), session, request)).rejects.toThrow(
      /Network connection lost/,
    );
    // Every write went in the one round trip that failed, so none of them happened.
    const writes = plan.calls.filter((call) => /^(insert|update|delete)/i.test(call));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/insert into "generation_references"/);
    expect(writes[0]).toMatch(/update "image_sessions"/);
    expect(await storedRows(sessionId)).toEqual(before);
    expect(before).toMatchObject({ generations: [], links: 0, session: { generationCount: 0 } });
    expect(await pendingJobs(sessionId)).toEqual([]);

    // The same call once D1 answers again: all of it, and the room has it.
    const created = await createGeneration(env, createDb(failingD1(env.DB, plan)), session, request);
    expect(await storedRows(sessionId)).toEqual({
      generations: [{ id: created.id, status: expect.any(String) }],
      links: 1,
      session: { title: expect.stringContaining("lighthouse"), model: PRO, generationCount: 1 },
    });
    expect((await pendingJobs(sessionId)).map((job) => job.generationId)).toEqual([created.id]);
  });
});

describe("a generation no room has", () => {
  /** Creates a generation whose hand-over to its room fails, as after a failed RPC. */
  async function createUnclaimed() {
    const { user, sessionId, request } = await newSessionWithRequest();
    const session = await findOwnedSession(db, user.id, sessionId);
    const refused = new FailurePlan({ times: 1, message: "Durable Object reset because its code was updated." });
    const created = await createGeneration(
      { ...env, SESSION_ROOM: failingRooms(env.SESSION_ROOM, "enqueue", refused) },
      db,
      session,
      request,
    );
    expect(refused.failures).toBe(1);
    return { user, sessionId, created };
  }

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
