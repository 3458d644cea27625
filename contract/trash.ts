/**
 * The trash: deleting a session (`DELETE /api/sessions/:id`), a generation (`DELETE
 * /api/generations/:id`) or one output (`DELETE /api/assets/:id`) moves it here. It is gone from
 * every list, the gallery and its session; `POST /api/trash/:id/restore` brings it back within
 * `TRASH_RETENTION_DAYS`, after which it is purged with its bytes.
 */
import { z } from "zod";
import { pageSchema, thumbnailSchema } from "./api";

export const TRASH_RETENTION_DAYS = 30;

export const trashKindSchema = z.enum(["session", "generation", "asset"]);
export type TrashKind = z.infer<typeof trashKindSchema>;

/** `GET /api/trash?limit=&cursor=`: most recently deleted first. */
export const listTrashQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
});
export type ListTrashQuery = z.infer<typeof listTrashQuerySchema>;

/**
 * One deleted thing. Only what was deleted itself is listed: a generation inside a deleted session
 * comes back with its session.
 */
export const trashItemSchema = z.object({
  /** The session's, generation's or asset's own id; `POST /api/trash/:id/restore` takes it. */
  id: z.string(),
  kind: trashKindSchema,
  /** The session's title, or the generation's prompt. */
  title: z.string(),
  sessionId: z.string(),
  sessionTitle: z.string(),
  /** The generation (for a generation or an output), else null. */
  generationId: z.string().nullable(),
  /** A picture of it (its newest image), when it has one. */
  thumbnailUrl: z.string().nullable(),
  thumbnails: z.array(thumbnailSchema),
  /** How many images go and come back with it. */
  imageCount: z.number(),
  trashedAt: z.string(),
  /** When it will be removed for good, with its bytes. */
  purgeAt: z.string(),
});
export type TrashItem = z.infer<typeof trashItemSchema>;

export const trashPageSchema = pageSchema(trashItemSchema);
export type TrashPage = z.infer<typeof trashPageSchema>;

/** `POST /api/trash/:id/restore` → 200: what came back (as it was listed). */
export const restoredSchema = trashItemSchema;
export type Restored = z.infer<typeof restoredSchema>;
