import { sql } from "drizzle-orm";
import { Hono } from "hono";
import type { AppEnv } from "../http/types";
import { ReplicateGateway } from "../replicate/gateway";

export const healthRoutes = new Hono<AppEnv>().get("/", async (c) => {
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
    new ReplicateGateway(c.get("config"), { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }).ping(),
  ]);
  const ok = d1 && r2;
  return c.json({ ok, d1, r2, replicate, replicateBaseUrl: c.get("config").replicateBaseUrl }, ok ? 200 : 503);
});
