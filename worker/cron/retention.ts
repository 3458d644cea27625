/**
 * Retention: failed generations older than 30 days are removed (their children keep their lineage),
 * and R2 objects no row points to — left by a crash between an R2 write and its D1 commit, or by an
 * interrupted delete — are cleaned, a bounded page of the bucket per run.
 */
import { and, eq, inArray, isNull, lt, notExists, sql } from "drizzle-orm";
import { pruneRateLimits } from "../accounts/rate-limit";
import { D1_MAX_BOUND_PARAMETERS, type Database } from "../db/client";
import { assets, generations, maintenanceState, references, webhookReceipts } from "../db/schema";
import { sessionStatsUpdate } from "../generations/lifecycle";
import { chunks } from "../lib/chunks";
import { log } from "../lib/logger";
import { thumbnailOwnerKey } from "../storage/objects";

export const FAILED_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** Objects younger than this may belong to a write whose D1 commit is still on its way. */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;
const PAGE_SIZE = 500;
/** Replicate retries a webhook for about a minute; a week of receipts is plenty. */
const RECEIPT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const CURSOR_KEY = "retention.bucketCursor";

export async function removeOldFailedGenerations(db: Database, now: number): Promise<number> {
  const old = await db
    .select({ id: generations.id, sessionId: generations.sessionId })
    .from(generations)
    .where(
      and(
        inArray(generations.status, ["failed", "timed_out", "canceled"]),
        lt(generations.createdAt, new Date(now - FAILED_RETENTION_MS)),
        // The trash's purge decides about what is in the trash; outputs stay in the gallery.
        isNull(generations.trashedAt),
        notExists(db.select({ id: assets.id }).from(assets).where(eq(assets.generationId, generations.id))),
      ),
    )
    // Each statement below binds one parameter per generation, plus a few of its own.
    .limit(D1_MAX_BOUND_PARAMETERS - 10);
  if (old.length === 0) return 0;
  const oldIds = old.map((g) => g.id);
  // One atomic batch. Generations with outputs (a canceled run may have produced some) are kept
  // above, so no output loses its generation.
  await db.batch([
    db.delete(generations).where(inArray(generations.id, oldIds)),
    ...[...new Set(old.map((g) => g.sessionId))].map((sessionId) => sessionStatsUpdate(db, sessionId)),
  ]);
  return old.length;
}

export async function removeOrphanedObjects(
  db: Database,
  bucket: R2Bucket,
  now: number,
): Promise<{ scanned: number; removed: number }> {
  const saved = await db.query.maintenanceState.findFirst({ where: eq(maintenanceState.key, CURSOR_KEY) });
  const listing = await bucket.list({ limit: PAGE_SIZE, ...(saved ? { cursor: saved.value } : {}) });
  const candidates = listing.objects
    // Model covers are shared by everyone and belong to no row.
    .filter((object) => object.uploaded.getTime() < now - ORPHAN_GRACE_MS && !object.key.startsWith("covers/"))
    .map((object) => object.key);
  const owners = [...new Set(candidates.map(thumbnailOwnerKey))];
  const referenced = new Set<string>();
  // The three parts of the union each bind the slice: keep it under a third of D1's parameter limit.
  for (const slice of chunks(owners, Math.floor(D1_MAX_BOUND_PARAMETERS / 3))) {
    const rows = await db
      .select({ key: assets.r2Key })
      .from(assets)
      .where(inArray(assets.r2Key, slice))
      .union(db.select({ key: references.r2Key }).from(references).where(inArray(references.r2Key, slice)))
      .union(
        db
          .select({ key: sql<string>`${assets.posterKey}` })
          .from(assets)
          .where(inArray(assets.posterKey, slice)),
      );
    for (const row of rows) referenced.add(row.key);
  }
  const orphans = candidates.filter((key) => !referenced.has(thumbnailOwnerKey(key)));
  if (orphans.length) await bucket.delete(orphans);
  const next = listing.truncated ? listing.cursor : null;
  if (next) {
    await db
      .insert(maintenanceState)
      .values({ key: CURSOR_KEY, value: next })
      .onConflictDoUpdate({ target: maintenanceState.key, set: { value: next } });
  } else {
    await db.delete(maintenanceState).where(eq(maintenanceState.key, CURSOR_KEY));
  }
  return { scanned: listing.objects.length, removed: orphans.length };
}

export async function runRetention(db: Database, bucket: R2Bucket, now: number): Promise<void> {
  const failed = await removeOldFailedGenerations(db, now);
  const objects = await removeOrphanedObjects(db, bucket, now);
  await pruneRateLimits(db, now);
  await db.delete(webhookReceipts).where(lt(webhookReceipts.receivedAt, new Date(now - RECEIPT_RETENTION_MS)));
  log.info("cron.retention", { failedGenerationsRemoved: failed, ...objects });
}
