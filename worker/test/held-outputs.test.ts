/**
 * A success is announced once its outputs are downloaded and checked, while they are written to R2
 * alongside. Until a write ends, the session's room holds the bytes and the asset routes serve them
 * from there; the prediction counts as applied only once every write succeeded, a write that keeps
 * failing is left to the queue's copy of the state, and a child starting from such an output is
 * submitted only once the output is in R2.
 *
 * Each test builds a SessionRoom over the session room's real storage (its queue) with an R2 bucket
 * whose writes wait for the test or fail: the room's own code, on the real local D1, R2 and emulator.
 */

import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { type ExportDocument, MANIFEST_FILE } from "@contract/transfer";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { SessionRoom } from "../durable-objects/session-room";
import worker from "../index";
import { sha256Hex } from "../lib/ids";
import { outputUrls, type Prediction, predictionSchema } from "../replicate/prediction";
import { outputKey } from "../storage/objects";
import { FailurePlan, failingR2, heldWritesR2, R2_HICCUP, roomsWith } from "./failing-bindings";
import {
  api,
  completionOf,
  consumeBatch,
  createGeneration,
  createSession,
  emulator,
  getGeneration,
  ORIGIN,
  predictionInput,
  signUp,
  type TestUser,
  terminalWebhooks,
  waitFor,
  waitForGeneration,
} from "./helpers";

const IMAGE_TO_IMAGE = "black-forest-labs/flux-dev";

/** A write held open until the test releases it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** The prediction's terminal webhook and its state, and the bytes of its first output at Replicate. */
async function finishedAtReplicate(predictionId: string) {
  const webhook = (await terminalWebhooks(predictionId)).at(-1)!;
  const state: Prediction = predictionSchema.parse(JSON.parse(webhook.body));
  expect(state.status).toBe("succeeded");
  const bytes = new Uint8Array(await (await fetch(outputUrls(state)[0]!)).arrayBuffer());
  return { webhook, state, bytes, sha256: await sha256Hex(bytes) };
}

async function runningGeneration(label: string) {
  const user = await signUp(label);
  const session = await createSession(user);
  const created = await createGeneration(user, session.id, { prompt: `${label} harbour at dusk` });
  const running = await waitForGeneration(user, created.id, (g) => g.predictionId !== null, "submission");
  return { user, session, generation: running, ...(await finishedAtReplicate(running.predictionId!)) };
}

/** A parent generation running at Replicate (finished there) and a child queued to start from its output. */
async function parentAndChild(label: string) {
  const user = await signUp(label);
  const session = await createSession(user);
  const parent = await createGeneration(user, session.id, { model: IMAGE_TO_IMAGE, prompt: `${label} parent` });
  const child = await createGeneration(user, session.id, {
    model: IMAGE_TO_IMAGE,
    prompt: `${label} child, at night`,
    parentGenerationId: parent.id,
    sourceOutputIndex: 0,
  });
  const running = await waitForGeneration(user, parent.id, (g) => g.predictionId !== null, "submission");
  return { user, session, parent, child, ...(await finishedAtReplicate(running.predictionId!)) };
}

/** The child was submitted, and Replicate was sent its parent's output: the bytes of `sha256`. */
async function expectSubmittedWithSource(user: TestUser, childId: string, sha256: string) {
  const submitted = await getGeneration(user, childId);
  expect(submitted).toMatchObject({ status: "starting", error: null, predictionId: expect.any(String) });
  const input = await predictionInput(submitted.predictionId!);
  const file = await fetch(`${String(input.image)}/download`, { headers: { Authorization: "Bearer r8_test_token" } });
  expect(file.status).toBe(200);
  expect(await sha256Hex(new Uint8Array(await file.arrayBuffer()))).toBe(sha256);
}

/** A request as `user` through the Worker with `workerEnv`, its own work awaited. */
async function requestAs(
  user: TestUser,
  method: string,
  path: string,
  workerEnv: Env,
  headers: Record<string, string> = {},
) {
  const ctx = createExecutionContext();
  const request = new Request<unknown, IncomingRequestCfProperties>(`${ORIGIN}${path}`, {
    method,
    headers: { Authorization: `Bearer ${user.token}`, ...headers },
  });
  const response = await worker.fetch(request, workerEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const getAs = (user: TestUser, path: string, workerEnv: Env, headers: Record<string, string> = {}) =>
  requestAs(user, "GET", path, workerEnv, headers);

const bytesOf = async (response: Response) => new Uint8Array(await response.arrayBuffer());

const storedRow = (generationId: string) =>
  env.DB.prepare(
    `SELECT g.status,
       (SELECT count(*) FROM assets a WHERE a.generation_id = g.id AND a.role = 'output') AS assets,
       (SELECT max(a.sha256) FROM assets a WHERE a.generation_id = g.id AND a.role = 'output') AS sha256
     FROM generations g WHERE g.id = ?`,
  )
    .bind(generationId)
    .first<{ status: string; assets: number; sha256: string | null }>();

describe("an output announced while its write to R2 is under way", () => {
  it("is served from the room to its owner, with its ETag and type, and to no one else; then from R2", async () => {
    const { user, session, generation, state, bytes, sha256 } = await runningGeneration("held");
    const stranger = await signUp("held-stranger");
    const key = outputKey(user.id, generation.id, 0);
    const write = gate();
    const writes: string[] = [];
    const downloads = async () =>
      (await emulator.requests(`?predictionId=${generation.predictionId}`)).filter((request) =>
        request.path.includes("/delivery/"),
      ).length;
    // The test's own download of the output, above.
    const downloadsBefore = await downloads();

    await runInDurableObject(env.SESSION_ROOM.getByName(session.id), async (_real, storage) => {
      const room = new SessionRoom(storage, { ...env, BUCKET: heldWritesR2(env.BUCKET, write.opened, writes) });
      const routed: Env = { ...env, SESSION_ROOM: roomsWith(env.SESSION_ROOM, session.id, room) };
      const settled = room.receiveWebhook(state);

      // Announced with its asset while the write waits.
      const announced = await waitForGeneration(user, generation.id, (g) => g.status === "succeeded", "the success");
      const output = announced.outputs[0]!;
      expect(output.sha256).toBe(sha256);
      expect(await env.BUCKET.head(key)).toBeNull();

      const served = await getAs(user, output.url, routed);
      expect(served.status).toBe(200);
      expect(served.headers.get("ETag")).toBe(`"${sha256}"`);
      expect(served.headers.get("Content-Type")).toBe(output.mimeType);
      expect(served.headers.get("Content-Length")).toBe(String(bytes.length));
      expect(await bytesOf(served)).toEqual(bytes);
      const part = await getAs(user, output.url, routed, { Range: "bytes=0-99" });
      expect(part.status).toBe(206);
      expect(part.headers.get("Content-Range")).toBe(`bytes 0-99/${bytes.length}`);
      expect(await bytesOf(part)).toEqual(bytes.slice(0, 100));
      expect((await getAs(user, output.url, routed, { "If-None-Match": `"${sha256}"` })).status).toBe(304);
      // The thumbnail is made from the bytes the room holds.
      const thumbnail = await getAs(user, output.thumbnailUrl, routed);
      expect(thumbnail.status).toBe(200);
      expect(thumbnail.headers.get("Content-Type")).toBe("image/webp");
      expect((await bytesOf(thumbnail)).length).toBeGreaterThan(0);

      // Another user: 404, as for any asset not theirs.
      expect((await getAs(stranger, output.url, routed)).status).toBe(404);
      expect((await getAs(stranger, output.thumbnailUrl, routed)).status).toBe(404);

      // A repeat of the webhook meanwhile finds the generation finished: nothing is fetched or written again.
      expect(await room.receiveWebhook(state)).toBe(false);
      expect(await room.heldOutput(key)).not.toBeNull();

      write.open();
      expect(await settled).toBe(true);
      expect(await room.heldOutput(key)).toBeNull();
      expect(await room.appliedTerminal([state.id])).toEqual({ [state.id]: "succeeded" });
    });

    // Once written: R2 has the bytes, D1 the success and one asset, each written once.
    expect(writes).toEqual([key]);
    const object = await env.BUCKET.get(key);
    expect(object && (await sha256Hex(new Uint8Array(await object.arrayBuffer())))).toBe(sha256);
    expect(object?.customMetadata?.sha256).toBe(sha256);
    expect(await storedRow(generation.id)).toEqual({ status: "succeeded", assets: 1, sha256 });
    expect(await downloads()).toBe(downloadsBefore + 1);
    const done = await getGeneration(user, generation.id);
    const fromR2 = await api(user, "GET", done.outputs[0]!.url);
    expect(fromR2.status).toBe(200);
    expect(fromR2.headers.get("ETag")).toBe(`"${sha256}"`);
    expect(await bytesOf(fromR2)).toEqual(bytes);
  });

  it("is left to the queue's copy of the state when its write keeps failing, which stores it", async () => {
    const { user, session, generation, webhook, state, bytes, sha256 } = await runningGeneration("held-fails");
    const key = outputKey(user.id, generation.id, 0);
    const refused = new FailurePlan({
      times: Number.POSITIVE_INFINITY,
      when: (call) => call.startsWith("put outputs/"),
      message: R2_HICCUP,
    });

    await runInDurableObject(env.SESSION_ROOM.getByName(session.id), async (_real, storage) => {
      const room = new SessionRoom(storage, { ...env, BUCKET: failingR2(env.BUCKET, ["put"], refused) });
      expect(await room.receiveWebhook(state)).toBe(true);
      // Announced, but not applied as far as the queue's copy is concerned: the write never succeeded.
      expect(await room.appliedTerminal([state.id])).toEqual({});
      expect(await room.heldOutput(key)).toBeNull();
    });
    // Tried again from the bytes in hand before giving up.
    expect(refused.failures).toBe(3);
    expect(await storedRow(generation.id)).toEqual({ status: "succeeded", assets: 1, sha256 });
    expect(await env.BUCKET.head(key)).toBeNull();

    // The queue's copy, as the webhook route queued it (naming the session).
    const outcome = await consumeBatch("image-studio-completions", [
      { ...completionOf(state), webhookId: webhook.headers["webhook-id"]!, sessionId: session.id },
    ]);
    expect(outcome).toEqual({ retried: 0, acked: 1 });
    const object = await env.BUCKET.get(key);
    expect(object && (await sha256Hex(new Uint8Array(await object.arrayBuffer())))).toBe(sha256);
    expect(await storedRow(generation.id)).toEqual({ status: "succeeded", assets: 1, sha256 });
    const done = await getGeneration(user, generation.id);
    const served = await api(user, "GET", done.outputs[0]!.url);
    expect(served.status).toBe(200);
    expect(await bytesOf(served)).toEqual(bytes);
  });

  it("is in R2 before a child starting from it is submitted, which sends Replicate its bytes", async () => {
    const { user, session, parent, child, state, sha256 } = await parentAndChild("held");
    const write = gate();

    await runInDurableObject(env.SESSION_ROOM.getByName(session.id), async (_real, storage) => {
      const sql = storage.storage.sql;
      // The room under test submits the child, not the real instance's alarm: not due until then.
      sql.exec("UPDATE jobs SET due_at = ? WHERE generation_id = ?", Date.now() + 3_600_000, child.id);
      const room = new SessionRoom(storage, { ...env, BUCKET: heldWritesR2(env.BUCKET, write.opened, []) });
      const settled = room.receiveWebhook(state);
      await waitForGeneration(user, parent.id, (g) => g.status === "succeeded", "the parent's success");
      // The alarm the success set has run (and found the child not yet due).
      await waitFor(async () => ((await storage.storage.getAlarm()) ?? 0) > Date.now() + 60_000, {
        what: "the room's alarm after the success",
      });
      await storage.storage.deleteAlarm();
      sql.exec("UPDATE jobs SET due_at = 0 WHERE generation_id = ?", child.id);
      const submitting = room.alarm();
      write.open();
      await Promise.all([settled, submitting]);
      await storage.storage.deleteAlarm();
    });

    await expectSubmittedWithSource(user, child.id, sha256);
  });
  it("keeps a child waiting while its parent's output could not be written, until the queue's copy stores it", async () => {
    const { user, session, parent, child, webhook, state, sha256 } = await parentAndChild("unwritten");
    const refused = new FailurePlan({
      times: Number.POSITIVE_INFINITY,
      when: (call) => call.startsWith("put outputs/"),
      message: R2_HICCUP,
    });

    await runInDurableObject(env.SESSION_ROOM.getByName(session.id), async (_real, storage) => {
      const sql = storage.storage.sql;
      const childJob = () =>
        sql.exec<{ state: string; due_at: number }>("SELECT * FROM jobs WHERE generation_id = ?", child.id).one();
      // The room under test submits the child, not the real instance's alarm: not due until then.
      sql.exec("UPDATE jobs SET due_at = ? WHERE generation_id = ?", Date.now() + 3_600_000, child.id);
      const room = new SessionRoom(storage, { ...env, BUCKET: failingR2(env.BUCKET, ["put"], refused) });
      expect(await room.receiveWebhook(state)).toBe(true);
      expect((await getGeneration(user, parent.id)).status).toBe("succeeded");
      await waitFor(async () => ((await storage.storage.getAlarm()) ?? 0) > Date.now() + 60_000, {
        what: "the room's alarm after the success",
      });
      await storage.storage.deleteAlarm();

      // Due, but its source is not in R2: it waits, neither submitted nor failed.
      sql.exec("UPDATE jobs SET due_at = 0 WHERE generation_id = ?", child.id);
      const before = Date.now();
      await room.alarm();
      await storage.storage.deleteAlarm();
      expect(childJob()).toMatchObject({ state: "waiting" });
      expect(childJob().due_at).toBeGreaterThan(before);
      expect(await getGeneration(user, child.id)).toMatchObject({ status: "queued", predictionId: null });

      // The queue's copy of the parent's state stores the output; then the child goes.
      const outcome = await consumeBatch("image-studio-completions", [
        { ...completionOf(state), webhookId: webhook.headers["webhook-id"]!, sessionId: session.id },
      ]);
      expect(outcome).toEqual({ retried: 0, acked: 1 });
      sql.exec("UPDATE jobs SET due_at = 0 WHERE generation_id = ?", child.id);
      await room.alarm();
      await storage.storage.deleteAlarm();
    });

    await expectSubmittedWithSource(user, child.id, sha256);
  });

  it("is in a zip export of its session asked for meanwhile", async () => {
    const { user, session, generation, state, sha256 } = await runningGeneration("held-export");
    const write = gate();

    const zip = await runInDurableObject(env.SESSION_ROOM.getByName(session.id), async (_real, storage) => {
      const room = new SessionRoom(storage, { ...env, BUCKET: heldWritesR2(env.BUCKET, write.opened, []) });
      // The write is let go only once the export asks the room to finish its writes: an export
      // that did not ask would be made while the output is not in R2.
      const asked = new Proxy(room, {
        get(target, property) {
          if (property === "outputsStored")
            return () => {
              write.open();
              return target.outputsStored();
            };
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const routed: Env = { ...env, SESSION_ROOM: roomsWith(env.SESSION_ROOM, session.id, asked) };
      const settled = room.receiveWebhook(state);
      await waitForGeneration(user, generation.id, (g) => g.status === "succeeded", "the success");
      const ctx = createExecutionContext();
      const request = new Request<unknown, IncomingRequestCfProperties>(
        `${ORIGIN}/api/sessions/${session.id}/export?format=zip`,
        { headers: { Authorization: `Bearer ${user.token}` } },
      );
      const response = await worker.fetch(request, routed, ctx);
      expect(response.status).toBe(200);
      // The zip streams while it is made: read it before waiting for the request's work.
      const bytes = await bytesOf(response);
      await waitOnExecutionContext(ctx);
      write.open();
      await settled;
      return bytes;
    });

    const files = unzipSync(zip);
    const manifest = JSON.parse(new TextDecoder().decode(files[MANIFEST_FILE])) as ExportDocument;
    const output = manifest.assets.find((asset) => asset.sha256 === sha256);
    expect(output?.file).toBeTruthy();
    expect(await sha256Hex(files[output!.file!]!)).toBe(sha256);
  });

  it("is gone with its account when the account is deleted meanwhile: the room lets go only once it is written", async () => {
    const { user, session, generation, state } = await runningGeneration("held-account");
    const key = outputKey(user.id, generation.id, 0);
    const write = gate();

    const destroyedWhileHeld = await runInDurableObject(
      env.SESSION_ROOM.getByName(session.id),
      async (_real, storage) => {
        const room = new SessionRoom(storage, { ...env, BUCKET: heldWritesR2(env.BUCKET, write.opened, []) });
        let destroyedFirst: boolean | undefined;
        // The write is let go a moment after the deletion asks the room to go: a room gone before then
        // would leave the object to land in R2 after the account's objects were listed and removed.
        const asked = new Proxy(room, {
          get(target, property) {
            if (property === "destroy")
              return async () => {
                const destroyed = target.destroy();
                destroyedFirst = await Promise.race([
                  destroyed.then(() => true),
                  new Promise<false>((resolve) => setTimeout(() => resolve(false), 100)),
                ]);
                write.open();
                await destroyed;
              };
            const value: unknown = Reflect.get(target, property, target);
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
        const routed: Env = { ...env, SESSION_ROOM: roomsWith(env.SESSION_ROOM, session.id, asked) };
        const settled = room.receiveWebhook(state);
        await waitForGeneration(user, generation.id, (g) => g.status === "succeeded", "the success");
        expect(await env.BUCKET.head(key)).toBeNull();

        expect((await requestAs(user, "DELETE", "/api/me", routed)).status).toBe(204);
        await settled;
        return destroyedFirst;
      },
    );

    expect(destroyedWhileHeld).toBe(false);
    // Written before the account's objects were listed, so removed with them: nothing of the user is left.
    expect(await env.BUCKET.head(key)).toBeNull();
    expect((await env.BUCKET.list({ prefix: `outputs/${user.id}/` })).objects).toEqual([]);
    expect(await storedRow(generation.id)).toBeNull();
  });
});
