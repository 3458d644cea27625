/**
 * Cron jobs: refreshing Replicate copies of references in use, and the sweep, the last-resort poll: generations submitted long ago that are still not
 * terminal (every webhook lost, and the Durable Object's alarm somehow not firing) get their
 * session's room nudged to ask Replicate directly.
 */
import { and, inArray, lt } from "drizzle-orm";
import { createDb } from "./db/client";
import { generations } from "./db/schema";
import { readConfig } from "./lib/config";
import { log } from "./lib/logger";
import { refreshActiveReferences } from "./references/refresh";
import { ReplicateGateway } from "./replicate/gateway";

export const STUCK_AFTER_MS = 2 * 60_000;
const SWEEP_LIMIT = 500;

export async function sweepStuckGenerations(env: Env, now: number = Date.now()): Promise<number> {
  const db = createDb(env.DB);
  const stuck = await db
    .selectDistinct({ sessionId: generations.sessionId })
    .from(generations)
    .where(and(inArray(generations.status, ["starting", "running"]), lt(generations.submittedAt, new Date(now - STUCK_AFTER_MS))))
    .limit(SWEEP_LIMIT);
  for (const { sessionId } of stuck) await env.SESSION_ROOM.getByName(sessionId).sweep();
  if (stuck.length) log.info("cron.swept_stuck_sessions", { sessions: stuck.length });
  return stuck.length;
}

export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
  log.info("cron.start", { cron: controller.cron });
  await sweepStuckGenerations(env, controller.scheduledTime);
  await refreshActiveReferences(createDb(env.DB), env.BUCKET, new ReplicateGateway(readConfig(env)), controller.scheduledTime);
}
