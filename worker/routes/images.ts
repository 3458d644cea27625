import type { GalleryPage } from "@contract/gallery";
import { listImagesQuerySchema } from "@contract/gallery";
import { Hono } from "hono";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { notYetImplemented } from "../lib/problem";

/** Mounted at /api/images: the gallery, every output across sessions, newest first. */
export const imageRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .get("/", validate("query", listImagesQuerySchema), async (c) => {
    c.req.valid("query");
    return c.json(notYetImplemented<GalleryPage>());
  });
