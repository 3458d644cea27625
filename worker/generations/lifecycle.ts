/**
 * The generation lifecycle: queued → starting → running → succeeded | failed | canceled | timed_out.
 * Every transition is a conditional update, so a duplicated, late or out-of-order event changes
 * nothing twice and nothing ever leaves a terminal status. The session's Durable Object is the only
 * caller, which also serialises transitions within a session (the one exception: the cron sweep
 * fails a generation no room would take).
 */

import { type Generation, type GenerationStatus, type Session, TERMINAL_STATUSES } from "@contract/api";
import { and, desc, eq, inArray, isNotNull, isNull, notInArray, or, type SQL, sql } from "drizzle-orm";
import type { BatchResponse } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import {
  assets,
  type GenerationRow,
  generationReferences,
  generations,
  imageSessions,
  type NewAssetRow,
  references,
} from "../db/schema";
import { recordCostStatement } from "../usage/ledger";
import { advances, isTerminal, type RunningStatus, type TerminalStatus } from "./status";
import { assembleViews, generationViewReads, toSessionView } from "./views";

const TERMINAL = [...TERMINAL_STATUSES];

export const loadGeneration = (db: Database, generationId: string): Promise<GenerationRow | undefined> =>
  db.query.generations.findFirst({ where: eq(generations.id, generationId) });

/**
 * The prediction was created: remember its id and count a use of each of the generation's
 * references, together and once (the batch is atomic, and both statements act only while the
 * generation is still queued). Returns whether this call recorded it, and, when asked for (someone
 * is shown it), the generation's view as it now is, read in the same call to D1.
 */
export async function recordSubmission(
  db: Database,
  generationId: string,
  predictionId: string,
  options: { view?: boolean } = {},
): Promise<{ recorded: boolean; view: Generation | null }> {
  const stillQueued = sql`EXISTS (SELECT 1 FROM ${generations} WHERE ${generations.id} = ${generationId} AND ${generations.status} = 'queued')`;
  const countUse = db
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
    );
  const record = db
    .update(generations)
    .set({ predictionId, status: "starting", submittedAt: new Date() })
    .where(and(eq(generations.id, generationId), eq(generations.status, "queued")))
    .returning({ id: generations.id });
  if (!options.view) {
    const [, updated] = await db.batch([countUse, record]);
    return { recorded: updated.length > 0, view: null };
  }
  const [, updated, ...read] = await db.batch([countUse, record, ...viewReads(db, generationId)]);
  return { recorded: updated.length > 0, view: await viewOfRead(db, read) };
}

/** The reads of one generation's view, to follow a write in the same batch (see `viewOfRead`). */
function viewReads(db: Database, generationId: string) {
  return [
    db.select().from(generations).where(eq(generations.id, generationId)).limit(1),
    ...generationViewReads(
      db,
      db.select({ id: generations.id }).from(generations).where(eq(generations.id, generationId)),
    ),
  ] as const;
}

async function viewOfRead(
  db: Database,
  [[row], outputRows, inputRows, links]: BatchResponse<ReturnType<typeof viewReads>>,
): Promise<Generation | null> {
  if (!row) return null;
  const [view] = await assembleViews(db, [row], outputRows, inputRows, links);
  return view ?? null;
}

/** What a non-terminal update did: moved the row, found nothing to move, or found the row not as expected. */
export type RunningOutcome = "applied" | "unchanged" | "stale";

/**
 * A non-terminal update (start, logs): moves forward only, and progress only grows while the status
 * stays the same. Returns whether anything changed.
 */
export async function applyRunningUpdate(
  db: Database,
  generationId: string,
  update: RunningUpdate,
  /** The row as the caller just read it, to spare a read; the update is conditional on it anyway. */
  known?: GenerationRow,
): Promise<boolean> {
  const current = known ?? (await loadGeneration(db, generationId));
  if (!current) return false;
  return (await advanceRunning(db, generationId, current, update)).outcome === "applied";
}

export type RunningUpdate = { status: RunningStatus; progress: number | null; startedAt: Date | null };

/**
 * The same move from a state the caller knows (`from`: the status and progress it last saw), without
 * reading the row: nothing to move costs no statement, and the one conditional update is "stale"
 * when the row is no longer in that state (moved by another path), so the caller can read it again.
 * With `view`, a move of the status also reads the generation's view as it then is, in the same call
 * to D1, for the room to push.
 */
export async function advanceRunning(
  db: Database,
  generationId: string,
  from: { status: GenerationStatus; progress: number },
  update: RunningUpdate,
  options: { view?: boolean } = {},
): Promise<{ outcome: RunningOutcome; view: Generation | null }> {
  if (isTerminal(from.status)) return { outcome: "unchanged", view: null };
  const statusAdvances = advances(from.status, update.status);
  const progress = update.progress !== null && update.progress > from.progress ? update.progress : null;
  if (!statusAdvances && progress === null) return { outcome: "unchanged", view: null };
  const status = statusAdvances ? update.status : from.status;
  const startedAt = status === "running" ? (update.startedAt ?? new Date()).getTime() : null;
  const move = db
    .update(generations)
    .set({
      status,
      progress: progress ?? from.progress,
      // The first start is kept; a row that is not running yet has none.
      startedAt: sql`coalesce(${generations.startedAt}, ${startedAt})`,
    })
    .where(
      and(
        eq(generations.id, generationId),
        eq(generations.status, from.status),
        eq(generations.progress, from.progress),
      ),
    )
    .returning({ id: generations.id });
  if (!(options.view && statusAdvances)) {
    const updated = await move;
    return { outcome: updated.length > 0 ? "applied" : "stale", view: null };
  }
  const [updated, ...read] = await db.batch([move, ...viewReads(db, generationId)]);
  return updated.length > 0
    ? { outcome: "applied", view: await viewOfRead(db, read) }
    : { outcome: "stale", view: null };
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
  const [, updated] = await db.batch(completionStatements(db, current, update));
  return updated.length > 0;
}

/**
 * The same move, in one call to D1 with everything that goes with it: the outputs it brings are
 * recorded with it (so no one ever sees the success without its outputs), and the generation's view
 * and its session are read back after it, to be pushed as they now are.
 */
export async function completeAndView(
  db: Database,
  current: GenerationRow,
  update: TerminalUpdate,
  outputs: readonly NewAssetRow[],
  /** Whether anyone will be shown the view (making it may read the references' uploads too). */
  options: { view: boolean },
): Promise<{ changed: boolean; generation: Generation | null; session: Session | null }> {
  const [cost, transition, stats] = completionStatements(db, current, update);
  const reads = [
    db.select().from(generations).where(eq(generations.id, current.id)).limit(1),
    ...generationViewReads(
      db,
      db.select({ id: generations.id }).from(generations).where(eq(generations.id, current.id)),
    ),
    db.select().from(imageSessions).where(eq(imageSessions.id, current.sessionId)).limit(1),
  ] as const;
  const [, updated, , [row], outputRows, inputRows, links, [sessionRow]] =
    outputs.length > 0
      ? withoutFirst(
          await db.batch([
            db
              .insert(assets)
              .values([...outputs])
              .onConflictDoNothing(),
            cost,
            transition,
            stats,
            ...reads,
          ]),
        )
      : await db.batch([cost, transition, stats, ...reads]);
  const [generation] = row && options.view ? await assembleViews(db, [row], outputRows, inputRows, links) : [];
  return {
    changed: updated.length > 0,
    generation: generation ?? null,
    session: sessionRow ? toSessionView(sessionRow) : null,
  };
}

const withoutFirst = <T extends unknown[]>([, ...rest]: [unknown, ...T]): T => rest;

/**
 * The statements of a terminal move: the cost joins the ledger (only while the generation is not yet
 * terminal), the transition, and the session's counters after it (idempotent, so harmless when the
 * transition was already made by another path).
 */
function completionStatements(db: Database, current: GenerationRow, update: TerminalUpdate) {
  const startedAt = current.startedAt ?? update.startedAt;
  const durationFrom = startedAt ?? current.submittedAt ?? current.createdAt;
  return [
    recordCostStatement(db, current.id, update.cost ?? 0),
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
      .where(and(eq(generations.id, current.id), notInArray(generations.status, TERMINAL)))
      .returning({ id: generations.id }),
    sessionStatsUpdate(db, current.sessionId),
  ] as const;
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
    // Outputs recorded together share a time: the last of them is the latest.
    .orderBy(desc(assets.createdAt), desc(assets.outputIndex))
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
