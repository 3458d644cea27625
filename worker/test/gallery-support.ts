/**
 * Stored state for the listing tests, written straight into the local D1 (and R2) the way the
 * pipeline writes it: sessions, generations and output rows, each insert firing the same triggers
 * that fill the gallery's columns and search index. Much faster than running thousands of
 * predictions; the pipeline's own path into the gallery is tested with real predictions.
 */
import { env } from "cloudflare:test";
import { newId } from "../lib/ids";
import { outputKey } from "../storage/objects";

let clock = Date.UTC(2026, 0, 1);
/** Distinct, increasing creation times, so tests never depend on the wall clock. */
export const nextTime = (stepMs = 1_000): number => (clock += stepMs);

export async function insertSession(userId: string, title: string, at = nextTime()): Promise<string> {
  const id = newId("ses", at);
  await env.DB.prepare(
    "INSERT INTO image_sessions (id, user_id, title, last_activity_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
  )
    .bind(id, userId, title, at, at, at)
    .run();
  return id;
}

export type GenerationSpec = {
  prompt: string;
  model?: string;
  status?: string;
  parentGenerationId?: string | null;
  createdAt?: number;
};

export async function insertGeneration(userId: string, sessionId: string, spec: GenerationSpec): Promise<string> {
  const at = spec.createdAt ?? nextTime();
  const id = newId("gen", at);
  await env.DB.prepare(
    `INSERT INTO generations (id, user_id, session_id, parent_generation_id, status, model, prompt, params, created_at, completed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, '{"width":1024}', ?, ?)`,
  )
    .bind(
      id,
      userId,
      sessionId,
      spec.parentGenerationId ?? null,
      spec.status ?? "succeeded",
      spec.model ?? "black-forest-labs/flux-schnell",
      spec.prompt,
      at,
      at,
    )
    .run();
  return id;
}

export type OutputSpec = { index?: number; width?: number; height?: number; createdAt?: number; bytes?: boolean };

/** An output row (and, with `bytes`, a small object in R2). Returns the asset id. */
export async function insertOutput(userId: string, generationId: string, spec: OutputSpec = {}): Promise<string> {
  const at = spec.createdAt ?? nextTime();
  const id = newId("ast", at);
  const index = spec.index ?? 0;
  const key = outputKey(userId, generationId, index);
  await env.DB.prepare(
    `INSERT INTO assets (id, user_id, generation_id, role, output_index, r2_key, mime_type, size_bytes, width, height, sha256, created_at)
     VALUES (?, ?, ?, 'output', ?, ?, 'image/png', 3, ?, ?, ?, ?)`,
  )
    .bind(id, userId, generationId, index, key, spec.width ?? 1024, spec.height ?? 1024, "0".repeat(64), at)
    .run();
  if (spec.bytes) await env.BUCKET.put(key, "png");
  return id;
}

/** A generation with `outputs` outputs; returns the generation id and the asset ids. */
export async function insertBatch(
  userId: string,
  sessionId: string,
  spec: GenerationSpec & { outputs?: number; width?: number; height?: number },
): Promise<{ generationId: string; assetIds: string[] }> {
  const generationId = await insertGeneration(userId, sessionId, spec);
  const assetIds: string[] = [];
  for (let index = 0; index < (spec.outputs ?? 1); index++) {
    assetIds.push(
      await insertOutput(userId, generationId, {
        index,
        ...(spec.width ? { width: spec.width } : {}),
        ...(spec.height ? { height: spec.height } : {}),
      }),
    );
  }
  return { generationId, assetIds };
}
