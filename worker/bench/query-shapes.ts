/**
 * Every shape of listing query, built by the same functions the routes use, with its SQL and
 * parameters: the query-plan test checks each walks an index, and the benchmark prints the plans.
 */

import { listSessionsQuerySchema } from "@contract/api";
import { listImagesQuerySchema } from "@contract/gallery";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client";
import { galleryPageStatement } from "../gallery/queries";
import { encodeCursor } from "../lib/cursor";
import { sessionListStatement } from "../sessions/queries";

export type QueryShape = {
  name: string;
  sql: string;
  params: unknown[];
  /** The index (or full-text table) the plan must walk. */
  index: string;
};

const dialect = new SQLiteSyncDialect();
const cursor = encodeCursor([1_800_000_000_000 * 1024]);

export function queryShapes(db: Database, userId: string): QueryShape[] {
  const gallery = (name: string, query: Record<string, string>, index: string): QueryShape => {
    const { sql, params } = dialect.sqlToQuery(galleryPageStatement(userId, listImagesQuerySchema.parse(query)));
    return { name: `GET /api/images ${name}`, sql, params, index };
  };
  const sessions = (name: string, query: Record<string, string>, index: string): QueryShape => {
    const { sql, params } = sessionListStatement(db, userId, listSessionsQuerySchema.parse(query)).toSQL();
    return { name: `GET /api/sessions ${name}`, sql, params, index };
  };
  return [
    gallery("first page", {}, "assets_gallery_idx"),
    gallery("deep page (cursor)", { cursor }, "assets_gallery_idx"),
    gallery("?sessionId=", { sessionId: "ses_x", cursor }, "assets_gallery_session_idx"),
    gallery("?favorite=true", { favorite: "true" }, "assets_gallery_favorite_idx"),
    gallery("?model=", { model: "black-forest-labs/flux-dev" }, "assets_gallery_model_idx"),
    gallery("?status=", { status: "canceled" }, "assets_gallery_status_idx"),
    gallery("?from=&to=", { from: "2026-01-01", to: "2026-02-01" }, "assets_gallery_idx"),
    gallery("?minWidth=&minHeight=", { minWidth: "1000", minHeight: "700" }, "assets_gallery_idx"),
    gallery("?q=", { q: "lighthouse" }, "gallery_search"),
    gallery("?q= deep page", { q: "lighthouse fog", cursor }, "gallery_search"),
    gallery(
      "?q=&model=&favorite=",
      { q: "lighthouse", model: "black-forest-labs/flux-dev", favorite: "true" },
      "gallery_search",
    ),
    sessions("sort=updated", {}, "image_sessions_list_updated_idx"),
    sessions(
      "sort=updated deep page",
      { cursor: encodeCursor([1_800_000_000_000, "ses_x"]) },
      "image_sessions_list_updated_idx",
    ),
    sessions("sort=created&order=asc", { sort: "created", order: "asc" }, "image_sessions_list_created_idx"),
    sessions("sort=generations", { sort: "generations" }, "image_sessions_list_generations_idx"),
    sessions("sort=successRate", { sort: "successRate" }, "image_sessions_list_success_idx"),
    sessions("?q=", { q: "lighthouse" }, "image_sessions_list_updated_idx"),
    sessions(
      "?model=&status=",
      { model: "black-forest-labs/flux-dev", status: "failed" },
      "image_sessions_list_updated_idx",
    ),
  ];
}

/** EXPLAIN QUERY PLAN's rows, one line each. */
export async function explain(d1: D1Database, shape: QueryShape): Promise<string[]> {
  const { results } = await d1
    .prepare(`EXPLAIN QUERY PLAN ${shape.sql}`)
    .bind(...shape.params)
    .all<{ detail: string }>();
  return results.map((row) => row.detail);
}
