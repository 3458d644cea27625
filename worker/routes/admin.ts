import { Hono, type MiddlewareHandler } from "hono";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { ProblemError } from "../lib/problem";
import { operationsStats } from "../operations/stats";

/** Operators are the accounts ADMIN_EMAILS names; everyone else is signed in but not allowed. */
const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.get("config").adminEmails.includes(c.get("user").email.toLowerCase())) {
    throw new ProblemError(403, "Only the service's administrators can read this.");
  }
  await next();
};

export const adminRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .use(requireAdmin)
  .get("/stats", async (c) => c.json(await operationsStats(c.get("db"))));
