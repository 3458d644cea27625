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
import { fileStem } from "../gallery/views";
import { afterTheAnswer, createGeneration } from "../generations/create";
import { toSessionView } from "../generations/views";
import { requireUser, signInWithin, validateSigningInFirst } from "../http/auth";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { notFound, ProblemError } from "../lib/problem";
import { cloneSession } from "../sessions/clone";
import { ancestryOf, sessionGenerationsPage, sessionWithNewestPage } from "../sessions/generations";
import { createSession, findOwnedSession, listSessions } from "../sessions/queries";
import { buildExport, exportZip } from "../transfer/export";
import { importSession, readImport } from "../transfer/import";
import { trashSession } from "../trash/trash";

/** Mounted at /api/sessions: sessions, the generations started in them, and their live channel. */
export const sessionRoutes = new Hono<AppEnv>()
  // Signed in within the route's one call to D1: registered before `requireUser`.
  .get("/:id", validateSigningInFirst("query", sessionDetailQuerySchema), async (c) => {
    const db = c.get("db");
    const signIn = await signInWithin(c);
    const { limit, lineageOf } = c.req.valid("query");
    const id = c.req.param("id");
    const { user, found } = await sessionWithNewestPage(db, signIn, id, limit);
    if (!found) throw notFound("session");
    const { session: row, ...page } = found;
    // The selected lineage comes along, wherever it sits in the session's history.
    const lineage = lineageOf ? (await ancestryOf(db, user.id, lineageOf)).filter((g) => g.sessionId === row.id) : [];
    const onPage = new Set(page.generations.map((generation) => generation.id));
    const generations = [...lineage.filter((generation) => !onPage.has(generation.id)), ...page.generations].sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
    );
    return c.json({
      ...toSessionView(row),
      generations,
      generationsCursor: page.generationsCursor,
    } satisfies SessionDetail);
  })
  // Signed in within the route's first call to D1: the one that stores the generation, or else the
  // batch of every read its checks need (see `createGeneration`).
  .post("/:id/generations", validateSigningInFirst("json", createGenerationSchema), async (c) => {
    const owner = { signIn: await signInWithin(c), sessionId: c.req.param("id") };
    const generation = await createGeneration(
      c.env,
      c.get("db"),
      owner,
      c.req.valid("json"),
      afterTheAnswer(c.executionCtx),
    );
    return c.json(generation, 202);
  })
  .use(requireUser)
  .post("/", validate("json", createSessionSchema), async (c) => {
    const row = await createSession(c.get("db"), c.get("user").id, c.req.valid("json"));
    return c.json(toSessionView(row), 201);
  })
  .get("/", validate("query", listSessionsQuerySchema), async (c) => {
    const page = await listSessions(c.get("db"), c.get("user").id, c.req.valid("query"));
    return c.json({ items: page.items.map(toSessionView), nextCursor: page.nextCursor } satisfies SessionPage);
  })
  /** An export document (JSON) or an export zip → a new session of the caller's, with new ids. */
  .post("/import", async (c) => {
    const db = c.get("db");
    const outcome = await importSession(c.env, db, c.get("user").id, await readImport(c.req.raw));
    const { session, ...counts } = outcome;
    return c.json({ ...toSessionView(session), ...counts } satisfies ImportResult, 201);
  })
  .get("/:id/generations", validate("query", sessionGenerationsQuerySchema), async (c) => {
    const db = c.get("db");
    const row = await findOwnedSession(db, c.get("user").id, c.req.param("id"));
    return c.json((await sessionGenerationsPage(db, row.id, c.req.valid("query"))) satisfies GenerationPage);
  })
  .post("/:id/clone", validate("json", cloneSessionSchema.optional()), async (c) => {
    const db = c.get("db");
    const row = await findOwnedSession(db, c.get("user").id, c.req.param("id"));
    const copy = await cloneSession(db, row, c.req.valid("json")?.title);
    return c.json(toSessionView(copy) satisfies Session, 201);
  })
  .get("/:id/export", validate("query", exportQuerySchema), async (c) => {
    const db = c.get("db");
    const row = await findOwnedSession(db, c.get("user").id, c.req.param("id"));
    const zip = c.req.valid("query").format === "zip";
    const exported = await buildExport(db, row, zip);
    const name = fileStem(row.title, "session");
    if (!zip) {
      c.header("Content-Disposition", `attachment; filename="${name}.json"`);
      return c.json(exported.document satisfies ExportDocument);
    }
    // An output announced a moment ago may still be on its way to R2: the zip takes it once it is there.
    await c.env.SESSION_ROOM.getByName(row.id).outputsStored();
    const { stream, done } = exportZip(c.env.BUCKET, exported);
    c.executionCtx.waitUntil(done);
    return c.body(stream, 200, {
      "Content-Type": "application/zip",
      "Content-Disposition": `attachment; filename="${name}.zip"`,
    });
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
    // Into the trash: restorable for 30 days (POST /api/trash/:id/restore).
    const row = await findOwnedSession(c.get("db"), c.get("user").id, c.req.param("id"));
    await trashSession(c.env, c.get("db"), row);
    return c.body(null, 204);
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
