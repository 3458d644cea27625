/**
 * The last-resort sweep for generations that nothing else will move:
 * - stored as `queued` but never handed to their session's room (the hand-over after the answer
 *   failed, or was lost with the request that sent it, and no later generation of the session made
 *   the room take it over): handed over now; the room ignores those it already has or has settled.
 *   One that cannot be handed over fails with the reason: at once if the failure is permanent,
 *   after ENQUEUE_GIVE_UP_MS if not.
 * - submitted long ago and still not terminal (every webhook lost, and the room's own alarm somehow
 *   not firing): their room is nudged to ask Replicate directly.
 * A failure with one session does not stop the others.
 */
import { and, asc, eq, inArray, lt } from "drizzle-orm";
import type { Database } from "../db/client";
import { generations } from "../db/schema";
import type { QueuedJob } from "../durable-objects/session-room";
import { completeGeneration } from "../generations/lifecycle";
import { errorMessage, log } from "../lib/logger";
import { failureReason, isRetryable } from "../lib/retryable";

export const STUCK_AFTER_MS = 2 * 60_000;
/** A generation no room would take for this long fails, rather than waits on. */
export const ENQUEUE_GIVE_UP_MS = 30 * 60_000;
const SWEEP_LIMIT = 500;

export type SweepResult = {
  /** Queued generations handed to a room that did not have them. */
  enqueued: number;
  /** Queued generations failed because no room would take them. */
  failed: number;
  /** Sessions whose room was asked to poll its generations in flight. */
  nudged: number;
};

export async function sweepStuckGenerations(
  db: Database,
  rooms: Env["SESSION_ROOM"],
  now: number,
): Promise<SweepResult> {
  const { enqueued, failed } = await enqueueUnclaimed(db, rooms, now);
  const nudged = await nudgeInFlight(db, rooms, now);
  if (enqueued || failed || nudged) log.info("cron.swept_stuck_generations", { enqueued, failed, nudged });
  return { enqueued, failed, nudged };
}

async function enqueueUnclaimed(
  db: Database,
  rooms: Env["SESSION_ROOM"],
  now: number,
): Promise<{ enqueued: number; failed: number }> {
  const waiting = await db
    .select({
      id: generations.id,
      sessionId: generations.sessionId,
      parentGenerationId: generations.parentGenerationId,
      createdAt: generations.createdAt,
    })
    .from(generations)
    .where(and(eq(generations.status, "queued"), lt(generations.createdAt, new Date(now - STUCK_AFTER_MS))))
    .orderBy(asc(generations.createdAt))
    .limit(SWEEP_LIMIT);
  const bySession = new Map<string, typeof waiting>();
  for (const generation of waiting) {
    bySession.set(generation.sessionId, [...(bySession.get(generation.sessionId) ?? []), generation]);
  }
  let enqueued = 0;
  let failed = 0;
  for (const [sessionId, queued] of bySession) {
    // Oldest first, as they were created: a child comes after the parent it waits for.
    const jobs: QueuedJob[] = queued.map((g) => ({
      generationId: g.id,
      waitFor: g.parentGenerationId,
      createdAt: g.createdAt.getTime(),
    }));
    try {
      const added = await rooms.getByName(sessionId).enqueue(sessionId, jobs);
      enqueued += added.length;
      if (added.length) log.warn("cron.enqueued_unclaimed", { sessionId, generationIds: added });
    } catch (error) {
      const reason = failureReason(error);
      const retryable = isRetryable(error);
      log.error("cron.enqueue_failed", { sessionId, retryable, error: reason });
      for (const generation of queued) {
        if (retryable && generation.createdAt.getTime() > now - ENQUEUE_GIVE_UP_MS) continue;
        // The room cannot be reached, so the sweep records the failure itself (conditionally, as
        // every transition is).
        const changed = await completeGeneration(db, generation.id, {
          status: "failed",
          error: `It could not be queued: ${reason}`,
          startedAt: null,
          completedAt: new Date(now),
          cost: null,
          predictSeconds: null,
        });
        if (changed) failed++;
      }
    }
  }
  return { enqueued, failed };
}

async function nudgeInFlight(db: Database, rooms: Env["SESSION_ROOM"], now: number): Promise<number> {
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
  let nudged = 0;
  for (const { sessionId } of stuck) {
    try {
      await rooms.getByName(sessionId).sweep();
      nudged++;
    } catch (error) {
      log.error("cron.sweep_failed", { sessionId, error: errorMessage(error) });
    }
  }
  return nudged;
}
