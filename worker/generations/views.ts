/**
 * How stored rows are presented through the API and the live channel.
 */

import {
  type Asset,
  DEFAULT_THUMBNAIL_WIDTH,
  type Generation,
  type Reference,
  type Session,
  THUMBNAIL_WIDTHS,
  type User,
} from "@contract/api";
import { and, asc, eq, inArray, isNull, ne, or, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import { D1_MAX_BOUND_PARAMETERS, type Database } from "../db/client";
import {
  type AssetRow,
  assets,
  type GenerationRow,
  generationReferences,
  generations,
  type ImageSessionRow,
  imageSessions,
  type ReferenceRow,
  references,
} from "../db/schema";
import type { SignInWithin } from "../http/auth";
import { chunks } from "../lib/chunks";
import { referenceViews } from "../references/views";

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

export const assetUrl = (assetId: string): string => `/api/assets/${assetId}`;

export const thumbnailUrl = (assetId: string, width: number = DEFAULT_THUMBNAIL_WIDTH): string =>
  `${assetUrl(assetId)}/thumbnail?w=${width}`;

export const thumbnailsOf = (assetId: string) =>
  THUMBNAIL_WIDTHS.map((width) => ({ width, url: thumbnailUrl(assetId, width) }));

export function toAssetView(row: AssetRow): Asset {
  return {
    id: row.id,
    role: row.role,
    url: assetUrl(row.id),
    thumbnailUrl: thumbnailUrl(row.id),
    thumbnails: thumbnailsOf(row.id),
    mimeType: row.mimeType,
    sizeBytes: row.sizeBytes,
    width: row.width,
    height: row.height,
    sha256: row.sha256,
    createdAt: row.createdAt.toISOString(),
    posterUrl: row.posterKey ? thumbnailUrl(row.id, 768) : null,
  };
}

export function toGenerationView(
  row: GenerationRow,
  outputs: AssetRow[],
  inputs: AssetRow[],
  referenceList: Reference[] = [],
): Generation {
  return {
    id: row.id,
    sessionId: row.sessionId,
    parentGenerationId: row.parentGenerationId,
    status: row.status,
    model: row.model,
    prompt: row.prompt,
    negativePrompt: row.negativePrompt,
    params: row.params,
    error: row.error,
    predictionId: row.predictionId,
    progress: row.status === "succeeded" ? 1 : row.progress,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    durationMs: row.durationMs,
    cost: row.cost,
    outputs: outputs.map(toAssetView),
    inputs: inputs.map(toAssetView),
    sourceOutputIndex: row.parentGenerationId ? (row.sourceOutputIndex ?? 0) : null,
    references: referenceList,
    clonedFromGenerationId: row.clonedFromGenerationId,
    modelVersion: row.modelVersion,
    estimatedCost: row.estimatedCost,
  };
}

export function toSessionView(row: ImageSessionRow): Session {
  return {
    id: row.id,
    title: row.title,
    model: row.model,
    thumbnailUrl: row.thumbnailAssetId ? thumbnailUrl(row.thumbnailAssetId) : null,
    generationCount: row.generationCount,
    succeededCount: row.succeededCount,
    failedCount: row.failedCount,
    totalCost: row.totalCost,
    lastActivityAt: row.lastActivityAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Generation views for rows, with their outputs and inputs, in the rows' order. */
export function generationViews(db: Database, rows: GenerationRow[]): Promise<Generation[]> {
  return viewsOf(
    db,
    rows.map((row) => row.id),
    rows,
  );
}

/**
 * The reads behind the views of the generations `chosen` names (a subquery of their ids), to go
 * in one D1 batch with the read of the rows themselves: outputs, inputs and reference links.
 */
export function generationViewReads(db: Database, chosen: SQLWrapper) {
  // A query builder embedded in SQL brings its own parentheses: `IN ${chosen}` is `IN (SELECT …)`.
  const inputsOf = (column: "source_asset_id" | "mask_asset_id") =>
    inArray(assets.id, sql`(SELECT ${sql.raw(column)} FROM ${generations} WHERE ${generations.id} IN ${chosen})`);
  return [
    db
      .select()
      .from(assets)
      .where(and(sql`${assets.generationId} IN ${chosen}`, eq(assets.role, "output"), isNull(assets.trashedAt)))
      .orderBy(asc(assets.outputIndex)),
    // An input that is an output gone to the trash is gone from here too (shown as "source deleted").
    db
      .select()
      .from(assets)
      .where(
        and(
          or(inputsOf("source_asset_id"), inputsOf("mask_asset_id")),
          isNull(assets.trashedAt),
          or(ne(assets.role, "output"), eq(assets.listed, true)),
        ),
      ),
    db
      .select({
        generationId: generationReferences.generationId,
        position: generationReferences.position,
        reference: references,
      })
      .from(generationReferences)
      .innerJoin(references, eq(references.id, generationReferences.referenceId))
      .where(sql`${generationReferences.generationId} IN ${chosen}`),
  ] as const;
}

/**
 * The view of one generation, read in one call to D1 (a batch): the row (under `where`, e.g. its
 * owner and the trash checked), its outputs, its inputs and its reference links. Null when the
 * row is not there; what was read with it is then dropped.
 */
export async function generationViewInOneCall(
  db: Database,
  generationId: string,
  where: SQL,
): Promise<Generation | null> {
  const [found, outputRows, inputRows, links] = await db.batch([
    db.select().from(generations).where(where).limit(1),
    ...generationViewReads(db, generationIdQuery(db, generationId)),
  ]);
  return viewOfFound(db, found, outputRows, inputRows, links);
}

/**
 * Signing in, then the user's generation (see `ownedGeneration`, the user named by the sign-in's
 * subquery) with its outputs, inputs and references: one call to D1. 401 when nobody signed in;
 * a null generation when it is not theirs, and what was read with it is dropped.
 */
export async function generationViewSignedIn(
  db: Database,
  signIn: SignInWithin,
  generationId: string,
  owned: (userId: SQLWrapper) => SQL,
): Promise<{ user: User; generation: Generation | null }> {
  const [signedIn, found, outputRows, inputRows, links] = await db.batch([
    signIn.statement,
    db.select().from(generations).where(owned(signIn.userId)).limit(1),
    ...generationViewReads(db, generationIdQuery(db, generationId)),
  ]);
  const user = signIn.signedIn(signedIn);
  return { user, generation: await viewOfFound(db, found, outputRows, inputRows, links) };
}

const generationIdQuery = (db: Database, generationId: string) =>
  db.select({ id: generations.id }).from(generations).where(eq(generations.id, generationId));

async function viewOfFound(
  db: Database,
  found: GenerationRow[],
  outputRows: AssetRow[],
  inputRows: AssetRow[],
  links: ReferenceLink[],
): Promise<Generation | null> {
  const [row] = found;
  if (!row) return null;
  const [view] = await assembleViews(db, [row], outputRows, inputRows, links);
  return view ?? null;
}

async function viewsOf(db: Database, generationIds: string[], rows: GenerationRow[]): Promise<Generation[]> {
  if (generationIds.length === 0) return [];
  // Each read binds one parameter per id: in slices within D1's limit, however long the page.
  const inSlices = async <T>(ids: readonly string[], read: (slice: string[]) => Promise<T[]>): Promise<T[]> =>
    (await Promise.all(chunks(ids, D1_MAX_BOUND_PARAMETERS - 10).map(read))).flat();
  // An input that is an output gone to the trash is gone from here too (shown as "source deleted").
  const readInputs = (rows: GenerationRow[]) =>
    inSlices(
      [...new Set(rows.flatMap((row) => [row.sourceAssetId, row.maskAssetId]).filter((id): id is string => !!id))],
      (slice) =>
        db
          .select()
          .from(assets)
          .where(
            and(
              inArray(assets.id, slice),
              isNull(assets.trashedAt),
              or(ne(assets.role, "output"), eq(assets.listed, true)),
            ),
          ),
    );
  // The reads do not depend on each other: one round trip's wait, not three.
  const [outputRows, links, inputRows] = await Promise.all([
    inSlices(generationIds, (slice) =>
      db
        .select()
        .from(assets)
        .where(
          and(
            inArray(assets.generationId, slice),
            eq(assets.role, "output"),
            // An output in the trash is gone from its generation too.
            isNull(assets.trashedAt),
          ),
        )
        .orderBy(asc(assets.outputIndex)),
    ),
    inSlices(generationIds, (slice) =>
      db
        .select({
          generationId: generationReferences.generationId,
          position: generationReferences.position,
          reference: references,
        })
        .from(generationReferences)
        .innerJoin(references, eq(references.id, generationReferences.referenceId))
        .where(inArray(generationReferences.generationId, slice)),
    ),
    readInputs(rows),
  ]);
  return assembleViews(db, rows, outputRows, inputRows, links);
}

type ReferenceLink = { generationId: string; position: number; reference: ReferenceRow };

/** Views from what was read: the rows, their outputs, their inputs and their reference links. */
export async function assembleViews(
  db: Database,
  rows: GenerationRow[],
  outputRows: AssetRow[],
  inputRows: AssetRow[],
  links: ReferenceLink[],
): Promise<Generation[]> {
  const inputsById = new Map(inputRows.map((row) => [row.id, row]));
  links.sort((a, b) => a.position - b.position);
  const referenceList = await referenceViews(
    db,
    links.map((link) => link.reference),
  );
  const referencesById = new Map(referenceList.map((reference) => [reference.id, reference]));
  const outputsByGeneration = new Map<string, AssetRow[]>();
  for (const output of outputRows) {
    const list = outputsByGeneration.get(output.generationId ?? "") ?? [];
    list.push(output);
    outputsByGeneration.set(output.generationId ?? "", list);
  }
  return rows.map((row) =>
    toGenerationView(
      row,
      (outputsByGeneration.get(row.id) ?? []).sort((a, b) => (a.outputIndex ?? 0) - (b.outputIndex ?? 0)),
      [row.sourceAssetId, row.maskAssetId].flatMap((id) => (id ? (inputsById.get(id) ?? []) : [])),
      links
        .filter((link) => link.generationId === row.id)
        .flatMap((link) => referencesById.get(link.reference.id) ?? []),
    ),
  );
}

export async function generationView(db: Database, generationId: string): Promise<Generation | null> {
  const row = await db.query.generations.findFirst({ where: eq(generations.id, generationId) });
  if (!row) return null;
  const [view] = await generationViews(db, [row]);
  return view ?? null;
}

export async function sessionView(db: Database, sessionId: string): Promise<Session | null> {
  const row = await db.query.imageSessions.findFirst({ where: eq(imageSessions.id, sessionId) });
  return row ? toSessionView(row) : null;
}
