import {
  cloneSessionSchema,
  createGenerationSchema,
  createSessionSchema,
  type GenerationPage,
  listSessionsQuerySchema,
  renameSessionSchema,
  type Session,
  type SessionDetail,
  type SessionPage,
  sessionDetailQuerySchema,
  sessionGenerationsQuerySchema,
} from "@contract/api";
import { type ExportDocument, exportQuerySchema, type ImportResult } from "@contract/transfer";
import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { onlyRow } from "../db/client";
import { imageSessions } from "../db/schema";
import { createGeneration } from "../generations/create";
import { deleteSessionEverywhere } from "../generations/deletion";
import { sessionGenerationViews, toSessionView } from "../generations/views";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { notYetImplemented, ProblemError } from "../lib/problem";
import { createSession, findOwnedSession, listSessions } from "../sessions/queries";

/** Mounted at /api/sessions: sessions, the generations started in them, and their live channel. */
export const sessionRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .post("/", validate("json", createSessionSchema), async (c) => {
    const row = await createSession(c.get("db"), c.get("user").id, c.req.valid("json"));
    return c.json(toSessionView(row), 201);
  })
  .get("/", validate("query", listSessionsQuerySchema), async (c) => {
    const page = await listSessions(c.get("db"), c.get("user").id, c.req.valid("query"));
    return c.json({ items: page.items.map(toSessionView), nextCursor: page.nextCursor } satisfies SessionPage);
  })
  .post("/import", async (c) => c.json(notYetImplemented<ImportResult>(), 201))
  .get("/:id", validate("query", sessionDetailQuerySchema), async (c) => {
    const db = c.get("db");
    const row = await findOwnedSession(db, c.get("user").id, c.req.param("id"));
    return c.json({
      ...toSessionView(row),
      generations: await sessionGenerationViews(db, row.id),
      generationsCursor: null,
    } satisfies SessionDetail);
  })
  .get("/:id/generations", validate("query", sessionGenerationsQuerySchema), async (c) => {
    await findOwnedSession(c.get("db"), c.get("user").id, c.req.param("id"));
    return c.json(notYetImplemented<GenerationPage>());
  })
  .post("/:id/clone", validate("json", cloneSessionSchema.optional()), async (c) => {
    await findOwnedSession(c.get("db"), c.get("user").id, c.req.param("id"));
    return c.json(notYetImplemented<Session>(), 201);
  })
  .get("/:id/export", validate("query", exportQuerySchema), async (c) => {
    await findOwnedSession(c.get("db"), c.get("user").id, c.req.param("id"));
    return c.json(notYetImplemented<ExportDocument>());
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
  })
  .post("/:id/generations", validate("json", createGenerationSchema), async (c) => {
    const db = c.get("db");
    const session = await findOwnedSession(db, c.get("user").id, c.req.param("id"));
    const generation = await createGeneration(c.env, db, session, c.req.valid("json"));
    return c.json(generation, 202);
  })
  // The live session channel: authenticated and authorised here, then handed to the session's
  // Durable Object, which holds the (hibernating) socket.
  .get("/:id/live", async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new ProblemError(426, "This endpoint speaks WebSocket only.");
    }
    // Browsers always send Origin on WebSocket handshakes; a foreign one is a cross-site hijack attempt.
    const origin = c.req.header("Origin");
    if (origin && origin !== new URL(c.req.url).origin)
      throw new ProblemError(403, "Cross-origin WebSockets are not allowed.");
    const session = await findOwnedSession(c.get("db"), c.get("user").id, c.req.param("id"));
    const headers = new Headers(c.req.raw.headers);
    headers.set("X-Studio-User", c.get("user").id);
    headers.set("X-Studio-Session", session.id);
    return c.env.SESSION_ROOM.getByName(session.id).fetch(new Request(c.req.url, { headers }));
  });
