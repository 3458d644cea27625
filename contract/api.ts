/**
 * The HTTP contract shared by the Worker and the web app: request bodies are validated with these
 * schemas on the server, and the web app types (and, where useful, parses) responses with them.
 * Field names are fixed by the public API contract; add, never rename.
 */
import { z } from "zod";

export const GENERATION_STATUSES = [
  "queued",
  "starting",
  "running",
  "succeeded",
  "failed",
  "canceled",
  "timed_out",
] as const;
export const generationStatusSchema = z.enum(GENERATION_STATUSES);
export type GenerationStatus = z.infer<typeof generationStatusSchema>;

export const TERMINAL_STATUSES: ReadonlySet<GenerationStatus> = new Set([
  "succeeded",
  "failed",
  "canceled",
  "timed_out",
]);
export const isTerminalStatus = (status: GenerationStatus): boolean => TERMINAL_STATUSES.has(status);

export { type Problem, problemSchema } from "./problem";

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

export const credentialsSchema = z.object({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.email({ message: "Enter a valid email address" })),
  password: z
    .string()
    .min(8, { message: "Use at least 8 characters" })
    .max(256, { message: "Use at most 256 characters" }),
});
export type Credentials = z.infer<typeof credentialsSchema>;

export const createTokenSchema = z.object({ name: z.string().trim().min(1).max(100) });

/** `DELETE /api/me`: a browser (cookie) confirms with the password; a bearer token may omit it. */
export const deleteAccountSchema = z.object({ password: z.string().max(256).optional() });

const modelIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*$/i, { message: "Use the form owner/name" });

/** A public Replicate model to add: `owner/name` (its latest version) or `owner/name:version`. */
export const addModelSchema = z.object({
  id: z
    .string()
    .trim()
    .max(200)
    .regex(/^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*(:[0-9a-f]{64})?$/i, {
      message: "Use owner/name or owner/name:version (a 64-character version id)",
    }),
});
export type AddModelRequest = z.infer<typeof addModelSchema>;

export const createSessionSchema = z.object({
  title: z.string().trim().min(1).max(200).optional(),
  model: modelIdSchema.optional(),
});
export type CreateSessionRequest = z.infer<typeof createSessionSchema>;

export const renameSessionSchema = z.object({ title: z.string().trim().min(1).max(200) });

export const generationParamsSchema = z
  .object({
    width: z.number().int().min(64).max(2048).optional(),
    height: z.number().int().min(64).max(2048).optional(),
    steps: z.number().int().min(1).max(500).optional(),
    guidance: z.number().min(0).max(50).optional(),
    strength: z.number().min(0).max(1).optional(),
    scheduler: z.string().max(64).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional(),
    numOutputs: z.number().int().min(1).max(4).optional(),
  })
  // Model-specific inputs (e.g. `aspect_ratio`, `output_format`) pass through and are checked
  // against the model's own schema.
  .catchall(z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]));
export type GenerationParams = z.infer<typeof generationParamsSchema>;

export const createGenerationSchema = z.object({
  model: modelIdSchema,
  prompt: z.string().trim().min(1, { message: "Describe the image" }).max(4000),
  negativePrompt: z.string().trim().max(4000).optional(),
  params: generationParamsSchema.optional(),
  parentGenerationId: z.string().min(1).max(64).optional(),
  /**
   * Which output of the parent to start from (default 0). Lets a child be queued while its parent is
   * still running, before the output has an asset id.
   */
  sourceOutputIndex: z.number().int().min(0).max(15).optional(),
  sourceAssetId: z.string().min(1).max(64).optional(),
  maskAssetId: z.string().min(1).max(64).optional(),
  referenceImageIds: z.array(z.string().min(1).max(64)).max(8).optional(),
});
export type CreateGenerationRequest = z.infer<typeof createGenerationSchema>;

export const retryGenerationSchema = z.object({
  /** Regenerate with a fresh random seed instead of repeating the same one. */
  newSeed: z.boolean().optional(),
});

export const uploadRoleSchema = z.enum(["input", "mask"]);

const DAY_MS = 24 * 60 * 60 * 1000;
const isoDateOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: "Use an ISO 8601 date (2026-03-01) or date-time (2026-03-01T12:00:00Z)",
});

/**
 * A date range in query strings, as epoch milliseconds: `from` inclusive (a date starts at 00:00
 * UTC), `to` inclusive (a date runs to the end of that UTC day, a date-time is that instant).
 */
export const dateRangeQuerySchema = z.object({
  from: isoDateOrTime.transform((value) => Date.parse(value)).optional(),
  to: isoDateOrTime.transform((value) => Date.parse(value) + (value.length === 10 ? DAY_MS : 1)).optional(),
});

/** Search words: each must start a word of the prompt or of the session title (case and accents ignored). */
const searchQuerySchema = z.string().trim().max(200).optional();

export const listSessionsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(24),
    cursor: z.string().max(200).optional(),
    /** Matches the session's title and the prompts of its generations. */
    q: searchQuerySchema,
    sort: z.enum(["updated", "created", "generations", "successRate"]).default("updated"),
    order: z.enum(["desc", "asc"]).default("desc"),
    /**
     * `model`, `status`, `from` and `to` keep the sessions that have a generation matching all of
     * them at once (made with that model, in that status, created in that range).
     */
    model: modelIdSchema.optional(),
    status: generationStatusSchema.optional(),
  })
  .extend(dateRangeQuerySchema.shape);
// (`to` is an exclusive bound in milliseconds once parsed.)
export type ListSessionsQuery = z.infer<typeof listSessionsQuerySchema>;
export type SessionSort = ListSessionsQuery["sort"];

/** `GET /api/sessions/:id`: how many of the newest generations, and a generation whose ancestry must come along. */
export const sessionDetailQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  lineageOf: z.string().min(1).max(64).optional(),
});
export type SessionDetailQuery = z.infer<typeof sessionDetailQuerySchema>;

/** `GET /api/sessions/:id/generations`: a page of the session's generations, newest first. */
export const sessionGenerationsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type SessionGenerationsQuery = z.infer<typeof sessionGenerationsQuerySchema>;

export const cloneSessionSchema = z.object({ title: z.string().trim().min(1).max(200).optional() });
export type CloneSessionRequest = z.infer<typeof cloneSessionSchema>;

/** The widths thumbnails are made in (WebP), for `srcset`. */
export const THUMBNAIL_WIDTHS = [256, 768] as const;
export type ThumbnailWidth = (typeof THUMBNAIL_WIDTHS)[number];
export const DEFAULT_THUMBNAIL_WIDTH: ThumbnailWidth = 256;
/** `GET /api/assets/:id/thumbnail?w=256|768` (default 256). */
export const thumbnailQuerySchema = z.object({
  w: z
    .enum(THUMBNAIL_WIDTHS.map(String) as ["256", "768"])
    .transform((value) => Number(value) as ThumbnailWidth)
    .optional(),
});

/** `GET /api/assets/:id?download=1` answers as an attachment with a readable file name. */
export const assetQuerySchema = z.object({ download: z.enum(["1", "true"]).optional() });

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

export const userSchema = z.object({ id: z.string(), email: z.string() });
export type User = z.infer<typeof userSchema>;

export const assetRoleSchema = z.enum(["input", "mask", "output"]);
export type AssetRole = z.infer<typeof assetRoleSchema>;

/** One thumbnail: its width in pixels and its URL (for `srcset="url 256w, url 768w"`). */
export const thumbnailSchema = z.object({ width: z.number(), url: z.string() });
export type Thumbnail = z.infer<typeof thumbnailSchema>;

export const assetSchema = z.object({
  id: z.string(),
  role: assetRoleSchema,
  url: z.string(),
  /** The small thumbnail (256 px wide); `thumbnails` lists every width. */
  thumbnailUrl: z.string(),
  thumbnails: z.array(thumbnailSchema),
  mimeType: z.string(),
  sizeBytes: z.number(),
  width: z.number().nullable(),
  height: z.number().nullable(),
  sha256: z.string(),
  createdAt: z.string(),
  /** A video's poster frame (made once, when it is stored), or null. */
  posterUrl: z.string().nullable(),
});
export type Asset = z.infer<typeof assetSchema>;

export const referenceSchema = z.object({
  id: z.string(),
  sha256: z.string(),
  originalName: z.string(),
  mimeType: z.string(),
  sizeBytes: z.number(),
  width: z.number().nullable(),
  height: z.number().nullable(),
  url: z.string(),
  thumbnailUrl: z.string(),
  createdAt: z.string(),
  usageCount: z.number(),
  lastUsedAt: z.string().nullable(),
  /**
   * The state of its copy on Replicate's Files API: `fresh` (reused as is), `will_refresh` (older than
   * 20 hours or expired: uploaded again, silently, on the next use).
   */
  replicateStatus: z.enum(["fresh", "will_refresh"]),
});
export type Reference = z.infer<typeof referenceSchema>;

export const referenceUploadResultSchema = z.object({
  items: z.array(referenceSchema.extend({ deduplicated: z.boolean() })),
  /** Files that were refused, each with its own reason; the others are stored regardless. */
  errors: z.array(z.object({ index: z.number(), fileName: z.string(), status: z.number(), detail: z.string() })),
});
export type ReferenceUploadResult = z.infer<typeof referenceUploadResultSchema>;

export const generationSchema = z.object({
  id: z.string(),
  sessionId: z.string(),
  parentGenerationId: z.string().nullable(),
  status: generationStatusSchema,
  model: z.string(),
  prompt: z.string(),
  negativePrompt: z.string().nullable(),
  params: generationParamsSchema,
  error: z.string().nullable(),
  predictionId: z.string().nullable(),
  progress: z.number().min(0).max(1),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  cost: z.number().nullable(),
  outputs: z.array(assetSchema),
  inputs: z.array(assetSchema),
  /** Which output of the parent this generation started from, when it has a parent. */
  sourceOutputIndex: z.number().nullable(),
  references: z.array(referenceSchema),
  /**
   * Set on the generations of a cloned session: the generation whose settings this one copies. A
   * copy has not run (status `canceled`, no prediction, no outputs); retrying it runs it.
   */
  clonedFromGenerationId: z.string().nullable(),
  /** The model version it ran (null: an official model, run by name). */
  modelVersion: z.string().nullable(),
  /** The cost expected when it was submitted (USD), null when the price is unknown. */
  estimatedCost: z.number().nullable(),
});
export type Generation = z.infer<typeof generationSchema>;

export const sessionSchema = z.object({
  id: z.string(),
  title: z.string(),
  model: z.string().nullable(),
  thumbnailUrl: z.string().nullable(),
  generationCount: z.number(),
  succeededCount: z.number(),
  failedCount: z.number(),
  /** What its generations cost, in USD. */
  totalCost: z.number(),
  lastActivityAt: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Session = z.infer<typeof sessionSchema>;

/**
 * A session with its newest generations (at most `?limit=`, default 50), oldest first, plus the
 * ancestry of `?lineageOf=` when asked. Older generations: `GET /api/sessions/:id/generations?cursor=`
 * with `generationsCursor` (null when there are none).
 */
export const sessionDetailSchema = sessionSchema.extend({
  generations: z.array(generationSchema),
  generationsCursor: z.string().nullable(),
});
export type SessionDetail = z.infer<typeof sessionDetailSchema>;

/**
 * The one envelope of every list the API answers: a page of items and the cursor of the next page
 * (`null` on the last one; pass it back as `?cursor=`).
 */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
export type Page<T> = { items: T[]; nextCursor: string | null };

export const sessionPageSchema = pageSchema(sessionSchema);
export type SessionPage = z.infer<typeof sessionPageSchema>;

/** A page of a session's generations (newest first), or a generation's ancestry (root first). */
export const generationPageSchema = pageSchema(generationSchema);
export type GenerationPage = z.infer<typeof generationPageSchema>;
/** One input of a model, as its JSON Schema describes it (Cog's enums resolved; other keywords kept). */
export const schemaPropertySchema = z.looseObject({
  type: z.string().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  default: z.unknown().optional(),
  enum: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  format: z.string().optional(),
  "x-order": z.number().optional(),
  items: z.unknown().optional(),
  maxItems: z.number().optional(),
});
export type SchemaProperty = z.infer<typeof schemaPropertySchema>;

/** A model's input JSON Schema (`GET /api/models/:owner/:name/schema`). */
export const inputSchemaSchema = z.looseObject({
  type: z.literal("object"),
  properties: z.record(z.string(), schemaPropertySchema),
  required: z.array(z.string()).optional(),
});
export type InputSchema = z.infer<typeof inputSchemaSchema>;

/** Our generation fields that map onto a model's own inputs (and the inputs the studio fills itself). */
export const GENERIC_PARAMS = [
  "width",
  "height",
  "steps",
  "guidance",
  "strength",
  "scheduler",
  "seed",
  "numOutputs",
] as const;
export type GenericParam = (typeof GENERIC_PARAMS)[number];

export const modelInputNamesSchema = z.object({
  prompt: z.string().optional(),
  negativePrompt: z.string().optional(),
  width: z.string().optional(),
  height: z.string().optional(),
  /** Sized by aspect ratio rather than width and height. */
  aspectRatio: z.string().optional(),
  steps: z.string().optional(),
  guidance: z.string().optional(),
  strength: z.string().optional(),
  scheduler: z.string().optional(),
  seed: z.string().optional(),
  numOutputs: z.string().optional(),
  /** Filled by the studio: the source image, the mask, the reference images. */
  image: z.string().optional(),
  mask: z.string().optional(),
  references: z.string().optional(),
});
export type ModelInputNames = z.infer<typeof modelInputNamesSchema>;

export const pricingSchema = z.discriminatedUnion("per", [
  z.object({ per: z.literal("output"), usd: z.number() }),
  z.object({
    per: z.literal("second"),
    usd: z.number(),
    hardware: z.string(),
    /** What a run usually takes, for estimates before it runs. */
    typicalSeconds: z.number(),
  }),
]);
export type Pricing = z.infer<typeof pricingSchema>;

export const modelSummarySchema = z.object({
  id: z.string(),
  kind: z.enum(["image", "video"]),
  description: z.string(),
  capabilities: z.object({
    textToImage: z.boolean(),
    imageToImage: z.boolean(),
    mask: z.boolean(),
    references: z.boolean(),
  }),
  /** A short display name (the model's name). */
  name: z.string(),
  /** Official models run by name and are billed per output; the others run a version, billed by time. */
  official: z.boolean(),
  /** The version it runs: pinned, or the latest known; null for official models. */
  version: z.string().nullable(),
  /** `catalog`: curated by the studio; `added`: added by this user. */
  source: z.enum(["catalog", "added"]),
  /** Our copy of the model's cover image, or null. */
  coverImageUrl: z.string().nullable(),
  /** Null when the price is not in our table. */
  pricing: pricingSchema.nullable(),
  limits: z.object({ references: z.number(), outputs: z.number() }),
  inputs: modelInputNamesSchema,
});
export type ModelSummary = z.infer<typeof modelSummarySchema>;

export const modelPageSchema = pageSchema(modelSummarySchema);
export type ModelPage = z.infer<typeof modelPageSchema>;

export const referencePageSchema = pageSchema(referenceSchema);

export const usageQuerySchema = z.object({
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
});

/** A limit and how much of it is used; `null` limit: none. */
const allowanceSchema = z.object({ used: z.number(), limit: z.number().nullable() });

export const usageSchema = z.object({
  totalCost: z.number(),
  generations: z.number(),
  /** One entry per UTC day from `from` to `to`, days without generations included. */
  byDay: z.array(z.object({ day: z.string(), cost: z.number(), generations: z.number() })),
  /** The most expensive sessions, most expensive first. */
  topSessions: z.array(z.object({ id: z.string(), title: z.string(), cost: z.number(), generations: z.number() })),
  /** Today's quota (UTC day), and when it resets. */
  quota: z.object({
    day: z.string(),
    generations: allowanceSchema,
    cost: allowanceSchema,
    perMinute: z.number().nullable(),
    resetsAt: z.string(),
  }),
});
export type Usage = z.infer<typeof usageSchema>;
export type ReferencePage = z.infer<typeof referencePageSchema>;

/** An API token as listed; its secret is shown once, when it is created. */
export const apiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof apiTokenSchema>;
export const createdApiTokenSchema = apiTokenSchema.omit({ lastUsedAt: true }).extend({ token: z.string() });
export type CreatedApiToken = z.infer<typeof createdApiTokenSchema>;

export const apiTokenPageSchema = pageSchema(apiTokenSchema);
export type ApiTokenPage = z.infer<typeof apiTokenPageSchema>;
