import { listTrashQuerySchema, type Restored, type TrashPage } from "@contract/trash";
import { Hono } from "hono";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { notYetImplemented } from "../lib/problem";

/** Mounted at /api/trash: what was deleted in the last 30 days, and bringing it back. */
export const trashRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .get("/", validate("query", listTrashQuerySchema), async (c) => {
    c.req.valid("query");
    return c.json(notYetImplemented<TrashPage>());
  })
  .post("/:id/restore", async (c) => {
    c.req.param("id");
    return c.json(notYetImplemented<Restored>());
  });
