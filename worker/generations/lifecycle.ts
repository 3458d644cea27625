/**
 * The generation lifecycle: queued → starting → running → succeeded | failed | canceled | timed_out.
 * Every transition is a conditional update, so a duplicated, late or out-of-order event changes
 * nothing twice and nothing ever leaves a terminal status. The session's Durable Object is the only
 * caller, which also serialises transitions within a session (the one exception: the cron sweep
 * fails a generation no room would take).
 */

import { TERMINAL_STATUSES } from "@contract/api";
import { and, desc, eq, inArray, isNotNull, isNull, notInArray, or, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { assets, type GenerationRow, generationReferences, generations, imageSessions, references } from "../db/schema";
import { recordCostStatement } from "../usage/ledger";
import { advances, isTerminal, type RunningStatus, type TerminalStatus } from "./status";

const TERMINAL = [...TERMINAL_STATUSES];

export const loadGeneration = (db: Database, generationId: string): Promise<GenerationRow | undefined> =>
  db.query.generations.findFirst({ where: eq(generations.id, generationId) });

/**
 * The prediction was created: remember its id and count a use of each of the generation's
 * references, together and once (the batch is atomic, and both statements act only while the
 * generation is still queued). Returns whether this call recorded it.
 */
export async function recordSubmission(db: Database, generationId: string, predictionId: string): Promise<boolean> {
  const stillQueued = sql`EXISTS (SELECT 1 FROM ${generations} WHERE ${generations.id} = ${generationId} AND ${generations.status} = 'queued')`;
  const [, updated] = await db.batch([
    db
      .update(references)
      .set({ usageCount: sql`${references.usageCount} + 1`, lastUsedAt: new Date() })
      .where(
        and(
          inArray(
            references.id,
            db
              .select({ id: generationReferences.referenceId })
              .from(generationReferences)
              .where(eq(generationReferences.generationId, generationId)),
          ),
          stillQueued,
        ),
      ),
    db
      .update(generations)
      .set({ predictionId, status: "starting", submittedAt: new Date() })
      .where(and(eq(generations.id, generationId), eq(generations.status, "queued")))
      .returning({ id: generations.id }),
  ]);
  return updated.length > 0;
}

/**
 * A non-terminal update (start, logs): moves forward only, and progress only grows while the status
 * stays the same. Returns whether anything changed.
 */
export async function applyRunningUpdate(
  db: Database,
  generationId: string,
  update: { status: RunningStatus; progress: number | null; startedAt: Date | null },
  /** The row as the caller just read it, to spare a read; the update is conditional on it anyway. */
  known?: GenerationRow,
): Promise<boolean> {
  const current = known ?? (await loadGeneration(db, generationId));
  if (!current || isTerminal(current.status)) return false;
  const statusAdvances = advances(current.status, update.status);
  const progress = update.progress !== null && update.progress > current.progress ? update.progress : null;
  if (!statusAdvances && progress === null) return false;
  const status = statusAdvances ? update.status : current.status;
  const updated = await db
    .update(generations)
    .set({
      status,
      progress: progress ?? current.progress,
      startedAt: current.startedAt ?? (status === "running" ? (update.startedAt ?? new Date()) : null),
    })
    .where(
      and(
        eq(generations.id, generationId),
        eq(generations.status, current.status),
        eq(generations.progress, current.progress),
      ),
    )
    .returning({ id: generations.id });
  return updated.length > 0;
}

export type TerminalUpdate = {
  status: TerminalStatus;
  error: string | null;
  startedAt: Date | null;
  completedAt: Date;
  cost: number | null;
  /** The path that brought the news, when it is known here (the operations stats count it). */
  completedVia?: "webhook" | "poll";
  predictSeconds: number | null;
};

/** Moves a generation to a terminal status exactly once. Returns whether this call did it. */
export async function completeGeneration(
  db: Database,
  generationId: string,
  update: TerminalUpdate,
  known?: GenerationRow,
): Promise<boolean> {
  // A row the caller just read spares a read: the update below is conditional on the status anyway.
  const current = known ?? (await loadGeneration(db, generationId));
  if (!current || isTerminal(current.status)) return false;
  const startedAt = current.startedAt ?? update.startedAt;
  const durationFrom = startedAt ?? current.submittedAt ?? current.createdAt;
  // One call: the cost joins the ledger (only while the generation is not yet terminal), the
  // transition, and the session's counters after it (idempotent, so harmless when the transition was
  // already made by another path).
  const [, updated] = await db.batch([
    recordCostStatement(db, generationId, update.cost ?? 0),
    db
      .update(generations)
      .set({
        status: update.status,
        error: update.error,
        progress: update.status === "succeeded" ? 1 : current.progress,
        startedAt,
        completedAt: update.completedAt,
        durationMs: Math.max(0, update.completedAt.getTime() - durationFrom.getTime()),
        cost: update.cost,
        predictSeconds: update.predictSeconds,
        ...(update.completedVia ? { completedVia: update.completedVia } : {}),
      })
      .where(and(eq(generations.id, generationId), notInArray(generations.status, TERMINAL)))
      .returning({ id: generations.id }),
    sessionStatsUpdate(db, current.sessionId),
  ]);
  return updated.length > 0;
}

/** The output types a session's thumbnail can show (and videos with a poster frame). */
const THUMBNAIL_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

/**
 * The one statement that recomputes a session's counters and thumbnail from its generations.
 * Idempotent, so it can follow any transition, however often, and can close a batch of writes.
 */
export function sessionStatsUpdate(db: Database, sessionId: string) {
  const now = new Date();
  // What is in the trash does not count, and cannot be the thumbnail.
  const countOf = (status?: SQL) =>
    sql`(SELECT count(*) FROM ${generations} WHERE ${generations.sessionId} = ${sessionId} AND ${generations.trashedAt} IS NULL${status ? sql` AND ${status}` : sql``})`;
  const latestOutput = db
    .select({ id: assets.id })
    .from(assets)
    .innerJoin(generations, eq(generations.id, assets.generationId))
    .where(
      and(
        eq(generations.sessionId, sessionId),
        eq(assets.role, "output"),
        or(inArray(assets.mimeType, THUMBNAIL_TYPES), isNotNull(assets.posterKey)),
        isNull(assets.trashedAt),
        isNull(generations.trashedAt),
      ),
    )
    .orderBy(desc(assets.createdAt))
    .limit(1);
  return db
    .update(imageSessions)
    .set({
      generationCount: countOf(),
      succeededCount: countOf(sql`${generations.status} = 'succeeded'`),
      failedCount: countOf(sql`${generations.status} IN ('failed', 'timed_out')`),
      totalCost: sql`(SELECT coalesce(sum(${generations.cost}), 0) FROM ${generations} WHERE ${generations.sessionId} = ${sessionId})`,
      thumbnailAssetId: sql`(${latestOutput})`,
      lastActivityAt: now,
      updatedAt: sql`max(${imageSessions.updatedAt}, ${now.getTime()})`,
    })
    .where(eq(imageSessions.id, sessionId));
}

export const findGenerationByPrediction = (db: Database, predictionId: string): Promise<GenerationRow | undefined> =>
  db.query.generations.findFirst({ where: eq(generations.predictionId, predictionId) });

export async function recordPipelineError(db: Database, generationId: string, message: string): Promise<void> {
  await db.update(generations).set({ pipelineError: message }).where(eq(generations.id, generationId));
}
