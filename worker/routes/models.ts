import type { ModelPage } from "@contract/api";
import { Hono } from "hono";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { MODELS } from "../replicate/catalog";

/** Mounted at /api/models: the catalog, as one page. */
export const modelRoutes = new Hono<AppEnv>().use(requireUser).get("/", (c) =>
  c.json({
    items: MODELS.map((model) => ({
      id: model.id,
      kind: model.kind,
      description: model.description,
      capabilities: model.capabilities,
    })),
    nextCursor: null,
  } satisfies ModelPage),
);
