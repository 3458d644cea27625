/**
 * The trash. Deleting a session, a generation or one output only stamps its `trashed_at`: triggers
 * hide its images from the gallery (`assets.listed`) and its prompts from search; every list,
 * lookup and counter leaves it out. Restoring clears the stamp. After TRASH_RETENTION_DAYS the purge
 * job (cron/purge-trash.ts) removes the rows and the bytes.
 *
 * Generations go through their session's room (trashGeneration / restoreGeneration), which cancels
 * one still in flight and tells open tabs; sessions and single outputs are stamped here.
 */
import type { Page } from "@contract/api";
import { TRASH_RETENTION_DAYS, type TrashItem, type TrashKind } from "@contract/trash";
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import {
  type AssetRow,
  assets,
  type GenerationRow,
  generations,
  type ImageSessionRow,
  imageSessions,
} from "../db/schema";
import { sessionStatsUpdate } from "../generations/lifecycle";
import { thumbnailsOf, thumbnailUrl } from "../generations/views";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { notFound, ProblemError } from "../lib/problem";

export const TRASH_RETENTION_MS = TRASH_RETENTION_DAYS * 24 * 60 * 60 * 1000;

/** Stamps (or, with null, clears) a generation's trash time, and recounts its session. */
export async function setGenerationTrashed(db: Database, generation: GenerationRow, at: Date | null): Promise<void> {
  await db.batch([
    db
      .update(generations)
      .set({ trashedAt: at })
      .where(
        and(eq(generations.id, generation.id), at ? isNull(generations.trashedAt) : isNotNull(generations.trashedAt)),
      ),
    sessionStatsUpdate(db, generation.sessionId),
  ]);
}

/** Moves a session to the trash: what runs in it is canceled, its tabs are closed. */
export async function trashSession(env: Env, db: Database, session: ImageSessionRow): Promise<void> {
  // Stamped first, so nothing new can be started in it; then its room stops what is in flight.
  await db
    .update(imageSessions)
    .set({ trashedAt: new Date() })
    .where(and(eq(imageSessions.id, session.id), isNull(imageSessions.trashedAt)));
  await env.SESSION_ROOM.getByName(session.id).trashSession(session.id);
}

/** Moves one output to the trash (the rest of its batch stays). */
export async function trashAsset(env: Env, db: Database, asset: AssetRow): Promise<void> {
  if (asset.role !== "output" || !asset.generationId || !asset.sessionId) {
    throw new ProblemError(409, "Only generated images go to the trash; uploaded images stay with what uses them.");
  }
  await setAssetTrashed(db, asset, new Date());
  await env.SESSION_ROOM.getByName(asset.sessionId).publishGenerations([asset.generationId]);
}

async function setAssetTrashed(db: Database, asset: AssetRow, at: Date | null): Promise<void> {
  await db.batch([
    db
      .update(assets)
      .set({ trashedAt: at })
      .where(and(eq(assets.id, asset.id), at ? isNull(assets.trashedAt) : isNotNull(assets.trashedAt))),
    ...(asset.sessionId ? [sessionStatsUpdate(db, asset.sessionId)] : []),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------------------------

type TrashRow = {
  kind: TrashKind;
  id: string;
  trashed_at: number;
  title: string;
  session_id: string;
  session_title: string;
  generation_id: string | null;
  thumbnail_asset_id: string | null;
  image_count: number;
};

const toTrashItem = (row: TrashRow): TrashItem => ({
  id: row.id,
  kind: row.kind,
  title: row.title,
  sessionId: row.session_id,
  sessionTitle: row.session_title,
  generationId: row.generation_id,
  thumbnailUrl: row.thumbnail_asset_id ? thumbnailUrl(row.thumbnail_asset_id) : null,
  thumbnails: row.thumbnail_asset_id ? thumbnailsOf(row.thumbnail_asset_id) : [],
  imageCount: row.image_count,
  trashedAt: new Date(row.trashed_at).toISOString(),
  purgeAt: new Date(row.trashed_at + TRASH_RETENTION_MS).toISOString(),
});

/**
 * What a user deleted, most recent first: sessions; generations whose session is not deleted;
 * outputs whose generation and session are not. Each branch walks its own trash index.
 */
function trashStatement(userId: string, options: { limit: number; before?: readonly [number, string]; id?: string }) {
  const after = (alias: string) =>
    options.before
      ? sql` AND (${sql.raw(alias)}.trashed_at < ${options.before[0]} OR (${sql.raw(alias)}.trashed_at = ${options.before[0]} AND ${sql.raw(alias)}.id < ${options.before[1]}))`
      : sql``;
  const only = (alias: string) => (options.id ? sql` AND ${sql.raw(alias)}.id = ${options.id}` : sql``);
  return sql`SELECT * FROM (
    SELECT 'session' AS kind, s.id, s.trashed_at, s.title, s.id AS session_id, s.title AS session_title,
      NULL AS generation_id,
      (SELECT a.id FROM assets a WHERE a.session_id = s.id AND a.gallery_key IS NOT NULL AND a.trashed_at IS NULL
        ORDER BY a.gallery_key DESC LIMIT 1) AS thumbnail_asset_id,
      (SELECT count(*) FROM assets a WHERE a.session_id = s.id AND a.gallery_key IS NOT NULL AND a.trashed_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM generations g2 WHERE g2.id = a.generation_id AND g2.trashed_at IS NOT NULL)) AS image_count
    FROM image_sessions s
    WHERE s.user_id = ${userId} AND s.trashed_at IS NOT NULL${after("s")}${only("s")}
    UNION ALL
    SELECT 'generation', g.id, g.trashed_at, g.prompt, g.session_id, s.title, g.id,
      (SELECT a.id FROM assets a WHERE a.generation_id = g.id AND a.role = 'output' AND a.trashed_at IS NULL
        ORDER BY a.output_index LIMIT 1),
      (SELECT count(*) FROM assets a WHERE a.generation_id = g.id AND a.role = 'output' AND a.trashed_at IS NULL)
    FROM generations g JOIN image_sessions s ON s.id = g.session_id
    WHERE g.user_id = ${userId} AND g.trashed_at IS NOT NULL AND s.trashed_at IS NULL${after("g")}${only("g")}
    UNION ALL
    SELECT 'asset', a.id, a.trashed_at, g.prompt, a.session_id, s.title, a.generation_id, a.id, 1
    FROM assets a JOIN generations g ON g.id = a.generation_id JOIN image_sessions s ON s.id = a.session_id
    WHERE a.user_id = ${userId} AND a.trashed_at IS NOT NULL AND g.trashed_at IS NULL AND s.trashed_at IS NULL${after("a")}${only("a")}
  ) ORDER BY trashed_at DESC, id DESC LIMIT ${options.limit + 1}`;
}

export async function listTrash(
  db: Database,
  userId: string,
  query: { limit: number; cursor?: string | undefined },
): Promise<Page<TrashItem>> {
  const before = query.cursor ? decodeCursor(query.cursor, ["number", "string"]) : undefined;
  const rows = await db.all<TrashRow>(trashStatement(userId, { limit: query.limit, ...(before ? { before } : {}) }));
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items: items.map(toTrashItem),
    nextCursor: rows.length > query.limit && last ? encodeCursor([last.trashed_at, last.id]) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Restoring
// ---------------------------------------------------------------------------------------------

const notInTrash = () => notFound("item in the trash");

/** Brings back what `id` names (as listed in the trash); 404 when the trash holds nothing of that id. */
export async function restoreFromTrash(env: Env, db: Database, userId: string, id: string): Promise<TrashItem> {
  const [row] = await db.all<TrashRow>(trashStatement(userId, { limit: 1, id }));
  if (!row) throw notInTrash();
  switch (row.kind) {
    case "session":
      await db
        .update(imageSessions)
        .set({ trashedAt: null })
        .where(and(eq(imageSessions.id, id), eq(imageSessions.userId, userId)));
      break;
    case "generation": {
      await env.SESSION_ROOM.getByName(row.session_id).restoreGeneration(id);
      break;
    }
    case "asset": {
      const asset = await db.query.assets.findFirst({ where: and(eq(assets.id, id), eq(assets.userId, userId)) });
      if (!asset) throw notInTrash();
      await setAssetTrashed(db, asset, null);
      if (asset.generationId) await env.SESSION_ROOM.getByName(row.session_id).publishGenerations([asset.generationId]);
      break;
    }
  }
  return toTrashItem(row);
}
