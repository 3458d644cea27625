/**
 * Storing reference images: cleaned, content-addressed in R2, and unique per user by SHA-256, so the
 * same file uploaded twice (even at the same moment) is one reference and one object.
 */

import type { Page, Reference } from "@contract/api";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type ReferenceRow, references } from "../db/schema";
import { newId, toBase64Url } from "../lib/ids";
import { ProblemError } from "../lib/problem";
import { putObject } from "../storage/objects";
import { blobKey, cleanUploadedImage } from "../storage/uploads";
import { referenceViews } from "./views";

export const MAX_FILES_PER_UPLOAD = 10;

/**
 * A file name safe to show and to send on: no path, no control characters, no bidirectional
 * overrides (which make `photo\u202Egnp.exe` display as `photoexe.png`), bounded length without
 * splitting a character in two.
 */
export function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  let clean = base
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this strips.
    .replace(/[\u0000-\u001f\u007f"<>\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "")
    .trim()
    .slice(0, 200);
  if (/[\uD800-\uDBFF]$/.test(clean)) clean = clean.slice(0, -1);
  return clean || "image";
}

export type StoredReference = { row: ReferenceRow; deduplicated: boolean };

export async function storeReference(
  db: Database,
  bucket: R2Bucket,
  images: ImagesBinding,
  userId: string,
  file: File,
  field: string,
): Promise<StoredReference> {
  const image = await cleanUploadedImage(images, file, field);
  const existing = await db.query.references.findFirst({
    where: and(eq(references.userId, userId), eq(references.sha256, image.sha256)),
  });
  if (existing) return { row: await restore(db, existing), deduplicated: true };

  const r2Key = blobKey(userId, image.sha256);
  await putObject(bucket, r2Key, image.bytes, image);
  const inserted = await db
    .insert(references)
    .values({
      id: newId("ref"),
      userId,
      sha256: image.sha256,
      r2Key,
      originalName: cleanFileName(file.name),
      mimeType: image.mimeType,
      sizeBytes: image.bytes.length,
      width: image.width,
      height: image.height,
    })
    .onConflictDoNothing()
    .returning();
  if (inserted[0]) return { row: inserted[0], deduplicated: false };
  // Someone stored the same bytes between our look-up and our insert: that one is the reference.
  const winner = await db.query.references.findFirst({
    where: and(eq(references.userId, userId), eq(references.sha256, image.sha256)),
  });
  if (!winner) throw new Error("The reference that won the insert race is gone.");
  return { row: await restore(db, winner), deduplicated: true };
}

/** Uploading a deleted reference again brings it back. */
async function restore(db: Database, row: ReferenceRow): Promise<ReferenceRow> {
  if (!row.deletedAt) return row;
  const [restored] = await db.update(references).set({ deletedAt: null }).where(eq(references.id, row.id)).returning();
  return restored ?? row;
}

export async function listReferences(
  db: Database,
  userId: string,
  limit: number,
  cursor?: string,
): Promise<Page<Reference>> {
  const conditions = [eq(references.userId, userId), isNull(references.deletedAt)];
  if (cursor) {
    const [time, id] = decodeCursor(cursor);
    conditions.push(
      sql`(${references.createdAt} < ${time} OR (${references.createdAt} = ${time} AND ${references.id} < ${id}))`,
    );
  }
  const rows = await db
    .select()
    .from(references)
    .where(and(...conditions))
    .orderBy(desc(references.createdAt), desc(references.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: await referenceViews(db, page),
    nextCursor:
      rows.length > limit && last
        ? toBase64Url(new TextEncoder().encode(JSON.stringify([last.createdAt.getTime(), last.id])))
        : null,
  };
}

function decodeCursor(cursor: string): [number, string] {
  try {
    const parsed: unknown = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (Array.isArray(parsed) && typeof parsed[0] === "number" && typeof parsed[1] === "string")
      return [parsed[0], parsed[1]];
  } catch {
    // Fall through.
  }
  throw new ProblemError(400, "The cursor is not valid.", {
    errors: [{ path: "cursor", message: "Not a cursor from a previous page" }],
  });
}

export const findOwnedReference = (db: Database, userId: string, id: string) =>
  db.query.references.findFirst({ where: and(eq(references.id, id), eq(references.userId, userId)) });
