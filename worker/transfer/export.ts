/**
 * Exporting a session as the versioned document of contract/transfer.ts: its generations (not in
 * the trash) with their settings and lineage, their outputs, and the inputs, masks and reference
 * images they used. The zip form streams: `manifest.json` first, then each file straight from R2
 * (stored, not recompressed: images are compressed already), so memory stays flat however large
 * the session.
 */
import { EXPORT_VERSION, type ExportAsset, type ExportDocument, MANIFEST_FILE } from "@contract/transfer";
import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import { Zip, ZipPassThrough } from "fflate";
import { D1_MAX_BOUND_PARAMETERS, type Database } from "../db/client";
import {
  type AssetRow,
  assets,
  generationReferences,
  generations,
  type ImageSessionRow,
  type ReferenceRow,
  references,
} from "../db/schema";
import { chunks } from "../lib/chunks";
import { extensionFor } from "../storage/media-type";

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** The document, and where each of its assets' bytes live in R2. */
export type Export = { document: ExportDocument; keys: Map<string, string> };

async function inChunks<T>(ids: readonly string[], read: (slice: string[]) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for (const slice of chunks(ids, D1_MAX_BOUND_PARAMETERS - 10)) rows.push(...(await read(slice)));
  return rows;
}

export async function buildExport(db: Database, session: ImageSessionRow, withFiles: boolean): Promise<Export> {
  const rows = await db
    .select()
    .from(generations)
    .where(and(eq(generations.sessionId, session.id), isNull(generations.trashedAt)))
    .orderBy(asc(generations.createdAt), asc(generations.id));
  const ids = rows.map((row) => row.id);
  const outputs = await inChunks(ids, (slice) =>
    db
      .select()
      .from(assets)
      .where(and(inArray(assets.generationId, slice), eq(assets.role, "output"), isNull(assets.trashedAt)))
      .orderBy(asc(assets.outputIndex)),
  );
  const inputIds = [
    ...new Set(rows.flatMap((row) => [row.sourceAssetId, row.maskAssetId]).filter((id) => id !== null)),
  ];
  const inputs = await inChunks(inputIds, (slice) =>
    db
      .select()
      .from(assets)
      .where(and(inArray(assets.id, slice), eq(assets.userId, session.userId))),
  );
  const links = await inChunks(ids, (slice) =>
    db
      .select({ generationId: generationReferences.generationId, reference: references })
      .from(generationReferences)
      .innerJoin(references, eq(references.id, generationReferences.referenceId))
      .where(inArray(generationReferences.generationId, slice))
      .orderBy(asc(generationReferences.position)),
  );

  const keys = new Map<string, string>();
  const documentAssets: ExportAsset[] = [];
  const file = (id: string, mimeType: string) => (withFiles ? { file: `assets/${id}.${extensionFor(mimeType)}` } : {});
  const addAsset = (row: AssetRow) => {
    if (keys.has(row.id)) return;
    keys.set(row.id, row.r2Key);
    documentAssets.push({
      id: row.id,
      role: row.role,
      generationId: row.role === "output" ? row.generationId : null,
      outputIndex: row.role === "output" ? row.outputIndex : null,
      mimeType: row.mimeType as ExportAsset["mimeType"],
      sizeBytes: row.sizeBytes,
      width: row.width,
      height: row.height,
      sha256: row.sha256,
      createdAt: row.createdAt.toISOString(),
      ...file(row.id, row.mimeType),
    });
  };
  const addReference = (row: ReferenceRow) => {
    if (keys.has(row.id)) return;
    keys.set(row.id, row.r2Key);
    documentAssets.push({
      id: row.id,
      role: "reference",
      generationId: null,
      outputIndex: null,
      mimeType: row.mimeType as ExportAsset["mimeType"],
      sizeBytes: row.sizeBytes,
      width: row.width,
      height: row.height,
      sha256: row.sha256,
      originalName: row.originalName,
      createdAt: row.createdAt.toISOString(),
      ...file(row.id, row.mimeType),
    });
  };
  for (const row of inputs) addAsset(row);
  for (const link of links) addReference(link.reference);
  for (const row of outputs) addAsset(row);
  const exported = new Set(ids);

  return {
    keys,
    document: {
      version: EXPORT_VERSION,
      exportedAt: new Date().toISOString(),
      session: { title: session.title, model: session.model, createdAt: session.createdAt.toISOString() },
      generations: rows.map((row) => ({
        id: row.id,
        parentGenerationId:
          row.parentGenerationId && exported.has(row.parentGenerationId) ? row.parentGenerationId : null,
        sourceOutputIndex:
          row.parentGenerationId && exported.has(row.parentGenerationId) ? (row.sourceOutputIndex ?? 0) : null,
        sourceAssetId: row.sourceAssetId && keys.has(row.sourceAssetId) ? row.sourceAssetId : null,
        maskAssetId: row.maskAssetId && keys.has(row.maskAssetId) ? row.maskAssetId : null,
        referenceAssetIds: links.filter((link) => link.generationId === row.id).map((link) => link.reference.id),
        status: row.status,
        model: row.model,
        prompt: row.prompt,
        negativePrompt: row.negativePrompt,
        params: row.params,
        error: row.error,
        createdAt: row.createdAt.toISOString(),
        startedAt: iso(row.startedAt),
        completedAt: iso(row.completedAt),
        durationMs: row.durationMs,
      })),
      assets: documentAssets,
    },
  };
}

/** The zip: the manifest, then every file, streamed from R2. Objects that are gone are left out. */
export function exportZip(
  bucket: R2Bucket,
  exported: Export,
): { stream: ReadableStream<Uint8Array>; done: Promise<void> } {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  let failure: unknown = null;
  const zip = new Zip((error, chunk, final) => {
    if (error) failure = error;
    else {
      void writer.write(chunk);
      if (final) void writer.close();
    }
  });
  const done = (async () => {
    const present = new Set<string>();
    for (const asset of exported.document.assets)
      if ((await bucket.head(exported.keys.get(asset.id) ?? "")) !== null) present.add(asset.id);
    const document: ExportDocument = {
      ...exported.document,
      assets: exported.document.assets.map((asset) => (present.has(asset.id) ? asset : { ...asset, file: undefined })),
    };
    const manifest = new ZipPassThrough(MANIFEST_FILE);
    zip.add(manifest);
    manifest.push(new TextEncoder().encode(JSON.stringify(document, null, 2)), true);
    for (const asset of document.assets) {
      if (!asset.file) continue;
      const object = await bucket.get(exported.keys.get(asset.id) ?? "");
      if (!object) continue;
      const entry = new ZipPassThrough(asset.file);
      zip.add(entry);
      const reader = object.body.getReader();
      for (;;) {
        const { done: finished, value } = await reader.read();
        if (finished) break;
        entry.push(value);
        await writer.ready;
      }
      entry.push(new Uint8Array(0), true);
      if (failure) throw failure;
    }
    zip.end();
  })().catch(async (error: unknown) => {
    await writer.abort(error);
  });
  return { stream: readable, done };
}
