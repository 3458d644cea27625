/**
 * Image sessions: creation, owner-scoped lookup and the list with keyset pagination.
 * Every function takes the owner's id: nothing here can reach another user's sessions.
 */

import type { listSessionsQuerySchema, Page } from "@contract/api";
import { and, asc, desc, eq, type SQL, sql } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import type { z } from "zod";
import { type Database, onlyRow } from "../db/client";
import { type ImageSessionRow, imageSessions } from "../db/schema";
import { newId, toBase64Url } from "../lib/ids";
import { notFound, ProblemError } from "../lib/problem";

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

export async function findOwnedSession(db: Database, userId: string, sessionId: string): Promise<ImageSessionRow> {
  const row = await db.query.imageSessions.findFirst({
    where: and(eq(imageSessions.id, sessionId), eq(imageSessions.userId, userId)),
  });
  if (!row) throw notFound("session");
  return row;
}

type ListQuery = z.infer<typeof listSessionsQuerySchema>;

const successRate = sql<number>`(CASE WHEN ${imageSessions.generationCount} = 0 THEN 0.0 ELSE CAST(${imageSessions.succeededCount} AS REAL) / ${imageSessions.generationCount} END)`;

function sortColumn(sort: ListQuery["sort"]): SQL | AnySQLiteColumn {
  switch (sort) {
    case "created":
      return imageSessions.createdAt;
    case "generations":
      return imageSessions.generationCount;
    case "successRate":
      return successRate;
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

const encodeCursor = (value: number, id: string): string =>
  toBase64Url(new TextEncoder().encode(JSON.stringify([value, id])));

function decodeCursor(cursor: string): [number, string] {
  try {
    const json = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const parsed: unknown = JSON.parse(json);
    if (Array.isArray(parsed) && typeof parsed[0] === "number" && typeof parsed[1] === "string")
      return [parsed[0], parsed[1]];
  } catch {
    // Fall through to the error below.
  }
  throw new ProblemError(400, "The cursor is not valid.", {
    errors: [{ path: "cursor", message: "Not a cursor from a previous page" }],
  });
}

/**
 * Title search: a case-insensitive substring match. Not `LIKE`: D1 refuses LIKE patterns over 50
 * bytes (a long search was a 500), and `%` and `_` typed by people must match themselves.
 */
const titleContains = (q: string): SQL => sql`instr(lower(${imageSessions.title}), lower(${q})) > 0`;

export async function listSessions(db: Database, userId: string, query: ListQuery): Promise<Page<ImageSessionRow>> {
  const column = sortColumn(query.sort);
  const conditions: SQL[] = [eq(imageSessions.userId, userId)];
  if (query.q) conditions.push(titleContains(query.q));
  if (query.cursor) {
    const [value, id] = decodeCursor(query.cursor);
    // Raw comparison: timestamps are compared as stored (milliseconds), with the id breaking ties.
    const beyond = query.order === "desc" ? sql.raw("<") : sql.raw(">");
    conditions.push(
      sql`(${column} ${beyond} ${value} OR (${column} = ${value} AND ${imageSessions.id} ${beyond} ${id}))`,
    );
  }
  const direction = query.order === "desc" ? desc : asc;
  const rows = await db
    .select()
    .from(imageSessions)
    .where(and(...conditions))
    .orderBy(direction(column), direction(imageSessions.id))
    .limit(query.limit + 1);
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > query.limit && last ? encodeCursor(sortValue(last, query.sort), last.id) : null,
  };
}
