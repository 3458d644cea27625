import { usageQuerySchema } from "@contract/api";
import { Hono } from "hono";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { usageOf } from "../usage/queries";

/** Mounted at /api/usage: what this user spent, by day, their most expensive sessions, and today's quota. */
export const usageRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .get("/", validate("query", usageQuerySchema), async (c) =>
    c.json(await usageOf(c.get("db"), c.get("config"), c.get("user").id, c.req.valid("query"))),
  );
