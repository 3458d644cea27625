import { Hono } from "hono";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { ProblemError } from "../lib/problem";
import { findOwnedSession } from "../sessions/queries";

/**
 * The live session channel: authenticated and authorised here, then handed to the session's
 * Durable Object, which holds the (hibernating) socket.
 */
export const liveRoutes = new Hono<AppEnv>().get("/:id/live", requireUser, async (c) => {
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
