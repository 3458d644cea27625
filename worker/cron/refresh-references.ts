/**
 * The cron job that keeps Replicate copies of references in active use alive: references used in the
 * last 7 days whose upload expires within 4 hours (or is gone) are uploaded again ahead of need, and
 * records of expired uploads are forgotten. Bounded per run; running it twice changes nothing more.
 */
import { and, gt, isNull } from "drizzle-orm";
import type { Database } from "../db/client";
import { references } from "../db/schema";
import { log } from "../lib/logger";
import { latestUploadQuery } from "../references/views";
import { forgetExpiredUploads, referenceFile, uploadToReplicate } from "../replicate/files";
import type { ReplicateGateway } from "../replicate/gateway";

export const ACTIVE_WITHIN_MS = 7 * 24 * 60 * 60 * 1000;
export const REFRESH_WHEN_EXPIRING_WITHIN_MS = 4 * 60 * 60 * 1000;
export const MAX_REFRESHES_PER_RUN = 50;

export async function refreshActiveReferences(
  db: Database,
  bucket: R2Bucket,
  gateway: ReplicateGateway,
  now = Date.now(),
): Promise<{ refreshed: number; forgotten: number; failed: number }> {
  const forgotten = await forgetExpiredUploads(db, now);
  const active = await db
    .select()
    .from(references)
    .where(and(gt(references.lastUsedAt, new Date(now - ACTIVE_WITHIN_MS)), isNull(references.deletedAt)))
    .limit(MAX_REFRESHES_PER_RUN * 4);
  let refreshed = 0;
  let failed = 0;
  for (const reference of active) {
    if (refreshed >= MAX_REFRESHES_PER_RUN) break;
    const latest = await latestUploadQuery(db, reference.userId, reference.sha256);
    if (latest && latest.expiresAt.getTime() > now + REFRESH_WHEN_EXPIRING_WITHIN_MS) continue;
    try {
      await uploadToReplicate(db, bucket, gateway, referenceFile(reference));
      refreshed++;
    } catch (error) {
      failed++;
      log.warn("cron.reference_refresh_failed", { referenceId: reference.id, error });
    }
  }
  log.info("cron.references_refreshed", { refreshed, forgotten, failed, active: active.length });
  return { refreshed, forgotten, failed };
}
