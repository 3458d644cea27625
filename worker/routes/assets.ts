import { Hono, type Context } from "hono";
import { and, eq } from "drizzle-orm";
import { assets, type AssetRow } from "../db/schema";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { notFound } from "../lib/problem";
import { extensionFor } from "../storage/media-type";
import { serveObject } from "../storage/objects";
import { ensureThumbnail } from "../storage/thumbnails";

async function findOwnedAsset(c: Context<AppEnv>): Promise<AssetRow> {
  const asset = await c.get("db").query.assets.findFirst({
    where: and(eq(assets.id, c.req.param("id") ?? ""), eq(assets.userId, c.get("user").id)),
  });
  if (!asset) throw notFound("asset");
  return asset;
}

export const assetRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .get("/:id", async (c) => {
    const asset = await findOwnedAsset(c);
    const response = await serveObject(c.env.BUCKET, asset.r2Key, c.req.raw, {
      etag: asset.sha256,
      mimeType: asset.mimeType,
      fileName: `${asset.id}.${extensionFor(asset.mimeType)}`,
    });
    if (response.status === 404) throw notFound("asset");
    return response;
  })
  .get("/:id/thumbnail", async (c) => {
    const asset = await findOwnedAsset(c);
    const thumbnail = await ensureThumbnail(c.env.BUCKET, c.env.IMAGES, asset);
    // Videos and anything the Images binding cannot read are served as they are.
    const source = thumbnail ?? { key: asset.r2Key, mimeType: asset.mimeType, etag: asset.sha256 };
    const response = await serveObject(c.env.BUCKET, source.key, c.req.raw, { etag: `thumb-${source.etag}`, mimeType: source.mimeType });
    if (response.status === 404) throw notFound("asset");
    return response;
  });
