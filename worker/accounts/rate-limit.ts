/**
 * Fixed-window rate limits kept in D1: one upsert per attempt, atomic, so concurrent requests all
 * count. Used to throttle sign-in and sign-up per account and per client IP.
 */
import { and, eq, gt, type SQLWrapper, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { rateLimits } from "../db/schema";
import { ProblemError } from "../lib/problem";

export type Limit = { name: string; max: number; windowSeconds: number };

/** A limit whose maximum may be known only inside the batch (in SQL; a null maximum limits nothing). */
export type LimitWithin = Omit<Limit, "max"> & { max: number | SQLWrapper };

export const LIMITS = {
  loginPerAccount: { name: "login:account", max: 10, windowSeconds: 15 * 60 },
  loginPerIp: { name: "login:ip", max: 30, windowSeconds: 15 * 60 },
  signupPerIp: { name: "signup:ip", max: 10, windowSeconds: 60 * 60 },
} satisfies Record<string, Limit>;

/**
 * Counts one attempt against `limit` for `subject`; throws 429 with Retry-After once over it (worded
 * by `describe` when given, with the limit named in the problem's `limit` member).
 */
export async function consumeRateLimit(
  db: Database,
  limit: Limit,
  subject: string,
  now = Date.now(),
  describe?: { detail: string; limitName: string },
): Promise<void> {
  const windowMs = limit.windowSeconds * 1000;
  const windowStart = Math.floor(now / windowMs) * windowMs;
  const key = `${limit.name}:${subject}`;
  const [row] = await db.all<{ count: number }>(sql`
    INSERT INTO rate_limits (key, window_start, count) VALUES (${key}, ${windowStart}, 1)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.count + 1 ELSE 1 END,
      window_start = excluded.window_start
    RETURNING count`);
  const count = row?.count ?? 0;
  if (count > limit.max) {
    const resetsAt = new Date(windowStart + windowMs).toISOString();
    const retryAfterSeconds = (windowStart + windowMs - now) / 1000;
    throw new ProblemError(429, describe ? describe.detail : "Too many attempts. Wait a little and try again.", {
      retryAfterSeconds,
      ...(describe ? { limit: { name: describe.limitName, max: limit.max, used: count - 1, resetsAt } } : {}),
    });
  }
}

/**
 * One attempt counted against `limit` for `subject`, as writes that go in the batch storing what the
 * attempt makes: the counter's upsert, then a guard that inserts a row with no key (which the table
 * refuses) when the count is over the limit, so the whole batch rolls back, counter included. Tell
 * that refusal apart with `isRateLimitRefusal`; `consumeRateLimit` then counts the attempt on its own
 * and answers 429 as it always has.
 */
export function rateLimitWrites(db: Database, limit: LimitWithin, subject: string | SQLWrapper, now = Date.now()) {
  const windowMs = limit.windowSeconds * 1000;
  const windowStart = Math.floor(now / windowMs) * windowMs;
  // A subject known only inside the batch (a subquery on the credential) names its counter there.
  const key = typeof subject === "string" ? `${limit.name}:${subject}` : sql<string>`${`${limit.name}:`} || ${subject}`;
  return [
    db
      .insert(rateLimits)
      .values({ key, windowStart, count: 1 })
      .onConflictDoUpdate({
        target: rateLimits.key,
        set: {
          count: sql`CASE WHEN ${rateLimits.windowStart} = excluded.window_start THEN ${rateLimits.count} + 1 ELSE 1 END`,
          windowStart: sql`excluded.window_start`,
        },
      }),
    db.insert(rateLimits).select(
      db
        .select({
          key: sql<string>`NULL`.as("key"),
          windowStart: sql<number>`0`.as("window_start"),
          count: sql<number>`0`.as("count"),
        })
        .from(rateLimits)
        .where(and(eq(rateLimits.key, key), gt(rateLimits.count, limit.max))),
    ),
  ] as const;
}

/** Whether a batch failed on the guard of `rateLimitWrites` (and nothing in it was stored). */
export function isRateLimitRefusal(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (/NOT NULL constraint failed: rate_limits\.key/.test(cause.message)) return true;
  }
  return false;
}

/** The client's address as Cloudflare reports it; absent when not behind Cloudflare (local runs). */
export const clientIp = (headers: Headers): string | null => headers.get("CF-Connecting-IP");

/** Drops counters whose window has long passed (run by the retention job). */
export async function pruneRateLimits(db: Database, now = Date.now()): Promise<void> {
  await db.run(sql`DELETE FROM rate_limits WHERE window_start < ${now - 24 * 60 * 60 * 1000}`);
}
