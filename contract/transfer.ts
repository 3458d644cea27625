/**
 * Export and import of a session. `GET /api/sessions/:id/export` answers the versioned document
 * below as JSON; `?format=zip` answers a zip whose first entry is `manifest.json` (the same
 * document, each asset naming its `file` in the zip) followed by the bytes. `POST
 * /api/sessions/import` takes either (`Content-Type: application/json` or `application/zip`) and
 * recreates the session for the caller with new ids and the same shape → 201 `ImportResult`. A
 * document that is malformed or inconsistent is refused whole: 400 with `errors[].path` naming the
 * field at fault (e.g. `generations.3.parentGenerationId`), and nothing is created.
 *
 * Ids inside a document only link its parts together; import never reuses them.
 */
import { z } from "zod";
import { generationParamsSchema, generationStatusSchema, sessionSchema } from "./api";

export const EXPORT_VERSION = 1;
export const MAX_IMPORT_GENERATIONS = 2_000;
export const MAX_IMPORT_ASSETS = 8_000;
/** The largest document (JSON) and zip an import takes. */
export const MAX_IMPORT_JSON_BYTES = 16 * 1024 * 1024;
export const MAX_IMPORT_ZIP_BYTES = 96 * 1024 * 1024;
export const MANIFEST_FILE = "manifest.json";

const documentId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, { message: "Letters, digits, - and _ only" });
const timestamp = z.iso.datetime({ offset: true });
const text = (max: number) => z.string().max(max);

export const exportAssetSchema = z.object({
  id: documentId,
  /** `reference`: a reference image a generation used. */
  role: z.enum(["input", "mask", "output", "reference"]),
  /** The generation an output belongs to (an id of this document), else null. */
  generationId: documentId.nullable(),
  outputIndex: z.number().int().min(0).max(63).nullable(),
  mimeType: z.enum(["image/png", "image/jpeg", "image/webp", "image/gif", "video/mp4"]),
  sizeBytes: z
    .number()
    .int()
    .min(1)
    .max(200 * 1024 * 1024),
  width: z.number().int().min(1).max(100_000).nullable(),
  height: z.number().int().min(1).max(100_000).nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { message: "A lowercase hex SHA-256" }),
  /** A reference image's original file name. */
  originalName: text(255).nullable().optional(),
  createdAt: timestamp,
  /** In a zip export: the entry holding the bytes (`assets/<id>.<ext>`). */
  file: z
    .string()
    .max(200)
    .regex(/^assets\/[A-Za-z0-9_-]+\.[a-z0-9]+$/, { message: "An entry under assets/" })
    .optional(),
});
export type ExportAsset = z.infer<typeof exportAssetSchema>;

export const exportGenerationSchema = z.object({
  id: documentId,
  parentGenerationId: documentId.nullable(),
  sourceOutputIndex: z.number().int().min(0).max(63).nullable(),
  sourceAssetId: documentId.nullable(),
  maskAssetId: documentId.nullable(),
  referenceAssetIds: z.array(documentId).max(8),
  status: generationStatusSchema,
  model: z
    .string()
    .max(200)
    .regex(/^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*$/i, { message: "Use the form owner/name" }),
  prompt: z.string().trim().min(1).max(4000),
  negativePrompt: text(4000).nullable(),
  params: generationParamsSchema,
  error: text(4000).nullable(),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  completedAt: timestamp.nullable(),
  durationMs: z.number().int().min(0).nullable(),
});
export type ExportGeneration = z.infer<typeof exportGenerationSchema>;

export const exportDocumentSchema = z.object({
  version: z.literal(EXPORT_VERSION, { error: `Only version ${EXPORT_VERSION} documents can be imported` }),
  exportedAt: timestamp,
  session: z.object({
    title: z.string().trim().min(1).max(200),
    model: z.string().max(200).nullable(),
    createdAt: timestamp,
  }),
  /** Oldest first; a parent always comes before its children. */
  generations: z.array(exportGenerationSchema).max(MAX_IMPORT_GENERATIONS),
  assets: z.array(exportAssetSchema).max(MAX_IMPORT_ASSETS),
});
export type ExportDocument = z.infer<typeof exportDocumentSchema>;

/** `POST /api/sessions/import` → 201: the new session, and what could not be brought along. */
export const importResultSchema = sessionSchema.extend({
  importedGenerations: z.number(),
  importedAssets: z.number(),
  /**
   * Assets of the document whose bytes were neither in the zip nor already in this account (a JSON
   * document carries no bytes): their generations are imported without them.
   */
  missingAssets: z.array(z.string()),
});
export type ImportResult = z.infer<typeof importResultSchema>;

/** `GET /api/sessions/:id/export?format=json|zip` (default json). */
export const exportQuerySchema = z.object({ format: z.enum(["json", "zip"]).default("json") });
