/**
 * The one WebSocket message union of the live session channel, shared by the session's Durable
 * Object (which sends) and the web app (which receives).
 */
import { z } from "zod";
import { generationSchema, sessionSchema } from "./api";

export const liveServerMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("snapshot"),
    session: sessionSchema,
    /** The newest generations (a bounded page, oldest first), as `GET /api/sessions/:id` gives them. */
    generations: z.array(generationSchema),
    /** Older generations: `GET /api/sessions/:id/generations?cursor=`; null when there are none. */
    generationsCursor: z.string().nullable(),
  }),
  z.object({ type: z.literal("generation.updated"), generation: generationSchema }),
  z.object({
    type: z.literal("generation.progress"),
    generationId: z.string(),
    progress: z.number().min(0).max(1),
  }),
  z.object({ type: z.literal("generation.deleted"), generationId: z.string() }),
  z.object({ type: z.literal("session.updated"), session: sessionSchema }),
  z.object({ type: z.literal("pong") }),
  z.object({ type: z.literal("error"), detail: z.string() }),
]);
export type LiveServerMessage = z.infer<typeof liveServerMessageSchema>;

export const liveClientMessageSchema = z.discriminatedUnion("type", [z.object({ type: z.literal("ping") })]);
export type LiveClientMessage = z.infer<typeof liveClientMessageSchema>;
