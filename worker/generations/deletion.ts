/**
 * Removing for good (the trash's purge): the rows go first, in one atomic D1 batch whose statements
 * name their rows by session, generation or asset (never by a list of ids, so no statement nears
 * D1's limit of D1_MAX_BOUND_PARAMETERS, however many outputs there are); then the bytes leave R2,
 * except objects another row still points to (content-addressed inputs are shared). If the R2
 * delete fails, what remains are objects no row points to, which the retention job removes.
 */
import { and, eq, inArray } from "drizzle-orm";
import { D1_MAX_BOUND_PARAMETERS, type Database } from "../db/client";
import { assets, generations, type ImageSessionRow, imageSessions, references } from "../db/schema";
import { chunks } from "../lib/chunks";
import { allThumbnailKeys } from "../storage/thumbnails";
import { sessionStatsUpdate } from "./lifecycle";

/** R2 deletes at most this many keys in one call. */
const R2_MAX_KEYS_PER_DELETE = 1000;

/** Deletes these objects and their thumbnails, unless a row still points to them. */
export async function deleteUnreferencedObjects(
  db: Database,
  bucket: R2Bucket,
  keys: readonly string[],
): Promise<number> {
  const unique = [...new Set(keys)];
  const referenced = new Set<string>();
  // Both halves of the union bind the slice: keep it under half of D1's parameter limit.
  for (const slice of chunks(unique, D1_MAX_BOUND_PARAMETERS / 2 - 1)) {
    const rows = await db
      .select({ key: assets.r2Key })
      .from(assets)
      .where(inArray(assets.r2Key, slice))
      .union(db.select({ key: references.r2Key }).from(references).where(inArray(references.r2Key, slice)));
    for (const row of rows) referenced.add(row.key);
  }
  const gone = unique.filter((key) => !referenced.has(key));
  const all = gone.flatMap((key) => [key, ...allThumbnailKeys(key)]);
  for (const slice of chunks(all, R2_MAX_KEYS_PER_DELETE)) await bucket.delete(slice);
  return gone.length;
}

/** An output's objects: its bytes and, for a video, its poster frame. */
const objectsOf = (asset: { r2Key: string; posterKey: string | null }): string[] =>
  asset.posterKey ? [asset.r2Key, asset.posterKey] : [asset.r2Key];

/** A session, its generations and their outputs; its room forgets its queue. */
export async function deleteSessionEverywhere(env: Env, db: Database, session: ImageSessionRow): Promise<void> {
  await env.SESSION_ROOM.getByName(session.id).destroy();
  const ofSession = db.select({ id: generations.id }).from(generations).where(eq(generations.sessionId, session.id));
  const outputs = await db
    .select({ r2Key: assets.r2Key, posterKey: assets.posterKey })
    .from(assets)
    .where(inArray(assets.generationId, ofSession));
  // The session's generations (and their reference links) go with it, by cascade; its search
  // document goes with it by trigger.
  await db.batch([
    db.delete(assets).where(inArray(assets.generationId, ofSession)),
    db.delete(imageSessions).where(eq(imageSessions.id, session.id)),
  ]);
  await deleteUnreferencedObjects(db, env.BUCKET, outputs.flatMap(objectsOf));
}

/**
 * One generation and its outputs; its children keep their `parentGenerationId` (shown as "source
 * deleted"). Uploaded inputs are the user's and stay.
 */
export async function deleteGenerationData(db: Database, bucket: R2Bucket, generationId: string): Promise<void> {
  const itsOutputs = and(eq(assets.generationId, generationId), eq(assets.role, "output"));
  const generation = await db.query.generations.findFirst({
    where: eq(generations.id, generationId),
    columns: { sessionId: true },
  });
  const outputs = await db.select({ r2Key: assets.r2Key, posterKey: assets.posterKey }).from(assets).where(itsOutputs);
  await db.batch([
    db.delete(assets).where(itsOutputs),
    db.delete(generations).where(eq(generations.id, generationId)),
    ...(generation ? [sessionStatsUpdate(db, generation.sessionId)] : []),
  ]);
  await deleteUnreferencedObjects(db, bucket, outputs.flatMap(objectsOf));
}

/** One output. */
export async function deleteAssetData(db: Database, bucket: R2Bucket, assetId: string): Promise<void> {
  const asset = await db.query.assets.findFirst({ where: eq(assets.id, assetId) });
  if (!asset) return;
  await db.batch([
    db.delete(assets).where(eq(assets.id, assetId)),
    ...(asset.sessionId ? [sessionStatsUpdate(db, asset.sessionId)] : []),
  ]);
  await deleteUnreferencedObjects(db, bucket, objectsOf(asset));
}
