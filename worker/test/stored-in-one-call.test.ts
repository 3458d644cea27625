/**
 * Starting a generation in one call to D1: once the model's definition is built in the isolate, the
 * generation is stored in the batch that signs in, with every check as a condition of its insert.
 * When a check fails, nothing of that batch is stored and the checks run as they always have, so the
 * answer names the field at fault (or the limit) exactly as before. Each case below asserts both:
 * that the one call was tried first, and that nothing it would have written is in D1.
 */
import { env } from "cloudflare:test";
import type { Asset, Problem, Reference } from "@contract/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  completeGeneration,
  createGeneration,
  createSession,
  setLimits,
  signUp,
  type TestUser,
  uniqueTag,
  upload,
  waitForGeneration,
} from "./helpers";
import { makePng } from "./images";
import { statementsOf } from "./recording-d1";

const SCHNELL = "black-forest-labs/flux-schnell";
const SDXL = "stability-ai/sdxl";
const VIDEO = "minimax/video-01";

/** The statement the one call starts with (a request that takes the checks' way starts by signing in). */
const STORING_FIRST = /^insert into "generations"/i;

let owner: TestUser;
let stranger: TestUser;
let sessionId: string;
let input: Asset;
let reference: Reference;

/** Generations this file started: their rooms submit them before the file ends. */
const started: { user: TestUser; id: string }[] = [];
afterAll(async () => {
  for (const { user, id } of started)
    await waitForGeneration(user, id, (g) => g.predictionId !== null, "its submission");
});

/** A POST to start a generation as `user`, its statements recorded. */
async function start(user: TestUser, session: string, body: Record<string, unknown>) {
  const sent = await statementsOf(`/api/sessions/${session}/generations`, {
    method: "POST",
    headers: { Authorization: `Bearer ${user.token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (sent.response.status === 202) started.push({ user, id: (JSON.parse(sent.body) as { id: string }).id });
  return sent;
}

/** Everything starting a generation writes, for this user and session. */
async function writtenFor(user: TestUser, session: string) {
  const all = (query: string, ...values: unknown[]) =>
    env.DB.prepare(query)
      .bind(...values)
      .all()
      .then((result) => result.results);
  return {
    generations: await all("SELECT id FROM generations WHERE user_id = ? ORDER BY id", user.id),
    references: await all(
      "SELECT generation_id FROM generation_references WHERE generation_id IN (SELECT id FROM generations WHERE user_id = ?)",
      user.id,
    ),
    ledger: await all("SELECT day, generations, cost FROM usage_days WHERE user_id = ?", user.id),
    rate: await all("SELECT key, window_start, count FROM rate_limits WHERE key = ?", `generate:user:${user.id}`),
    session: await all("SELECT title, model, generation_count, updated_at FROM image_sessions WHERE id = ?", session),
  };
}

beforeAll(async () => {
  [owner, stranger] = await Promise.all([signUp("one-call-owner"), signUp("one-call-stranger")]);
  sessionId = (await createSession(owner)).id;
  const png = await makePng(16, 16, (x, y) => [x * 16, y * 16, 64]);
  const uploaded = await upload(owner, "/api/assets", [{ name: "in.png", bytes: png, type: "image/png" }], {
    role: "input",
  });
  expect(uploaded.status).toBe(201);
  input = await uploaded.json<Asset>();
  const references = await upload(owner, "/api/references", [{ name: "ref.png", bytes: png, type: "image/png" }]);
  expect(references.status).toBe(201);
  reference = (await references.json<{ items: Reference[] }>()).items[0]!;
  // Each model's first generation in this isolate builds its definition (and may take the checks' way).
  const warmUp = (await createSession(owner)).id;
  for (const model of [SCHNELL, SDXL, VIDEO]) {
    expect((await start(owner, warmUp, { model, prompt: `warm ${uniqueTag()}` })).response.status).toBe(202);
  }
});

describe("a generation stored in one call", () => {
  it("stores the generation, its references, the session's title and counters, the ledger and the rate", async () => {
    const session = (await createSession(owner)).id;
    const before = await writtenFor(owner, session);
    const prompt = `one call ${uniqueTag()}`;
    const sent = await start(owner, session, { model: VIDEO, prompt, referenceImageIds: [reference.id] });
    expect(sent.response.status).toBe(202);
    expect(sent.calls).toBe(1);
    expect(sent.statements[0]).toMatch(STORING_FIRST);
    const view = JSON.parse(sent.body) as { id: string; prompt: string; references: { id: string }[] };
    expect(view).toMatchObject({ prompt, references: [{ id: reference.id }] });
    const after = await writtenFor(owner, session);
    expect(after.generations).toHaveLength(before.generations.length + 1);
    expect(after.references).toHaveLength(before.references.length + 1);
    expect(after.session[0]).toMatchObject({ title: prompt, model: VIDEO, generation_count: 1 });
    const counted = (rows: Record<string, unknown>[]) => Number(rows[0]?.generations ?? 0);
    expect(counted(after.ledger)).toBe(counted(before.ledger) + 1);
    expect(after.rate).toHaveLength(1);
  });
});

describe("a check that fails in the one call: nothing stored, the field (or limit) named as before", () => {
  /** Sends the request, expecting the one call tried first and refused, and nothing written. */
  async function refused(user: TestUser, session: string, body: Record<string, unknown>, status: number) {
    const before = await writtenFor(user, session);
    const sent = await start(user, session, body);
    expect(sent.response.status, sent.body).toBe(status);
    expect(sent.statements[0]).toMatch(STORING_FIRST);
    expect(await writtenFor(user, session)).toEqual(before);
    return JSON.parse(sent.body) as Problem;
  }

  it("someone else's session, or one in the trash: 404", async () => {
    const strangers = (await createSession(stranger)).id;
    expect(await refused(owner, strangers, { model: SCHNELL, prompt: "p" }, 404)).toMatchObject({ status: 404 });
    const trashed = (await createSession(owner)).id;
    expect((await api(owner, "DELETE", `/api/sessions/${trashed}`)).status).toBe(204);
    expect(await refused(owner, trashed, { model: SCHNELL, prompt: "p" }, 404)).toMatchObject({ status: 404 });
  });

  it("a parent that failed, or of another session", async () => {
    const parent = await start(owner, sessionId, { model: SDXL, prompt: `parent ${uniqueTag()}` });
    const parentId = (JSON.parse(parent.body) as { id: string }).id;
    const elsewhere = (await createSession(owner)).id;
    const other = await refused(owner, elsewhere, { model: SDXL, prompt: "p", parentGenerationId: parentId }, 400);
    expect(other.errors).toEqual([{ path: "parentGenerationId", message: "No such generation in this session" }]);
    await waitForGeneration(owner, parentId, (g) => g.predictionId !== null, "its submission");
    await env.DB.prepare("UPDATE generations SET status = 'failed' WHERE id = ?").bind(parentId).run();
    const failed = await refused(owner, sessionId, { model: SDXL, prompt: "p", parentGenerationId: parentId }, 400);
    expect(failed.errors).toEqual([{ path: "parentGenerationId", message: "The parent failed" }]);
  });

  it("a source that is not the user's image or is an output of another session, a mask that is not a mask, a deleted reference", async () => {
    const strangers = await upload(
      stranger,
      "/api/assets",
      [{ name: "s.png", bytes: await makePng(8, 8, () => [1, 2, 3]), type: "image/png" }],
      { role: "input" },
    );
    const strangerInput = await strangers.json<Asset>();
    const source = await refused(owner, sessionId, { model: SDXL, prompt: "p", sourceAssetId: strangerInput.id }, 400);
    expect(source.errors?.[0]?.path).toBe("sourceAssetId");
    // An output of another session: the user's image, but not one to iterate from here.
    const elsewhere = (await createSession(owner)).id;
    const done = await completeGeneration(
      owner,
      (await createGeneration(owner, elsewhere, { prompt: uniqueTag() })).id,
    );
    const output = await refused(
      owner,
      sessionId,
      { model: SDXL, prompt: "p", sourceAssetId: done.outputs[0]!.id },
      400,
    );
    expect(output.errors).toEqual([{ path: "sourceAssetId", message: "Not an output of this session" }]);
    const mask = await refused(
      owner,
      sessionId,
      { model: SDXL, prompt: "p", sourceAssetId: input.id, maskAssetId: input.id },
      400,
    );
    expect(mask.errors).toEqual([{ path: "maskAssetId", message: "No such mask image" }]);
    const png = await makePng(12, 12, (x) => [x * 20, 0, 0]);
    const gone = (
      await (
        await upload(owner, "/api/references", [{ name: "gone.png", bytes: png, type: "image/png" }])
      ).json<{
        items: Reference[];
      }>()
    ).items[0]!;
    expect((await api(owner, "DELETE", `/api/references/${gone.id}`)).status).toBe(204);
    const deleted = await refused(owner, sessionId, { model: VIDEO, prompt: "p", referenceImageIds: [gone.id] }, 400);
    expect(deleted.errors).toEqual([{ path: "referenceImageIds.0", message: "No such reference image" }]);
  });

  it("the daily limits: 403 naming each", async () => {
    const user = await signUp("one-call-daily");
    const session = (await createSession(user)).id;
    await setLimits(user, { dailyGenerations: 1 });
    expect((await start(user, session, { model: SCHNELL, prompt: `first ${uniqueTag()}` })).response.status).toBe(202);
    const count = await refused(user, session, { model: SCHNELL, prompt: "p" }, 403);
    expect(count.limit).toMatchObject({ name: "daily_generations", max: 1, used: 1 });
    await setLimits(user, { dailyCostUsd: 0.001 });
    const cost = await refused(user, session, { model: SCHNELL, prompt: "p", params: { numOutputs: 4 } }, 403);
    expect(cost.limit).toMatchObject({ name: "daily_cost_usd", max: 0.001 });
  });

  it("a forged credential: 401", async () => {
    const forged = { ...owner, token: "isk_forged" };
    const before = await writtenFor(owner, sessionId);
    const sent = await start(forged, sessionId, { model: SCHNELL, prompt: "p" });
    expect(sent.response.status).toBe(401);
    expect(sent.statements[0]).toMatch(STORING_FIRST);
    expect(await writtenFor(owner, sessionId)).toEqual(before);
  });
});

describe("where the one call defers to the checks", () => {
  it("a daily cost limit met exactly: the condition is stricter by the rounding, the check stores it", async () => {
    const user = await signUp("one-call-exact");
    const session = (await createSession(user)).id;
    const first = await start(user, session, { model: SCHNELL, prompt: `priced ${uniqueTag()}` });
    const { estimatedCost } = JSON.parse(first.body) as { estimatedCost: number };
    expect(estimatedCost).toBeGreaterThan(0);
    // Today's running estimate plus one more, exactly: within the limit (not over it).
    await setLimits(user, { dailyCostUsd: estimatedCost * 2 });
    const exact = await start(user, session, { model: SCHNELL, prompt: `exact ${uniqueTag()}` });
    expect(exact.response.status).toBe(202);
    expect(exact.statements[0]).toMatch(STORING_FIRST);
    expect(exact.calls).toBe(3);
  });

  it("a model whose schema was refreshed since it was built: stored after the checks, then one call again", async () => {
    const session = (await createSession(owner)).id;
    await env.DB.prepare("UPDATE model_schemas SET fetched_at = fetched_at + 1 WHERE model_id = ?").bind(SDXL).run();
    const refreshed = await start(owner, session, { model: SDXL, prompt: `refreshed ${uniqueTag()}` });
    expect(refreshed.response.status).toBe(202);
    expect(refreshed.statements[0]).toMatch(STORING_FIRST);
    expect(refreshed.calls).toBe(3);
    const next = await start(owner, session, { model: SDXL, prompt: `next ${uniqueTag()}` });
    expect(next.response.status).toBe(202);
    expect(next.calls).toBe(1);
  });

  it("past the per-minute rate: 429 naming the limit, and the generation not stored", async () => {
    const user = await signUp("one-call-rate");
    const session = (await createSession(user)).id;
    await setLimits(user, { generationsPerMinute: 1 });
    const first = await start(user, session, { model: SCHNELL, prompt: `rate ${uniqueTag()}` });
    expect(first.response.status).toBe(202);
    expect(first.calls).toBe(1);
    const before = await writtenFor(user, session);
    const second = await start(user, session, { model: SCHNELL, prompt: `rate ${uniqueTag()}` });
    // Should the minute turn between the two, the second is within the rate after all.
    if (second.response.status === 202) return;
    expect(second.response.status).toBe(429);
    expect(second.statements[0]).toMatch(STORING_FIRST);
    expect((JSON.parse(second.body) as Problem).limit).toMatchObject({ name: "generations_per_minute", max: 1 });
    const after = await writtenFor(user, session);
    // The refused attempt is counted, as it always has been; nothing else is written.
    expect({ ...after, rate: [] }).toEqual({ ...before, rate: [] });
  });
});
