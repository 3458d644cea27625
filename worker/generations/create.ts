/**
 * Creating a generation: check it against the model (its capabilities and input schema) and the
 * session, within the user's limits; store it as `queued` with the exact model call it will make;
 * and hand it to the session's Durable Object, which decides when it runs.
 */

import type { AssetRole, CreateGenerationRequest, Generation } from "@contract/api";
import { and, asc, eq, inArray, isNotNull, isNull, notExists, type SQL, type SQLWrapper } from "drizzle-orm";
import { consumeRateLimit, isRateLimitRefusal, rateLimitWrites } from "../accounts/rate-limit";
import type { Database } from "../db/client";
import {
  type AssetRow,
  assets,
  type GenerationRow,
  generationReferences,
  generations,
  imageSessions,
  type ReferenceRow,
  references,
} from "../db/schema";
import { readConfig } from "../lib/config";
import { newId } from "../lib/ids";
import { errorMessage, log } from "../lib/logger";
import { notFound, ProblemError } from "../lib/problem";
import { outputCountOf, prepareModelCall } from "../models/params";
import { estimateCost } from "../models/prices";
import { type ModelDefinition, modelFromLookup, modelLookup } from "../models/registry";
import { referenceViews } from "../references/views";
import { ReplicateGateway } from "../replicate/gateway";
import { ownedSession, titleFromPrompt, UNTITLED } from "../sessions/queries";
import { countGenerationStatement, dayOf } from "../usage/ledger";
import {
  enforceDailyLimits,
  generationRate,
  generationRateWording,
  limitsAndTodaysUse,
  limitsReads,
} from "../usage/limits";
import { sessionStatsUpdate } from "./lifecycle";
import { toGenerationView } from "./views";

/** Who starts a generation, and in which of their sessions (checked here, in the same call as the rest). */
export type GenerationOwner = { userId: string; sessionId: string };

export async function createGeneration(
  env: Env,
  db: Database,
  owner: GenerationOwner,
  request: CreateGenerationRequest,
): Promise<Generation> {
  const config = readConfig(env);
  const now = new Date();
  // One call to D1 for everything the checks need: the session (owned, not in the trash), the
  // model's cached schema, and the user's limits with today's use. The lookups of what the request
  // names (a parent, inputs, references) are few and run alongside.
  const [reads, named] = await Promise.all([
    db.batch([
      db.select().from(imageSessions).where(ownedSession(owner.userId, owner.sessionId)).limit(1),
      modelLookup(db, owner.userId, request.model),
      ...limitsReads(db, owner.userId, now.getTime()),
    ]),
    Promise.allSettled([
      request.parentGenerationId ? findSessionGeneration(db, owner, request.parentGenerationId) : undefined,
      request.sourceAssetId
        ? findUsableAsset(db, owner, request.sourceAssetId, ["input", "output"], "sourceAssetId")
        : undefined,
      request.maskAssetId ? findUsableAsset(db, owner, request.maskAssetId, ["mask"], "maskAssetId") : undefined,
      findReferences(db, owner.userId, request.referenceImageIds ?? []),
    ]),
  ]);
  const [[session], cachedSchema, ...limitRows] = reads;
  if (!session) throw notFound("session");
  const model = await modelFromLookup(db, new ReplicateGateway(config), request.model, cachedSchema);
  if (!model) {
    throw new ProblemError(400, `The model ${request.model} is neither in the catalog nor in your models.`, {
      errors: [{ path: "model", message: "Unknown model; add it with POST /api/models, or see GET /api/models" }],
    });
  }
  // The same order of checks as ever: the first problem found is the one answered.
  const [parent, source, mask, referenceRows] = [
    settled(named[0]),
    settled(named[1]),
    settled(named[2]),
    settled(named[3]),
  ] as const;
  const uses = { hasSource: !!(parent || source), hasMask: !!mask, references: referenceRows.length };
  assertModelAccepts(model, uses);
  const { call, params } = prepareModelCall(
    model,
    { prompt: request.prompt, negativePrompt: request.negativePrompt, params: request.params ?? {} },
    uses,
  );
  const estimatedCost = estimateCost(model.pricing, outputCountOf(model, call.input));
  // Nothing is stored or submitted past a limit: the daily ones are checked here, the per-minute rate
  // is counted in the batch that stores the generation, and refuses it there.
  const limitsAndUse = limitsAndTodaysUse(config, limitRows, now.getTime());
  enforceDailyLimits(limitsAndUse, estimatedCost, now.getTime());
  const perMinute = limitsAndUse.limits.perMinute;
  const id = newId("gen");
  // One atomic batch: the generation, its references, the session's counters, the usage ledger
  // and the rate's counter, or none of them.
  const store = (countRate: boolean) =>
    db.batch([
      db
        .insert(generations)
        .values({
          id,
          userId: session.userId,
          sessionId: session.id,
          parentGenerationId: parent?.id ?? null,
          status: "queued",
          model: model.id,
          prompt: request.prompt,
          negativePrompt: request.negativePrompt || null,
          params,
          modelCall: call,
          modelVersion: call.version,
          estimatedCost,
          createdAt: now,
          sourceOutputIndex: parent && !source ? (request.sourceOutputIndex ?? 0) : null,
          sourceAssetId: source?.id ?? null,
          maskAssetId: mask?.id ?? null,
        })
        .returning(),
      ...(referenceRows.length
        ? [
            db
              .insert(generationReferences)
              .values(
                referenceRows.map((reference, position) => ({ generationId: id, referenceId: reference.id, position })),
              ),
          ]
        : []),
      db
        .update(imageSessions)
        .set({
          model: model.id,
          ...(session.title === UNTITLED && session.generationCount === 0
            ? { title: titleFromPrompt(request.prompt) }
            : {}),
          updatedAt: new Date(),
        })
        .where(eq(imageSessions.id, session.id)),
      sessionStatsUpdate(db, session.id),
      countGenerationStatement(db, session.userId, dayOf(now)),
      ...(countRate && perMinute !== null
        ? rateLimitWrites(db, generationRate(perMinute), session.userId, now.getTime())
        : []),
    ]);
  let stored: Awaited<ReturnType<typeof store>>;
  try {
    stored = await store(true);
  } catch (error) {
    if (perMinute === null || !isRateLimitRefusal(error)) throw error;
    // Over the rate: nothing was stored, nor counted. Counting the attempt on its own answers 429
    // naming the limit; should its window have turned meanwhile, the attempt is within the rate after
    // all (and counted), and the generation is stored.
    await consumeRateLimit(db, generationRate(perMinute), session.userId, Date.now(), generationRateWording(perMinute));
    stored = await store(false);
  }
  log.info("generation.created", { userId: session.userId, sessionId: session.id, generationId: id, model: model.id });
  const [row] = stored[0];
  if (!row) throw new Error(`Generation ${id} was not stored.`);
  // Everything the answer shows is at hand: the row as stored, its inputs and its references.
  const view = toGenerationView(
    row,
    [],
    [source, mask].filter((asset): asset is AssetRow => !!asset),
    await referenceViews(db, referenceRows),
  );
  try {
    await env.SESSION_ROOM.getByName(session.id).enqueue(
      session.id,
      [{ generationId: id, waitFor: parent?.id ?? null }],
      [view],
    );
  } catch (error) {
    // Stored, but no room has it yet: the cron sweep hands queued generations no room took to their
    // room. The user sees it queued meanwhile, which it is.
    log.warn("generation.enqueue_failed", {
      sessionId: session.id,
      generationId: id,
      error: errorMessage(error),
    });
  }
  return view;
}

/** A lookup's result, or its problem thrown now. */
function settled<T>(outcome: PromiseSettledResult<T>): T {
  if (outcome.status === "rejected") throw outcome.reason;
  return outcome.value;
}

const invalid = (path: string, message: string, detail: string) =>
  new ProblemError(400, detail, { errors: [{ path, message }] });

async function findSessionGeneration(
  db: Database,
  session: GenerationOwner,
  generationId: string,
): Promise<GenerationRow> {
  const parent = await db.query.generations.findFirst({
    where: and(eq(generations.id, generationId), eq(generations.sessionId, session.sessionId)),
  });
  if (!parent)
    throw invalid(
      "parentGenerationId",
      "No such generation in this session",
      "The parent generation is not part of this session.",
    );
  if (parent.status === "failed" || parent.status === "canceled" || parent.status === "timed_out") {
    throw invalid(
      "parentGenerationId",
      `The parent ${parent.status === "canceled" ? "was canceled" : "failed"}`,
      "The parent generation has no output to start from.",
    );
  }
  return parent;
}

/** An uploaded input or mask of this user, or an output of a generation in this session. */
async function findUsableAsset(
  db: Database,
  session: GenerationOwner,
  assetId: string,
  roles: AssetRole[],
  field: string,
): Promise<AssetRow> {
  const asset = await db.query.assets.findFirst({
    where: and(eq(assets.id, assetId), eq(assets.userId, session.userId)),
  });
  if (!asset || !roles.includes(asset.role))
    throw invalid(
      field,
      `No such ${roles.join(" or ")} image`,
      `The ${field} does not name one of your ${roles.join(" or ")} images.`,
    );
  if (asset.role === "output") {
    const owner = asset.generationId
      ? await db.query.generations.findFirst({
          where: eq(generations.id, asset.generationId),
          columns: { sessionId: true },
        })
      : undefined;
    if (owner?.sessionId !== session.sessionId)
      throw invalid(
        field,
        "Not an output of this session",
        "Iterate from outputs of this session, or upload the image.",
      );
  }
  if (!asset.mimeType.startsWith("image/"))
    throw invalid(field, "Not an image", "Only images can be the source of a generation.");
  return asset;
}

async function findReferences(db: Database, userId: string, ids: string[]): Promise<ReferenceRow[]> {
  if (ids.length === 0) return [];
  const unique = [...new Set(ids)];
  const rows = await db
    .select()
    .from(references)
    .where(and(inArray(references.id, unique), eq(references.userId, userId), isNull(references.deletedAt)));
  const byId = new Map(rows.map((row) => [row.id, row]));
  return unique.map((id) => {
    const row = byId.get(id);
    if (!row) {
      throw invalid(
        `referenceImageIds.${ids.indexOf(id)}`,
        "No such reference image",
        "A reference image does not exist or was deleted.",
      );
    }
    return row;
  });
}

function assertModelAccepts(
  model: ModelDefinition,
  uses: { hasSource: boolean; hasMask: boolean; references: number },
): void {
  if (uses.hasSource && !model.capabilities.imageToImage) {
    throw invalid(
      "model",
      "Cannot start from an image",
      `${model.id} makes ${model.kind === "video" ? "videos" : "images"} from text only; pick a model that can start from an image.`,
    );
  }
  if (!uses.hasSource && !model.capabilities.textToImage) {
    throw invalid(
      "sourceAssetId",
      "This model needs an image to start from",
      `${model.id} needs an image to start from.`,
    );
  }
  if (uses.hasMask && (!model.capabilities.mask || !uses.hasSource)) {
    throw invalid(
      "maskAssetId",
      model.capabilities.mask ? "A mask needs a source image" : "This model takes no mask",
      `Masks work with ${model.capabilities.mask ? "a source image" : "models that inpaint, such as stability-ai/sdxl"}.`,
    );
  }
  if (uses.references > 0 && !model.capabilities.references) {
    throw invalid(
      "referenceImageIds",
      "This model takes no reference images",
      `${model.id} does not use reference images.`,
    );
  }
  if (uses.references > model.limits.references) {
    throw invalid(
      "referenceImageIds",
      `At most ${model.limits.references}`,
      `${model.id} takes at most ${model.limits.references} reference image(s).`,
    );
  }
}

/** The user's generation, unless it (or its session) is in the trash: then it is as absent as one that never was. */
export function ownedGeneration(db: Database, userId: string | SQLWrapper, generationId: string): SQL {
  return and(
    eq(generations.id, generationId),
    eq(generations.userId, userId),
    isNull(generations.trashedAt),
    notExists(
      db
        .select({ id: imageSessions.id })
        .from(imageSessions)
        .where(and(eq(imageSessions.id, generations.sessionId), isNotNull(imageSessions.trashedAt))),
    ),
  ) as SQL;
}

/** The user's generation (see `ownedGeneration`), or 404. */
export async function findOwnedGeneration(db: Database, userId: string, generationId: string): Promise<GenerationRow> {
  const row = await db.query.generations.findFirst({ where: ownedGeneration(db, userId, generationId) });
  if (!row) throw new ProblemError(404, "No such generation.");
  return row;
}

/**
 * A retry is a new generation with the same settings (the seed it ran with included), lineage, inputs
 * and references; regenerating is the same with a fresh seed, which the server picks.
 */
export async function retryRequestOf(
  db: Database,
  original: GenerationRow,
  options: { newSeed?: boolean } = {},
): Promise<CreateGenerationRequest> {
  const links = await db
    .select({ referenceId: generationReferences.referenceId })
    .from(generationReferences)
    .where(eq(generationReferences.generationId, original.id))
    .orderBy(asc(generationReferences.position));
  const { seed: _seed, ...withoutSeed } = original.params;
  const params = options.newSeed ? withoutSeed : original.params;
  return {
    model: original.model,
    prompt: original.prompt,
    ...(original.negativePrompt ? { negativePrompt: original.negativePrompt } : {}),
    params,
    ...(links.length ? { referenceImageIds: links.map((link) => link.referenceId) } : {}),
    ...(original.parentGenerationId
      ? { parentGenerationId: original.parentGenerationId, sourceOutputIndex: original.sourceOutputIndex ?? 0 }
      : {}),
    ...(original.sourceAssetId ? { sourceAssetId: original.sourceAssetId } : {}),
    ...(original.maskAssetId ? { maskAssetId: original.maskAssetId } : {}),
  };
}
