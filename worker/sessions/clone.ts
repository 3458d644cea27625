/**
 * Cloning a session: a new session with a copy of every generation's settings (model, prompt,
 * parameters, inputs, reference images) and the same lineage, but no outputs: each copy has not
 * run (status `canceled`, `clonedFromGenerationId` naming its original); retrying one runs it.
 */
import { and, asc, eq, getTableColumns, inArray, isNull } from "drizzle-orm";
import { D1_MAX_BOUND_PARAMETERS, type Database } from "../db/client";
import {
  type GenerationRow,
  generationReferences,
  generations,
  type ImageSessionRow,
  imageSessions,
} from "../db/schema";
import { sessionStatsUpdate } from "../generations/lifecycle";
import { chunks } from "../lib/chunks";
import { newId } from "../lib/ids";
import { createSession } from "./queries";

/** A multi-row insert binds one parameter per column of each row. */
const rowsPerInsert = (table: Parameters<typeof getTableColumns>[0]) =>
  Math.max(1, Math.floor(D1_MAX_BOUND_PARAMETERS / Object.keys(getTableColumns(table)).length));

export async function cloneSession(
  db: Database,
  original: ImageSessionRow,
  title: string | undefined,
): Promise<ImageSessionRow> {
  const rows = await db
    .select()
    .from(generations)
    .where(and(eq(generations.sessionId, original.id), isNull(generations.trashedAt)))
    .orderBy(asc(generations.createdAt), asc(generations.id));
  const links = [];
  for (const ids of chunks(
    rows.map((row) => row.id),
    D1_MAX_BOUND_PARAMETERS - 10,
  )) {
    links.push(
      ...(await db.select().from(generationReferences).where(inArray(generationReferences.generationId, ids))),
    );
  }
  const copy = await createSession(db, original.userId, {
    title: (title ?? `${original.title} (copy)`).slice(0, 200),
    ...(original.model ? { model: original.model } : {}),
  });
  const now = Date.now();
  const newIds = new Map(rows.map((row, index) => [row.id, newId("gen", now - rows.length + index)]));
  const copyOf = (id: string): string => newIds.get(id) ?? id;
  const copies: GenerationRow[] = rows.map((row, index) => ({
    ...row,
    id: copyOf(row.id),
    sessionId: copy.id,
    // Lineage inside the session follows the copies; a parent outside it (or gone) stays as it was.
    parentGenerationId: row.parentGenerationId ? (newIds.get(row.parentGenerationId) ?? row.parentGenerationId) : null,
    // An output of the original is not copied: the copy starts from its (copied) parent's output.
    sourceAssetId: row.parentGenerationId ? null : row.sourceAssetId,
    status: "canceled",
    predictionId: null,
    progress: 0,
    error: null,
    pipelineError: null,
    createdAt: new Date(now - rows.length + index),
    submittedAt: null,
    startedAt: null,
    completedAt: null,
    durationMs: null,
    cost: null,
    trashedAt: null,
    clonedFromGenerationId: row.id,
  }));
  const statements = [
    ...chunks(copies, rowsPerInsert(generations)).map((slice) => db.insert(generations).values(slice)),
    ...chunks(
      links.map((link) => ({ ...link, generationId: copyOf(link.generationId) })),
      rowsPerInsert(generationReferences),
    ).map((slice) => db.insert(generationReferences).values(slice)),
    sessionStatsUpdate(db, copy.id),
  ];
  // Atomic: the copies all exist, or none (the empty session is removed again).
  try {
    await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
  } catch (error) {
    await db.delete(imageSessions).where(eq(imageSessions.id, copy.id));
    throw error;
  }
  const stored = await db.query.imageSessions.findFirst({ where: eq(imageSessions.id, copy.id) });
  return stored ?? copy;
}
