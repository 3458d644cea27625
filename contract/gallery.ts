/**
 * The gallery: every output across sessions, newest first (`GET /api/images`), and favourites
 * (`PUT` / `DELETE /api/assets/:id/favorite`, 204).
 */
import { z } from "zod";
import { assetSchema, dateRangeQuerySchema, generationParamsSchema, generationStatusSchema, pageSchema } from "./api";

const booleanFlag = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");

/**
 * `GET /api/images?limit=&cursor=&q=&sessionId=&model=&status=&from=&to=&minWidth=&minHeight=&favorite=`.
 * Every filter narrows the others (AND). `q`: each word must start a word of the prompt or of the
 * session title (case and accents ignored). `status` is the status of the image's generation.
 */
export const listImagesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(200).optional(),
    q: z.string().trim().max(200).optional(),
    sessionId: z.string().min(1).max(64).optional(),
    model: z.string().min(1).max(200).optional(),
    status: generationStatusSchema.optional(),
    minWidth: z.coerce.number().int().min(1).max(100_000).optional(),
    minHeight: z.coerce.number().int().min(1).max(100_000).optional(),
    /** `true`: favourites only; `false`: all but favourites. */
    favorite: booleanFlag.optional(),
  })
  .extend(dateRangeQuerySchema.shape);
export type ListImagesQuery = z.infer<typeof listImagesQuerySchema>;
/** The query as the web app writes it (strings, before the server's defaults and parsing). */
export type ListImagesParams = z.input<typeof listImagesQuerySchema>;

export const galleryItemSchema = assetSchema.extend({
  generationId: z.string(),
  sessionId: z.string(),
  sessionTitle: z.string(),
  prompt: z.string(),
  negativePrompt: z.string().nullable(),
  model: z.string(),
  params: generationParamsSchema,
  /** The status of the generation that made it. */
  status: generationStatusSchema,
  /** Its place among its generation's outputs (0 for the first). */
  outputIndex: z.number(),
  favorite: z.boolean(),
  /** A readable file name (session title or prompt, and the output's number), e.g. `red-fox-in-snow-2.webp`. */
  downloadName: z.string(),
  /** The bytes as an attachment named `downloadName`. */
  downloadUrl: z.string(),
});
export type GalleryItem = z.infer<typeof galleryItemSchema>;

export const galleryPageSchema = pageSchema(galleryItemSchema);
export type GalleryPage = z.infer<typeof galleryPageSchema>;
