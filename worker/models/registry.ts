/**
 * The models a user can run: the curated catalog plus the public Replicate models they added. Each
 * model's input schema is fetched from Replicate once, cached in D1 (`model_schemas`), refreshed by
 * the cron job, and served from the cache when Replicate is unreachable.
 */
import type { InputSchema, ModelInputNames, ModelSummary, Pricing } from "@contract/api";
import { and, asc, eq, exists, inArray, lt, type SQLWrapper } from "drizzle-orm";
import type { Database } from "../db/client";
import { type ModelSchemaRow, modelSchemas, userModels } from "../db/schema";
import { errorMessage, log } from "../lib/logger";
import { notFound, ProblemError } from "../lib/problem";
import { GatewayError, type ReplicateGateway } from "../replicate/gateway";
import { type CatalogModel, findCatalogModel, MODELS } from "./catalog";
import { deriveCapabilities, deriveInputNames, deriveKind, deriveLimits } from "./derive";
import { pricingOf } from "./prices";
import { resolveInputSchema } from "./schema";

export type ModelDefinition = {
  id: string;
  name: string;
  kind: "image" | "video";
  description: string;
  official: boolean;
  /** The version a run uses: pinned, or the latest known. Null for official models (run by name). */
  version: string | null;
  source: "catalog" | "added";
  /** Replicate's cover image URL (we serve our own copy). */
  coverImageUrl: string | null;
  capabilities: ModelSummary["capabilities"];
  inputs: ModelInputNames;
  referencesList: boolean;
  limits: ModelSummary["limits"];
  defaultInput: Record<string, string | number | boolean>;
  schema: InputSchema | null;
  /**
   * Names the schema as cached (its ref and when it was fetched), so what is built from it once can
   * be reused until a refresh replaces it. Null with no schema.
   */
  schemaKey: string | null;
  pricing: Pricing | null;
};

const schemaKeyOf = (row: ModelSchemaRow): string => `${row.ref}@${row.fetchedAt.getTime()}`;

/** Schemas older than this are refreshed by the cron job. */
export const SCHEMA_MAX_AGE_MS = 6 * 60 * 60 * 1000;

const refOf = (id: string, version?: string | null): string => (version ? `${id}:${version}` : id);

export function parseModelRef(ref: string): { id: string; owner: string; name: string; version: string | null } {
  const [id = "", version] = ref.split(":");
  const [owner = "", name = ""] = id.split("/");
  return { id, owner, name, version: version ?? null };
}

function fromCatalog(model: CatalogModel, cached: ModelSchemaRow | undefined): ModelDefinition {
  return {
    id: model.id,
    name: model.id.split("/")[1] ?? model.id,
    kind: model.kind,
    description: model.description,
    official: model.official,
    version: model.version ?? null,
    source: "catalog",
    coverImageUrl: cached?.coverImageUrl ?? null,
    capabilities: model.capabilities,
    inputs: model.inputs,
    referencesList: model.referencesList ?? false,
    limits: model.limits,
    defaultInput: model.defaultInput ?? {},
    schema: cached?.inputSchema ?? null,
    schemaKey: cached ? schemaKeyOf(cached) : null,
    pricing: pricingOf(model.id, model.official),
  };
}

function fromCache(row: ModelSchemaRow): ModelDefinition {
  const schema = row.inputSchema;
  const inputs = deriveInputNames(schema);
  return {
    id: row.modelId,
    name: row.modelId.split("/")[1] ?? row.modelId,
    kind: row.kind,
    description: row.description,
    official: row.official,
    version: row.official ? null : row.versionId,
    source: "added",
    coverImageUrl: row.coverImageUrl,
    capabilities: deriveCapabilities(schema, inputs),
    inputs,
    referencesList: inputs.references ? schema.properties[inputs.references]?.type === "array" : false,
    limits: deriveLimits(schema, inputs),
    defaultInput: {},
    schema,
    schemaKey: schemaKeyOf(row),
    pricing: pricingOf(row.modelId, row.official),
  };
}

export const catalogRef = (model: CatalogModel): string => refOf(model.id, model.version);

/** Asks Replicate for a model (and a version of it), and caches its schema. */
export async function fetchModelSchema(
  db: Database,
  gateway: ReplicateGateway,
  ref: string,
  now = new Date(),
): Promise<ModelSchemaRow> {
  const { id, owner, name, version } = parseModelRef(ref);
  const model = await gateway.getModel(owner, name);
  const versionRecord = version ? await gateway.getModelVersion(owner, name, version) : model.latest_version;
  const inputSchema = resolveInputSchema(versionRecord?.openapi_schema);
  if (!versionRecord || !inputSchema) {
    throw new ProblemError(422, `${id} has no input schema Replicate publishes; it cannot be run from here.`);
  }
  const description = model.description ?? "";
  const official = model.is_official ?? !model.latest_version;
  const row: ModelSchemaRow = {
    ref,
    modelId: id,
    versionId: versionRecord.id,
    official,
    kind: deriveKind(inputSchema, `${name} ${description}`),
    description,
    coverImageUrl: model.cover_image_url ?? null,
    inputSchema,
    fetchedAt: now,
    checkedAt: now,
  };
  await db
    .insert(modelSchemas)
    .values(row)
    .onConflictDoUpdate({ target: modelSchemas.ref, set: { ...row, ref: undefined } });
  return row;
}

async function cachedSchemas(db: Database, refs: readonly string[]): Promise<Map<string, ModelSchemaRow>> {
  if (refs.length === 0) return new Map();
  const rows = await db
    .select()
    .from(modelSchemas)
    .where(inArray(modelSchemas.ref, [...refs]));
  return new Map(rows.map((row) => [row.ref, row]));
}

/** The catalog and the user's models, from the cache only (a list never waits for Replicate). */
export async function listModelDefinitions(db: Database, userId: string): Promise<ModelDefinition[]> {
  const added = await db
    .select()
    .from(userModels)
    .where(eq(userModels.userId, userId))
    .orderBy(asc(userModels.createdAt));
  const cached = await cachedSchemas(db, [...MODELS.map(catalogRef), ...added.map((row) => row.ref)]);
  const definitions = MODELS.map((model) => fromCatalog(model, cached.get(catalogRef(model))));
  for (const row of added) {
    const schema = cached.get(row.ref);
    if (schema) definitions.push(fromCache(schema));
  }
  return definitions;
}

/**
 * The read behind `findModelDefinition` (the model's cached schema: a catalog model's by its ref, an
 * added one's through the user's list), to go in a batch with other reads; `modelFromLookup` finishes it.
 */
export function modelLookup(db: Database, userId: string | SQLWrapper, modelId: string) {
  const curated = findCatalogModel(modelId);
  const ref = curated
    ? catalogRef(curated)
    : db
        .select({ ref: userModels.ref })
        .from(userModels)
        .where(and(eq(userModels.userId, userId), eq(userModels.modelId, modelId)));
  return db.select().from(modelSchemas).where(eq(modelSchemas.ref, ref)).limit(1);
}

/** Catalog models as last built from their cached schema in this isolate, by id (see `builtCatalogModel`). */
const builtCatalogModels = new Map<string, { model: ModelDefinition; schema: ModelSchemaRow }>();

/**
 * A catalog model as this isolate last built it from its cached schema, for a request that stores a
 * generation in one call: the schema row must still be the one it was built from, a condition the
 * batch checks (`unchanged`). Undefined until a request has looked the model up; added models are
 * each user's own and are always looked up.
 */
export function builtCatalogModel(db: Database, modelId: string) {
  const built = builtCatalogModels.get(modelId);
  if (!built) return undefined;
  const { ref, fetchedAt } = built.schema;
  const unchanged = exists(
    db
      .select({ ref: modelSchemas.ref })
      .from(modelSchemas)
      .where(and(eq(modelSchemas.ref, ref), eq(modelSchemas.fetchedAt, fetchedAt))),
  );
  return { model: built.model, unchanged };
}

/**
 * A model this user may run, with its schema, from what `modelLookup` read: from the cache, else
 * fetched now. A catalog model whose schema cannot be had (Replicate down, never cached) still runs,
 * checked by our own rules only; a model that is neither in the catalog nor in the user's list is
 * undefined.
 */
export async function modelFromLookup(
  db: Database,
  gateway: ReplicateGateway,
  modelId: string,
  [cached]: readonly ModelSchemaRow[],
): Promise<ModelDefinition | undefined> {
  const curated = findCatalogModel(modelId);
  if (!curated) return cached ? fromCache(cached) : undefined;
  const schema =
    cached ??
    (await fetchModelSchema(db, gateway, catalogRef(curated)).catch((error: unknown) => {
      log.warn("models.schema_unavailable", { model: modelId, error: errorMessage(error) });
      return undefined;
    }));
  const model = fromCatalog(curated, schema);
  if (schema) builtCatalogModels.set(curated.id, { model, schema });
  return model;
}

/** A model this user may run, with its schema (see `modelFromLookup`). */
export async function findModelDefinition(
  db: Database,
  gateway: ReplicateGateway,
  userId: string,
  modelId: string,
): Promise<ModelDefinition | undefined> {
  return modelFromLookup(db, gateway, modelId, await modelLookup(db, userId, modelId));
}

/** Adds a public Replicate model to the user's list; 404 when Replicate does not know it. */
export async function addModel(
  db: Database,
  gateway: ReplicateGateway,
  userId: string,
  ref: string,
): Promise<ModelDefinition> {
  const { id } = parseModelRef(ref);
  // A catalog model is everyone's already (at its curated version).
  const curated = findCatalogModel(id);
  if (curated) return fromCatalog(curated, (await cachedSchemas(db, [catalogRef(curated)])).get(catalogRef(curated)));
  let row: ModelSchemaRow;
  try {
    row = await fetchModelSchema(db, gateway, ref);
  } catch (error) {
    if (error instanceof GatewayError && error.kind === "not_found") {
      throw new ProblemError(404, `Replicate has no public model ${ref}.`, {
        errors: [{ path: "id", message: "Replicate does not know this model (or version)" }],
      });
    }
    if (error instanceof GatewayError && error.retryable) {
      throw new ProblemError(503, `Replicate could not be reached to look up ${ref}; try again shortly.`, {
        retryAfterSeconds: 30,
      });
    }
    throw error;
  }
  await db
    .insert(userModels)
    .values({ userId, modelId: id, ref })
    .onConflictDoUpdate({ target: [userModels.userId, userModels.modelId], set: { ref, createdAt: new Date() } });
  log.info("models.added", { userId, model: ref });
  return fromCache(row);
}

export async function removeModel(db: Database, userId: string, modelId: string): Promise<void> {
  const removed = await db
    .delete(userModels)
    .where(and(eq(userModels.userId, userId), eq(userModels.modelId, modelId)))
    .returning({ modelId: userModels.modelId });
  if (removed.length === 0) throw notFound("model in your list");
}

/**
 * The cron job: refreshes the schemas of the catalog and of every added model that are older than
 * SCHEMA_MAX_AGE_MS (or missing), at most `limit` per run. A failure keeps the cached schema.
 */
export async function refreshModelSchemas(
  db: Database,
  gateway: ReplicateGateway,
  now = Date.now(),
  limit = 10,
): Promise<{ refreshed: number; failed: number }> {
  const catalogRefs = MODELS.map(catalogRef);
  const cached = await cachedSchemas(db, catalogRefs);
  const stale = new Date(now - SCHEMA_MAX_AGE_MS);
  const due = catalogRefs.filter((ref) => !cached.has(ref));
  const old = await db
    .select({ ref: modelSchemas.ref })
    .from(modelSchemas)
    .where(lt(modelSchemas.checkedAt, stale))
    .orderBy(asc(modelSchemas.checkedAt))
    .limit(limit);
  due.push(...old.map((row) => row.ref).filter((ref) => !due.includes(ref)));
  let refreshed = 0;
  let failed = 0;
  for (const ref of due.slice(0, limit)) {
    try {
      await fetchModelSchema(db, gateway, ref, new Date(now));
      refreshed++;
    } catch (error) {
      failed++;
      log.warn("models.refresh_failed", { model: ref, error: errorMessage(error) });
      await db
        .update(modelSchemas)
        .set({ checkedAt: new Date(now) })
        .where(eq(modelSchemas.ref, ref));
    }
  }
  return { refreshed, failed };
}

export function toModelSummary(model: ModelDefinition): ModelSummary {
  return {
    id: model.id,
    kind: model.kind,
    description: model.description,
    capabilities: model.capabilities,
    name: model.name,
    official: model.official,
    version: model.version,
    source: model.source,
    coverImageUrl: model.coverImageUrl ? `/api/models/${model.id}/cover` : null,
    pricing: model.pricing,
    limits: model.limits,
    inputs: model.inputs,
  };
}
