/**
 * The last-resort poll: generations submitted long ago that are still not terminal (every webhook
 * lost, and the Durable Object's own alarm somehow not firing) get their session's room nudged to
 * ask Replicate directly.
 */
import { and, inArray, lt } from "drizzle-orm";
import type { Database } from "../db/client";
import { generations } from "../db/schema";
import { log } from "../lib/logger";

export const STUCK_AFTER_MS = 2 * 60_000;
const SWEEP_LIMIT = 500;

export async function sweepStuckGenerations(db: Database, rooms: Env["SESSION_ROOM"], now: number): Promise<number> {
  const stuck = await db
    .selectDistinct({ sessionId: generations.sessionId })
    .from(generations)
    .where(
      and(
        inArray(generations.status, ["starting", "running"]),
        lt(generations.submittedAt, new Date(now - STUCK_AFTER_MS)),
      ),
    )
    .limit(SWEEP_LIMIT);
  for (const { sessionId } of stuck) await rooms.getByName(sessionId).sweep();
  if (stuck.length) log.info("cron.swept_stuck_sessions", { sessions: stuck.length });
  return stuck.length;
}
