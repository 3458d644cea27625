/** `GET /api/usage`: the ledger by day, the most expensive sessions, today's quota. */
import type { Usage } from "@contract/api";
import { and, desc, eq, gt, gte, isNull, lte } from "drizzle-orm";
import type { Database } from "../db/client";
import { imageSessions, usageDays } from "../db/schema";
import type { AppConfig } from "../lib/config";
import { ProblemError } from "../lib/problem";
import { roundUsd } from "../models/prices";
import { dayOf } from "./ledger";
import { quotaOf } from "./limits";

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_DAYS = 30;
const MAX_DAYS = 366;
const TOP_SESSIONS = 5;

export async function usageOf(
  db: Database,
  config: AppConfig,
  userId: string,
  query: { from?: string | undefined; to?: string | undefined },
  now = Date.now(),
): Promise<Usage> {
  const to = query.to ?? dayOf(now);
  const from = query.from ?? dayOf(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * DAY_MS);
  const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
  if (!(span >= 1 && span <= MAX_DAYS)) {
    throw new ProblemError(400, `Ask for 1 to ${MAX_DAYS} days, from on or before to.`, {
      errors: [{ path: "from", message: `From ${from} to ${to} is not 1 to ${MAX_DAYS} days` }],
    });
  }
  const rows = await db
    .select()
    .from(usageDays)
    .where(and(eq(usageDays.userId, userId), gte(usageDays.day, from), lte(usageDays.day, to)));
  const byDay = new Map(rows.map((row) => [row.day, row]));
  const days: Usage["byDay"] = [];
  for (let i = 0; i < span; i++) {
    const day = dayOf(Date.parse(`${from}T00:00:00Z`) + i * DAY_MS);
    const row = byDay.get(day);
    days.push({ day, cost: roundUsd(row?.cost ?? 0), generations: row?.generations ?? 0 });
  }
  const top = await db
    .select({
      id: imageSessions.id,
      title: imageSessions.title,
      cost: imageSessions.totalCost,
      generations: imageSessions.generationCount,
    })
    .from(imageSessions)
    .where(and(eq(imageSessions.userId, userId), gt(imageSessions.totalCost, 0), isNull(imageSessions.trashedAt)))
    .orderBy(desc(imageSessions.totalCost))
    .limit(TOP_SESSIONS);
  return {
    totalCost: roundUsd(days.reduce((sum, day) => sum + day.cost, 0)),
    generations: days.reduce((sum, day) => sum + day.generations, 0),
    byDay: days,
    topSessions: top.map((session) => ({ ...session, cost: roundUsd(session.cost) })),
    quota: await quotaOf(db, config, userId, now),
  };
}
