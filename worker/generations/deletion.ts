/**
 * Deleting a session: its queue in the Durable Object, its bytes in R2, then its rows in D1.
 */
import { and, eq, inArray } from "drizzle-orm";
import { D1_MAX_BOUND_PARAMETERS, type Database } from "../db/client";
import { assets, generations, type ImageSessionRow, imageSessions } from "../db/schema";
import { chunks } from "../lib/chunks";
import { thumbnailKey } from "../storage/objects";

/** R2 deletes at most this many keys in one call. */
const R2_MAX_KEYS_PER_DELETE = 1000;

export async function deleteSessionEverywhere(env: Env, db: Database, session: ImageSessionRow): Promise<void> {
  await env.SESSION_ROOM.getByName(session.id).destroy();
  const outputs = await db
    .select({ id: assets.id, r2Key: assets.r2Key })
    .from(assets)
    .innerJoin(generations, eq(generations.id, assets.generationId))
    .where(eq(generations.sessionId, session.id));
  const keys = outputs.flatMap((asset) => [asset.r2Key, thumbnailKey(asset.r2Key)]);
  for (const slice of chunks(keys, R2_MAX_KEYS_PER_DELETE)) await env.BUCKET.delete(slice);
  for (const slice of chunks(outputs, D1_MAX_BOUND_PARAMETERS)) {
    await db.delete(assets).where(
      inArray(
        assets.id,
        slice.map((asset) => asset.id),
      ),
    );
  }
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
