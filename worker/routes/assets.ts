import { assetQuerySchema, thumbnailQuerySchema, uploadRoleSchema } from "@contract/api";
import { and, eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { Database } from "../db/client";
import { onlyRow } from "../db/client";
import { type AssetRow, assets, generations } from "../db/schema";
import { downloadName } from "../gallery/views";
import { toAssetView } from "../generations/views";
import { requireUser } from "../http/auth";
import { readMultipart } from "../http/multipart";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { newId } from "../lib/ids";
import { notFound, ProblemError } from "../lib/problem";
import { extensionFor } from "../storage/media-type";
import { putObject, serveBytes, serveObject } from "../storage/objects";
import { ensureThumbnail } from "../storage/thumbnails";
import { blobKey, cleanUploadedImage, MAX_UPLOAD_BYTES } from "../storage/uploads";
import { trashAsset } from "../trash/trash";

/**
 * The user's asset. Its bytes are served even from the trash (the trash page shows them); with
 * `inGallery`, only an output on show in the gallery (neither it, its generation nor its session
 * in the trash) is found.
 */
async function findOwnedAsset(c: Context<AppEnv>, options: { inGallery?: boolean } = {}): Promise<AssetRow> {
  const asset = await c.get("db").query.assets.findFirst({
    where: and(
      eq(assets.id, c.req.param("id") ?? ""),
      eq(assets.userId, c.get("user").id),
      ...(options.inGallery ? [eq(assets.listed, true)] : []),
    ),
  });
  if (!asset) throw notFound("asset");
  return asset;
}

/**
 * The bytes of an output announced while its write to R2 is still under way, from its session's
 * room, which holds them until the write is done; null for any other asset, or once the write is done.
 */
async function heldOutput(c: Context<AppEnv>, asset: AssetRow): Promise<Uint8Array | null> {
  if (asset.role !== "output" || !asset.generationId) return null;
  const generation = await c.get("db").query.generations.findFirst({
    where: eq(generations.id, asset.generationId),
    columns: { sessionId: true },
  });
  if (!generation) return null;
  const held = await c.env.SESSION_ROOM.getByName(generation.sessionId).heldOutput(asset.r2Key);
  return held?.bytes ?? null;
}

type ServeOptions = Parameters<typeof serveObject>[3];

/**
 * Serves `key` from R2; for an output whose write is still under way (R2 has nothing yet), the bytes
 * its room holds, served alike; if the room let go of them meanwhile, the write is done: R2 again.
 */
async function serveStored(
  c: Context<AppEnv>,
  asset: AssetRow,
  key: string,
  options: ServeOptions,
): Promise<Response | null> {
  const stored = await serveObject(c.env.BUCKET, key, c.req.raw, options);
  if (stored || key !== asset.r2Key) return stored;
  const held = await heldOutput(c, asset);
  return held ? serveBytes(held, c.req.raw, options) : serveObject(c.env.BUCKET, key, c.req.raw, options);
}

export const assetRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .post("/", async (c) => {
    const form = await readMultipart(c.req.raw, MAX_UPLOAD_BYTES);
    const role = uploadRoleSchema.safeParse(form.get("role") ?? "input");
    if (!role.success)
      throw new ProblemError(400, "role must be input or mask.", {
        errors: [{ path: "role", message: "Use input or mask" }],
      });
    const file = form.get("file");
    if (!(file instanceof File))
      throw new ProblemError(400, "Attach the image as the multipart field `file`.", {
        errors: [{ path: "file", message: "Required" }],
      });
    const image = await cleanUploadedImage(c.env.IMAGES, file);
    const userId = c.get("user").id;
    const r2Key = blobKey(userId, image.sha256);
    await putObject(c.env.BUCKET, r2Key, image.bytes, image);
    const rows = await c
      .get("db")
      .insert(assets)
      .values({
        id: newId("ast"),
        userId,
        role: role.data,
        r2Key,
        mimeType: image.mimeType,
        sizeBytes: image.bytes.length,
        width: image.width,
        height: image.height,
        sha256: image.sha256,
      })
      .returning();
    return c.json(toAssetView(onlyRow(rows)), 201);
  })
  .get("/:id", validate("query", assetQuerySchema), async (c) => {
    const asset = await findOwnedAsset(c);
    const response = await serveStored(c, asset, asset.r2Key, {
      etag: asset.sha256,
      mimeType: asset.mimeType,
      fileName: await fileNameOf(c.get("db"), asset),
      attachment: c.req.valid("query").download !== undefined,
    });
    if (!response) throw notFound("asset");
    return response;
  })
  .get("/:id/thumbnail", validate("query", thumbnailQuerySchema), async (c) => {
    const asset = await findOwnedAsset(c);
    // A video's thumbnail is its poster frame (when it has one).
    const thumbnail = await ensureThumbnail(
      c.env.BUCKET,
      c.env.IMAGES,
      asset.posterKey ? { ...asset, r2Key: asset.posterKey, mimeType: "image/webp" } : asset,
      c.req.valid("query").w,
      // An output announced a moment ago may not be in R2 yet: its room holds the bytes (a video's
      // poster is stored before it is announced).
      asset.posterKey ? undefined : () => heldOutput(c, asset),
    );
    // Videos without a poster and anything the Images binding cannot read are served as they are.
    const source = thumbnail ?? { key: asset.r2Key, mimeType: asset.mimeType, etag: asset.sha256 };
    const response = await serveStored(c, asset, source.key, {
      etag: `thumb-${source.etag}`,
      mimeType: source.mimeType,
    });
    if (!response) throw notFound("asset");
    return response;
  })
  /** Moves one output to the trash (the rest of its batch stays); restorable for 30 days. */
  .delete("/:id", async (c) => {
    const asset = await findOwnedAsset(c, { inGallery: true });
    await trashAsset(c.env, c.get("db"), asset);
    return c.body(null, 204);
  })
  .put("/:id/favorite", async (c) => {
    await setFavorite(c, true);
    return c.body(null, 204);
  })
  .delete("/:id/favorite", async (c) => {
    await setFavorite(c, false);
    return c.body(null, 204);
  });

/** Stars (or unstars) an output shown in the gallery; idempotent. */
async function setFavorite(c: Context<AppEnv>, favorite: boolean): Promise<void> {
  const asset = await findOwnedAsset(c, { inGallery: true });
  await c.get("db").update(assets).set({ favorite }).where(eq(assets.id, asset.id));
}

/** A readable name for a download: the prompt's first words and the output's number. */
async function fileNameOf(db: Database, asset: AssetRow): Promise<string> {
  if (asset.role !== "output" || !asset.generationId) return `${asset.id}.${extensionFor(asset.mimeType)}`;
  const generation = await db.query.generations.findFirst({
    where: eq(generations.id, asset.generationId),
    columns: { prompt: true },
  });
  return downloadName(generation?.prompt ?? "", asset.outputIndex ?? 0, asset.mimeType);
}
