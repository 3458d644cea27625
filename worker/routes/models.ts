import { Hono } from "hono";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { MODELS } from "../replicate/catalog";

export const modelRoutes = new Hono<AppEnv>().use(requireUser).get("/", (c) =>
  c.json({
    items: MODELS.map((model) => ({
      id: model.id,
      kind: model.kind,
      description: model.description,
      capabilities: model.capabilities,
    })),
  }),
);
