/**
 * Purging the trash: what has been in it for TRASH_RETENTION_DAYS is removed for good, rows first
 * (atomic batches) and then the bytes no row points to any more. Bounded per run (a few sessions,
 * more generations and outputs); what is left waits for the next run. Safe to run twice: a second
 * run finds nothing to do.
 */
import { and, asc, isNotNull, lt } from "drizzle-orm";
import type { Database } from "../db/client";
import { assets, generations, imageSessions } from "../db/schema";
import { deleteAssetData, deleteGenerationData, deleteSessionEverywhere } from "../generations/deletion";
import { log } from "../lib/logger";
import { TRASH_RETENTION_MS } from "../trash/trash";

const SESSIONS_PER_RUN = 5;
const GENERATIONS_PER_RUN = 50;
const ASSETS_PER_RUN = 200;

export type PurgeResult = { sessions: number; generations: number; assets: number };

export async function purgeTrash(env: Env, db: Database, now: number): Promise<PurgeResult> {
  const cutoff = new Date(now - TRASH_RETENTION_MS);
  const sessions = await db
    .select()
    .from(imageSessions)
    .where(and(isNotNull(imageSessions.trashedAt), lt(imageSessions.trashedAt, cutoff)))
    .orderBy(asc(imageSessions.trashedAt))
    .limit(SESSIONS_PER_RUN);
  for (const session of sessions) await deleteSessionEverywhere(env, db, session);

  const oldGenerations = await db
    .select({ id: generations.id })
    .from(generations)
    .where(and(isNotNull(generations.trashedAt), lt(generations.trashedAt, cutoff)))
    .orderBy(asc(generations.trashedAt))
    .limit(GENERATIONS_PER_RUN);
  for (const generation of oldGenerations) await deleteGenerationData(db, env.BUCKET, generation.id);

  const oldAssets = await db
    .select({ id: assets.id })
    .from(assets)
    .where(and(isNotNull(assets.trashedAt), lt(assets.trashedAt, cutoff)))
    .orderBy(asc(assets.trashedAt))
    .limit(ASSETS_PER_RUN);
  for (const asset of oldAssets) await deleteAssetData(db, env.BUCKET, asset.id);

  const result = { sessions: sessions.length, generations: oldGenerations.length, assets: oldAssets.length };
  if (result.sessions || result.generations || result.assets) log.info("cron.purged_trash", result);
  return result;
}
