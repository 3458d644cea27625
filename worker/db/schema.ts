/**
 * D1 schema. Every user-owned row carries `userId` so each query can be scoped to its owner.
 * Times are stored as integer milliseconds since the epoch.
 */

import type { AssetRole, GenerationParams, GenerationStatus, InputSchema } from "@contract/api";
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { ModelCall } from "../models/params";

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" })
    .notNull()
    .$defaultFn(() => new Date());

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  createdAt: createdAt(),
});

/** Browser sign-in sessions; the id is the SHA-256 of the cookie value, never the value itself. */
export const authSessions = sqliteTable(
  "auth_sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("auth_sessions_user_idx").on(t.userId)],
);

export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: createdAt(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("api_tokens_user_idx").on(t.userId)],
);

/**
 * A session's share of succeeded generations, as the list sorts by it. Written once: the index
 * below and the list's query must use the same expression for the index to serve the sort.
 */
export const sessionSuccessRate = sql<number>`(CASE WHEN generation_count = 0 THEN 0.0 ELSE CAST(succeeded_count AS REAL) / generation_count END)`;

export const imageSessions = sqliteTable(
  "image_sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    model: text("model"),
    thumbnailAssetId: text("thumbnail_asset_id"),
    // Counters kept by the session's Durable Object so lists sort and filter without aggregates.
    generationCount: integer("generation_count").notNull().default(0),
    succeededCount: integer("succeeded_count").notNull().default(0),
    failedCount: integer("failed_count").notNull().default(0),
    totalCost: real("total_cost").notNull().default(0),
    lastActivityAt: integer("last_activity_at", { mode: "timestamp_ms" }).notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    /** In the trash since then (hidden everywhere; purged 30 days later). */
    trashedAt: integer("trashed_at", { mode: "timestamp_ms" }),
    /** The row of its full-text search document (`session_search`); set by a trigger on insert. */
    searchKey: integer("search_key"),
  },
  (t) => [
    // One index per sort of the list, each in the list's own order and without what is in the trash.
    index("image_sessions_list_updated_idx").on(t.userId, t.updatedAt, t.id).where(sql`trashed_at IS NULL`),
    index("image_sessions_list_created_idx").on(t.userId, t.createdAt, t.id).where(sql`trashed_at IS NULL`),
    index("image_sessions_list_generations_idx").on(t.userId, t.generationCount, t.id).where(sql`trashed_at IS NULL`),
    index("image_sessions_list_success_idx").on(t.userId, sessionSuccessRate, t.id).where(sql`trashed_at IS NULL`),
    index("image_sessions_trash_idx").on(t.userId, t.trashedAt, t.id).where(sql`trashed_at IS NOT NULL`),
    uniqueIndex("image_sessions_search_key_idx").on(t.searchKey),
  ],
);

export const generations = sqliteTable(
  "generations",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    sessionId: text("session_id")
      .notNull()
      .references(() => imageSessions.id, { onDelete: "cascade" }),
    // No foreign key: a child keeps its lineage when its parent is deleted.
    parentGenerationId: text("parent_generation_id"),
    status: text("status").$type<GenerationStatus>().notNull().default("queued"),
    model: text("model").notNull(),
    prompt: text("prompt").notNull(),
    negativePrompt: text("negative_prompt"),
    params: text("params", { mode: "json" }).$type<GenerationParams>().notNull(),
    /** Which of the parent's outputs to start from; resolved to `sourceAssetId` once it exists. */
    sourceOutputIndex: integer("source_output_index"),
    sourceAssetId: text("source_asset_id"),
    maskAssetId: text("mask_asset_id"),
    predictionId: text("prediction_id").unique(),
    progress: real("progress").notNull().default(0),
    error: text("error"),
    /** Why the last attempt to store outputs failed; becomes `error` if it never succeeds. */
    pipelineError: text("pipeline_error"),
    createdAt: createdAt(),
    submittedAt: integer("submitted_at", { mode: "timestamp_ms" }),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    completedAt: integer("completed_at", { mode: "timestamp_ms" }),
    durationMs: integer("duration_ms"),
    cost: real("cost"),
    /** In the trash since then (hidden everywhere; purged 30 days later). */
    trashedAt: integer("trashed_at", { mode: "timestamp_ms" }),
    /** A copy made by cloning its session: the generation whose settings it copies. It has not run. */
    clonedFromGenerationId: text("cloned_from_generation_id"),
    /** What brought the terminal state: Replicate's webhook or our own poll (operations stats). */
    completedVia: text("completed_via").$type<"webhook" | "poll">(),
    /** What is sent to Replicate (validated when the generation was created), minus file URLs. */
    modelCall: text("model_call", { mode: "json" }).$type<ModelCall>(),
    modelVersion: text("model_version"),
    estimatedCost: real("estimated_cost"),
    /** Billable seconds Replicate reported (`metrics.predict_time`). */
    predictSeconds: real("predict_seconds"),
  },
  (t) => [
    index("generations_session_page_idx").on(t.sessionId, t.createdAt, t.id),
    index("generations_user_created_idx").on(t.userId, t.createdAt),
    index("generations_parent_idx").on(t.parentGenerationId),
    index("generations_status_idx").on(t.status, t.submittedAt),
    // The session list's filters look for one matching generation per session.
    index("generations_session_model_idx").on(t.sessionId, t.model),
    index("generations_session_status_idx").on(t.sessionId, t.status),
    index("generations_trash_idx").on(t.userId, t.trashedAt, t.id).where(sql`trashed_at IS NOT NULL`),
    // Operations stats read the last hour and day of the whole service.
    index("generations_created_idx").on(t.createdAt),
    index("generations_completed_idx").on(t.completedAt),
  ],
);

export const assets = sqliteTable(
  "assets",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    generationId: text("generation_id").references(() => generations.id, { onDelete: "set null" }),
    role: text("role").$type<AssetRole>().notNull(),
    /** Index of an output within its generation; null for inputs and masks. */
    outputIndex: integer("output_index"),
    r2Key: text("r2_key").notNull(),
    mimeType: text("mime_type").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    width: integer("width"),
    height: integer("height"),
    sha256: text("sha256").notNull(),
    /** A video's poster frame in R2, made once when the video is stored. */
    posterKey: text("poster_key"),
    createdAt: createdAt(),
    // The gallery's columns, for outputs only. A trigger fills them when the output is recorded
    // (and keeps `generationStatus` and `listed` up to date), whoever records it.
    /** Its place in the gallery, newest highest: created_at in ms × 1024 + a tie-breaker. */
    galleryKey: integer("gallery_key"),
    sessionId: text("session_id"),
    model: text("model"),
    generationStatus: text("generation_status").$type<GenerationStatus>(),
    /** 1 while it shows in the gallery: an output, and neither it, its generation nor its session in the trash. */
    listed: integer("listed", { mode: "boolean" }).notNull().default(false),
    favorite: integer("favorite", { mode: "boolean" }).notNull().default(false),
    /** In the trash on its own since then (one output of a batch). */
    trashedAt: integer("trashed_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    // One row per output of a generation, however many times its completion is delivered.
    uniqueIndex("assets_generation_output_idx").on(t.generationId, t.outputIndex),
    index("assets_user_created_idx").on(t.userId, t.createdAt),
    index("assets_r2_key_idx").on(t.r2Key),
    // The gallery: one index per filter it can be driven by, each in gallery order.
    uniqueIndex("assets_gallery_key_idx").on(t.galleryKey),
    index("assets_gallery_idx").on(t.userId, t.galleryKey).where(sql`listed = 1`),
    index("assets_gallery_session_idx").on(t.sessionId, t.galleryKey),
    index("assets_gallery_model_idx").on(t.userId, t.model, t.galleryKey).where(sql`listed = 1`),
    index("assets_gallery_status_idx").on(t.userId, t.generationStatus, t.galleryKey).where(sql`listed = 1`),
    index("assets_gallery_favorite_idx").on(t.userId, t.galleryKey).where(sql`listed = 1 AND favorite = 1`),
    index("assets_trash_idx").on(t.userId, t.trashedAt, t.id).where(sql`trashed_at IS NOT NULL`),
  ],
);

/**
 * Reference images: kept forever, unique per user by the SHA-256 of the bytes we keep. Deleting one
 * only hides it; generations that used it keep their history.
 */
export const references = sqliteTable(
  "references",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    sha256: text("sha256").notNull(),
    r2Key: text("r2_key").notNull(),
    originalName: text("original_name").notNull(),
    mimeType: text("mime_type").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    width: integer("width"),
    height: integer("height"),
    usageCount: integer("usage_count").notNull().default(0),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("references_user_sha_idx").on(t.userId, t.sha256),
    index("references_user_created_idx").on(t.userId, t.createdAt),
    index("references_last_used_idx").on(t.lastUsedAt),
  ],
);

export const generationReferences = sqliteTable(
  "generation_references",
  {
    generationId: text("generation_id")
      .notNull()
      .references(() => generations.id, { onDelete: "cascade" }),
    referenceId: text("reference_id")
      .notNull()
      .references(() => references.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.generationId, t.referenceId] }),
    index("generation_references_reference_idx").on(t.referenceId),
  ],
);

/**
 * Copies of our files on Replicate's Files API, which deletes them after 24 hours. One row per
 * upload; the newest one for a (user, sha256) is reused while it is younger than 20 hours.
 */
export const replicateUploads = sqliteTable(
  "replicate_uploads",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    sha256: text("sha256").notNull(),
    replicateFileId: text("replicate_file_id").notNull(),
    url: text("url").notNull(),
    md5: text("md5"),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>(),
    uploadedAt: integer("uploaded_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    index("replicate_uploads_user_sha_idx").on(t.userId, t.sha256, t.uploadedAt),
    index("replicate_uploads_expires_idx").on(t.expiresAt),
  ],
);

/**
 * Replicate models' input schemas and metadata, shared by everyone (public facts), keyed by the
 * reference they were fetched for: `owner/name` (its latest version) or `owner/name:version`.
 * Refreshed by the cron job; served from here when Replicate is unreachable.
 */
export const modelSchemas = sqliteTable(
  "model_schemas",
  {
    ref: text("ref").primaryKey(),
    modelId: text("model_id").notNull(),
    /** The version the schema belongs to. */
    versionId: text("version_id"),
    official: integer("official", { mode: "boolean" }).notNull(),
    kind: text("kind").$type<"image" | "video">().notNull(),
    description: text("description").notNull(),
    coverImageUrl: text("cover_image_url"),
    inputSchema: text("input_schema", { mode: "json" }).$type<InputSchema>().notNull(),
    fetchedAt: integer("fetched_at", { mode: "timestamp_ms" }).notNull(),
    /** The last time a refresh was tried, successful or not. */
    checkedAt: integer("checked_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("model_schemas_checked_idx").on(t.checkedAt)],
);

/** Models a user added to their list, by the reference they gave. */
export const userModels = sqliteTable(
  "user_models",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    modelId: text("model_id").notNull(),
    ref: text("ref").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.modelId] }), index("user_models_ref_idx").on(t.ref)],
);

/**
 * What each user spent per UTC day: generations started and their cost. A ledger, so deleting a
 * generation or a session does not rewrite what was spent; it is also what quotas count against.
 */
export const usageDays = sqliteTable(
  "usage_days",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** `YYYY-MM-DD`, UTC. */
    day: text("day").notNull(),
    generations: integer("generations").notNull().default(0),
    cost: real("cost").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.userId, t.day] })],
);

/** Per-user limits that differ from the configured defaults (null: the default applies). */
export const accountLimits = sqliteTable("account_limits", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  generationsPerMinute: integer("generations_per_minute"),
  dailyGenerations: integer("daily_generations"),
  dailyCostUsd: real("daily_cost_usd"),
});

/** Fixed-window counters for throttling sign-ins, sign-ups and other abuse-prone actions. */
export const rateLimits = sqliteTable("rate_limits", {
  key: text("key").primaryKey(),
  windowStart: integer("window_start").notNull(),
  count: integer("count").notNull(),
});

/**
 * Webhook deliveries already queued, by their `webhook-id`. Replicate repeats a delivery with the same
 * id; a repeat is acknowledged without queueing the work again.
 */
export const webhookReceipts = sqliteTable(
  "webhook_receipts",
  {
    id: text("id").primaryKey(),
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("webhook_receipts_received_idx").on(t.receivedAt)],
);

/**
 * Completions that exhausted the queue's retries, as the dead-letter consumer received them: counted
 * by the operations stats, and kept for diagnosis. Removed with their user's account.
 */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    generationId: text("generation_id"),
    predictionId: text("prediction_id"),
    /** `replayed` when the last attempt stored the outputs; `failed` when it failed the generation. */
    outcome: text("outcome").$type<"replayed" | "failed" | "unknown_prediction">().notNull(),
    reason: text("reason"),
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("dead_letters_received_idx").on(t.receivedAt), index("dead_letters_user_idx").on(t.userId)],
);

/** Small pieces of state the cron jobs carry between runs (e.g. where a bucket scan stopped). */
export const maintenanceState = sqliteTable("maintenance_state", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export type UserRow = typeof users.$inferSelect;
export type ImageSessionRow = typeof imageSessions.$inferSelect;
export type GenerationRow = typeof generations.$inferSelect;
export type AssetRow = typeof assets.$inferSelect;
export type NewAssetRow = typeof assets.$inferInsert;
export type ReferenceRow = typeof references.$inferSelect;
export type ReplicateUploadRow = typeof replicateUploads.$inferSelect;
export type ModelSchemaRow = typeof modelSchemas.$inferSelect;
