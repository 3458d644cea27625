import { type GenerationPage, retryGenerationSchema } from "@contract/api";
import { Hono } from "hono";
import {
  afterTheAnswer,
  createGeneration,
  findOwnedGeneration,
  ownedGeneration,
  retryRequestOf,
} from "../generations/create";
import { generationViewSignedIn } from "../generations/views";
import { requireUser, signInWithin } from "../http/auth";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { notFound } from "../lib/problem";
import { ancestryOf } from "../sessions/generations";

/** Mounted at /api/generations (a generation is started in its session: /api/sessions/:id/generations). */
export const generationRoutes = new Hono<AppEnv>()
  // Signed in within the route's one call to D1: registered before `requireUser`. The owner is
  // checked in the same batch that reads the outputs and references; whatever was read for someone
  // else's id is dropped with the 404.
  .get("/:id", async (c) => {
    const db = c.get("db");
    const id = c.req.param("id");
    const { generation } = await generationViewSignedIn(db, await signInWithin(c), id, (userId) =>
      ownedGeneration(db, userId, id),
    );
    if (!generation) throw notFound("generation");
    return c.json(generation);
  })
  .use(requireUser)
  /** The generation's ancestry, root first, ending with the generation itself. */
  .get("/:id/ancestry", async (c) => {
    const db = c.get("db");
    const userId = c.get("user").id;
    const row = await findOwnedGeneration(db, userId, c.req.param("id"));
    return c.json({ items: await ancestryOf(db, userId, row.id), nextCursor: null } satisfies GenerationPage);
  })
  .post("/:id/cancel", async (c) => {
    const db = c.get("db");
    const row = await findOwnedGeneration(db, c.get("user").id, c.req.param("id"));
    const generation = await c.env.SESSION_ROOM.getByName(row.sessionId).cancel(row.id);
    if (!generation) throw notFound("generation");
    return c.json(generation);
  })
  /** Into the trash (canceled first if it is still queued or running); restorable for 30 days. */
  .delete("/:id", async (c) => {
    const row = await findOwnedGeneration(c.get("db"), c.get("user").id, c.req.param("id"));
    await c.env.SESSION_ROOM.getByName(row.sessionId).trashGeneration(row.id);
    return c.body(null, 204);
  })
  .post("/:id/retry", validate("json", retryGenerationSchema.optional()), async (c) => {
    const db = c.get("db");
    const userId = c.get("user").id;
    const original = await findOwnedGeneration(db, userId, c.req.param("id"));
    const generation = await createGeneration(
      c.env,
      db,
      { userId, sessionId: original.sessionId },
      await retryRequestOf(db, original, c.req.valid("json") ?? {}),
      afterTheAnswer(c.executionCtx),
    );
    return c.json(generation, 202);
  });
