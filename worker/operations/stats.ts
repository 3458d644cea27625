/**
 * Service-wide numbers for operators (`GET /api/admin/stats`): how generations fare over the last
 * hour and day. One D1 batch (one round trip) of aggregate queries over indexed time ranges.
 */
import { GENERATION_STATUSES, type GenerationStatus } from "@contract/api";
import { and, count, eq, gte, or, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { deadLetters, generations } from "../db/schema";

export type WindowStats = {
  /** Generations requested in the window, by their status now. */
  byStatus: Record<GenerationStatus, number>;
  /** Of the generations that finished in the window (cancellations aside), the share that succeeded. */
  successRate: number | null;
  /** From request to stored result, for generations that succeeded in the window. */
  timeToCompleteMs: { p50: number | null; p95: number | null };
  /** What brought finished generations their final state: a webhook, our own poll, or neither recorded. */
  completions: { webhook: number; poll: number; other: number };
  /** Completions that exhausted every retry and reached the dead-letter queue. */
  deadLetters: number;
};

export type OperationsStats = { generatedAt: string; lastHour: WindowStats; lastDay: WindowStats };

const HOUR_MS = 60 * 60 * 1000;
const PERCENTILES = { p50: 0.5, p95: 0.95 } as const;

/** Nearest-rank rank of a fraction among `total` values, as SQL. */
const rankOf = (total: SQL, fraction: number) => sql`max(1, CAST(round(${total} * ${fraction}) AS INTEGER))`;

function windowQueries(db: Database, since: Date) {
  const duration = sql<number>`${generations.completedAt} - ${generations.createdAt}`;
  const succeeded = db
    .select({
      ms: duration.as("ms"),
      rank: sql<number>`row_number() OVER (ORDER BY ${duration})`.as("rank"),
      total: sql<number>`count(*) OVER ()`.as("total"),
    })
    .from(generations)
    .where(and(gte(generations.completedAt, since), eq(generations.status, "succeeded")))
    .as("succeeded");
  return [
    db
      .select({ status: generations.status, n: count() })
      .from(generations)
      .where(gte(generations.createdAt, since))
      .groupBy(generations.status),
    db
      .select({ status: generations.status, via: generations.completedVia, n: count() })
      .from(generations)
      .where(gte(generations.completedAt, since))
      .groupBy(generations.status, generations.completedVia),
    // Both percentiles in one statement: the rows at their ranks.
    db
      .select({ ms: succeeded.ms, rank: succeeded.rank, total: succeeded.total })
      .from(succeeded)
      .where(
        or(
          eq(succeeded.rank, rankOf(sql`${succeeded.total}`, PERCENTILES.p50)),
          eq(succeeded.rank, rankOf(sql`${succeeded.total}`, PERCENTILES.p95)),
        ),
      ),
    db.select({ n: count() }).from(deadLetters).where(gte(deadLetters.receivedAt, since)),
  ] as const;
}

type WindowRows = {
  created: { status: GenerationStatus; n: number }[];
  finished: { status: GenerationStatus; via: string | null; n: number }[];
  ranked: { ms: number; rank: number; total: number }[];
  deadLetters: { n: number }[];
};

function percentile(rows: WindowRows["ranked"], fraction: number): number | null {
  const wanted = (total: number) => Math.max(1, Math.round(total * fraction));
  return rows.find((row) => row.rank === wanted(row.total))?.ms ?? null;
}

function summarise(rows: WindowRows): WindowStats {
  const byStatus = Object.fromEntries(GENERATION_STATUSES.map((status) => [status, 0])) as Record<
    GenerationStatus,
    number
  >;
  for (const row of rows.created) byStatus[row.status] = row.n;
  let succeeded = 0;
  let unsuccessful = 0;
  const completions = { webhook: 0, poll: 0, other: 0 };
  for (const row of rows.finished) {
    if (row.status === "succeeded") succeeded += row.n;
    else if (row.status === "failed" || row.status === "timed_out") unsuccessful += row.n;
    if (row.via === "webhook" || row.via === "poll") completions[row.via] += row.n;
    else completions.other += row.n;
  }
  return {
    byStatus,
    successRate: succeeded + unsuccessful > 0 ? succeeded / (succeeded + unsuccessful) : null,
    timeToCompleteMs: {
      p50: percentile(rows.ranked, PERCENTILES.p50),
      p95: percentile(rows.ranked, PERCENTILES.p95),
    },
    completions,
    deadLetters: rows.deadLetters[0]?.n ?? 0,
  };
}

export async function operationsStats(db: Database, now = Date.now()): Promise<OperationsStats> {
  const [created, finished, ranked, deadLetters, dayCreated, dayFinished, dayRanked, dayDeadLetters] = await db.batch([
    ...windowQueries(db, new Date(now - HOUR_MS)),
    ...windowQueries(db, new Date(now - 24 * HOUR_MS)),
  ]);
  return {
    generatedAt: new Date(now).toISOString(),
    lastHour: summarise({ created, finished, ranked, deadLetters }),
    lastDay: summarise({ created: dayCreated, finished: dayFinished, ranked: dayRanked, deadLetters: dayDeadLetters }),
  };
}
