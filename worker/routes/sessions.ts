import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { createSessionSchema, listSessionsQuerySchema, renameSessionSchema } from "../contract/api";
import { onlyRow } from "../db/client";
import { imageSessions } from "../db/schema";
import { deleteSessionEverywhere } from "../generations/deletion";
import { sessionGenerationViews, toSessionView } from "../generations/views";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { createSession, findOwnedSession, listSessions } from "../sessions/queries";

export const sessionRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .post("/", validate("json", createSessionSchema), async (c) => {
    const row = await createSession(c.get("db"), c.get("user").id, c.req.valid("json"));
    return c.json(toSessionView(row), 201);
  })
  .get("/", validate("query", listSessionsQuerySchema), async (c) => {
    const page = await listSessions(c.get("db"), c.get("user").id, c.req.valid("query"));
    return c.json({ items: page.items.map(toSessionView), nextCursor: page.nextCursor });
  })
  .get("/:id", async (c) => {
    const db = c.get("db");
    const row = await findOwnedSession(db, c.get("user").id, c.req.param("id"));
    return c.json({ ...toSessionView(row), generations: await sessionGenerationViews(db, row.id) });
  })
  .patch("/:id", validate("json", renameSessionSchema), async (c) => {
    const db = c.get("db");
    const row = await findOwnedSession(db, c.get("user").id, c.req.param("id"));
    const updated = await db
      .update(imageSessions)
      .set({ title: c.req.valid("json").title, updatedAt: new Date() })
      .where(and(eq(imageSessions.id, row.id), eq(imageSessions.userId, row.userId)))
      .returning();
    return c.json(toSessionView(onlyRow(updated)));
  })
  .delete("/:id", async (c) => {
    const row = await findOwnedSession(c.get("db"), c.get("user").id, c.req.param("id"));
    await deleteSessionEverywhere(c.env, c.get("db"), row);
    return c.body(null, 204);
  });
