/**
 * Deleting a session: its queue in the Durable Object, its bytes in R2, then its rows in D1.
 */
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { assets, generations, imageSessions, type ImageSessionRow } from "../db/schema";
import { thumbnailKey } from "../storage/objects";

export async function deleteSessionEverywhere(env: Env, db: Database, session: ImageSessionRow): Promise<void> {
  await env.SESSION_ROOM.getByName(session.id).destroy();
  const outputs = await db
    .select({ id: assets.id, r2Key: assets.r2Key })
    .from(assets)
    .innerJoin(generations, eq(generations.id, assets.generationId))
    .where(eq(generations.sessionId, session.id));
  const keys = outputs.flatMap((asset) => [asset.r2Key, thumbnailKey(asset.r2Key)]);
  for (let i = 0; i < keys.length; i += 1000) await env.BUCKET.delete(keys.slice(i, i + 1000));
  for (const asset of outputs) await db.delete(assets).where(eq(assets.id, asset.id));
  await db.delete(imageSessions).where(eq(imageSessions.id, session.id));
}

/**
 * Deleting one generation: its outputs leave R2 and the gallery; its children keep their
 * `parentGenerationId` (shown as "source deleted"). Uploaded inputs are the user's and stay.
 */
export async function deleteGenerationData(db: Database, bucket: R2Bucket, generationId: string): Promise<void> {
  const outputs = await db
    .select({ id: assets.id, r2Key: assets.r2Key })
    .from(assets)
    .where(and(eq(assets.generationId, generationId), eq(assets.role, "output")));
  if (outputs.length) await bucket.delete(outputs.flatMap((asset) => [asset.r2Key, thumbnailKey(asset.r2Key)]));
  for (const asset of outputs) await db.delete(assets).where(eq(assets.id, asset.id));
  await db.delete(generations).where(eq(generations.id, generationId));
}
