/**
 * Iterating from any image: lineage, ordering in the session's Durable Object, batches, masks and
 * uploads of sources.
 */
import { env, evictDurableObject } from "cloudflare:test";
import type { Asset, Generation, SessionDetail } from "@contract/api";
import { describe, expect, it } from "vitest";
import {
  api,
  completeGeneration,
  createGeneration,
  createSession,
  deliver,
  emulator,
  expectProblem,
  getGeneration,
  predictionInput,
  signUp,
  type TestUser,
  terminalWebhooks,
  uniqueTag,
  upload,
  waitFor,
  waitForGeneration,
} from "./helpers";
import { contains, hugePngHeader, jpegWithGps, makePng } from "./images";

const DEV = "black-forest-labs/flux-dev";
const SDXL = "stability-ai/sdxl";

async function session(user: TestUser): Promise<string> {
  return (await createSession(user)).id;
}

/**
 * Evicts a session's room as a deploy would. workerd evicts gracefully only once nothing is under
 * way in the object (a request being answered, a timer set); on a loaded machine a webhook or an
 * alarm can still be running at the first try, so it is tried again a moment later.
 */
async function evictWhenSettled(room: DurableObjectStub): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await evictDurableObject(room);
      return;
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("active references")) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

async function uploadAsset(
  user: TestUser,
  bytes: Uint8Array,
  role: "input" | "mask",
  name = "image.png",
): Promise<Asset> {
  const response = await upload(user, "/api/assets", [{ name, bytes, type: "image/png" }], { role });
  expect(response.status).toBe(201);
  return response.json<Asset>();
}

describe("image-to-image from any output", () => {
  it("queues a child behind its running parent and starts it only once the parent's output is stored", async () => {
    const user = await signUp();
    const sessionId = await session(user);
    const parent = await createGeneration(user, sessionId, {
      model: DEV,
      prompt: `parent ${uniqueTag()}`,
      params: { seed: 11 },
    });
    const child = await createGeneration(user, sessionId, {
      model: DEV,
      prompt: "same scene, at night",
      parentGenerationId: parent.id,
      sourceOutputIndex: 0,
    });
    expect(child).toMatchObject({ status: "queued", parentGenerationId: parent.id, sourceOutputIndex: 0, inputs: [] });

    const parentRunning = await waitForGeneration(user, parent.id, (g) => g.predictionId !== null);
    await terminalWebhooks(parentRunning.predictionId!); // the parent has finished at Replicate…
    expect((await getGeneration(user, child.id)).predictionId).toBeNull(); // …but its output is not ours yet
    const parentDone = await completeGeneration(user, parent.id);
    expect(parentDone.status).toBe("succeeded");

    const childDone = await completeGeneration(user, child.id);
    expect(childDone.status).toBe("succeeded");
    expect(childDone.inputs.map((asset) => asset.id)).toEqual([parentDone.outputs[0]!.id]);

    // Replicate saw, in order: the parent's output downloaded by us, our upload of it, then the child.
    const log = await emulator.requests();
    const download = log.find(
      (entry) => entry.predictionId === parentRunning.predictionId && entry.path.startsWith("/delivery/"),
    );
    const childCreate = log.find((entry) => entry.predictionId === childDone.predictionId && entry.method === "POST");
    expect(download && childCreate && download.seq < childCreate.seq).toBe(true);
    const input = await predictionInput(childDone.predictionId!);
    expect(String(input.image)).toMatch(/\/v1\/files\//);
    expect(new Date(childDone.startedAt!).getTime()).toBeGreaterThanOrEqual(
      new Date(parentDone.completedAt!).getTime(),
    );
    // The child's image is derived from the parent's, not the same.
    expect(childDone.outputs[0]!.sha256).not.toBe(parentDone.outputs[0]!.sha256);
  });

  it("fails a child whose parent fails, saying why", async () => {
    const user = await signUp();
    const tag = uniqueTag();
    await emulator.addFault({
      match: { promptIncludes: tag },
      effect: { type: "fail", error: "NSFW content detected" },
    });
    const sessionId = await session(user);
    const parent = await createGeneration(user, sessionId, { model: DEV, prompt: `doomed parent ${tag}` });
    const child = await createGeneration(user, sessionId, {
      model: DEV,
      prompt: "child",
      parentGenerationId: parent.id,
    });
    expect((await completeGeneration(user, parent.id)).status).toBe("failed");
    const failed = await waitForGeneration(user, child.id, (g) => g.status === "failed");
    expect(failed.error).toMatch(/source generation failed/);
    expect(failed.predictionId).toBeNull();
    // Iterating from a failed generation is refused up front.
    const refused = await expectProblem(
      await api(user, "POST", `/api/sessions/${sessionId}/generations`, {
        model: DEV,
        prompt: "x",
        parentGenerationId: parent.id,
      }),
      400,
    );
    expect(refused.errors?.[0]?.path).toBe("parentGenerationId");
  });

  it("stores branches: two children of one output and a grandchild, each output of a batch usable on its own", async () => {
    const user = await signUp();
    const sessionId = await session(user);
    const root = await completeGeneration(
      user,
      (
        await createGeneration(user, sessionId, {
          model: DEV,
          prompt: `root ${uniqueTag()}`,
          params: { numOutputs: 2 },
        })
      ).id,
    );
    expect(root.outputs).toHaveLength(2);
    const left = await createGeneration(user, sessionId, {
      model: DEV,
      prompt: "left branch",
      parentGenerationId: root.id,
      sourceOutputIndex: 0,
    });
    const right = await createGeneration(user, sessionId, {
      model: DEV,
      prompt: "right branch",
      parentGenerationId: root.id,
      sourceOutputIndex: 1,
    });
    const leftDone = await completeGeneration(user, left.id);
    const grandchild = await createGeneration(user, sessionId, {
      model: DEV,
      prompt: "grandchild",
      parentGenerationId: left.id,
      sourceAssetId: leftDone.outputs[0]!.id,
    });
    const rightDone = await completeGeneration(user, right.id);
    await completeGeneration(user, grandchild.id);

    const detail = await (await api(user, "GET", `/api/sessions/${sessionId}`)).json<SessionDetail>();
    const tree = Object.fromEntries(detail.generations.map((g) => [g.id, g.parentGenerationId]));
    expect(tree).toEqual({ [root.id]: null, [left.id]: root.id, [right.id]: root.id, [grandchild.id]: left.id });
    expect(rightDone.inputs[0]!.id).toBe(root.outputs[1]!.id);
    expect(leftDone.inputs[0]!.id).toBe(root.outputs[0]!.id);
    expect(detail.generations.every((g) => g.status === "succeeded")).toBe(true);
  });

  it("rejects sources from another session or user, and models that cannot take them", async () => {
    const user = await signUp();
    const other = await signUp("other");
    const sessionA = await session(user);
    const sessionB = await session(user);
    const done = await completeGeneration(
      user,
      (await createGeneration(user, sessionA, { model: DEV, prompt: `source ${uniqueTag()}` })).id,
    );
    const cases: [TestUser, string, Record<string, unknown>, string][] = [
      [user, sessionB, { model: DEV, prompt: "x", parentGenerationId: done.id }, "parentGenerationId"],
      [user, sessionB, { model: DEV, prompt: "x", sourceAssetId: done.outputs[0]!.id }, "sourceAssetId"],
      [user, sessionA, { model: "black-forest-labs/flux-schnell", prompt: "x", parentGenerationId: done.id }, "model"],
      [
        user,
        sessionA,
        { model: "black-forest-labs/flux-1.1-pro", prompt: "x", params: { numOutputs: 2 } },
        "params.numOutputs",
      ],
    ];
    for (const [who, target, body, path] of cases) {
      const problem = await expectProblem(await api(who, "POST", `/api/sessions/${target}/generations`, body), 400);
      expect(problem.errors?.[0]?.path).toBe(path);
    }
    const otherSession = await session(other);
    const stolen = await expectProblem(
      await api(other, "POST", `/api/sessions/${otherSession}/generations`, {
        model: DEV,
        prompt: "x",
        sourceAssetId: done.outputs[0]!.id,
      }),
      400,
    );
    expect(stolen.errors?.[0]?.path).toBe("sourceAssetId");
  });
});

describe("the session queue", () => {
  it("runs at most four predictions at once under twenty quick submissions, each exactly once", async () => {
    const user = await signUp();
    const sessionId = await session(user);
    const tag = uniqueTag();
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        createGeneration(user, sessionId, { prompt: `burst ${i} ${tag}`, params: { seed: i } }),
      ),
    );
    const room = env.SESSION_ROOM.getByName(sessionId);
    const delivered = new Set<string>();
    let maxActive = 0;
    await waitFor(
      async () => {
        const detail = await (await api(user, "GET", `/api/sessions/${sessionId}`)).json<SessionDetail>();
        const active = detail.generations.filter(
          (g) => g.predictionId && !["succeeded", "failed", "canceled"].includes(g.status),
        );
        maxActive = Math.max(maxActive, active.length);
        for (const generation of active) {
          if (delivered.has(generation.id)) continue;
          const webhooks = await emulator.webhooks(generation.predictionId!);
          if (!webhooks.some((w) => w.status === "succeeded")) continue;
          delivered.add(generation.id);
          for (const webhook of webhooks) await deliver(webhook);
        }
        return detail.generations.every((g) => g.status === "succeeded");
      },
      { timeoutMs: 60_000, intervalMs: 100, what: "all twenty to succeed" },
    );
    expect(maxActive).toBeLessThanOrEqual(4);
    expect(maxActive).toBe(4);
    const predictions = (await Promise.all(created.map((g) => getGeneration(user, g.id)))).map((g) => g.predictionId);
    expect(new Set(predictions).size).toBe(20);
    const creates = (await emulator.requests()).filter(
      (entry) => entry.method === "POST" && predictions.includes(entry.predictionId ?? ""),
    );
    expect(creates).toHaveLength(20);
    expect(await room.pendingJobs()).toEqual([]);
  }, 90_000);

  it("keeps its queue through eviction: nothing lost, nothing run twice", async () => {
    const user = await signUp();
    const sessionId = await session(user);
    const parent = await createGeneration(user, sessionId, { model: DEV, prompt: `evicted ${uniqueTag()}` });
    const children = await Promise.all(
      [0, 1, 2].map((i) =>
        createGeneration(user, sessionId, { model: DEV, prompt: `child ${i}`, parentGenerationId: parent.id }),
      ),
    );
    const room = env.SESSION_ROOM.getByName(sessionId);
    await waitForGeneration(user, parent.id, (g) => g.predictionId !== null);
    expect((await room.pendingJobs()).map((job) => job.state).sort()).toEqual([
      "active",
      "waiting",
      "waiting",
      "waiting",
    ]);
    await evictWhenSettled(room);
    expect(await room.pendingJobs()).toHaveLength(4);

    await completeGeneration(user, parent.id);
    for (const child of children) expect((await completeGeneration(user, child.id)).status).toBe("succeeded");
    const predictionIds = (await Promise.all([parent, ...children].map((g) => getGeneration(user, g.id)))).map(
      (g) => g.predictionId!,
    );
    const creates = (await emulator.requests()).filter(
      (entry) => entry.method === "POST" && predictionIds.includes(entry.predictionId ?? ""),
    );
    expect(creates).toHaveLength(4);
  }, 60_000);

  it("cancels a queued generation without ever submitting it", async () => {
    const user = await signUp();
    const sessionId = await session(user);
    const parent = await createGeneration(user, sessionId, { model: DEV, prompt: `cancel queued ${uniqueTag()}` });
    const child = await createGeneration(user, sessionId, {
      model: DEV,
      prompt: "never",
      parentGenerationId: parent.id,
    });
    const canceled = await (await api(user, "POST", `/api/generations/${child.id}/cancel`)).json<Generation>();
    expect(canceled).toMatchObject({ status: "canceled", predictionId: null });
    await completeGeneration(user, parent.id);
    // The parent's completion frees the queue; the canceled child is not in it any more.
    expect(await env.SESSION_ROOM.getByName(sessionId).pendingJobs()).toEqual([]);
    expect(await getGeneration(user, child.id)).toMatchObject({ status: "canceled", predictionId: null });
  });
});

describe("controls", () => {
  it("regenerates with a new seed and deletes a generation while its children keep their lineage", async () => {
    const user = await signUp();
    const sessionId = await session(user);
    const parent = await completeGeneration(
      user,
      (await createGeneration(user, sessionId, { model: DEV, prompt: `delete me ${uniqueTag()}`, params: { seed: 5 } }))
        .id,
    );
    const child = await completeGeneration(
      user,
      (await createGeneration(user, sessionId, { model: DEV, prompt: "keep me", parentGenerationId: parent.id })).id,
    );

    const regenerated = await (
      await api(user, "POST", `/api/generations/${parent.id}/retry`, { newSeed: true })
    ).json<Generation>();
    expect(regenerated.params.seed).not.toBe(5);
    expect(regenerated).toMatchObject({ prompt: parent.prompt, model: DEV });

    expect((await api(user, "DELETE", `/api/generations/${parent.id}`)).status).toBe(204);
    await expectProblem(await api(user, "GET", `/api/generations/${parent.id}`), 404);
    // In the trash: hidden everywhere, its bytes kept until the purge (the trash page shows them).
    expect(await env.BUCKET.head(`outputs/${user.id}/${parent.id}/0`)).not.toBeNull();
    expect(await env.DB.prepare("SELECT listed FROM assets WHERE id = ?").bind(parent.outputs[0]!.id).first()).toEqual({
      listed: 0,
    });
    const kept = await getGeneration(user, child.id);
    expect(kept).toMatchObject({ status: "succeeded", parentGenerationId: parent.id, inputs: [] });
    expect(kept.outputs).toHaveLength(1);
    const other = await signUp("other");
    await expectProblem(await api(other, "DELETE", `/api/generations/${child.id}`), 404);
    expect((await getGeneration(user, child.id)).status).toBe("succeeded");
  });
});

describe("uploads of sources and masks", () => {
  it("inpaints with an uploaded source and a mask", async () => {
    const user = await signUp();
    const sessionId = await session(user);
    const source = await uploadAsset(user, await makePng(64, 64, (x, y) => [x * 4, y * 4, 90]), "input");
    const mask = await uploadAsset(user, await makePng(64, 64, (x) => (x < 32 ? [0, 0, 0] : [255, 255, 255])), "mask");
    expect(source).toMatchObject({ role: "input", mimeType: "image/png", width: 64, height: 64 });
    expect(mask.role).toBe("mask");
    const generation = await createGeneration(user, sessionId, {
      model: SDXL,
      prompt: `a red door ${uniqueTag()}`,
      sourceAssetId: source.id,
      maskAssetId: mask.id,
      params: { strength: 0.9 },
    });
    const done = await completeGeneration(user, generation.id);
    expect(done.status).toBe("succeeded");
    expect(done.inputs.map((asset) => asset.id)).toEqual([source.id, mask.id]);
    const input = await predictionInput(done.predictionId!);
    expect(input).toMatchObject({
      prompt_strength: 0.9,
      image: expect.stringMatching(/\/v1\/files\//),
      mask: expect.stringMatching(/\/v1\/files\//),
    });
    await expectProblem(
      await api(user, "POST", `/api/sessions/${sessionId}/generations`, {
        model: DEV,
        prompt: "x",
        sourceAssetId: source.id,
        maskAssetId: mask.id,
      }),
      400,
    );
  });

  it("strips EXIF and GPS from what it keeps", async () => {
    const user = await signUp();
    const jpeg = await jpegWithGps();
    expect(contains(jpeg, "GPSLatitude")).toBe(true);
    const response = await upload(user, "/api/assets", [{ name: "holiday.jpg", bytes: jpeg, type: "image/jpeg" }], {
      role: "input",
    });
    expect(response.status).toBe(201);
    const asset = await response.json<Asset>();
    const stored = new Uint8Array(await (await api(user, "GET", asset.url)).arrayBuffer());
    expect(asset.mimeType).toBe("image/jpeg");
    expect(contains(stored, "GPSLatitude")).toBe(false);
    expect(contains(stored, "Exif")).toBe(false);
  });

  it("rejects files that are not what they claim, too big or too many pixels, and stores nothing", async () => {
    const user = await signUp();
    const png = await makePng(8, 8, () => [1, 2, 3]);
    const cases: [string, Uint8Array, string, number][] = [
      ["renamed.png", new TextEncoder().encode("<html><script>alert(1)</script></html>"), "image/png", 415],
      [
        "vector.svg",
        new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        "image/svg+xml",
        415,
      ],
      ["empty.png", new Uint8Array(), "image/png", 400],
      ["huge.png", hugePngHeader(30_000, 30_000), "image/png", 413],
      ["truncated.png", png.subarray(0, 40), "image/png", 400],
      ["big.png", new Uint8Array(21 * 1024 * 1024).fill(7), "image/png", 413],
    ];
    for (const [name, bytes, type, status] of cases) {
      const problem = await expectProblem(
        await upload(user, "/api/assets", [{ name, bytes, type }], { role: "input" }),
        status,
      );
      expect(problem.detail.length).toBeGreaterThan(0);
    }
    await expectProblem(await upload(user, "/api/assets", [{ name: "ok.png", bytes: png }], { role: "output" }), 400);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM assets WHERE user_id = ?")
      .bind(user.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
    expect((await env.BUCKET.list({ prefix: `blobs/${user.id}/` })).objects).toHaveLength(0);
  });
});
