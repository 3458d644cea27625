/**
 * Creating a generation: check it against the model (its capabilities and input schema) and the
 * session, within the user's limits; store it as `queued` with the exact model call it will make;
 * and hand it to the session's Durable Object, which decides when it runs. The answer does not wait
 * for that hand-over: once stored, the generation is durable, and a room that never hears of it
 * still runs it (see `SessionRoom.enqueue` and the cron sweep).
 */

import type { AssetRole, CreateGenerationRequest, Generation, Reference } from "@contract/api";
import {
  and,
  asc,
  eq,
  exists,
  inArray,
  isNotNull,
  isNull,
  ne,
  notExists,
  notInArray,
  or,
  type SQL,
  type SQLWrapper,
  sql,
} from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { consumeRateLimit, isRateLimitRefusal, type LimitWithin, rateLimitWrites } from "../accounts/rate-limit";
import type { Database } from "../db/client";
import {
  type AssetRow,
  assets,
  type GenerationRow,
  generationReferences,
  generations,
  imageSessions,
  type ReferenceRow,
  type ReplicateUploadRow,
  references,
  users,
} from "../db/schema";
import type { SignInWithin } from "../http/auth";
import { type AppConfig, readConfig } from "../lib/config";
import { newId } from "../lib/ids";
import { errorMessage, log } from "../lib/logger";
import { notFound, ProblemError } from "../lib/problem";
import { outputCountOf, prepareModelCall } from "../models/params";
import { estimateCost } from "../models/prices";
import { builtCatalogModel, type ModelDefinition, modelFromLookup, modelLookup } from "../models/registry";
import { referenceUploadsRead, referenceViewsFrom } from "../references/views";
import { ReplicateGateway } from "../replicate/gateway";
import { ownedSession, titleFromPrompt, UNTITLED } from "../sessions/queries";
import { countGenerationStatement, dayOf } from "../usage/ledger";
import {
  enforceDailyLimits,
  generationRate,
  generationRateWithin,
  generationRateWording,
  limitsAndTodaysUse,
  limitsReads,
  withinDailyLimits,
} from "../usage/limits";
import { sessionStatsUpdate } from "./lifecycle";
import { toGenerationView } from "./views";

/**
 * Who starts a generation, and in which of their sessions (checked in the same call as the rest):
 * someone signing in within that call (`signInWithin`), or a user already signed in (a retry).
 */
export type GenerationOwner = { sessionId: string } & ({ signIn: SignInWithin } | { userId: string });

/**
 * Runs the hand-over to the session's room after the answer is sent (`afterTheAnswer`). Without
 * one, the hand-over is awaited before returning.
 */
export type AfterAnswer = (handOver: () => Promise<void>) => void;

/**
 * A request's `AfterAnswer`: the hand-over starts a timer's turn after the handler returns, once the
 * answer is on its way, and the request lasts until it is done. Started within the handler, the
 * room's first work (in the Worker's own process, locally) delayed sending the answer.
 */
export const afterTheAnswer =
  (ctx: Pick<ExecutionContext, "waitUntil">): AfterAnswer =>
  (handOver) =>
    ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 0)).then(handOver));

/** A generation as stored, with what its answer shows of what it names. */
type Stored = {
  row: GenerationRow;
  userId: string;
  inputs: AssetRow[];
  references: Reference[];
};

export async function createGeneration(
  env: Env,
  db: Database,
  owner: GenerationOwner,
  request: CreateGenerationRequest,
  afterAnswer?: AfterAnswer,
): Promise<Generation> {
  const config = readConfig(env);
  const now = new Date();
  const stored =
    (await storedInOneCall(db, config, owner, request, now)) ??
    (await checkedThenStored(db, config, owner, request, now));
  const { row, userId } = stored;
  const sessionId = owner.sessionId;
  log.info("generation.created", { userId, sessionId, generationId: row.id, model: row.model });
  // Everything the answer shows is at hand: the row as stored, its inputs and its references.
  const view = toGenerationView(row, [], stored.inputs, stored.references);
  const handOver = async () => {
    try {
      await env.SESSION_ROOM.getByName(sessionId).enqueue(
        sessionId,
        [{ generationId: row.id, waitFor: row.parentGenerationId, createdAt: now.getTime() }],
        [view],
      );
    } catch (error) {
      // Stored, but no room has it yet: the cron sweep hands queued generations no room took to their
      // room. The user sees it queued meanwhile, which it is.
      log.warn("generation.enqueue_failed", { sessionId, generationId: row.id, error: errorMessage(error) });
    }
  };
  if (afterAnswer) afterAnswer(handOver);
  else await handOver();
  return view;
}

/**
 * Stored in one call to D1, when the model is one this isolate has built from its cached schema
 * (`builtCatalogModel`): signing in, the generation and every write that goes with it, and the reads
 * of what it names, for the answer. Every check the reads would serve is a condition of the
 * generation's insert instead (`allowedToStore`): when one fails the insert refuses itself, the
 * batch rolls back, and this answers undefined, as it does when it cannot be tried at all (a model
 * not built yet, a body or a cross-site request refused before any read). The checks then run as
 * they always have (`checkedThenStored`), and the first problem found is answered by its field.
 */
async function storedInOneCall(
  db: Database,
  config: AppConfig,
  owner: GenerationOwner,
  request: CreateGenerationRequest,
  now: Date,
): Promise<Stored | undefined> {
  const built = builtCatalogModel(db, request.model);
  const signIn = "signIn" in owner ? owner.signIn : undefined;
  if (!built || signIn?.crossSite) return undefined;
  const { model } = built;
  // What the request names, as the checks would find it when every name is usable.
  const uses = {
    hasSource: !!(request.parentGenerationId || request.sourceAssetId),
    hasMask: !!request.maskAssetId,
    references: new Set(request.referenceImageIds ?? []).size,
  };
  let prepared: ReturnType<typeof prepareModelCall>;
  try {
    assertModelAccepts(model, uses);
    prepared = prepareModelCall(
      model,
      { prompt: request.prompt, negativePrompt: request.negativePrompt, params: request.params ?? {} },
      uses,
    );
  } catch (error) {
    // Answered in its turn, after the checks that come before it.
    if (error instanceof ProblemError) return undefined;
    throw error;
  }
  const userId = "signIn" in owner ? owner.signIn.userId : owner.userId;
  const estimatedCost = estimateCost(model.pricing, outputCountOf(model, prepared.call.input));
  const allowed = allowedToStore(db, userId, owner.sessionId, request, built.unchanged, config, {
    estimatedCost,
    now: now.getTime(),
  });
  const named = namedLookups(db, userId, owner.sessionId, request);
  const [insert, ...writes] = creationWrites(db, {
    id: newId("gen"),
    // Whoever signed in, when every check holds; otherwise none, which the table refuses.
    userId: sql<string>`CASE WHEN ${allowed} THEN ${userId} END`,
    counted: userId,
    rate: generationRateWithin(userId, config),
    sessionId: owner.sessionId,
    model,
    request,
    ...prepared,
    estimatedCost,
    now,
  });
  const send = () =>
    signIn
      ? db.batch([insert, signIn.statement, ...writes, ...named.statements])
      : db.batch([insert, ...writes, ...named.statements]);
  let results: Awaited<ReturnType<typeof send>>;
  try {
    results = await send();
  } catch (error) {
    if (isStoringRefusal(error) || isRateLimitRefusal(error)) return undefined;
    throw error;
  }
  const [[row], ...rest] = results;
  if (!row) throw new Error("The generation was not stored.");
  const user = signIn ? signIn.signedIn(rest[0] as { id: string; email: string | null }[]) : undefined;
  const { source, mask, referenceRows, referenceUploads } = named.checked(
    rest.slice(rest.length - named.statements.length),
  );
  return {
    row,
    userId: user?.id ?? row.userId,
    inputs: [source, mask].filter((asset): asset is AssetRow => !!asset),
    references: referenceViewsFrom(referenceRows, referenceUploads),
  };
}

/** Whether a batch failed because the generation's insert refused itself (see `storedInOneCall`). */
function isStoringRefusal(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (/NOT NULL constraint failed: generations\.user_id/.test(cause.message)) return true;
  }
  return false;
}

/**
 * Two calls to D1: one for everything the checks need (signing in, the session, the model's cached
 * schema, the user's limits with today's use, and what the request names), then the checks in
 * order, then one atomic batch that stores the generation.
 */
async function checkedThenStored(
  db: Database,
  config: AppConfig,
  owner: GenerationOwner,
  request: CreateGenerationRequest,
  now: Date,
): Promise<Stored> {
  // Named by id, or (signing in) by a subquery on the credential: the reads below are the user's either way.
  const userId = "signIn" in owner ? owner.signIn.userId : owner.userId;
  const reads = [
    db.select().from(imageSessions).where(ownedSession(userId, owner.sessionId)).limit(1),
    modelLookup(db, userId, request.model),
    ...limitsReads(db, userId, now.getTime()),
  ] as const;
  const named = namedLookups(db, userId, owner.sessionId, request);
  const [signedIn, [session], cachedSchema, own, ledger, today, ...namedRows] =
    "signIn" in owner
      ? await db.batch([owner.signIn.statement, ...reads, ...named.statements])
      : [undefined, ...(await db.batch([...reads, ...named.statements]))];
  if ("signIn" in owner) owner.signIn.signedIn(signedIn ?? []);
  if (!session) throw notFound("session");
  const model = await modelFromLookup(db, new ReplicateGateway(config), request.model, cachedSchema);
  if (!model) {
    throw new ProblemError(400, `The model ${request.model} is neither in the catalog nor in your models.`, {
      errors: [{ path: "model", message: "Unknown model; add it with POST /api/models, or see GET /api/models" }],
    });
  }
  // The same order of checks as ever: the first problem found is the one answered.
  const { parent, source, mask, referenceRows, referenceUploads } = named.checked(namedRows);
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
  const limitsAndUse = limitsAndTodaysUse(config, [own, ledger, today], now.getTime());
  enforceDailyLimits(limitsAndUse, estimatedCost, now.getTime());
  const perMinute = limitsAndUse.limits.perMinute;
  // One atomic batch: the generation, its references, the session's counters, the usage ledger
  // and the rate's counter, or none of them.
  const store = (countRate: boolean) =>
    db.batch(
      creationWrites(db, {
        id: newId("gen"),
        userId: session.userId,
        counted: session.userId,
        rate: countRate && perMinute !== null ? generationRate(perMinute) : undefined,
        sessionId: session.id,
        model,
        request,
        call,
        params,
        estimatedCost,
        now,
      }),
    );
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
  const [row] = stored[0];
  if (!row) throw new Error("The generation was not stored.");
  return {
    row,
    userId: session.userId,
    inputs: [source, mask].filter((asset): asset is AssetRow => !!asset),
    references: referenceViewsFrom(referenceRows, referenceUploads),
  };
}

/**
 * The writes that store a generation, in one atomic batch: the generation (first, returning its row),
 * its references, the session's model, title and counters, the usage ledger and the per-minute
 * rate (its counter and the guard that refuses past it). The user may be a subquery on the credential.
 */
function creationWrites(
  db: Database,
  generation: {
    id: string;
    /** The generation's user: the `counted` user, or a condition on them (see `storedInOneCall`). */
    userId: string | SQL<string>;
    /** The user the ledger and the rate count. */
    counted: string | SQLWrapper;
    rate: LimitWithin | undefined;
    sessionId: string;
    model: ModelDefinition;
    request: CreateGenerationRequest;
    call: ReturnType<typeof prepareModelCall>["call"];
    params: ReturnType<typeof prepareModelCall>["params"];
    estimatedCost: number | null;
    now: Date;
  },
) {
  const { id, request, now, sessionId } = generation;
  const referenceIds = [...new Set(request.referenceImageIds ?? [])];
  return [
    db
      .insert(generations)
      .values({
        id,
        userId: generation.userId,
        sessionId,
        parentGenerationId: request.parentGenerationId ?? null,
        status: "queued",
        model: generation.model.id,
        prompt: request.prompt,
        negativePrompt: request.negativePrompt || null,
        params: generation.params,
        modelCall: generation.call,
        modelVersion: generation.call.version,
        estimatedCost: generation.estimatedCost,
        createdAt: now,
        sourceOutputIndex:
          request.parentGenerationId && !request.sourceAssetId ? (request.sourceOutputIndex ?? 0) : null,
        sourceAssetId: request.sourceAssetId ?? null,
        maskAssetId: request.maskAssetId ?? null,
      })
      .returning(),
    ...(referenceIds.length
      ? [
          db
            .insert(generationReferences)
            .values(referenceIds.map((referenceId, position) => ({ generationId: id, referenceId, position }))),
        ]
      : []),
    db
      .update(imageSessions)
      .set({
        model: generation.model.id,
        // A new session is named after its first prompt.
        title: sql`CASE WHEN ${imageSessions.title} = ${UNTITLED} AND ${imageSessions.generationCount} = 0 THEN ${titleFromPrompt(request.prompt)} ELSE ${imageSessions.title} END`,
        updatedAt: new Date(),
      })
      .where(eq(imageSessions.id, sessionId)),
    sessionStatsUpdate(db, sessionId),
    countGenerationStatement(db, generation.counted, dayOf(now)),
    ...(generation.rate ? rateLimitWrites(db, generation.rate, generation.counted, now.getTime()) : []),
  ] as const;
}

const invalid = (path: string, message: string, detail: string) =>
  new ProblemError(400, detail, { errors: [{ path, message }] });

/** The session of the generation an asset is an output of (null for an upload). */
const sessionOfOutput = sql<
  string | null
>`(SELECT ${generations.sessionId} FROM ${generations} WHERE ${generations.id} = ${assets.generationId})`;

/** The user's generation of this id in this session: where a parent is looked for. */
const generationInSession = (generationId: string, sessionId: string, userId: string | SQLWrapper) =>
  and(eq(generations.id, generationId), eq(generations.sessionId, sessionId), eq(generations.userId, userId));

/** A parent in these states has no output to start from, and never will. */
const PARENT_WITHOUT_OUTPUT = ["failed", "canceled", "timed_out"] as const satisfies GenerationRow["status"][];

/**
 * The reads of what a request names (each the user's), for the batch that signs in and reads the
 * rest, and their checks on what the batch read, in the order they have always been answered.
 */
function namedLookups(db: Database, userId: string | SQLWrapper, sessionId: string, request: CreateGenerationRequest) {
  const statements: BatchItem<"sqlite">[] = [];
  /** Where a statement's rows will be among the batch's named rows. */
  const add = (statement: BatchItem<"sqlite">): number => statements.push(statement) - 1;
  const assetLookup = (assetId: string) =>
    add(
      db
        // Aliased: D1 answers a batch's rows by column name, and an asset has a session_id of its own.
        .select({ asset: assets, outputOf: sessionOfOutput.as("output_of_session") })
        .from(assets)
        .where(and(eq(assets.id, assetId), eq(assets.userId, userId)))
        .limit(1),
    );
  const parentAt = request.parentGenerationId
    ? add(
        db
          .select()
          .from(generations)
          .where(generationInSession(request.parentGenerationId, sessionId, userId))
          .limit(1),
      )
    : undefined;
  const sourceAt = request.sourceAssetId ? assetLookup(request.sourceAssetId) : undefined;
  const maskAt = request.maskAssetId ? assetLookup(request.maskAssetId) : undefined;
  const referenceIds = request.referenceImageIds ?? [];
  const unique = [...new Set(referenceIds)];
  const usable = and(inArray(references.id, unique), eq(references.userId, userId), isNull(references.deletedAt));
  const referencesAt = unique.length ? add(db.select().from(references).where(usable)) : undefined;
  const uploadsAt = unique.length
    ? add(
        referenceUploadsRead(
          db,
          typeof userId === "string" ? [userId] : userId,
          db.select({ sha256: references.sha256 }).from(references).where(usable),
        ),
      )
    : undefined;
  // Each position holds the rows of the statement added there (a batch's results follow its statements).
  const rowsAt = <Row>(rows: readonly unknown[], at: number | undefined) =>
    at === undefined ? undefined : (rows[at] as Row[]);
  return {
    statements,
    checked(rows: readonly unknown[]) {
      const parent = rowsAt<GenerationRow>(rows, parentAt);
      const source = rowsAt<AssetLookupRow>(rows, sourceAt);
      const mask = rowsAt<AssetLookupRow>(rows, maskAt);
      return {
        parent: parent && sessionParent(parent[0]),
        source: source && usableAsset(source[0], sessionId, ["input", "output"], "sourceAssetId"),
        mask: mask && usableAsset(mask[0], sessionId, ["mask"], "maskAssetId"),
        referenceRows: namedReferences(rowsAt<ReferenceRow>(rows, referencesAt) ?? [], referenceIds),
        referenceUploads: rowsAt<ReplicateUploadRow>(rows, uploadsAt) ?? [],
      };
    },
  };
}

/**
 * Every check `checkedThenStored` makes on what its reads find, as one condition in SQL, for a
 * generation stored in the same batch as signing in (`storedInOneCall`): someone signed in; the
 * session is theirs and not in the trash; the model's cached schema is the one its definition was
 * built from; what the request names is usable (`sessionParent`, `usableAsset`, `namedReferences`);
 * and the daily limits hold. It holds only where those checks pass, never where one would refuse.
 */
function allowedToStore(
  db: Database,
  userId: SQLWrapper | string,
  sessionId: string,
  request: CreateGenerationRequest,
  modelUnchanged: SQL,
  config: AppConfig,
  { estimatedCost, now }: { estimatedCost: number | null; now: number },
): SQL {
  const usableAssetOf = (assetId: string, roles: AssetRole[]) =>
    exists(
      db
        .select({ id: assets.id })
        .from(assets)
        .where(
          and(
            eq(assets.id, assetId),
            eq(assets.userId, userId),
            inArray(assets.role, roles),
            // `startsWith`, as the check has it (LIKE would ignore case).
            sql`substr(${assets.mimeType}, 1, 6) = 'image/'`,
            or(ne(assets.role, "output"), sql`${sessionOfOutput} = ${sessionId}`),
          ),
        ),
    );
  const referenceIds = [...new Set(request.referenceImageIds ?? [])];
  const usableReferences = sql`(SELECT count(*) FROM ${references} WHERE ${and(
    inArray(references.id, referenceIds),
    eq(references.userId, userId),
    isNull(references.deletedAt),
  )}) = ${referenceIds.length}`;
  const conditions = [
    exists(
      db
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.id, userId), isNotNull(users.email))),
    ),
    exists(db.select({ id: imageSessions.id }).from(imageSessions).where(ownedSession(userId, sessionId))),
    modelUnchanged,
    request.parentGenerationId
      ? exists(
          db
            .select({ id: generations.id })
            .from(generations)
            .where(
              and(
                generationInSession(request.parentGenerationId, sessionId, userId),
                notInArray(generations.status, [...PARENT_WITHOUT_OUTPUT]),
              ),
            ),
        )
      : undefined,
    request.sourceAssetId ? usableAssetOf(request.sourceAssetId, ["input", "output"]) : undefined,
    request.maskAssetId ? usableAssetOf(request.maskAssetId, ["mask"]) : undefined,
    referenceIds.length ? usableReferences : undefined,
    withinDailyLimits(userId, config, estimatedCost, now),
  ];
  return and(...conditions) as SQL;
}

/** The parent, a generation of this session that has (or will have) outputs to start from. */
function sessionParent(parent: GenerationRow | undefined): GenerationRow {
  if (!parent)
    throw invalid(
      "parentGenerationId",
      "No such generation in this session",
      "The parent generation is not part of this session.",
    );
  if ((PARENT_WITHOUT_OUTPUT as readonly string[]).includes(parent.status)) {
    throw invalid(
      "parentGenerationId",
      `The parent ${parent.status === "canceled" ? "was canceled" : "failed"}`,
      "The parent generation has no output to start from.",
    );
  }
  return parent;
}

/** An asset of the user's, and the session of the generation whose output it is (if it is one). */
type AssetLookupRow = { asset: AssetRow; outputOf: string | null };

/** An uploaded input or mask of this user, or an output of a generation in this session. */
function usableAsset(
  found: AssetLookupRow | undefined,
  sessionId: string,
  roles: AssetRole[],
  field: string,
): AssetRow {
  if (!found || !roles.includes(found.asset.role))
    throw invalid(
      field,
      `No such ${roles.join(" or ")} image`,
      `The ${field} does not name one of your ${roles.join(" or ")} images.`,
    );
  const { asset, outputOf } = found;
  if (asset.role === "output" && outputOf !== sessionId)
    throw invalid(field, "Not an output of this session", "Iterate from outputs of this session, or upload the image.");
  if (!asset.mimeType.startsWith("image/"))
    throw invalid(field, "Not an image", "Only images can be the source of a generation.");
  return asset;
}

/** The references named (each once, in the order first named), each the user's and not deleted. */
function namedReferences(rows: readonly ReferenceRow[], ids: readonly string[]): ReferenceRow[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return [...new Set(ids)].map((id) => {
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
