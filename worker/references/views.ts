/**
 * How reference images are presented, including whether their Replicate copy can be reused.
 */

import type { Reference } from "@contract/api";
import { and, desc, eq, inArray, type SQLWrapper } from "drizzle-orm";
import type { Database } from "../db/client";
import { type ReferenceRow, type ReplicateUploadRow, replicateUploads } from "../db/schema";

/** A Replicate upload is reused while younger than this; Replicate deletes files after 24 hours. */
export const UPLOAD_REUSE_MS = 20 * 60 * 60 * 1000;

export const isUploadFresh = (
  upload: Pick<ReplicateUploadRow, "uploadedAt" | "expiresAt">,
  now = Date.now(),
): boolean => now - upload.uploadedAt.getTime() < UPLOAD_REUSE_MS && upload.expiresAt.getTime() > now;

export function toReferenceView(row: ReferenceRow, latestUpload: ReplicateUploadRow | undefined): Reference {
  return {
    id: row.id,
    sha256: row.sha256,
    originalName: row.originalName,
    mimeType: row.mimeType,
    sizeBytes: row.sizeBytes,
    width: row.width,
    height: row.height,
    url: `/api/references/${row.id}/content`,
    thumbnailUrl: `/api/references/${row.id}/thumbnail`,
    createdAt: row.createdAt.toISOString(),
    usageCount: row.usageCount,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    replicateStatus: latestUpload && isUploadFresh(latestUpload) ? "fresh" : "will_refresh",
  };
}

/**
 * The Replicate uploads of the given owners' images with the given digests, newest first: what
 * `referenceViewsFrom` needs. Either may be a subquery, so the read can go in a batch with the one
 * that finds the references.
 */
export const referenceUploadsRead = (db: Database, userIds: string[] | SQLWrapper, sha256s: string[] | SQLWrapper) =>
  db
    .select()
    .from(replicateUploads)
    .where(and(inArray(replicateUploads.userId, userIds), inArray(replicateUploads.sha256, sha256s)))
    .orderBy(desc(replicateUploads.uploadedAt));

/** Reference views from the uploads `referenceUploadsRead` found for them. */
export function referenceViewsFrom(rows: readonly ReferenceRow[], uploads: readonly ReplicateUploadRow[]): Reference[] {
  const latest = new Map<string, ReplicateUploadRow>();
  for (const upload of uploads) {
    const key = `${upload.userId}:${upload.sha256}`;
    if (!latest.has(key)) latest.set(key, upload);
  }
  return rows.map((row) => toReferenceView(row, latest.get(`${row.userId}:${row.sha256}`)));
}

/** Reference views with the state of their newest Replicate upload. */
export async function referenceViews(db: Database, rows: ReferenceRow[]): Promise<Reference[]> {
  if (rows.length === 0) return [];
  const uploads = await referenceUploadsRead(
    db,
    [...new Set(rows.map((row) => row.userId))],
    rows.map((row) => row.sha256),
  );
  return referenceViewsFrom(rows, uploads);
}

export const latestUploadQuery = (db: Database, userId: string, sha256: string) =>
  db.query.replicateUploads.findFirst({
    where: and(eq(replicateUploads.userId, userId), eq(replicateUploads.sha256, sha256)),
    orderBy: desc(replicateUploads.uploadedAt),
  });
