/**
 * The gallery listing: a user's outputs, newest first, one page per query whatever the size of the
 * collection. Each page is one statement that walks an index in gallery order (`gallery_key`
 * descending) from the cursor and stops after `limit + 1` rows:
 *
 * - no search: an index of `assets` chosen by the most selective filter (session, favourites,
 *   model, status, or the user's whole gallery); date bounds are bounds on `gallery_key` itself;
 * - a search: the FTS5 index `gallery_search`, whose rowid is `gallery_key`, walked in rowid order.
 *
 * The cursor is the last `gallery_key` seen: a row present throughout a walk is never skipped or
 * repeated, whatever is added or removed meanwhile. The query plans are in docs/benchmarks.md.
 */
import type { Page } from "@contract/api";
import type { GalleryItem, ListImagesQuery } from "@contract/gallery";
import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { matchExpression } from "../lib/search";
import { type GalleryRow, toGalleryItem } from "./views";

/** `gallery_key` = created_at (ms) × this + a tie-breaker (see the migration's trigger). */
export const GALLERY_KEY_SCALE = 1024;

const COLUMNS = sql.raw(`a.id, a.gallery_key, a.generation_id, a.session_id, a.output_index, a.mime_type,
  a.size_bytes, a.width, a.height, a.sha256, a.poster_key, a.created_at, a.model, a.generation_status, a.favorite,
  g.prompt, g.negative_prompt, g.params, s.title AS session_title`);

/** The index a page without a search walks: the one whose leading columns the filters fix. */
function drivingIndex(query: ListImagesQuery): string {
  if (query.sessionId) return "assets_gallery_session_idx";
  if (query.favorite === true) return "assets_gallery_favorite_idx";
  if (query.model) return "assets_gallery_model_idx";
  if (query.status) return "assets_gallery_status_idx";
  return "assets_gallery_idx";
}

/** The statement for one page (exported for the query-plan checks). */
export function galleryPageStatement(userId: string, query: ListImagesQuery): SQL {
  const match = matchExpression(userId, query.q, ["prompt", "title"]);
  // Bounds go on the column the page walks, so the index (or the search index) applies them.
  const keyColumn = match !== null ? sql.raw("gallery_search.rowid") : sql.raw("a.gallery_key");
  const filters: SQL[] = [sql`a.user_id = ${userId}`, sql.raw("a.listed = 1")];
  if (query.sessionId) filters.push(sql`a.session_id = ${query.sessionId}`);
  if (query.favorite === true) filters.push(sql.raw("a.favorite = 1"));
  if (query.favorite === false) filters.push(sql.raw("a.favorite = 0"));
  if (query.model) filters.push(sql`a.model = ${query.model}`);
  if (query.status) filters.push(sql`a.generation_status = ${query.status}`);
  if (query.minWidth) filters.push(sql`a.width >= ${query.minWidth}`);
  if (query.minHeight) filters.push(sql`a.height >= ${query.minHeight}`);
  if (query.from !== undefined) filters.push(sql`${keyColumn} >= ${query.from * GALLERY_KEY_SCALE}`);
  if (query.to !== undefined) filters.push(sql`${keyColumn} < ${query.to * GALLERY_KEY_SCALE}`);
  if (query.cursor) {
    const [after] = decodeCursor(query.cursor, ["number"]);
    filters.push(sql`${keyColumn} < ${after}`);
  }
  const where = sql.join(filters, sql` AND `);
  const joins = sql.raw("JOIN generations g ON g.id = a.generation_id JOIN image_sessions s ON s.id = a.session_id");
  if (match !== null) {
    // CROSS JOIN keeps the search index as the outer loop, so its rowid order is the page order.
    return sql`SELECT ${COLUMNS} FROM gallery_search CROSS JOIN assets a ON a.gallery_key = gallery_search.rowid ${joins}
      WHERE gallery_search MATCH ${match} AND ${where}
      ORDER BY gallery_search.rowid DESC LIMIT ${query.limit + 1}`;
  }
  return sql`SELECT ${COLUMNS} FROM assets a INDEXED BY ${sql.raw(drivingIndex(query))} ${joins}
    WHERE ${where} ORDER BY a.gallery_key DESC LIMIT ${query.limit + 1}`;
}

export async function listImages(db: Database, userId: string, query: ListImagesQuery): Promise<Page<GalleryItem>> {
  const rows = await db.all<GalleryRow>(galleryPageStatement(userId, query));
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items: items.map(toGalleryItem),
    nextCursor: rows.length > query.limit && last ? encodeCursor([last.gallery_key]) : null,
  };
}
