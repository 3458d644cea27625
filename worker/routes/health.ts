import { sql } from "drizzle-orm";
import { Hono } from "hono";
import type { AppEnv } from "../http/types";
import { checkConfig } from "../lib/config";
import { ReplicateGateway } from "../replicate/gateway";

/** The probe is public: a burst of calls costs Replicate one lookup per isolate every few seconds. */
const REPLICATE_CHECK_TTL_MS = 5_000;
/** A probe answers promptly: a Replicate that takes longer than this is reported as not answering. */
const PROBE_TIMEOUT_MS = 5_000;
const replicateChecks = new Map<string, { at: number; reachable: Promise<boolean> }>();

function replicateReachable(gateway: ReplicateGateway, key: string): Promise<boolean> {
  const known = replicateChecks.get(key);
  if (known && Date.now() - known.at < REPLICATE_CHECK_TTL_MS) return known.reachable;
  const reachable = gateway.ping();
  replicateChecks.set(key, { at: Date.now(), reachable });
  return reachable;
}

/**
 * `GET /api/health`: whether D1, R2 and the Replicate backend answer, and whether the configuration
 * is complete (naming what is missing). 200 when the app can serve; 503 otherwise. Replicate being
 * down is reported without failing the probe: the app still serves everything already made.
 */
export const healthRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const configCheck = checkConfig(c.env);
  const config = configCheck.ok ? configCheck.config : null;
  const [d1, r2, replicate] = await Promise.all([
    c
      .get("db")
      .run(sql`select 1`)
      .then(
        () => true,
        () => false,
      ),
    c.env.BUCKET.head("health-check").then(
      () => true,
      () => false,
    ),
    config
      ? replicateReachable(
          new ReplicateGateway(config, { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, timeoutMs: PROBE_TIMEOUT_MS }),
          `${config.replicateBaseUrl}|${config.replicateToken}`,
        )
      : false,
  ]);
  const ok = d1 && r2 && configCheck.ok;
  return c.json(
    {
      ok,
      d1,
      r2,
      replicate,
      replicateBaseUrl: config?.replicateBaseUrl ?? null,
      config: configCheck.ok ? { ok: true } : { ok: false, errors: configCheck.error.problems },
    },
    ok ? 200 : 503,
  );
});
