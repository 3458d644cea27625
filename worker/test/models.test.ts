/**
 * Any Replicate model with its own controls: schemas from Replicate (Cog's enums resolved), cached and
 * served when Replicate is down; params validated before anything is sent; models added by name,
 * run through the right endpoint; seeds recorded; costs and quotas.
 */
import { env } from "cloudflare:test";
import { type Generation, inputSchemaSchema, type ModelSummary, type Usage } from "@contract/api";
import { describe, expect, it } from "vitest";
import { CATALOG, openApiSchemaOf } from "../../emulator/catalog";
import { MODELS } from "../models/catalog";
import { deriveCapabilities, deriveInputNames } from "../models/derive";
import { orderedProperties, resolveInputSchema } from "../models/schema";
import {
  api,
  completeGeneration,
  createGeneration,
  createSession,
  emulator,
  expectProblem,
  getGeneration,
  predictionInput,
  runScheduled,
  signUp,
  type TestUser,
  terminalWebhooks,
  uniqueTag,
  waitFor,
} from "./helpers";

const SCHNELL = "black-forest-labs/flux-schnell";
const SDXL = "stability-ai/sdxl";

async function controlEmulator<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${env.EMULATOR_URL}/__control${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json<T>();
}

/** A public model only the emulator knows (so not in our catalog), with a name unique to this run. */
async function publicModel(official: boolean): Promise<{ id: string; versionId: string }> {
  const id = `acme-${uniqueTag()}/pixel-painter`;
  return controlEmulator("/models", {
    id,
    official,
    description: "Pixel art from a prompt",
    inputs: {
      prompt: { kind: "string", description: "Prompt", required: true },
      palette: { kind: "enum", description: "How many colours", values: [8, 16, 32], default: 16 },
      num_inference_steps: { kind: "integer", description: "Denoising steps", default: 10, minimum: 1, maximum: 20 },
      guidance_scale: { kind: "number", description: "Guidance", default: 4, minimum: 0, maximum: 10 },
      dither: { kind: "boolean", description: "Dither the colours", default: false },
      seed: { kind: "integer", description: "Random seed" },
    },
  });
}

/** How often Replicate was asked to create a prediction whose prompt carries `tag` (through a fault that never fires). */
async function watchSubmissions(tag: string): Promise<() => Promise<number>> {
  const { id } = await emulator.addFault({
    match: { promptIncludes: tag, path: "predictions$" },
    effect: { type: "http", status: 500 },
  });
  return async () => (await emulator.fault(id)).hits;
}

async function generationCount(sessionId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM generations WHERE session_id = ?")
    .bind(sessionId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

const post = (user: TestUser, sessionId: string, body: Record<string, unknown>) =>
  api(user, "POST", `/api/sessions/${sessionId}/generations`, body);

describe("schemas from Replicate", () => {
  it("resolves Cog's allOf/$ref enums, keeps x-order, bounds and defaults, and derives what the curated catalog says", () => {
    const sdxl = CATALOG.find((model) => model.id === SDXL)!;
    const schema = resolveInputSchema(openApiSchemaOf(sdxl))!;
    expect(schema.properties.scheduler).toMatchObject({
      type: "string",
      enum: ["DDIM", "DPMSolverMultistep", "HeunDiscrete", "KarrasDPM", "K_EULER_ANCESTRAL", "K_EULER", "PNDM"],
      default: "K_EULER",
      description: "scheduler",
      "x-order": 7,
    });
    expect(schema.properties.scheduler).not.toHaveProperty("allOf");
    expect(schema.properties.guidance_scale).toMatchObject({ type: "number", minimum: 1, maximum: 50, default: 7.5 });
    expect(
      orderedProperties(schema)
        .map(([name]) => name)
        .slice(0, 4),
    ).toEqual(["prompt", "negative_prompt", "image", "mask"]);
    // Our own reading of each catalog model's real schema finds what was curated by hand, except where
    // names are ambiguous (a reference named like an image) and the catalog overrides.
    for (const curated of MODELS) {
      const served = CATALOG.find((model) => model.id === curated.id)!;
      const resolved = resolveInputSchema(openApiSchemaOf(served))!;
      const derived = deriveInputNames(resolved);
      expect(derived, curated.id).toEqual(curated.inputs);
      expect(deriveCapabilities(resolved, derived), curated.id).toEqual(curated.capabilities);
    }
  });

  it("serves a model's schema, and validates params against it before anything reaches Replicate", async () => {
    const user = await signUp();
    const response = await api(user, "GET", `/api/models/${SDXL}/schema`);
    expect(response.status).toBe(200);
    const schema = inputSchemaSchema.parse(await response.json());
    expect(schema.properties.scheduler?.enum).toContain("K_EULER_ANCESTRAL");
    expect(await env.DB.prepare("SELECT ref FROM model_schemas WHERE model_id = ?").bind(SDXL).first()).toMatchObject({
      ref: `${SDXL}:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc`,
    });
    await expectProblem(await api(null, "GET", `/api/models/${SDXL}/schema`), 401);
    // Listing never waits for Replicate, but fills the catalog's schemas (and covers) after answering.
    expect((await api(user, "GET", "/api/models")).status).toBe(200);
    await waitFor(
      async () => {
        const cached = await env.DB.prepare(
          `SELECT count(DISTINCT model_id) AS n FROM model_schemas WHERE model_id IN (${MODELS.map(() => "?").join(", ")})`,
        )
          .bind(...MODELS.map((model) => model.id))
          .first<{ n: number }>();
        return cached?.n === MODELS.length;
      },
      { what: "every catalog schema cached" },
    );
    await expectProblem(await api(user, "GET", "/api/models/nobody/nothing/schema"), 404);

    const session = await createSession(user);
    const tag = uniqueTag();
    const submissions = await watchSubmissions(tag);
    const refused = [
      [{ params: { num_inference_steps: 9 } }, "params.num_inference_steps", "Use 4 or less"],
      [{ params: { steps: 9 } }, "params.steps", "Use 4 or less"],
      [{ params: { output_format: "gif" } }, "params.output_format", "Use one of: webp, jpg, png"],
      [{ params: { num_outputs: 2.5 } }, "params.num_outputs", "Use a whole number"],
      [{ params: { sharpness: 3 } }, "params.sharpness", `${SCHNELL} has no input named sharpness`],
      [{ params: { guidance: 3 } }, "params.guidance", `${SCHNELL} has no guidance setting`],
      [{ negativePrompt: "blurry" }, "negativePrompt", `${SCHNELL} has no negative prompt; leave it empty`],
      [{ params: { width: 1000, height: 300 } }, "params.width", expect.stringContaining("aspect_ratio")],
      [
        { params: { steps: 2, num_inference_steps: 3 } },
        "params.num_inference_steps",
        expect.stringContaining("Set twice"),
      ],
    ] as const;
    for (const [body, path, message] of refused) {
      const problem = await expectProblem(
        await post(user, session.id, { model: SCHNELL, prompt: `a fox ${tag}`, ...body }),
        400,
      );
      expect(problem.errors, JSON.stringify(body)).toContainEqual({ path, message });
    }
    expect(await generationCount(session.id)).toBe(0);
    expect(await submissions()).toBe(0);

    // The model's own names and ours are both accepted, and arrive under the model's names.
    const created = await createGeneration(user, session.id, {
      model: SDXL,
      prompt: `a fox in snow ${uniqueTag()}`,
      negativePrompt: "blurry",
      params: { guidance: 9, scheduler: "DDIM", refine: "expert_ensemble_refiner", width: 512, height: 512 },
    });
    const done = await completeGeneration(user, created.id);
    expect(done.status).toBe("succeeded");
    expect(await predictionInput(done.predictionId!)).toMatchObject({
      guidance_scale: 9,
      scheduler: "DDIM",
      refine: "expert_ensemble_refiner",
      negative_prompt: "blurry",
      width: 512,
    });
  });

  it("keeps serving the catalog, the form's schema and validation from the cache while Replicate is down", async () => {
    const user = await signUp();
    const { id } = await publicModel(true);
    expect((await api(user, "POST", "/api/models", { id })).status).toBe(201);
    const [owner, name] = id.split("/");
    const outage = await emulator.addFault({
      match: { path: `^/v1/models/${owner}/${name}$` },
      effect: { type: "http", status: 503 },
    });
    // The cron job tries to refresh it, fails, and keeps what it had.
    await env.DB.prepare("UPDATE model_schemas SET checked_at = 0 WHERE model_id = ?").bind(id).run();
    await runScheduled();
    expect((await emulator.fault(outage.id)).hits).toBeGreaterThan(0);

    const list = await (await api(user, "GET", "/api/models")).json<{ items: ModelSummary[] }>();
    expect(list.items.map((model) => model.id)).toEqual([...MODELS.map((model) => model.id), id]);
    const schema = await api(user, "GET", `/api/models/${id}/schema`);
    expect(schema.status).toBe(200);
    expect(inputSchemaSchema.parse(await schema.json()).properties.palette).toMatchObject({ enum: [8, 16, 32] });
    const session = await createSession(user);
    const problem = await expectProblem(
      await post(user, session.id, { model: id, prompt: "pixels", params: { palette: 12 } }),
      400,
    );
    expect(problem.errors).toEqual([{ path: "params.palette", message: "Use one of: 8, 16, 32" }]);
    await createGeneration(user, session.id, { model: id, prompt: "pixels", params: { palette: 32 } });
    await fetch(`${env.EMULATOR_URL}/__control/faults/${outage.id}`, { method: "DELETE" });

    // Back up, with a new palette: the next refresh brings it, and validation follows.
    await controlEmulator("/models", {
      id,
      official: true,
      description: "Pixel art from a prompt",
      inputs: {
        prompt: { kind: "string", description: "Prompt", required: true },
        palette: { kind: "enum", description: "How many colours", values: [8, 16, 32, 64], default: 16 },
      },
    });
    await env.DB.prepare("UPDATE model_schemas SET checked_at = 0 WHERE model_id = ?").bind(id).run();
    await runScheduled();
    const refreshed = inputSchemaSchema.parse(await (await api(user, "GET", `/api/models/${id}/schema`)).json());
    expect(refreshed.properties.palette).toMatchObject({ enum: [8, 16, 32, 64] });
    await createGeneration(user, session.id, { model: id, prompt: "pixels", params: { palette: 64 } });
  });
});

describe("adding any public model", () => {
  it("adds a versioned model and an official one, runs each through its own endpoint, and refuses unknown ones", async () => {
    const user = await signUp();
    const versioned = await publicModel(false);
    const added = await api(user, "POST", "/api/models", { id: `${versioned.id}:${versioned.versionId}` });
    expect(added.status).toBe(201);
    expect(await added.json<ModelSummary>()).toMatchObject({
      id: versioned.id,
      official: false,
      version: versioned.versionId,
      source: "added",
      kind: "image",
      capabilities: { textToImage: true, imageToImage: false, mask: false, references: false },
      inputs: { prompt: "prompt", steps: "num_inference_steps", guidance: "guidance_scale", seed: "seed" },
      pricing: { per: "second", usd: 0.000975, hardware: "gpu-l40s" },
      coverImageUrl: `/api/models/${versioned.id}/cover`,
    });
    const cover = await api(user, "GET", `/api/models/${versioned.id}/cover`);
    expect(cover.status).toBe(200);
    expect(cover.headers.get("Content-Type")).toBe("image/webp");

    const session = await createSession(user);
    const run = await completeGeneration(
      user,
      (await createGeneration(user, session.id, { model: versioned.id, prompt: "a castle", params: { steps: 12 } })).id,
    );
    expect(run).toMatchObject({ status: "succeeded", modelVersion: versioned.versionId });
    const official = await publicModel(true);
    expect((await api(user, "POST", "/api/models", { id: official.id })).status).toBe(201);
    const officialRun = await completeGeneration(
      user,
      (await createGeneration(user, session.id, { model: official.id, prompt: "a tower" })).id,
    );
    expect(officialRun).toMatchObject({ status: "succeeded", modelVersion: null });

    // Versioned runs go through POST /v1/predictions, official ones through the model's endpoint.
    const creates = async (predictionId: string) =>
      (await emulator.requests(`?predictionId=${predictionId}`)).filter((call) => call.method === "POST")[0]?.path;
    expect(await creates(run.predictionId!)).toBe("/v1/predictions");
    expect(await creates(officialRun.predictionId!)).toBe(`/v1/models/${official.id}/predictions`);
    // Its own input, validated like a catalog model's.
    expect(await predictionInput(run.predictionId!)).toMatchObject({ prompt: "a castle", num_inference_steps: 12 });

    const unknown = await expectProblem(await api(user, "POST", "/api/models", { id: "nobody/no-such-model" }), 404);
    expect(unknown.errors?.[0]?.path).toBe("id");
    await expectProblem(await api(user, "POST", "/api/models", { id: `${official.id}:${"0".repeat(64)}` }), 404);
    await expectProblem(await api(user, "POST", "/api/models", { id: "not a model" }), 400);

    // Another user has not added it: for them it does not exist.
    const other = await signUp("other");
    const otherSession = await createSession(other);
    const notTheirs = await expectProblem(
      await post(other, otherSession.id, { model: versioned.id, prompt: "x" }),
      400,
    );
    expect(notTheirs.errors?.[0]?.path).toBe("model");
    await expectProblem(await api(other, "GET", `/api/models/${versioned.id}/schema`), 404);
    await expectProblem(await api(other, "DELETE", `/api/models/${versioned.id}`), 404);
    expect((await api(user, "DELETE", `/api/models/${versioned.id}`)).status).toBe(204);
  });
});

describe("seeds", () => {
  it("picks and records a seed when none is given, so a run can be reproduced", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const first = await completeGeneration(
      user,
      (await createGeneration(user, session.id, { prompt: `seeded ${uniqueTag()}` })).id,
    );
    const seed = first.params.seed;
    expect(typeof seed).toBe("number");
    expect(await predictionInput(first.predictionId!)).toMatchObject({ seed });

    const again = await completeGeneration(
      user,
      (await (await api(user, "POST", `/api/generations/${first.id}/retry`)).json<Generation>()).id,
    );
    expect(again.params.seed).toBe(seed);
    const [a, b] = await Promise.all(
      [first, again].map(async (g) => new Uint8Array(await (await api(user, "GET", g.outputs[0]!.url)).arrayBuffer())),
    );
    expect(b).toEqual(a);

    const fresh = await (
      await api(user, "POST", `/api/generations/${first.id}/retry`, { newSeed: true })
    ).json<Generation>();
    expect(typeof fresh.params.seed).toBe("number");
    expect(fresh.params.seed).not.toBe(seed);
  });
});

describe("cost, usage and limits", () => {
  it("prices per output and per second, totals per session and adds up by day", async () => {
    const user = await signUp();
    const session = await createSession(user, "Priced");
    const schnell = await createGeneration(user, session.id, {
      prompt: `three ${uniqueTag()}`,
      params: { numOutputs: 3 },
    });
    expect(schnell.estimatedCost).toBe(0.009);
    const three = await completeGeneration(user, schnell.id);
    expect(three.cost).toBe(0.009);

    const sdxl = await completeGeneration(
      user,
      (await createGeneration(user, session.id, { model: SDXL, prompt: `timed ${uniqueTag()}`, params: { steps: 20 } }))
        .id,
    );
    const metrics = JSON.parse((await terminalWebhooks(sdxl.predictionId!)).at(-1)!.body) as {
      metrics: { predict_time: number };
    };
    expect(sdxl.cost).toBeCloseTo(metrics.metrics.predict_time * 0.000975, 6);

    const total = 0.009 + sdxl.cost!;
    const detail = await (await api(user, "GET", `/api/sessions/${session.id}`)).json<{ totalCost: number }>();
    expect(detail.totalCost).toBeCloseTo(total, 6);
    const usage = await (await api(user, "GET", "/api/usage")).json<Usage>();
    expect(usage.byDay).toHaveLength(30);
    const today = usage.byDay.at(-1)!;
    expect(today).toMatchObject({ generations: 2 });
    expect(today.cost).toBeCloseTo(total, 6);
    expect(usage.totalCost).toBeCloseTo(total, 6);
    expect(usage.topSessions[0]).toMatchObject({ id: session.id, title: "Priced", generations: 2 });
    expect(usage.quota).toMatchObject({ generations: { used: 2, limit: 500 }, cost: { limit: 25 }, perMinute: 30 });

    // Deleting a generation does not rewrite what was spent.
    expect((await api(user, "DELETE", `/api/generations/${three.id}`)).status).toBe(204);
    expect((await (await api(user, "GET", "/api/usage")).json<Usage>()).byDay.at(-1)!.cost).toBeCloseTo(total, 6);
    await expectProblem(await api(user, "GET", "/api/usage?from=2026-02-10&to=2026-01-01"), 400);
    await expectProblem(await api(null, "GET", "/api/usage"), 401);
    // Nobody else's spending shows.
    expect((await (await api(await signUp("other"), "GET", "/api/usage")).json<Usage>()).totalCost).toBe(0);
  });

  it("refuses past the daily quota and the rate, naming the limit, with nothing stored or submitted", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const tag = uniqueTag();
    const submissions = await watchSubmissions(`${tag}-over`);
    await env.DB.prepare("INSERT INTO account_limits (user_id, daily_generations, daily_cost_usd) VALUES (?, 2, 0.01)")
      .bind(user.id)
      .run();

    const overCost = await expectProblem(
      await post(user, session.id, { model: SCHNELL, prompt: `${tag}-over`, params: { numOutputs: 4 } }),
      403,
    );
    expect(overCost).toMatchObject({ title: "Daily quota reached", limit: { name: "daily_cost_usd", max: 0.01 } });
    expect(overCost.detail).toContain("resets at");
    await createGeneration(user, session.id, { prompt: `${tag} one` });
    await createGeneration(user, session.id, { prompt: `${tag} two` });
    const overCount = await expectProblem(await post(user, session.id, { model: SCHNELL, prompt: `${tag}-over` }), 403);
    expect(overCount.limit).toMatchObject({ name: "daily_generations", max: 2, used: 2 });
    expect(Date.parse(overCount.limit!.resetsAt)).toBeGreaterThan(Date.now());
    expect(await generationCount(session.id)).toBe(2);
    expect(await submissions()).toBe(0);
    const quota = (await (await api(user, "GET", "/api/usage")).json<Usage>()).quota;
    expect(quota).toMatchObject({ generations: { used: 2, limit: 2 }, cost: { limit: 0.01 } });

    const hasty = await signUp("hasty");
    const hastySession = await createSession(hasty);
    await env.DB.prepare("INSERT INTO account_limits (user_id, generations_per_minute) VALUES (?, 1)")
      .bind(hasty.id)
      .run();
    await createGeneration(hasty, hastySession.id, { prompt: `${tag} first` });
    const throttled = await post(hasty, hastySession.id, { model: SCHNELL, prompt: `${tag}-over` });
    const problem = await expectProblem(throttled, 429);
    expect(Number(throttled.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(problem.limit).toMatchObject({ name: "generations_per_minute", max: 1 });
    expect(await generationCount(hastySession.id)).toBe(1);
    expect(await submissions()).toBe(0);
  });

  it("holds the per-minute rate exactly when requests arrive together, counting every attempt", async () => {
    const user = await signUp("together");
    const session = await createSession(user);
    const tag = uniqueTag();
    await env.DB.prepare("INSERT INTO account_limits (user_id, generations_per_minute) VALUES (?, 3)")
      .bind(user.id)
      .run();
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => post(user, session.id, { model: SCHNELL, prompt: `${tag} ${i}` })),
    );
    const statuses = answers.map((response) => response.status).sort();
    expect(statuses).toEqual([202, 202, 202, 429, 429, 429]);
    for (const response of answers.filter((answer) => answer.status === 429)) {
      const problem = await expectProblem(response, 429);
      expect(problem.limit).toMatchObject({ name: "generations_per_minute", max: 3 });
      expect(problem.limit!.used).toBeGreaterThanOrEqual(3);
    }
    expect(await generationCount(session.id)).toBe(3);
    // Refused attempts count too, as they always have.
    const counter = await env.DB.prepare("SELECT count FROM rate_limits WHERE key = ?")
      .bind(`generate:user:${user.id}`)
      .first<{ count: number }>();
    expect(counter?.count).toBe(6);
  });
});

describe("image to video", () => {
  it("animates an image: an MP4 stored in R2, served with ranges, with a poster made once", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const still = await completeGeneration(
      user,
      (await createGeneration(user, session.id, { prompt: `a pond ${uniqueTag()}` })).id,
    );
    const video = await completeGeneration(
      user,
      (
        await createGeneration(user, session.id, {
          model: "minimax/video-01",
          prompt: "ripples spread",
          parentGenerationId: still.id,
        })
      ).id,
    );
    expect(video.status).toBe("succeeded");
    expect(video.cost).toBe(0.5);
    const [clip] = video.outputs;
    expect(clip, JSON.stringify(clip)).toMatchObject({ mimeType: "video/mp4", width: 240, height: 240 });
    const stored = await env.BUCKET.get(`outputs/${user.id}/${video.id}/0`);
    expect(stored?.httpMetadata?.contentType).toBe("video/mp4");
    const bytes = new Uint8Array(await stored!.arrayBuffer());
    expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe("ftyp");

    const ranged = await api(user, "GET", clip!.url, undefined, { Range: "bytes=0-99" });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("Content-Range")).toBe(`bytes 0-99/${bytes.length}`);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(bytes.subarray(0, 100));

    expect(clip!.posterUrl).toBe(`${clip!.url}/thumbnail?w=768`);
    const poster = await api(user, "GET", clip!.posterUrl!);
    expect(poster.status).toBe(200);
    expect(poster.headers.get("Content-Type")).toBe("image/webp");
    expect(await env.BUCKET.head(`posters/${user.id}/${video.id}/0`)).not.toBeNull();
    // The session's thumbnail can now be the video's poster.
    const detail = await (await api(user, "GET", `/api/sessions/${session.id}`)).json<{ thumbnailUrl: string }>();
    expect(detail.thumbnailUrl).toContain(`${clip!.url}/thumbnail`);
    // The gallery lists it like an image, with its poster.
    const gallery = await (await api(user, "GET", "/api/images")).json<{ items: Record<string, unknown>[] }>();
    expect(gallery.items.find((item) => item.id === clip!.id)).toMatchObject({
      mimeType: "video/mp4",
      posterUrl: clip!.posterUrl,
      generationId: video.id,
      model: "minimax/video-01",
    });
    const other = await signUp("other");
    await expectProblem(await api(other, "GET", clip!.url), 404);
    expect((await getGeneration(user, video.id)).outputs[0]!.posterUrl).not.toBeNull();
  });
});
