/**
 * What a generation's webhooks cost the session's room in calls to D1 (in production each is a
 * round trip, and locally D1 answers one at a time, so under a burst they are the queue everyone
 * waits in). The room knows the state it last wrote, so an update that changes nothing, such as the
 * queue's copy of a webhook the room already applied, costs no call; a success is two: the row with
 * its recorded outputs, then the outputs, the transition, the counters and the pushed views together.
 * A change of status that open tabs are shown is read back in the same call that makes it. Progress
 * alone is pushed to the tabs as it comes and written at most every two seconds.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDb } from "../db/client";
import { SessionRoom } from "../durable-objects/session-room";
import { recordSubmission } from "../generations/lifecycle";
import { type Prediction, predictionSchema } from "../replicate/prediction";
import { FailurePlan, failingD1 } from "./failing-bindings";
import {
  api,
  createGeneration,
  createSession,
  getGeneration,
  openLiveSocket,
  signUp,
  terminalWebhooks,
  uniqueTag,
  waitFor,
  waitForGeneration,
} from "./helpers";

const webhookPrediction = (body: string): Prediction => predictionSchema.parse(JSON.parse(body));

describe("the session room's calls to D1", () => {
  it("costs one call per change, none for a repeat, and two for the success with its outputs", async () => {
    const user = await signUp("room-cost");
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, {
      model: "black-forest-labs/flux-schnell",
      prompt: "a lighthouse, counted",
      params: { num_outputs: 2 },
    });
    const submitted = await waitForGeneration(user, created.id, (generation) => !!generation.predictionId);
    const webhooks = await terminalWebhooks(submitted.predictionId!);
    const running = webhooks.find((webhook) => webhook.status === "processing");
    const succeeded = webhooks.find((webhook) => webhook.status === "succeeded");
    expect(running && succeeded).toBeTruthy();

    // A tab is open: each change of status is pushed whole.
    const tab = await openLiveSocket(user, session.id);
    // Nothing fails: the plan only records every call the room makes to the real local D1.
    const plan = new FailurePlan({ times: 0, message: "unused" });
    const callsOf = async (step: () => Promise<unknown>) => {
      const before = plan.calls.length;
      await step();
      return plan.calls.slice(before);
    };
    await runInDurableObject(env.SESSION_ROOM.getByName(session.id), async (_real, state) => {
      const room = new SessionRoom(state, { ...env, DB: failingD1(env.DB, plan) });
      const processing = webhookPrediction(running!.body);
      const halfway = { ...processing, logs: " 50%|█████     | 2/4 [00:00<00:00, 6.67it/s]\n" };

      // starting → running, with its progress: one call, no read first: the conditional update,
      // and the view pushed to the tab read after it in the same batch.
      const started = await callsOf(() => room.receiveWebhook(halfway));
      expect(started).toHaveLength(1);
      expect(started[0]).toMatch(/^update "generations"[\s\S]*;\nselect [\s\S]* from "generations"/);
      // The same state again (Replicate's retry, or the queue's copy): nothing to write, nothing read.
      expect(await callsOf(() => room.receiveWebhook(halfway))).toEqual([]);
      expect(await callsOf(() => room.applyPrediction(created.id, halfway))).toEqual([]);
      // Progress that goes back (an older webhook arriving late) changes nothing either.
      const earlier = { ...processing, logs: " 25%|██▌       | 1/4 [00:00<00:00, 6.67it/s]\n" };
      expect(await callsOf(() => room.applyPrediction(created.id, earlier))).toEqual([]);
      // The success: two calls, whatever the number of outputs.
      const finished = await callsOf(() => room.receiveWebhook(webhookPrediction(succeeded!.body)));
      expect(finished).toHaveLength(2);
      expect(finished[1]).toMatch(/insert into "assets"[\s\S]*update "generations"[\s\S]*update "image_sessions"/);
    });

    const pushed = await waitFor(
      async () =>
        tab.messages.find(
          (message) => message.type === "generation.updated" && message.generation.status === "running",
        ),
      { what: "the running generation pushed to the tab" },
    );
    expect(pushed).toMatchObject({ generation: { id: created.id, status: "running", progress: 0.5 } });
    tab.socket.close();

    const done = await getGeneration(user, created.id);
    expect(done).toMatchObject({ status: "succeeded", progress: 1 });
    expect(done.outputs.map((output) => output.sha256)).toHaveLength(2);
    for (const output of done.outputs) {
      const response = await api(user, "GET", output.url);
      expect(response.status).toBe(200);
      expect((await response.arrayBuffer()).byteLength).toBe(output.sizeBytes);
    }
    const detail = await (await api(user, "GET", `/api/sessions/${session.id}`)).json<{ succeededCount: number }>();
    expect(detail.succeededCount).toBe(1);
  });

  it("shows every progress update at once and writes progress alone to D1 at most every two seconds", async () => {
    const user = await signUp("progress-cost");
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, {
      model: "black-forest-labs/flux-schnell",
      prompt: "a lighthouse, step by step",
    });
    const submitted = await waitForGeneration(user, created.id, (generation) => !!generation.predictionId);
    const webhooks = await terminalWebhooks(submitted.predictionId!);
    const running = webhooks.find((webhook) => webhook.status === "processing");
    expect(running).toBeTruthy();
    const processing = webhookPrediction(running!.body);
    const at = (step: number): Prediction => ({
      ...processing,
      logs: `${step * 25}%|███       | ${step}/4 [00:00<00:00, 6.67it/s]\n`,
    });
    const stored = () =>
      env.DB.prepare("SELECT status, progress FROM generations WHERE id = ?")
        .bind(created.id)
        .first<{ status: string; progress: number }>();

    const tab = await openLiveSocket(user, session.id);
    const plan = new FailurePlan({ times: 0, message: "unused" });
    const callsOf = async (step: () => Promise<unknown>) => {
      const before = plan.calls.length;
      await step();
      return plan.calls.slice(before);
    };
    await runInDurableObject(env.SESSION_ROOM.getByName(session.id), async (_real, state) => {
      const room = new SessionRoom(state, { ...env, DB: failingD1(env.DB, plan) });
      // The move to running is written at once, with its progress.
      expect(await callsOf(() => room.receiveWebhook(at(1)))).toHaveLength(1);
      expect(await stored()).toEqual({ status: "running", progress: 0.25 });
      // Progress alone, within two seconds of that write: pushed, not written.
      expect(await callsOf(() => room.receiveWebhook(at(2)))).toEqual([]);
      expect(await callsOf(() => room.receiveWebhook(at(3)))).toEqual([]);
      // A repeat of what the tab was already shown neither writes nor pushes anything.
      expect(await callsOf(() => room.applyPrediction(created.id, at(3)))).toEqual([]);
      expect(await stored()).toEqual({ status: "running", progress: 0.25 });

      // Two seconds later (made so here), the room's alarm writes what the tab was shown, in one call.
      await state.storage.deleteAlarm();
      state.storage.sql.exec("UPDATE jobs SET written_at = written_at - 2000");
      expect(await state.storage.getAlarm()).toBeNull();
      const written = await callsOf(() => room.alarm());
      expect(written).toHaveLength(1);
      expect(written[0]).toMatch(/^update "generations"/);
      expect(await stored()).toEqual({ status: "running", progress: 0.75 });
      // Nothing left to write: the next alarm is the safety-net poll's.
      expect(await callsOf(() => room.alarm())).toEqual([]);

      // Progress that comes once the interval has passed is written as it arrives.
      state.storage.sql.exec("UPDATE jobs SET written_at = written_at - 2000");
      expect(await callsOf(() => room.receiveWebhook(at(4)))).toHaveLength(1);
      expect(await stored()).toEqual({ status: "running", progress: 1 });
    });

    // The tab heard each update once, as it came.
    await waitFor(
      async () => (tab.messages.filter((message) => message.type === "generation.progress").length >= 3 ? true : null),
      { what: "three progress events on the tab" },
    );
    expect(tab.messages.flatMap((m) => (m.type === "generation.progress" ? [m.progress] : []))).toEqual([0.5, 0.75, 1]);
    tab.socket.close();
  });

  it("has a start that comes while the submission is still being recorded wait for it: one write, no read", async () => {
    const user = await signUp("start-before-record");
    const session = await createSession(user);
    let release = () => {};
    const plan = new FailurePlan({
      times: 0,
      message: "unused",
      // The submission's record (its first statement counts a use of the references) is slow.
      hold: {
        when: (call) => call.startsWith('update "references"'),
        until: new Promise((resolve) => {
          release = resolve;
        }),
      },
    });
    const room = env.SESSION_ROOM.getByName(session.id);
    await runInDurableObject(room, async (instance) => {
      // The room itself (the one its alarm submits with) calls D1 through the plan from here on.
      Object.assign(instance, { db: createDb(failingD1(env.DB, plan)) });
    });
    const created = await createGeneration(user, session.id, {
      model: "black-forest-labs/flux-schnell",
      prompt: "a lighthouse, started early",
    });
    // The prediction runs and the room knows it; D1 does not yet.
    const predictionId = await waitFor(async () => (await room.pendingJobs())[0]?.predictionId, {
      what: "the prediction created",
    });
    const webhooks = await terminalWebhooks(predictionId);
    const start = webhookPrediction(webhooks.find((webhook) => webhook.status === "processing")!.body);

    const before = plan.calls.length;
    const received = room.receiveWebhook(start);
    // Whether the webhook got there before the record is let through or not, the outcome is the same.
    await Promise.race([received, new Promise((resolve) => setTimeout(resolve, 300))]);
    release();
    expect(await received).toBe(true);

    const row = await env.DB.prepare("SELECT status, prediction_id FROM generations WHERE id = ?")
      .bind(created.id)
      .first<{ status: string; prediction_id: string | null }>();
    expect(row).toEqual({ status: "running", prediction_id: predictionId });
    // The move from `starting`, as the room knew it once recorded: no stale write, nothing read.
    const calls = plan.calls.slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^update "generations"/);
  });

  it("applies a generation's webhooks that come together one after the other: no stale write, no read", async () => {
    const user = await signUp("webhooks-together");
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, {
      model: "black-forest-labs/flux-schnell",
      prompt: "a lighthouse, all at once",
    });
    const submitted = await waitForGeneration(user, created.id, (generation) => !!generation.predictionId);
    const webhooks = await terminalWebhooks(submitted.predictionId!);
    const processing = webhookPrediction(webhooks.find((webhook) => webhook.status === "processing")!.body);
    const at = (step: number): Prediction => ({
      ...processing,
      logs: `${step * 25}%|███       | ${step}/4 [00:00<00:00, 6.67it/s]\n`,
    });
    const tab = await openLiveSocket(user, session.id);
    const plan = new FailurePlan({ times: 0, message: "unused" });
    await runInDurableObject(env.SESSION_ROOM.getByName(session.id), async (_real, state) => {
      const room = new SessionRoom(state, { ...env, DB: failingD1(env.DB, plan) });
      // The start and the next progress reach the room together (a busy Worker hands them over late).
      expect(await Promise.all([room.receiveWebhook(at(1)), room.receiveWebhook(at(2))])).toEqual([true, true]);
    });
    // The move to running, written once; the progress after it, pushed and not yet written.
    expect(plan.calls).toHaveLength(1);
    expect(plan.calls[0]).toMatch(/^update "generations"[\s\S]*;\nselect /);
    const row = await env.DB.prepare("SELECT status, progress FROM generations WHERE id = ?")
      .bind(created.id)
      .first<{ status: string; progress: number }>();
    expect(row).toEqual({ status: "running", progress: 0.25 });
    const progress = await waitFor(
      async () => tab.messages.find((m) => m.type === "generation.progress" && m.generationId === created.id),
      { what: "the progress on the tab" },
    );
    expect(progress).toMatchObject({ progress: 0.5 });
    tab.socket.close();
  });

  it("records a submission and reads the view that open tabs are shown in one call", async () => {
    const user = await signUp("submission-cost");
    const session = await createSession(user);
    // A child waits, queued, behind its parent: its submission is recorded here by hand.
    const parent = await createGeneration(user, session.id, {
      model: "black-forest-labs/flux-dev",
      prompt: `parent ${uniqueTag()}`,
    });
    const child = await createGeneration(user, session.id, {
      model: "black-forest-labs/flux-dev",
      prompt: "the same, at night",
      parentGenerationId: parent.id,
      sourceOutputIndex: 0,
    });
    expect(child.status).toBe("queued");

    const plan = new FailurePlan({ times: 0, message: "unused" });
    const db = createDb(failingD1(env.DB, plan));
    const first = await recordSubmission(db, child.id, "prediction-recorded-by-hand", { view: true });
    expect(plan.calls).toHaveLength(1);
    expect(plan.calls[0]?.split(";\n")).toHaveLength(6); // the two writes, the row and its view's three reads
    expect(first.recorded).toBe(true);
    expect(first.view).toMatchObject({ id: child.id, status: "starting", predictionId: "prediction-recorded-by-hand" });
    // Recorded once: a second time changes nothing, and without a view it reads nothing.
    const again = await recordSubmission(db, child.id, "another-prediction");
    expect(plan.calls).toHaveLength(2);
    expect(plan.calls[1]?.split(";\n")).toHaveLength(2); // the two writes, nothing read
    expect(again).toEqual({ recorded: false, view: null });
    expect(await getGeneration(user, child.id)).toMatchObject({ predictionId: "prediction-recorded-by-hand" });
  });
});

/**
 * The room's own SQLite, with every statement recorded: locally it runs in the same single-threaded
 * process as D1 and R2, so under a burst each statement per webhook is felt by everyone.
 */
function recordingStorage(state: DurableObjectState, statements: string[]): DurableObjectState {
  const bound = <T extends object>(target: T, property: PropertyKey): unknown => {
    const value: unknown = Reflect.get(target, property, target);
    return typeof value === "function" ? value.bind(target) : value;
  };
  const sql = new Proxy(state.storage.sql, {
    get(target, property) {
      if (property !== "exec") return bound(target, property);
      return (query: string, ...bindings: SqlStorageValue[]) => {
        statements.push(query.replace(/\s+/g, " ").trim());
        return target.exec(query, ...bindings);
      };
    },
  });
  const storage = new Proxy(state.storage, {
    get: (target, property) => (property === "sql" ? sql : bound(target, property)),
  });
  return new Proxy(state, { get: (target, property) => (property === "storage" ? storage : bound(target, property)) });
}

describe("the session room's own storage", () => {
  it("takes a few statements per webhook, and still pushes each change and settles each generation once", async () => {
    const user = await signUp("room-storage");
    const session = await createSession(user);
    const created = await Promise.all(
      ["a lighthouse, stored lightly", "a harbour, stored lightly"].map((prompt) =>
        createGeneration(user, session.id, { model: "black-forest-labs/flux-schnell", prompt }),
      ),
    );
    const submitted = await Promise.all(
      created.map((generation) => waitForGeneration(user, generation.id, (g) => !!g.predictionId)),
    );
    const [first, second] = await Promise.all(
      submitted.map(async (generation) => {
        const webhooks = await terminalWebhooks(generation.predictionId!);
        const processing = webhookPrediction(webhooks.find((webhook) => webhook.status === "processing")!.body);
        return {
          id: generation.id,
          predictionId: generation.predictionId!,
          at: (step: number): Prediction => ({
            ...processing,
            logs: `${step * 25}%|███       | ${step}/4 [00:00<00:00, 6.67it/s]\n`,
          }),
          succeeded: webhookPrediction(webhooks.find((webhook) => webhook.status === "succeeded")!.body),
        };
      }),
    );
    const tab = await openLiveSocket(user, session.id);

    const statements: string[] = [];
    const statementsOf = async (step: () => Promise<unknown>) => {
      const before = statements.length;
      await step();
      return statements.slice(before);
    };
    const findJob = /^SELECT \* FROM jobs WHERE prediction_id = \? AND state = 'active'/;
    const pushPollBack = /^UPDATE jobs SET due_at = \? WHERE generation_id = \? AND state = 'active' RETURNING \*/;
    const nextAlarm = /^SELECT \(SELECT min\(due_at\)/;
    await runInDurableObject(env.SESSION_ROOM.getByName(session.id), async (_real, state) => {
      const room = new SessionRoom(state, env);
      // The runtime accepts only the real state at construction; the room reads it through `ctx`.
      Object.defineProperty(room, "ctx", { value: recordingStorage(state, statements) });
      // The start: the job found, the poll pushed back as the job is read, the state D1 now holds.
      expect(await statementsOf(() => room.receiveWebhook(first!.at(1)))).toEqual([
        expect.stringMatching(findJob),
        expect.stringMatching(pushPollBack),
        expect.stringMatching(/^UPDATE jobs SET known_status = \?/),
      ]);
      // Progress alone: pushed, remembered as shown, and its write to D1 given an alarm.
      expect(await statementsOf(() => room.receiveWebhook(first!.at(2)))).toEqual([
        expect.stringMatching(findJob),
        expect.stringMatching(pushPollBack),
        expect.stringMatching(/^UPDATE jobs SET pushed_progress = \?/),
        expect.stringMatching(nextAlarm),
      ]);
      // The same progress again: nothing to push, and its write already has its alarm.
      expect(await statementsOf(() => room.receiveWebhook(first!.at(2)))).toEqual([
        expect.stringMatching(findJob),
        expect.stringMatching(pushPollBack),
      ]);
      // The success: the job found and removed, the generation remembered as settled, the next
      // alarm, and the prediction remembered as applied once its outputs are written. The first in
      // a fresh object also prunes what it remembers of an hour ago, and reads its session once.
      expect(await statementsOf(() => room.receiveWebhook(first!.succeeded))).toEqual([
        expect.stringMatching(findJob),
        expect.stringMatching(/^DELETE FROM jobs WHERE generation_id = \? RETURNING prediction_id/),
        expect.stringMatching(/^DELETE FROM settled/),
        expect.stringMatching(/^INSERT OR REPLACE INTO settled/),
        expect.stringMatching(/^SELECT value FROM meta WHERE key = 'sessionId'/),
        expect.stringMatching(nextAlarm),
        expect.stringMatching(/^DELETE FROM finished/),
        expect.stringMatching(/^INSERT OR REPLACE INTO finished/),
      ]);
      // The next success in the same minute prunes nothing, and the session is known.
      await room.receiveWebhook(second!.at(1));
      expect(await statementsOf(() => room.receiveWebhook(second!.succeeded))).toEqual([
        expect.stringMatching(findJob),
        expect.stringMatching(/^DELETE FROM jobs/),
        expect.stringMatching(/^INSERT OR REPLACE INTO settled/),
        expect.stringMatching(nextAlarm),
        expect.stringMatching(/^INSERT OR REPLACE INTO finished/),
      ]);
      expect(await room.pendingJobs()).toEqual([]);
      // Both are known as applied, so the queue's copies cost nothing.
      expect(await room.appliedTerminal([first!.predictionId, second!.predictionId])).toEqual({
        [first!.predictionId]: "succeeded",
        [second!.predictionId]: "succeeded",
      });
    });

    // The tab was shown every change: each start, the progress, each success, once each.
    const updates = () =>
      tab.messages.flatMap((message) =>
        message.type === "generation.updated" ? [`${message.generation.id} ${message.generation.status}`] : [],
      );
    await waitFor(async () => updates().filter((update) => update.endsWith("succeeded")).length === 2, {
      what: "both successes on the tab",
    });
    for (const { id } of [first!, second!]) {
      expect(updates().filter((update) => update === `${id} running`)).toHaveLength(1);
      expect(updates().filter((update) => update === `${id} succeeded`)).toHaveLength(1);
    }
    expect(
      tab.messages.flatMap((message) =>
        message.type === "generation.progress" ? [`${message.generationId} ${message.progress}`] : [],
      ),
    ).toEqual([`${first!.id} 0.5`]);
    tab.socket.close();

    for (const { id } of [first!, second!]) {
      const done = await getGeneration(user, id);
      expect(done).toMatchObject({ status: "succeeded", progress: 1 });
      expect(done.outputs).toHaveLength(1);
      const response = await api(user, "GET", done.outputs[0]!.url);
      expect(response.status).toBe(200);
    }
    const detail = await (await api(user, "GET", `/api/sessions/${session.id}`)).json<{ succeededCount: number }>();
    expect(detail.succeededCount).toBe(2);
  });
});
