/**
 * The usage ledger (`usage_days`): one row per user and UTC day, counting the generations started
 * and what they cost. Written in the same atomic batch as the change it records, so it can never
 * count a generation twice nor miss one.
 */
import { TERMINAL_STATUSES } from "@contract/api";
import { and, eq, notInArray, type SQLWrapper, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { generations, usageDays } from "../db/schema";

/** The UTC day of a time, `YYYY-MM-DD`. */
export const dayOf = (time: Date | number): string => new Date(time).toISOString().slice(0, 10);

const TERMINAL = [...TERMINAL_STATUSES];

/** One more generation started today (a statement for the creation batch; the user may be a subquery in it). */
export function countGenerationStatement(db: Database, userId: string | SQLWrapper, day: string) {
  return db
    .insert(usageDays)
    .values({ userId: typeof userId === "string" ? userId : sql<string>`${userId}`, day, generations: 1, cost: 0 })
    .onConflictDoUpdate({
      target: [usageDays.userId, usageDays.day],
      set: { generations: sql`${usageDays.generations} + 1` },
    });
}

/**
 * Adds a generation's cost to the day it was started, only while it is not yet terminal: put in a
 * batch before the statement that completes it, the cost is recorded exactly once.
 */
export function recordCostStatement(db: Database, generationId: string, cost: number) {
  return db
    .insert(usageDays)
    .select(
      db
        .select({
          userId: generations.userId,
          day: sql<string>`strftime('%Y-%m-%d', ${generations.createdAt} / 1000, 'unixepoch')`.as("day"),
          generations: sql<number>`0`.as("generations"),
          cost: sql<number>`${cost}`.as("cost"),
        })
        .from(generations)
        .where(and(eq(generations.id, generationId), notInArray(generations.status, TERMINAL))),
    )
    .onConflictDoUpdate({
      target: [usageDays.userId, usageDays.day],
      set: { cost: sql`${usageDays.cost} + excluded.cost` },
    });
}
