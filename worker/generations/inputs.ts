/**
 * The images a generation starts from — its source (an output of its parent, or an upload), its mask
 * and its reference images — turned into URLs Replicate can fetch, through the Files API.
 */
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { type AssetRow, assets, type GenerationRow, generationReferences, generations, references } from "../db/schema";
import type { ModelCall, ModelInputFiles } from "../models/params";
import { referenceFile, replicateUrlFor } from "../replicate/files";
import type { ReplicateGateway } from "../replicate/gateway";
import { InputUnavailableError } from "./input-error";

/** The parent's output this generation starts from, recorded as its source once it exists. */
async function resolveSource(db: Database, generation: GenerationRow): Promise<AssetRow | undefined> {
  if (generation.sourceAssetId) {
    const asset = await db.query.assets.findFirst({ where: eq(assets.id, generation.sourceAssetId) });
    if (!asset) throw new InputUnavailableError("Its source image was deleted, so there is nothing to start from.");
    return asset;
  }
  if (!generation.parentGenerationId || generation.sourceOutputIndex === null) return undefined;
  const index = generation.sourceOutputIndex;
  const output = await db.query.assets.findFirst({
    where: and(
      eq(assets.generationId, generation.parentGenerationId),
      eq(assets.role, "output"),
      eq(assets.outputIndex, index),
    ),
  });
  if (!output) {
    throw new InputUnavailableError(
      `Its source (output ${index + 1} of the parent generation) does not exist: the parent was deleted or made fewer outputs.`,
    );
  }
  await db.update(generations).set({ sourceAssetId: output.id }).where(eq(generations.id, generation.id));
  return output;
}

const fileOf = (asset: AssetRow, purpose: string) => ({
  userId: asset.userId,
  sha256: asset.sha256,
  r2Key: asset.r2Key,
  mimeType: asset.mimeType,
  purpose,
});

export async function resolveInputFiles(
  db: Database,
  bucket: R2Bucket,
  gateway: ReplicateGateway,
  generation: GenerationRow,
  /** The call they are for: reference images are looked up only for a model that takes them. */
  call?: ModelCall,
): Promise<ModelInputFiles> {
  const files: ModelInputFiles = {};
  const source = await resolveSource(db, generation);
  if (source) files.image = await replicateUrlFor(db, bucket, gateway, fileOf(source, "source"));
  if (generation.maskAssetId) {
    const mask = await db.query.assets.findFirst({ where: eq(assets.id, generation.maskAssetId) });
    if (!mask) throw new InputUnavailableError("Its mask was deleted.");
    files.mask = await replicateUrlFor(db, bucket, gateway, fileOf(mask, "mask"));
  }
  if (call && !call.files.references) return files;
  const linked = await db
    .select({ reference: references })
    .from(generationReferences)
    .innerJoin(references, eq(references.id, generationReferences.referenceId))
    .where(eq(generationReferences.generationId, generation.id))
    .orderBy(generationReferences.position);
  if (linked.length) {
    files.references = [];
    for (const { reference } of linked)
      files.references.push(await replicateUrlFor(db, bucket, gateway, referenceFile(reference)));
  }
  return files;
}
