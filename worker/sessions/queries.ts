/**
 * Image sessions: creation, owner-scoped lookup and the list with keyset pagination.
 * Every function takes the owner's id: nothing here can reach another user's sessions.
 */

import type { listSessionsQuerySchema, Page } from "@contract/api";
import { and, asc, desc, eq, isNull, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import type { z } from "zod";
import { type Database, onlyRow } from "../db/client";
import { type ImageSessionRow, imageSessions, sessionSuccessRate } from "../db/schema";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { newId } from "../lib/ids";
import { notFound } from "../lib/problem";
import { matchExpression } from "../lib/search";

export const UNTITLED = "New session";

/** A session title from the first prompt: its first words, up to about 60 characters. */
export function titleFromPrompt(prompt: string): string {
  const clean = prompt.replace(/\s+/g, " ").trim();
  if (clean.length <= 60) return clean;
  const cut = clean.slice(0, 60);
  const space = cut.lastIndexOf(" ");
  return `${(space > 30 ? cut.slice(0, space) : cut).replace(/[,.;:!?-]+$/, "")}…`;
}

export async function createSession(
  db: Database,
  userId: string,
  input: { title?: string; model?: string },
): Promise<ImageSessionRow> {
  const now = new Date();
  const rows = await db
    .insert(imageSessions)
    .values({
      id: newId("ses"),
      userId,
      title: input.title ?? UNTITLED,
      model: input.model ?? null,
      lastActivityAt: now,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return onlyRow(rows);
}

/**
 * The user's session, unless it is in the trash (then it is as absent as one that never was). The
 * user may be named by a subquery (see `signInWithin`).
 */
export const ownedSession = (userId: string | SQLWrapper, sessionId: string): SQL =>
  and(eq(imageSessions.id, sessionId), eq(imageSessions.userId, userId), isNull(imageSessions.trashedAt)) as SQL;

export async function findOwnedSession(db: Database, userId: string, sessionId: string): Promise<ImageSessionRow> {
  const row = await db.query.imageSessions.findFirst({ where: ownedSession(userId, sessionId) });
  if (!row) throw notFound("session");
  return row;
}

type ListQuery = z.infer<typeof listSessionsQuerySchema>;

function sortColumn(sort: ListQuery["sort"]): SQL | AnySQLiteColumn {
  switch (sort) {
    case "created":
      return imageSessions.createdAt;
    case "generations":
      return imageSessions.generationCount;
    case "successRate":
      // The very expression of `image_sessions_list_success_idx`, so that index serves the sort.
      return sessionSuccessRate;
    case "updated":
      return imageSessions.updatedAt;
  }
}

function sortValue(row: ImageSessionRow, sort: ListQuery["sort"]): number {
  switch (sort) {
    case "created":
      return row.createdAt.getTime();
    case "generations":
      return row.generationCount;
    case "successRate":
      return row.generationCount === 0 ? 0 : row.succeededCount / row.generationCount;
    case "updated":
      return row.updatedAt.getTime();
  }
}

/**
 * The filters on generations (model, status, date range): the session has one generation matching
 * all of them, found through `generations_session_model_idx` or `generations_session_status_idx`.
 */
function generationFilter(query: ListQuery): SQL | null {
  const conditions: SQL[] = [];
  if (query.model) conditions.push(sql`g.model = ${query.model}`);
  if (query.status) conditions.push(sql`g.status = ${query.status}`);
  if (query.from !== undefined) conditions.push(sql`g.created_at >= ${query.from}`);
  if (query.to !== undefined) conditions.push(sql`g.created_at < ${query.to}`);
  if (conditions.length === 0) return null;
  return sql`EXISTS (SELECT 1 FROM generations g WHERE g.session_id = ${imageSessions.id} AND g.trashed_at IS NULL AND ${sql.join(conditions, sql` AND `)})`;
}

/**
 * A page of the user's sessions (not in the trash) in the chosen order, walking the index of that
 * order; `q` matches titles and prompts through the full-text index `session_search`.
 */
export async function listSessions(db: Database, userId: string, query: ListQuery): Promise<Page<ImageSessionRow>> {
  const rows = await sessionListStatement(db, userId, query);
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > query.limit && last ? encodeCursor([sortValue(last, query.sort), last.id]) : null,
  };
}

/** The statement for one page (exported for the query-plan checks). */
export function sessionListStatement(db: Database, userId: string, query: ListQuery) {
  const column = sortColumn(query.sort);
  const conditions: SQL[] = [eq(imageSessions.userId, userId), isNull(imageSessions.trashedAt)];
  const match = matchExpression(userId, query.q, ["title", "prompts"]);
  if (match !== null) {
    // Checked per session as the sort's index is walked (a lookup of one row of the search
    // index), rather than collecting every match first and sorting them.
    conditions.push(
      sql`EXISTS (SELECT 1 FROM session_search WHERE session_search MATCH ${match} AND session_search.rowid = ${imageSessions.searchKey})`,
    );
  }
  const onGenerations = generationFilter(query);
  if (onGenerations) conditions.push(onGenerations);
  if (query.cursor) {
    const [value, id] = decodeCursor(query.cursor, ["number", "string"]);
    // Raw comparison: timestamps are compared as stored (milliseconds), with the id breaking ties.
    const beyond = query.order === "desc" ? sql.raw("<") : sql.raw(">");
    conditions.push(
      sql`(${column} ${beyond} ${value} OR (${column} = ${value} AND ${imageSessions.id} ${beyond} ${id}))`,
    );
  }
  const direction = query.order === "desc" ? desc : asc;
  return db
    .select()
    .from(imageSessions)
    .where(and(...conditions))
    .orderBy(direction(column), direction(imageSessions.id))
    .limit(query.limit + 1);
}
