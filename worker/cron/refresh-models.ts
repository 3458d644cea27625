/**
 * Cron job: keeps the cached input schemas of the catalog and of every added model fresh, a few per
 * run. A model Replicate cannot be asked about keeps the schema it had.
 */
import type { Database } from "../db/client";
import { log } from "../lib/logger";
import { refreshModelSchemas } from "../models/registry";
import type { ReplicateGateway } from "../replicate/gateway";

export async function refreshModels(db: Database, gateway: ReplicateGateway, now: number): Promise<void> {
  const { refreshed, failed } = await refreshModelSchemas(db, gateway, now);
  if (refreshed || failed) log.info("cron.models_refreshed", { refreshed, failed });
}
