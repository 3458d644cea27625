import { assetQuerySchema, thumbnailQuerySchema, uploadRoleSchema } from "@contract/api";
import { and, eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { onlyRow } from "../db/client";
import { type AssetRow, assets } from "../db/schema";
import { toAssetView } from "../generations/views";
import { requireUser } from "../http/auth";
import { readMultipart } from "../http/multipart";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { newId } from "../lib/ids";
import { notFound, notYetImplemented, ProblemError } from "../lib/problem";
import { extensionFor } from "../storage/media-type";
import { putObject, serveObject } from "../storage/objects";
import { ensureThumbnail } from "../storage/thumbnails";
import { blobKey, cleanUploadedImage, MAX_UPLOAD_BYTES } from "../storage/uploads";

async function findOwnedAsset(c: Context<AppEnv>): Promise<AssetRow> {
  const asset = await c.get("db").query.assets.findFirst({
    where: and(eq(assets.id, c.req.param("id") ?? ""), eq(assets.userId, c.get("user").id)),
  });
  if (!asset) throw notFound("asset");
  return asset;
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
    const response = await serveObject(c.env.BUCKET, asset.r2Key, c.req.raw, {
      etag: asset.sha256,
      mimeType: asset.mimeType,
      fileName: `${asset.id}.${extensionFor(asset.mimeType)}`,
    });
    if (!response) throw notFound("asset");
    return response;
  })
  .get("/:id/thumbnail", validate("query", thumbnailQuerySchema), async (c) => {
    const asset = await findOwnedAsset(c);
    const thumbnail = await ensureThumbnail(c.env.BUCKET, c.env.IMAGES, asset);
    // Videos and anything the Images binding cannot read are served as they are.
    const source = thumbnail ?? { key: asset.r2Key, mimeType: asset.mimeType, etag: asset.sha256 };
    const response = await serveObject(c.env.BUCKET, source.key, c.req.raw, {
      etag: `thumb-${source.etag}`,
      mimeType: source.mimeType,
    });
    if (!response) throw notFound("asset");
    return response;
  })
  /** Moves one output to the trash. */
  .delete("/:id", async (c) => {
    await findOwnedAsset(c);
    return notYetImplemented<Response>();
  })
  .put("/:id/favorite", async (c) => {
    await findOwnedAsset(c);
    return notYetImplemented<Response>();
  })
  .delete("/:id/favorite", async (c) => {
    await findOwnedAsset(c);
    return notYetImplemented<Response>();
  });
