/**
 * Importing a session from an export document (JSON) or an export zip: the whole document is
 * checked first (schema, then every link between its parts), and a fault anywhere refuses it whole
 * with 400 naming the path (`generations.3.parentGenerationId`). Then the bytes are written to R2
 * (from the zip, or copied from objects of the same SHA-256 the user already has), then every row
 * in one atomic D1 batch; if that batch fails, the objects written for it are removed again.
 * Nothing of the document's ids is kept: the session, generations and assets get new ids.
 */
import { isTerminalStatus } from "@contract/api";
import {
  type ExportAsset,
  type ExportDocument,
  exportDocumentSchema,
  MANIFEST_FILE,
  MAX_IMPORT_JSON_BYTES,
  MAX_IMPORT_ZIP_BYTES,
} from "@contract/transfer";
import { and, eq, getTableColumns, inArray } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { unzipSync } from "fflate";
import { D1_MAX_BOUND_PARAMETERS, type Database } from "../db/client";
import {
  assets,
  generationReferences,
  generations,
  type ImageSessionRow,
  imageSessions,
  references,
} from "../db/schema";
import { sessionStatsUpdate } from "../generations/lifecycle";
import { readBounded } from "../http/multipart";
import { toFieldErrors } from "../http/validation";
import { chunks } from "../lib/chunks";
import { newId, sha256Hex } from "../lib/ids";
import { type FieldError, ProblemError } from "../lib/problem";
import { sniffMedia } from "../storage/media-type";
import { outputKey, putObject } from "../storage/objects";
import { blobKey } from "../storage/uploads";

export type ImportOutcome = {
  session: ImageSessionRow;
  importedGenerations: number;
  importedAssets: number;
  missingAssets: string[];
};

const refuse = (errors: FieldError[]) =>
  new ProblemError(400, `The document cannot be imported: ${errors[0]?.path} ${errors[0]?.message}`, { errors });

/** The document and, for a zip, its files by name. */
type Parsed = { document: ExportDocument; files: Map<string, Uint8Array> | null };

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const MAX_FILES = 10_000;

export async function readImport(request: Request): Promise<Parsed> {
  const type = (request.headers.get("Content-Type") ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  if (type === "application/zip" || type === "application/x-zip-compressed") {
    return readZip(await readBounded(request, MAX_IMPORT_ZIP_BYTES, "(body)"));
  }
  if (!/^application\/([\w.-]+\+)?json$/.test(type)) {
    throw new ProblemError(415, "Send an export document (application/json) or an export zip (application/zip).", {
      errors: [
        { path: "Content-Type", message: `Expected application/json or application/zip, got ${type || "none"}` },
      ],
    });
  }
  const bytes = await readBounded(request, MAX_IMPORT_JSON_BYTES, "(body)");
  return { document: parseDocument(new TextDecoder().decode(bytes)), files: null };
}

function parseDocument(text: string): ExportDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw refuse([{ path: "(body)", message: "Not valid JSON" }]);
  }
  const parsed = exportDocumentSchema.safeParse(raw);
  if (!parsed.success) throw refuse(toFieldErrors(parsed.error.issues).slice(0, 20));
  checkLinks(parsed.data);
  return parsed.data;
}

function readZip(bytes: Uint8Array): Parsed {
  if (!ZIP_MAGIC.every((byte, index) => bytes[index] === byte))
    throw refuse([{ path: "(body)", message: "Not a zip" }]);
  let declared = 0;
  let count = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (file) => {
        count++;
        declared += file.originalSize;
        // Refused before anything is inflated: too many entries, a bomb's declared size, odd names.
        if (count > MAX_FILES) throw new Error("too many entries");
        if (declared > MAX_IMPORT_ZIP_BYTES * 2) throw new Error("too large once inflated");
        if (file.compression !== 0 && file.compression !== 8) throw new Error(`compression ${file.compression}`);
        return file.name === MANIFEST_FILE || /^assets\/[A-Za-z0-9_-]+\.[a-z0-9]+$/.test(file.name);
      },
    });
  } catch (error) {
    throw refuse([
      { path: "(body)", message: `Not a zip we can read (${error instanceof Error ? error.message : "unreadable"})` },
    ]);
  }
  const manifest = entries[MANIFEST_FILE];
  if (!manifest) throw refuse([{ path: MANIFEST_FILE, message: "Missing" }]);
  const document = parseDocument(new TextDecoder().decode(manifest));
  const files = new Map(Object.entries(entries).filter(([name]) => name !== MANIFEST_FILE));
  return { document, files };
}

/** Every link between the document's parts, each fault with its path. */
function checkLinks(document: ExportDocument): void {
  const errors: FieldError[] = [];
  const assetsById = new Map<string, ExportAsset>();
  for (const [index, asset] of document.assets.entries()) {
    if (assetsById.has(asset.id)) errors.push({ path: `assets.${index}.id`, message: "Used twice" });
    assetsById.set(asset.id, asset);
  }
  const seen = new Set<string>();
  const generationIds = new Set(document.generations.map((generation) => generation.id));
  for (const [index, generation] of document.generations.entries()) {
    const at = (field: string) => `generations.${index}.${field}`;
    if (seen.has(generation.id)) errors.push({ path: at("id"), message: "Used twice" });
    if (generation.parentGenerationId !== null) {
      if (generation.parentGenerationId === generation.id)
        errors.push({ path: at("parentGenerationId"), message: "A generation cannot be its own parent" });
      else if (!seen.has(generation.parentGenerationId))
        errors.push({
          path: at("parentGenerationId"),
          message: generationIds.has(generation.parentGenerationId)
            ? "The parent must come before its children"
            : "No such generation in the document",
        });
      if (generation.sourceOutputIndex === null)
        errors.push({ path: at("sourceOutputIndex"), message: "Required with a parent" });
    } else if (generation.sourceOutputIndex !== null) {
      errors.push({ path: at("sourceOutputIndex"), message: "Only with a parent" });
    }
    const expectRole = (field: "sourceAssetId" | "maskAssetId", id: string | null, roles: ExportAsset["role"][]) => {
      if (id === null) return;
      const asset = assetsById.get(id);
      if (!asset || !roles.includes(asset.role))
        errors.push({ path: at(field), message: `No such ${roles.join(" or ")} asset in the document` });
    };
    expectRole("sourceAssetId", generation.sourceAssetId, ["input", "output"]);
    expectRole("maskAssetId", generation.maskAssetId, ["mask"]);
    for (const [position, id] of generation.referenceAssetIds.entries()) {
      if (assetsById.get(id)?.role !== "reference")
        errors.push({ path: at(`referenceAssetIds.${position}`), message: "No such reference asset in the document" });
    }
    if (new Set(generation.referenceAssetIds).size !== generation.referenceAssetIds.length)
      errors.push({ path: at("referenceAssetIds"), message: "A reference is listed twice" });
    seen.add(generation.id);
  }
  const outputSlots = new Set<string>();
  for (const [index, asset] of document.assets.entries()) {
    const at = (field: string) => `assets.${index}.${field}`;
    if (asset.role === "output") {
      if (asset.generationId === null || !generationIds.has(asset.generationId))
        errors.push({ path: at("generationId"), message: "An output must name a generation of the document" });
      if (asset.outputIndex === null) errors.push({ path: at("outputIndex"), message: "Required for an output" });
      const slot = `${asset.generationId} ${asset.outputIndex}`;
      if (outputSlots.has(slot)) errors.push({ path: at("outputIndex"), message: "Two outputs in the same place" });
      outputSlots.add(slot);
    } else if (asset.generationId !== null || asset.outputIndex !== null) {
      errors.push({ path: at("generationId"), message: "Only outputs belong to a generation" });
    }
  }
  if (errors.length) throw refuse(errors.slice(0, 20));
}

/** The bytes of each asset: from the zip (checked against the manifest), or null when absent. */
async function zipBytes(document: ExportDocument, files: Map<string, Uint8Array>): Promise<Map<string, Uint8Array>> {
  const bytes = new Map<string, Uint8Array>();
  const errors: FieldError[] = [];
  for (const [index, asset] of document.assets.entries()) {
    if (!asset.file) continue;
    const data = files.get(asset.file);
    const at = `assets.${index}`;
    if (!data) {
      errors.push({ path: `${at}.file`, message: "Not in the zip" });
      continue;
    }
    if (data.length !== asset.sizeBytes)
      errors.push({ path: `${at}.sizeBytes`, message: `The file has ${data.length} bytes` });
    else if ((await sha256Hex(data)) !== asset.sha256)
      errors.push({ path: `${at}.sha256`, message: "Does not match the file" });
    else if (sniffMedia(data)?.mimeType !== asset.mimeType)
      errors.push({ path: `${at}.mimeType`, message: "Does not match the file" });
    else bytes.set(asset.id, data);
  }
  if (errors.length) throw refuse(errors.slice(0, 20));
  return bytes;
}

/** Where the user already keeps bytes of each SHA-256 (for a JSON document, which carries none). */
async function ownedObjects(db: Database, userId: string, hashes: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const slice of chunks([...new Set(hashes)], D1_MAX_BOUND_PARAMETERS / 2 - 2)) {
    const rows = await db
      .select({ sha256: assets.sha256, key: assets.r2Key })
      .from(assets)
      .where(and(eq(assets.userId, userId), inArray(assets.sha256, slice)))
      .union(
        db
          .select({ sha256: references.sha256, key: references.r2Key })
          .from(references)
          .where(and(eq(references.userId, userId), inArray(references.sha256, slice))),
      );
    for (const row of rows) found.set(row.sha256, row.key);
  }
  return found;
}

const rowsPerInsert = (table: SQLiteTable) =>
  Math.max(1, Math.floor(D1_MAX_BOUND_PARAMETERS / Object.keys(getTableColumns(table)).length));

export async function importSession(env: Env, db: Database, userId: string, parsed: Parsed): Promise<ImportOutcome> {
  const { document } = parsed;
  const fromZip = parsed.files ? await zipBytes(document, parsed.files) : new Map<string, Uint8Array>();
  const owned = parsed.files
    ? new Map<string, string>()
    : await ownedObjects(
        db,
        userId,
        document.assets.map((a) => a.sha256),
      );
  const now = Date.now();
  const sessionId = newId("ses", now);
  const generationIds = new Map(document.generations.map((g) => [g.id, newId("gen", Date.parse(g.createdAt))]));
  // Every id of the document was checked to be present (checkLinks), so this always finds one.
  const newGenerationId = (id: string): string => generationIds.get(id) ?? id;
  const assetIds = new Map<string, string>();
  const referenceIds = new Map<string, string>();
  const written: string[] = [];
  const missing: string[] = [];
  const assetRows: (typeof assets.$inferInsert)[] = [];
  const referenceRows: (typeof references.$inferInsert)[] = [];
  const existingReferences = new Map(
    (
      await Promise.all(
        chunks(
          document.assets.filter((a) => a.role === "reference").map((a) => a.sha256),
          D1_MAX_BOUND_PARAMETERS - 10,
        ).map((slice) =>
          db
            .select({ id: references.id, sha256: references.sha256 })
            .from(references)
            .where(and(eq(references.userId, userId), inArray(references.sha256, slice))),
        ),
      )
    )
      .flat()
      .map((row) => [row.sha256, row.id]),
  );

  try {
    for (const asset of document.assets) {
      const generationId = asset.generationId ? generationIds.get(asset.generationId) : undefined;
      const key =
        asset.role === "output" && generationId
          ? outputKey(userId, generationId, asset.outputIndex ?? 0)
          : blobKey(userId, asset.sha256);
      const existingReference = asset.role === "reference" ? existingReferences.get(asset.sha256) : undefined;
      if (existingReference) {
        referenceIds.set(asset.id, existingReference);
        continue;
      }
      let bytes = fromZip.get(asset.id);
      const ownedKey = owned.get(asset.sha256);
      if (!bytes && ownedKey && ownedKey !== key) {
        const object = await env.BUCKET.get(ownedKey);
        if (object) bytes = new Uint8Array(await object.arrayBuffer());
      }
      const alreadyThere = !bytes && ownedKey === key;
      if (!bytes && !alreadyThere) {
        missing.push(asset.id);
        continue;
      }
      if (bytes && !(await env.BUCKET.head(key))) {
        await putObject(env.BUCKET, key, bytes, { mimeType: asset.mimeType, sha256: asset.sha256 });
        written.push(key);
      }
      if (asset.role === "reference") {
        const id = newId("ref", Date.parse(asset.createdAt));
        referenceIds.set(asset.id, id);
        referenceRows.push({
          id,
          userId,
          sha256: asset.sha256,
          r2Key: key,
          originalName: asset.originalName ?? `${asset.id}`,
          mimeType: asset.mimeType,
          sizeBytes: asset.sizeBytes,
          width: asset.width,
          height: asset.height,
          createdAt: new Date(asset.createdAt),
        });
        continue;
      }
      const id = newId("ast", Date.parse(asset.createdAt));
      assetIds.set(asset.id, id);
      assetRows.push({
        id,
        userId,
        generationId: generationId ?? null,
        role: asset.role,
        outputIndex: asset.role === "output" ? asset.outputIndex : null,
        r2Key: key,
        mimeType: asset.mimeType,
        sizeBytes: asset.sizeBytes,
        width: asset.width,
        height: asset.height,
        sha256: asset.sha256,
        createdAt: new Date(asset.createdAt),
      });
    }

    const generationRows: (typeof generations.$inferInsert)[] = document.generations.map((generation) => {
      const finished = isTerminalStatus(generation.status);
      return {
        id: newGenerationId(generation.id),
        userId,
        sessionId,
        parentGenerationId: generation.parentGenerationId ? newGenerationId(generation.parentGenerationId) : null,
        status: finished ? generation.status : "canceled",
        model: generation.model,
        prompt: generation.prompt,
        negativePrompt: generation.negativePrompt,
        params: generation.params,
        sourceOutputIndex: generation.sourceOutputIndex,
        sourceAssetId: generation.sourceAssetId ? (assetIds.get(generation.sourceAssetId) ?? null) : null,
        maskAssetId: generation.maskAssetId ? (assetIds.get(generation.maskAssetId) ?? null) : null,
        progress: generation.status === "succeeded" ? 1 : 0,
        error: finished ? generation.error : "It was still running when it was exported.",
        createdAt: new Date(generation.createdAt),
        startedAt: generation.startedAt ? new Date(generation.startedAt) : null,
        completedAt: generation.completedAt ? new Date(generation.completedAt) : null,
        durationMs: generation.durationMs,
      };
    });
    const links = document.generations.flatMap((generation) =>
      generation.referenceAssetIds.flatMap((id, position) => {
        const referenceId = referenceIds.get(id);
        return referenceId ? [{ generationId: newGenerationId(generation.id), referenceId, position }] : [];
      }),
    );
    const lastActivity = Math.max(now, ...document.generations.map((g) => Date.parse(g.createdAt)));
    await db.batch([
      db.insert(imageSessions).values({
        id: sessionId,
        userId,
        title: document.session.title,
        model: document.session.model,
        lastActivityAt: new Date(lastActivity),
        createdAt: new Date(now),
        updatedAt: new Date(now),
      }),
      ...chunks(referenceRows, rowsPerInsert(references)).map((slice) => db.insert(references).values(slice)),
      ...chunks(generationRows, rowsPerInsert(generations)).map((slice) => db.insert(generations).values(slice)),
      ...chunks(assetRows, rowsPerInsert(assets)).map((slice) => db.insert(assets).values(slice)),
      ...chunks(links, rowsPerInsert(generationReferences)).map((slice) =>
        db.insert(generationReferences).values(slice),
      ),
      sessionStatsUpdate(db, sessionId),
    ]);
  } catch (error) {
    // Nothing of a failed import stays behind.
    if (written.length) await env.BUCKET.delete(written).catch(() => undefined);
    throw error;
  }
  const session = await db.query.imageSessions.findFirst({ where: eq(imageSessions.id, sessionId) });
  if (!session) throw new Error(`Imported session ${sessionId} vanished`);
  return {
    session,
    importedGenerations: document.generations.length,
    importedAssets: document.assets.length - missing.length,
    missingAssets: missing,
  };
}
