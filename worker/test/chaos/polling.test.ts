/**
 * The completion pipeline under chaos, on the real local Queue, Durable Objects, D1 and R2, with the
 * emulator's faults: duplicated, shuffled, late and lost webhooks, failing downloads, crashes between
 * the R2 write and the D1 commit, handlers run twice.
 */
import { createScheduledController, env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../index";
import { api, deliver, getGeneration, signUp, uniqueTag, waitForGeneration } from "../helpers";
import { allRows, finishedAtReplicate } from "./support";

describe("the completion pipeline without webhooks", () => {
  it("completes 20 predictions whose webhooks were all lost, by polling alone", async () => {
    const user = await signUp();
    const started = Date.now();
    const { generations } = await finishedAtReplicate(user, 20, `lost ${uniqueTag()}`);
    await allRows(
      generations.map((g) => g.id),
      (row) => row.status === "succeeded",
      "polling to complete all 20",
      90_000,
    );
    const done = await Promise.all(generations.map((g) => getGeneration(user, g.id)));
    expect(done.every((g) => g.outputs.length === 1)).toBe(true);
    // Long before Replicate deletes outputs (1 hour).
    expect(Date.now() - started).toBeLessThan(60 * 60 * 1000);
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
      await worker.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }), env);
    }
    expect(await snapshot()).toBe(before);
    expect(await room.pendingJobs()).toEqual([]);
  }, 60_000);
});
