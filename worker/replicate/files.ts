/**
 * Our files on Replicate's Files API. Replicate deletes uploads after 24 hours, so every upload is
 * tracked: one younger than 20 hours that Replicate still has is reused; anything older, expired or
 * gone is uploaded again from R2, silently, before the prediction is created.
 */
import { lt } from "drizzle-orm";
import type { Database } from "../db/client";
import { type ReferenceRow, replicateUploads } from "../db/schema";
import { InputUnavailableError } from "../generations/input-error";
import { newId } from "../lib/ids";
import { log } from "../lib/logger";
import { isUploadFresh, latestUploadQuery } from "../references/views";
import { extensionFor } from "../storage/media-type";
import { GatewayError, type ReplicateGateway } from "./gateway";

export type StoredFile = {
  userId: string;
  sha256: string;
  r2Key: string;
  mimeType: string;
  name?: string;
  purpose: string;
};

/** A reference image, as a file to send to Replicate. */
export const referenceFile = (reference: ReferenceRow): StoredFile => ({
  userId: reference.userId,
  sha256: reference.sha256,
  r2Key: reference.r2Key,
  mimeType: reference.mimeType,
  name: reference.originalName,
  purpose: "reference",
});

const FILE_LIFETIME_MS = 24 * 60 * 60 * 1000;

export async function replicateUrlFor(
  db: Database,
  bucket: R2Bucket,
  gateway: ReplicateGateway,
  file: StoredFile,
): Promise<string> {
  const latest = await latestUploadQuery(db, file.userId, file.sha256);
  if (latest && isUploadFresh(latest)) {
    try {
      await gateway.getFile(latest.replicateFileId);
      return latest.url;
    } catch (error) {
      if (!(error instanceof GatewayError && error.kind === "not_found")) throw error;
      log.info("replicate_file.gone", {
        userId: file.userId,
        sha256: file.sha256,
        replicateFileId: latest.replicateFileId,
      });
    }
  }
  return uploadToReplicate(db, bucket, gateway, file);
}

export async function uploadToReplicate(
  db: Database,
  bucket: R2Bucket,
  gateway: ReplicateGateway,
  file: StoredFile,
): Promise<string> {
  const object = await bucket.get(file.r2Key);
  if (!object)
    throw new InputUnavailableError(`The stored file ${file.r2Key} is missing, so it cannot be sent to Replicate.`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  const metadata = { purpose: file.purpose, sha256: file.sha256 };
  const uploaded = await gateway.uploadFile(bytes, {
    fileName: file.name ?? `${file.sha256.slice(0, 16)}.${extensionFor(file.mimeType)}`,
    contentType: file.mimeType,
    metadata,
  });
  const now = Date.now();
  const expiresAt = uploaded.expires_at ? Date.parse(uploaded.expires_at) : now + FILE_LIFETIME_MS;
  await db.insert(replicateUploads).values({
    id: newId("upl"),
    userId: file.userId,
    sha256: file.sha256,
    replicateFileId: uploaded.id,
    url: uploaded.urls.get,
    md5: uploaded.checksums?.md5 ?? null,
    metadata,
    uploadedAt: new Date(now),
    expiresAt: new Date(Number.isNaN(expiresAt) ? now + FILE_LIFETIME_MS : expiresAt),
  });
  log.info("replicate_file.uploaded", { userId: file.userId, sha256: file.sha256, replicateFileId: uploaded.id });
  return uploaded.urls.get;
}

/** Drops records of uploads Replicate has already deleted. */
export async function forgetExpiredUploads(db: Database, now = Date.now()): Promise<number> {
  const removed = await db
    .delete(replicateUploads)
    .where(lt(replicateUploads.expiresAt, new Date(now)))
    .returning({ id: replicateUploads.id });
  return removed.length;
}
