/**
 * Chaos: failing and broken downloads, crashes between the R2 write and the D1 commit, and a
 * throttled create (see support.ts).
 */
import { env } from "cloudflare:test";
import type { Generation } from "@contract/api";
import { describe, expect, it } from "vitest";
import { removeOrphanedObjects } from "../../cron/retention";
import { createDb } from "../../db/client";
import { sha256Hex } from "../../lib/ids";
import {
  api,
  createGeneration,
  createSession,
  deliver,
  emulator,
  getGeneration,
  signUp,
  terminalWebhooks,
  uniqueTag,
  waitFor,
  waitForGeneration,
} from "../helpers";
import { finishedAtReplicate } from "./support";

describe("the completion pipeline with failing downloads and crashes", () => {
  it("retries failing downloads with backoff until stored, and accounts for every announced output", async () => {
    const user = await signUp();
    const modes = [
      { mode: "error", status: 503, times: 2 },
      { mode: "truncate", times: 1 },
      { mode: "chunked", times: 3 },
      { mode: "slow", delayMs: 500, times: 1 },
    ] as const;
    const tags = modes.map(() => uniqueTag());
    for (const [i, fault] of modes.entries()) {
      const { times, ...effect } = fault;
      await emulator.addFault({ match: { promptIncludes: tags[i] }, times, effect: { type: "download", ...effect } });
    }
    const session = await createSession(user);
    const created = await Promise.all(
      tags.map((tag) => createGeneration(user, session.id, { prompt: `downloads ${tag}` })),
    );
    for (const generation of created) {
      const running = await waitForGeneration(user, generation.id, (g) => g.predictionId !== null);
      for (const webhook of await terminalWebhooks(running.predictionId!)) await deliver(webhook);
    }
    const finished = await Promise.all(
      created.map((g) => waitForGeneration(user, g.id, (x) => x.status === "succeeded" || x.status === "failed")),
    );
    // The ledger: every announced output is stored or its generation failed with a reason.
    let announced = 0;
    let stored = 0;
    let failedWithReason = 0;
    for (const generation of finished) {
      const webhooks = await emulator.webhooks(generation.predictionId!);
      const outputs = (JSON.parse(webhooks.find((w) => w.status === "succeeded")!.body) as { output: string[] }).output
        .length;
      announced += outputs;
      if (generation.status === "succeeded") stored += generation.outputs.length;
      else if (generation.error) failedWithReason += outputs;
    }
    expect({ announced, unaccounted: announced - stored - failedWithReason }).toEqual({ announced: 4, unaccounted: 0 });
    expect(finished.map((g) => g.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    for (const generation of finished) {
      const bytes = new Uint8Array(await (await api(user, "GET", generation.outputs[0]!.url)).arrayBuffer());
      expect(bytes.length).toBe(generation.outputs[0]!.sizeBytes);
    }
  }, 90_000);

  it("converges after a crash between the R2 write and the D1 commit, in either order, and cleans orphans", async () => {
    const user = await signUp();
    const { generations, webhooks } = await finishedAtReplicate(user, 2, `crash ${uniqueTag()}`);
    const [first, second] = generations as [Generation, Generation];
    const key = (g: Generation) => `outputs/${user.id}/${g.id}/0`;

    // Crash after the R2 write, before the D1 commit: an object no row points to yet.
    await env.BUCKET.put(key(first), new Uint8Array([1, 2, 3]));
    for (const webhook of webhooks.get(first.id)!) await deliver(webhook);
    const firstDone = await waitForGeneration(user, first.id, (g) => g.status === "succeeded");
    const firstBytes = new Uint8Array(await (await env.BUCKET.get(key(first)))!.arrayBuffer());
    expect(await sha256Hex(firstBytes)).toBe(firstDone.outputs[0]!.sha256);

    // The other order: the row committed, the object lost. Redelivery brings the object back.
    for (const webhook of webhooks.get(second.id)!) await deliver(webhook);
    const secondDone = await waitForGeneration(user, second.id, (g) => g.status === "succeeded");
    await env.BUCKET.delete(key(second));
    // Redelivery (a poll of the finished prediction takes the same path as a webhook).
    const terminal = JSON.parse(webhooks.get(second.id)!.find((w) => w.status === "succeeded")!.body) as unknown;
    await env.COMPLETIONS.send({ type: "prediction", source: "poll", prediction: terminal, receivedAt: Date.now() });
    await waitFor(async () => env.BUCKET.head(key(second)), { what: "the lost object to be stored again" });
    expect((await getGeneration(user, second.id)).outputs.map((a) => a.id)).toEqual(
      secondDone.outputs.map((a) => a.id),
    );
    // No row points to a missing object.
    for (const generation of [firstDone, secondDone])
      expect((await api(user, "GET", generation.outputs[0]!.url)).status).toBe(200);

    // An orphan (its row never committed and never will) is removed by retention once past the grace period.
    const orphan = `outputs/${user.id}/gen_orphan${uniqueTag()}/0`;
    await env.BUCKET.put(orphan, new Uint8Array([9]));
    const db = createDb(env.DB);
    await removeOrphanedObjects(db, env.BUCKET, Date.now()); // too young: kept
    expect(await env.BUCKET.head(orphan)).not.toBeNull();
    let removed = false;
    for (let page = 0; page < 50 && !removed; page++) {
      await removeOrphanedObjects(db, env.BUCKET, Date.now() + 2 * 60 * 60 * 1000);
      removed = (await env.BUCKET.head(orphan)) === null;
    }
    expect(removed).toBe(true);
    expect(await env.BUCKET.head(key(first))).not.toBeNull();
    expect(await env.BUCKET.head(key(second))).not.toBeNull();
  }, 90_000);

  it("survives Replicate answering 503 and 429 with Retry-After on create", async () => {
    const user = await signUp();
    const unavailable = uniqueTag();
    const throttled = uniqueTag();
    await emulator.addFault({
      match: { promptIncludes: unavailable },
      times: 2,
      effect: { type: "http", status: 503 },
    });
    await emulator.addFault({
      match: { promptIncludes: throttled },
      times: 2,
      effect: { type: "http", status: 429, retryAfter: 1 },
    });
    const session = await createSession(user);
    const a = await createGeneration(user, session.id, { prompt: `unavailable ${unavailable}` });
    const b = await createGeneration(user, session.id, { prompt: `throttled ${throttled}` });
    for (const generation of [a, b]) {
      const running = await waitForGeneration(user, generation.id, (g) => g.predictionId !== null);
      for (const webhook of await terminalWebhooks(running.predictionId!)) await deliver(webhook);
      expect((await waitForGeneration(user, generation.id, (g) => g.status === "succeeded")).outputs).toHaveLength(1);
    }
  }, 60_000);
});
