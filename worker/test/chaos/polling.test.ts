/** Chaos: every webhook lost, so polling alone completes the work; handlers run twice (see support.ts). */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, deliver, emulator, getGeneration, runScheduled, signUp, uniqueTag, waitForGeneration } from "../helpers";
import { allRows, finishedAtReplicate, rowsOf } from "./support";

/** Replicate deletes a prediction's output files an hour after it ends (replicate-api.md §1.7, §2). */
const REPLICATE_OUTPUT_RETENTION_MS = 60 * 60 * 1000;

type ScheduledPoll = { generationId: string; submittedAt: number; dueAt: number; alarm: number | null };

/** When each session's room will next ask Replicate about its predictions in flight, and its alarm. */
async function scheduledPolls(sessionIds: string[]): Promise<ScheduledPoll[]> {
  const polls: ScheduledPoll[] = [];
  for (const sessionId of sessionIds) {
    await runInDurableObject(env.SESSION_ROOM.getByName(sessionId), async (_room, state) => {
      const alarm = await state.storage.getAlarm();
      const jobs = state.storage.sql
        .exec<{ generation_id: string; submitted_at: number; due_at: number }>(
          "SELECT generation_id, submitted_at, due_at FROM jobs WHERE state = 'active'",
        )
        .toArray();
      for (const job of jobs) {
        polls.push({ generationId: job.generation_id, submittedAt: job.submitted_at, dueAt: job.due_at, alarm });
      }
    });
  }
  return polls;
}

describe("the completion pipeline without webhooks", () => {
  it("completes 20 predictions whose webhooks were all lost, by polling alone, before Replicate deletes their outputs", async () => {
    const user = await signUp();
    const { generations } = await finishedAtReplicate(user, 20, `lost ${uniqueTag()}`);
    // The emulator recorded every webhook and delivered none: only the rooms' polls remain, and
    // each must come before Replicate deletes the outputs, an hour after the prediction ends (so
    // more than an hour after submission). Each generation not yet done has its poll due within
    // that hour, and its room's alarm set for it.
    const polls = new Map(
      (await scheduledPolls([...new Set(generations.map((g) => g.sessionId))])).map((p) => [p.generationId, p]),
    );
    expect(polls.size).toBeGreaterThan(0);
    for (const row of await rowsOf(generations.map((g) => g.id))) {
      const poll = polls.get(row.id);
      if (!poll) {
        expect(row.status).toBe("succeeded");
        continue;
      }
      expect(poll.dueAt - poll.submittedAt).toBeLessThan(REPLICATE_OUTPUT_RETENTION_MS);
      expect(poll.alarm).not.toBeNull();
      expect(poll.alarm!).toBeLessThanOrEqual(poll.dueAt);
    }

    await allRows(
      generations.map((g) => g.id),
      (row) => row.status === "succeeded",
      "polling to complete all 20",
      90_000,
    );
    const done = await Promise.all(generations.map((g) => getGeneration(user, g.id)));
    expect(done.every((g) => g.outputs.length === 1)).toBe(true);
    // Each was asked about directly.
    for (const generation of done) {
      const asked = await emulator.requests(
        `?predictionId=${generation.predictionId}&path=${encodeURIComponent("^/v1/predictions/[^/]+$")}`,
      );
      expect(asked.filter((request) => request.method === "GET" && request.status === 200).length).toBeGreaterThan(0);
    }
  }, 120_000);

  it("leaves the same state when the alarm and the cron handlers run twice in a row", async () => {
    const user = await signUp();
    const { generations, webhooks } = await finishedAtReplicate(user, 2, `twice ${uniqueTag()}`);
    for (const webhook of webhooks.get(generations[0]!.id)!) await deliver(webhook);
    await waitForGeneration(user, generations[0]!.id, (g) => g.status === "succeeded");
    const sessionId = generations[0]!.sessionId;
    const room = env.SESSION_ROOM.getByName(sessionId);
    // Let the poll complete the second one, then compare states across repeated runs.
    await room.sweep();
    await waitForGeneration(user, generations[1]!.id, (g) => g.status === "succeeded");
    const snapshot = async () => JSON.stringify(await (await api(user, "GET", `/api/sessions/${sessionId}`)).json());
    const before = await snapshot();
    for (let run = 0; run < 2; run++) {
      await runDurableObjectAlarm(room);
      await runScheduled();
    }
    expect(await snapshot()).toBe(before);
    expect(await room.pendingJobs()).toEqual([]);
  }, 60_000);
});
