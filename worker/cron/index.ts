/**
 * The cron entry: each job lives in its own file; a failing job is logged and does not stop the
 * others. Every job is bounded per run and safe to run twice.
 */
import { createDb } from "../db/client";
import { readConfig } from "../lib/config";
import { log } from "../lib/logger";
import { ReplicateGateway } from "../replicate/gateway";
import { purgeTrash } from "./purge-trash";
import { refreshModels } from "./refresh-models";
import { refreshActiveReferences } from "./refresh-references";
import { runRetention } from "./retention";
import { sweepStuckGenerations } from "./sweep-stuck";

export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const db = createDb(env.DB);
  const now = controller.scheduledTime;
  const jobs: [string, () => Promise<unknown>][] = [
    ["sweep-stuck", () => sweepStuckGenerations(db, env.SESSION_ROOM, now)],
    ["refresh-references", () => refreshActiveReferences(db, env.BUCKET, new ReplicateGateway(readConfig(env)), now)],
    ["retention", () => runRetention(db, env.BUCKET, now)],
    ["purge-trash", () => purgeTrash(env, db, now)],
    ["refresh-models", () => refreshModels(db, new ReplicateGateway(readConfig(env)), now)],
  ];
  for (const [name, job] of jobs) {
    try {
      await job();
    } catch (error) {
      log.error("cron.job_failed", { job: name, cron: controller.cron, error });
    }
  }
}
