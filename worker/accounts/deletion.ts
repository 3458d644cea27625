/**
 * Deleting an account: everything of the user goes, in an order that is safe to repeat if it is
 * interrupted (the account row goes last, so the owner can sign in and ask again).
 *
 *   1. Their sign-in sessions and API tokens, at once: no request of theirs is honoured after this.
 *   2. Their sessions' rooms (queues, alarms, open sockets), and their predictions still running at
 *      Replicate, canceled so they stop costing.
 *   3. Their files on Replicate's Files API (which would expire within 24 hours anyway).
 *   4. Their rows, table by table, in one atomic D1 batch.
 *   5. Their bytes in R2, by the key prefixes that hold only theirs. An object written after the
 *      listing (a download finishing meanwhile) has no row and is removed by the retention job.
 */
import { TERMINAL_STATUSES } from "@contract/api";
import { and, eq, inArray, isNotNull, notInArray } from "drizzle-orm";
import type { Database } from "../db/client";
import {
  accountLimits,
  apiTokens,
  assets,
  authSessions,
  deadLetters,
  generationReferences,
  generations,
  imageSessions,
  rateLimits,
  references,
  replicateUploads,
  usageDays,
  userModels,
  users,
} from "../db/schema";
import type { AppConfig } from "../lib/config";
import { errorMessage, log } from "../lib/logger";
import { ReplicateGateway } from "../replicate/gateway";
import { allThumbnailKeys } from "../storage/thumbnails";
import { LIMITS } from "./rate-limit";

/** R2 deletes at most this many keys in one call. */
const R2_MAX_KEYS_PER_DELETE = 1000;

/** Every R2 prefix that holds objects of one user, and only theirs. */
export const userObjectPrefixes = (userId: string): string[] => {
  const originals = [`outputs/${userId}/`, `posters/${userId}/`, `blobs/${userId}/`];
  // Thumbnails sit under the key of their original, behind a width.
  return [...originals, ...originals.flatMap(allThumbnailKeys)];
};

export type DeletedAccount = { sessions: number; replicateFiles: number; objects: number };

export async function deleteAccount(
  env: Env,
  db: Database,
  config: AppConfig,
  user: { id: string; email: string },
): Promise<DeletedAccount> {
  const userId = user.id;
  await db.batch([
    db.delete(authSessions).where(eq(authSessions.userId, userId)),
    db.delete(apiTokens).where(eq(apiTokens.userId, userId)),
  ]);

  const gateway = new ReplicateGateway(config);
  const sessions = await db
    .select({ id: imageSessions.id })
    .from(imageSessions)
    .where(eq(imageSessions.userId, userId));
  for (const session of sessions) await env.SESSION_ROOM.getByName(session.id).destroy();
  const running = await db
    .select({ predictionId: generations.predictionId })
    .from(generations)
    .where(
      and(
        eq(generations.userId, userId),
        isNotNull(generations.predictionId),
        notInArray(generations.status, [...TERMINAL_STATUSES]),
      ),
    );
  for (const { predictionId } of running) {
    if (!predictionId) continue;
    await gateway
      .cancelPrediction(predictionId)
      .catch((error: unknown) =>
        log.warn("account.cancel_failed", { userId, predictionId, error: errorMessage(error) }),
      );
  }

  const files = await db
    .select({ fileId: replicateUploads.replicateFileId })
    .from(replicateUploads)
    .where(eq(replicateUploads.userId, userId));
  for (const fileId of new Set(files.map((file) => file.fileId))) {
    // Best effort: Replicate deletes every file after 24 hours in any case.
    await gateway
      .deleteFile(fileId)
      .catch((error: unknown) =>
        log.warn("account.replicate_file_not_deleted", { userId, fileId, error: errorMessage(error) }),
      );
  }

  const theirGenerations = db.select({ id: generations.id }).from(generations).where(eq(generations.userId, userId));
  const theirReferences = db.select({ id: references.id }).from(references).where(eq(references.userId, userId));
  await db.batch([
    db.delete(generationReferences).where(inArray(generationReferences.generationId, theirGenerations)),
    db.delete(generationReferences).where(inArray(generationReferences.referenceId, theirReferences)),
    db.delete(assets).where(eq(assets.userId, userId)),
    db.delete(generations).where(eq(generations.userId, userId)),
    db.delete(references).where(eq(references.userId, userId)),
    db.delete(replicateUploads).where(eq(replicateUploads.userId, userId)),
    db.delete(deadLetters).where(eq(deadLetters.userId, userId)),
    db.delete(imageSessions).where(eq(imageSessions.userId, userId)),
    db.delete(userModels).where(eq(userModels.userId, userId)),
    db.delete(usageDays).where(eq(usageDays.userId, userId)),
    db.delete(accountLimits).where(eq(accountLimits.userId, userId)),
    // The sign-in throttle is keyed by the email address.
    db.delete(rateLimits).where(eq(rateLimits.key, `${LIMITS.loginPerAccount.name}:${user.email}`)),
    db.delete(users).where(eq(users.id, userId)),
  ]);

  let objects = 0;
  for (const prefix of userObjectPrefixes(userId)) {
    for (;;) {
      const page = await env.BUCKET.list({ prefix, limit: R2_MAX_KEYS_PER_DELETE });
      if (page.objects.length === 0) break;
      await env.BUCKET.delete(page.objects.map((object) => object.key));
      objects += page.objects.length;
      if (!page.truncated) break;
    }
  }
  log.info("account.deleted", { userId, sessions: sessions.length, replicateFiles: files.length, objects });
  return { sessions: sessions.length, replicateFiles: files.length, objects };
}
