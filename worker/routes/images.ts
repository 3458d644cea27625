import { type GalleryPage, listImagesQuerySchema } from "@contract/gallery";
import { Hono } from "hono";
import { listImages } from "../gallery/queries";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";

/** Mounted at /api/images: the gallery, every output across sessions, newest first. */
export const imageRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .get("/", validate("query", listImagesQuerySchema), async (c) => {
    const page = await listImages(c.get("db"), c.get("user").id, c.req.valid("query"));
    return c.json(page satisfies GalleryPage);
  });
