import { eq } from "drizzle-orm";
import { Hono, type MiddlewareHandler } from "hono";
import { deleteAccount } from "../accounts/deletion";
import { users } from "../db/schema";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { notFound, ProblemError } from "../lib/problem";
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
  .get("/stats", async (c) => c.json(await operationsStats(c.get("db"))))
  // For an owner who asks by other means (and can no longer sign in): the same deletion as DELETE /api/me.
  .delete("/users/:id", async (c) => {
    const user = await c
      .get("db")
      .query.users.findFirst({ where: eq(users.id, c.req.param("id")), columns: { id: true, email: true } });
    if (!user) throw notFound("user");
    await deleteAccount(c.env, c.get("db"), c.get("config"), user);
    return c.body(null, 204);
  });
