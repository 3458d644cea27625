/**
 * Creating a generation: validate it against the catalog and the session, store it as `queued`, and
 * hand it to the session's Durable Object, which decides when it runs.
 */
import { and, eq } from "drizzle-orm";
import type { CreateGenerationRequest, Generation } from "../contract/api";
import type { Database } from "../db/client";
import { generations, imageSessions, type GenerationRow, type ImageSessionRow } from "../db/schema";
import { newId } from "../lib/ids";
import { log } from "../lib/logger";
import { ProblemError } from "../lib/problem";
import { findModel } from "../replicate/catalog";
import { UNTITLED, titleFromPrompt } from "../sessions/queries";
import { refreshSessionStats } from "./lifecycle";
import { generationView } from "./views";

export async function createGeneration(
  env: Env,
  db: Database,
  session: ImageSessionRow,
  request: CreateGenerationRequest,
): Promise<Generation> {
  const model = findModel(request.model);
  if (!model) {
    throw new ProblemError(400, `The model ${request.model} is not in the catalog.`, {
      errors: [{ path: "model", message: "Unknown model; see GET /api/models" }],
    });
  }
  let parent: GenerationRow | undefined;
  if (request.parentGenerationId) {
    parent = await db.query.generations.findFirst({
      where: and(eq(generations.id, request.parentGenerationId), eq(generations.sessionId, session.id)),
    });
    if (!parent) {
      throw new ProblemError(400, "The parent generation is not part of this session.", {
        errors: [{ path: "parentGenerationId", message: "No such generation in this session" }],
      });
    }
  }
  const id = newId("gen");
  await db.insert(generations).values({
    id,
    userId: session.userId,
    sessionId: session.id,
    parentGenerationId: parent?.id ?? null,
    status: "queued",
    model: model.id,
    prompt: request.prompt,
    negativePrompt: request.negativePrompt || null,
    params: request.params ?? {},
    sourceAssetId: request.sourceAssetId ?? null,
    maskAssetId: request.maskAssetId ?? null,
  });
  const now = new Date();
  await db
    .update(imageSessions)
    .set({
      model: model.id,
      ...(session.title === UNTITLED && session.generationCount === 0 ? { title: titleFromPrompt(request.prompt) } : {}),
      updatedAt: now,
    })
    .where(eq(imageSessions.id, session.id));
  await refreshSessionStats(db, session.id);
  log.info("generation.created", { userId: session.userId, sessionId: session.id, generationId: id, model: model.id });
  await env.SESSION_ROOM.getByName(session.id).enqueue(session.id, id, parent?.id ?? null);
  const view = await generationView(db, id);
  return view!;
}

export async function findOwnedGeneration(db: Database, userId: string, generationId: string): Promise<GenerationRow> {
  const row = await db.query.generations.findFirst({
    where: and(eq(generations.id, generationId), eq(generations.userId, userId)),
  });
  if (!row) throw new ProblemError(404, "No such generation.");
  return row;
}

/** A retry is a new generation with exactly the same settings, lineage and inputs. */
export function retryRequestOf(original: GenerationRow): CreateGenerationRequest {
  return {
    model: original.model,
    prompt: original.prompt,
    ...(original.negativePrompt ? { negativePrompt: original.negativePrompt } : {}),
    params: original.params,
    ...(original.parentGenerationId ? { parentGenerationId: original.parentGenerationId } : {}),
    ...(original.sourceAssetId ? { sourceAssetId: original.sourceAssetId } : {}),
    ...(original.maskAssetId ? { maskAssetId: original.maskAssetId } : {}),
  };
}
