import { listTrashQuerySchema, type Restored, type TrashPage } from "@contract/trash";
import { Hono } from "hono";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { listTrash, restoreFromTrash } from "../trash/trash";

/** Mounted at /api/trash: what was deleted in the last 30 days, and bringing it back. */
export const trashRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .get("/", validate("query", listTrashQuerySchema), async (c) => {
    return c.json((await listTrash(c.get("db"), c.get("user").id, c.req.valid("query"))) satisfies TrashPage);
  })
  .post("/:id/restore", async (c) => {
    const restored = await restoreFromTrash(c.env, c.get("db"), c.get("user").id, c.req.param("id"));
    return c.json(restored satisfies Restored);
  });
