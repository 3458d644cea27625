/**
 * Limits on starting generations: a per-user rate (per minute) and a daily quota of generations and
 * of cost. Defaults come from configuration; `account_limits` can set other values per user. Over a
 * limit nothing is stored or submitted: 429 with Retry-After for the rate, 403 for the daily quota,
 * each naming the limit and when it resets.
 */
import { TERMINAL_STATUSES, type Usage } from "@contract/api";
import { and, eq, gte, notInArray, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { Limit, LimitWithin } from "../accounts/rate-limit";
import type { Database } from "../db/client";
import { accountLimits, generations, usageDays } from "../db/schema";
import type { AppConfig } from "../lib/config";
import { ProblemError } from "../lib/problem";
import { roundUsd, USD_ROUNDING } from "../models/prices";
import { dayOf } from "./ledger";

const TERMINAL = [...TERMINAL_STATUSES];

export type Limits = { perMinute: number | null; dailyGenerations: number | null; dailyCostUsd: number | null };

const limitsOf = (config: AppConfig, own: typeof accountLimits.$inferSelect | undefined): Limits => ({
  perMinute: own?.generationsPerMinute ?? config.limits.perMinute,
  dailyGenerations: own?.dailyGenerations ?? config.limits.dailyGenerations,
  dailyCostUsd: own?.dailyCostUsd ?? config.limits.dailyCostUsd,
});

const nextUtcMidnight = (now: number): Date => {
  const date = new Date(now);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1));
};

/**
 * The reads behind the user's limits and today's use (generations started and their cost, plus the
 * estimates of those still running, summed in D1), to go in one batch, alone or with other reads
 * (which may name the user by a subquery on the credential: see `signInWithin`).
 */
export function limitsReads(db: Database, userId: string | SQLWrapper, now: number) {
  const day = dayOf(now);
  const startOfDay = new Date(`${day}T00:00:00.000Z`);
  return [
    db.select().from(accountLimits).where(eq(accountLimits.userId, userId)).limit(1),
    db
      .select()
      .from(usageDays)
      .where(and(eq(usageDays.userId, userId), eq(usageDays.day, day)))
      .limit(1),
    db
      .select({ pending: sql<number>`coalesce(sum(${generations.estimatedCost}), 0)` })
      .from(generations)
      .where(
        and(
          eq(generations.userId, userId),
          gte(generations.createdAt, startOfDay),
          notInArray(generations.status, TERMINAL),
        ),
      ),
  ] as const;
}

type LimitsReadResults = readonly [
  own: (typeof accountLimits.$inferSelect)[],
  ledger: (typeof usageDays.$inferSelect)[],
  today: { pending: number }[],
];

/** The user's limits and today's use, from what `limitsReads` read. */
export function limitsAndTodaysUse(config: AppConfig, [own, ledger, today]: LimitsReadResults, now: number) {
  const use = {
    day: dayOf(now),
    generations: ledger[0]?.generations ?? 0,
    cost: ledger[0]?.cost ?? 0,
    pending: today[0]?.pending ?? 0,
  };
  return { limits: limitsOf(config, own[0]), use };
}

export type LimitsAndUse = ReturnType<typeof limitsAndTodaysUse>;

/** The per-minute rate of starting generations, for `rateLimitWrites`. */
export const generationRate = (perMinute: number): Limit => ({
  name: "generate:user",
  max: perMinute,
  windowSeconds: 60,
});

/**
 * The per-minute rate for `rateLimitWrites` when the user is known only inside the batch: their own
 * limit, else the configured one; with neither, the attempt is counted and never refused.
 */
export const generationRateWithin = (userId: string | SQLWrapper, config: AppConfig): LimitWithin => ({
  name: "generate:user",
  max: sql<
    number | null
  >`coalesce((SELECT ${accountLimits.generationsPerMinute} FROM ${accountLimits} WHERE ${accountLimits.userId} = ${userId}), ${config.limits.perMinute})`,
  windowSeconds: 60,
});

/**
 * `enforceDailyLimits` as a condition in SQL, for a batch that stores the generation only if it
 * holds. Stricter than the check in JavaScript by its rounding of what was spent (to the
 * micro-dollar), so that it never accepts what that check would refuse.
 */
export function withinDailyLimits(
  userId: string | SQLWrapper,
  config: AppConfig,
  estimate: number | null,
  now: number,
): SQL {
  const day = dayOf(now);
  const startOfDay = new Date(`${day}T00:00:00.000Z`);
  const own = (
    column: typeof accountLimits.dailyGenerations | typeof accountLimits.dailyCostUsd,
    fallback: number | null,
  ) => sql`coalesce((SELECT ${column} FROM ${accountLimits} WHERE ${accountLimits.userId} = ${userId}), ${fallback})`;
  const ledger = (column: typeof usageDays.generations | typeof usageDays.cost) =>
    sql`coalesce((SELECT ${column} FROM ${usageDays} WHERE ${usageDays.userId} = ${userId} AND ${usageDays.day} = ${day}), 0)`;
  const pending = sql`(SELECT coalesce(sum(${generations.estimatedCost}), 0) FROM ${generations} WHERE ${and(
    eq(generations.userId, userId),
    gte(generations.createdAt, startOfDay),
    notInArray(generations.status, TERMINAL),
  )})`;
  const generationsLimit = own(accountLimits.dailyGenerations, config.limits.dailyGenerations);
  const costLimit = own(accountLimits.dailyCostUsd, config.limits.dailyCostUsd);
  return sql`(${generationsLimit} IS NULL OR ${ledger(usageDays.generations)} + 1 <= ${generationsLimit}) AND (${costLimit} IS NULL OR ${ledger(usageDays.cost)} + ${pending} + ${estimate ?? 0} <= ${costLimit} - ${USD_ROUNDING})`;
}

/** How a refusal for the per-minute rate is worded. */
export const generationRateWording = (perMinute: number) => ({
  detail: `Too many generations at once: at most ${perMinute} a minute.`,
  limitName: "generations_per_minute",
});

/**
 * Throws 403 problem+json when starting one more generation (expected to cost `estimate`) is over
 * a daily limit. The per-minute rate is counted by the caller, with the generation it stores.
 */
export function enforceDailyLimits({ limits, use }: LimitsAndUse, estimate: number | null, now: number): void {
  const resetsAt = nextUtcMidnight(now).toISOString();
  if (limits.dailyGenerations !== null && use.generations + 1 > limits.dailyGenerations) {
    throw new ProblemError(
      403,
      `Daily limit reached: ${limits.dailyGenerations} generations a day. It resets at ${resetsAt} (midnight UTC).`,
      {
        title: "Daily quota reached",
        limit: { name: "daily_generations", max: limits.dailyGenerations, used: use.generations, resetsAt },
      },
    );
  }
  const committed = roundUsd(use.cost + use.pending);
  if (limits.dailyCostUsd !== null && committed + (estimate ?? 0) > limits.dailyCostUsd) {
    throw new ProblemError(
      403,
      `Daily spending limit reached: $${limits.dailyCostUsd.toFixed(2)} a day, $${committed.toFixed(2)} spent or running${estimate ? `, and this would cost about $${estimate.toFixed(3)}` : ""}. It resets at ${resetsAt} (midnight UTC).`,
      {
        title: "Daily quota reached",
        limit: { name: "daily_cost_usd", max: limits.dailyCostUsd, used: committed, resetsAt },
      },
    );
  }
}

/** Today's quota and what is left of it. */
export async function quotaOf(
  db: Database,
  config: AppConfig,
  userId: string,
  now = Date.now(),
): Promise<Usage["quota"]> {
  const { limits, use } = limitsAndTodaysUse(config, await db.batch(limitsReads(db, userId, now)), now);
  return {
    day: use.day,
    generations: { used: use.generations, limit: limits.dailyGenerations },
    cost: { used: roundUsd(use.cost + use.pending), limit: limits.dailyCostUsd },
    perMinute: limits.perMinute,
    resetsAt: nextUtcMidnight(now).toISOString(),
  };
}
