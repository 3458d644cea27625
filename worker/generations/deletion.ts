/**
 * Deleting a session or a generation: the rows go first, in one atomic D1 batch whose statements
 * name their rows by session or generation (never by a list of ids, so no statement nears D1's
 * limit of D1_MAX_BOUND_PARAMETERS, however many outputs there are); then the bytes leave R2. If
 * the R2 delete fails, what remains are objects no row points to, which the retention job removes.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/client";
import { assets, generations, type ImageSessionRow, imageSessions } from "../db/schema";
import { chunks } from "../lib/chunks";
import { thumbnailKey } from "../storage/objects";

/** R2 deletes at most this many keys in one call. */
const R2_MAX_KEYS_PER_DELETE = 1000;

async function deleteObjects(bucket: R2Bucket, keys: readonly string[]): Promise<void> {
  const all = keys.flatMap((key) => [key, thumbnailKey(key)]);
  for (const slice of chunks(all, R2_MAX_KEYS_PER_DELETE)) await bucket.delete(slice);
}

export async function deleteSessionEverywhere(env: Env, db: Database, session: ImageSessionRow): Promise<void> {
  await env.SESSION_ROOM.getByName(session.id).destroy();
  const ofSession = db.select({ id: generations.id }).from(generations).where(eq(generations.sessionId, session.id));
  const outputs = await db.select({ r2Key: assets.r2Key }).from(assets).where(inArray(assets.generationId, ofSession));
  // The session's generations (and their reference links) go with it, by cascade.
  await db.batch([
    db.delete(assets).where(inArray(assets.generationId, ofSession)),
    db.delete(imageSessions).where(eq(imageSessions.id, session.id)),
  ]);
  await deleteObjects(
    env.BUCKET,
    outputs.map((asset) => asset.r2Key),
  );
}

/**
 * Deleting one generation: its outputs leave R2 and the gallery; its children keep their
 * `parentGenerationId` (shown as "source deleted"). Uploaded inputs are the user's and stay.
 */
export async function deleteGenerationData(db: Database, bucket: R2Bucket, generationId: string): Promise<void> {
  const itsOutputs = and(eq(assets.generationId, generationId), eq(assets.role, "output"));
  const outputs = await db.select({ r2Key: assets.r2Key }).from(assets).where(itsOutputs);
  await db.batch([db.delete(assets).where(itsOutputs), db.delete(generations).where(eq(generations.id, generationId))]);
  await deleteObjects(
    bucket,
    outputs.map((asset) => asset.r2Key),
  );
}
