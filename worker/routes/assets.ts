import { Hono } from "hono";
import { and, eq } from "drizzle-orm";
import { assets } from "../db/schema";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { notFound } from "../lib/problem";
import { extensionFor } from "../storage/media-type";
import { serveObject } from "../storage/objects";

export const assetRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .get("/:id", async (c) => {
    const asset = await c.get("db").query.assets.findFirst({
      where: and(eq(assets.id, c.req.param("id")), eq(assets.userId, c.get("user").id)),
    });
    if (!asset) throw notFound("asset");
    const response = await serveObject(c.env.BUCKET, asset.r2Key, c.req.raw, {
      etag: asset.sha256,
      mimeType: asset.mimeType,
      fileName: `${asset.id}.${extensionFor(asset.mimeType)}`,
    });
    if (response.status === 404) throw notFound("asset");
    return response;
  });
