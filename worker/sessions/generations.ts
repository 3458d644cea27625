/**
 * A session's generations in pages, newest first, so a session of thousands loads as fast as one
 * of ten: keyset pages over (created_at, id) on `generations_session_page_idx`, and a generation's
 * ancestry (its parents up to the root) for the lineage on screen.
 */
import type { Generation, Page, User } from "@contract/api";
import { and, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { D1_MAX_BOUND_PARAMETERS, type Database } from "../db/client";
import { type GenerationRow, generations, type ImageSessionRow, imageSessions } from "../db/schema";
import { assembleViews, generationViewReads, generationViews } from "../generations/views";
import type { SignInWithin } from "../http/auth";
import { chunks } from "../lib/chunks";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { ownedSession } from "./queries";

/** Lineages deeper than this are cut (a guard against a cycle in stored data). */
const MAX_ANCESTRY_DEPTH = 1_000;

const cursorOf = (row: GenerationRow): string => encodeCursor([row.createdAt.getTime(), row.id]);

/** One page of a session's generations (not in the trash), newest first. */
export async function sessionGenerationsPage(
  db: Database,
  sessionId: string,
  query: { limit: number; cursor?: string | undefined },
): Promise<Page<Generation>> {
  const conditions = [eq(generations.sessionId, sessionId), isNull(generations.trashedAt)];
  if (query.cursor) {
    const [createdAt, id] = decodeCursor(query.cursor, ["number", "string"]);
    const at = new Date(createdAt);
    conditions.push(
      or(lt(generations.createdAt, at), and(eq(generations.createdAt, at), lt(generations.id, id))) ?? sql`0`,
    );
  }
  const rows = await db
    .select()
    .from(generations)
    .where(and(...conditions))
    .orderBy(desc(generations.createdAt), desc(generations.id))
    .limit(query.limit + 1);
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items: await generationViews(db, items),
    nextCursor: rows.length > query.limit && last ? cursorOf(last) : null,
  };
}

/**
 * The newest `limit` generations, oldest first (as `GET /api/sessions/:id` has always listed
 * them), and the cursor of the older ones.
 */
export async function newestGenerationsPage(
  db: Database,
  sessionId: string,
  limit: number,
): Promise<{ generations: Generation[]; generationsCursor: string | null }> {
  const page = await sessionGenerationsPage(db, sessionId, { limit });
  return { generations: page.items.reverse(), generationsCursor: page.nextCursor };
}

/**
 * Signing in, then the user's session (not in the trash) and its newest `limit` generations, oldest
 * first, with the cursor of the older ones: all in one call to D1 (a batch). 401 when nobody signed
 * in; null when the session is not theirs. What was read with it is then dropped.
 */
export async function sessionWithNewestPage(
  db: Database,
  signIn: SignInWithin,
  sessionId: string,
  limit: number,
): Promise<{
  user: User;
  found: { session: ImageSessionRow; generations: Generation[]; generationsCursor: string | null } | null;
}> {
  const newest = and(eq(generations.sessionId, sessionId), isNull(generations.trashedAt));
  const pageIds = db
    .select({ id: generations.id })
    .from(generations)
    .where(newest)
    .orderBy(desc(generations.createdAt), desc(generations.id))
    .limit(limit);
  const [signedIn, sessions, rows, outputRows, inputRows, links] = await db.batch([
    signIn.statement,
    db.select().from(imageSessions).where(ownedSession(signIn.userId, sessionId)).limit(1),
    db
      .select()
      .from(generations)
      .where(newest)
      .orderBy(desc(generations.createdAt), desc(generations.id))
      .limit(limit + 1),
    ...generationViewReads(db, pageIds),
  ]);
  const user = signIn.signedIn(signedIn);
  const [session] = sessions;
  if (!session) return { user, found: null };
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const views = await assembleViews(db, items, outputRows, inputRows, links);
  return {
    user,
    found: {
      session,
      generations: views.reverse(),
      generationsCursor: rows.length > limit && last ? cursorOf(last) : null,
    },
  };
}

/** A generation and its ancestors (not in the trash), root first. */
export async function ancestryOf(db: Database, userId: string, generationId: string): Promise<Generation[]> {
  const rows = await db.all<{ id: string; depth: number }>(sql`
    WITH RECURSIVE chain(id, depth) AS (
      SELECT ${generationId}, 0
      UNION ALL
      SELECT g.parent_generation_id, chain.depth + 1 FROM generations g JOIN chain ON g.id = chain.id
      WHERE g.parent_generation_id IS NOT NULL AND chain.depth < ${MAX_ANCESTRY_DEPTH}
    )
    SELECT chain.id, chain.depth FROM chain`);
  const ids = rows.map((row) => row.id);
  if (ids.length === 0) return [];
  const found: GenerationRow[] = [];
  for (const slice of chunks(ids, D1_MAX_BOUND_PARAMETERS - 10)) {
    found.push(
      ...(await db
        .select()
        .from(generations)
        .where(and(inArray(generations.id, slice), eq(generations.userId, userId), isNull(generations.trashedAt)))),
    );
  }
  const byId = new Map(found.map((row) => [row.id, row]));
  const chain = rows.sort((a, b) => b.depth - a.depth).flatMap((row) => byId.get(row.id) ?? []);
  return generationViews(db, chain);
}
