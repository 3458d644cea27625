import { addModelSchema, type ModelPage } from "@contract/api";
import { type Context, Hono } from "hono";
import { downloadOutput } from "../generations/outputs";
import { requireUser } from "../http/auth";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { sha256Hex } from "../lib/ids";
import { log } from "../lib/logger";
import { notFound, ProblemError } from "../lib/problem";
import {
  addModel,
  findModelDefinition,
  listModelDefinitions,
  refreshModelSchemas,
  removeModel,
  toModelSummary,
} from "../models/registry";
import { ReplicateGateway } from "../replicate/gateway";
import { sniffMedia } from "../storage/media-type";
import { putObject, serveObject } from "../storage/objects";

const modelIdOf = (c: Context<AppEnv>) => `${c.req.param("owner")}/${c.req.param("name")}`;

/** A model this user can run (catalog or added), or 404. */
async function ownModel(c: Context<AppEnv>) {
  const model = await findModelDefinition(
    c.get("db"),
    new ReplicateGateway(c.get("config")),
    c.get("user").id,
    modelIdOf(c),
  );
  if (!model) throw notFound("model");
  return model;
}

/** Mounted at /api/models: the catalog and the user's own models, their schemas and covers. */
export const modelRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .get("/", async (c) => {
    const db = c.get("db");
    const models = await listModelDefinitions(db, c.get("user").id);
    // The list never waits for Replicate; catalog schemas (and covers) not fetched yet are, after it.
    if (models.some((model) => model.source === "catalog" && !model.schema)) {
      c.executionCtx.waitUntil(
        refreshModelSchemas(db, new ReplicateGateway(c.get("config"))).catch((error: unknown) =>
          log.warn("models.refresh_failed", { error }),
        ),
      );
    }
    return c.json({ items: models.map(toModelSummary), nextCursor: null } satisfies ModelPage);
  })
  .post("/", validate("json", addModelSchema), async (c) => {
    const model = await addModel(
      c.get("db"),
      new ReplicateGateway(c.get("config")),
      c.get("user").id,
      c.req.valid("json").id,
    );
    return c.json(toModelSummary(model), 201);
  })
  .delete("/:owner/:name", async (c) => {
    await removeModel(c.get("db"), c.get("user").id, modelIdOf(c));
    return c.body(null, 204);
  })
  .get("/:owner/:name/schema", async (c) => {
    const model = await ownModel(c);
    if (!model.schema) {
      throw new ProblemError(
        503,
        `The schema of ${model.id} could not be fetched from Replicate yet; try again shortly.`,
        {
          retryAfterSeconds: 30,
        },
      );
    }
    return c.json(model.schema, 200, { "Cache-Control": "private, max-age=300" });
  })
  .get("/:owner/:name/cover", async (c) => {
    const model = await ownModel(c);
    if (!model.coverImageUrl) throw notFound("cover image");
    const key = `covers/${model.id}`;
    // Fetched once, from an allowed Replicate host only, and kept: the page never loads third-party images.
    if (!(await c.env.BUCKET.head(key))) {
      const bytes = await downloadOutput(model.coverImageUrl, c.get("config").outputHosts).catch((error: unknown) => {
        log.warn("models.cover_unavailable", { model: model.id, error });
        throw notFound("cover image");
      });
      const media = sniffMedia(bytes);
      if (!media?.mimeType.startsWith("image/")) throw notFound("cover image");
      await putObject(c.env.BUCKET, key, bytes, { mimeType: media.mimeType, sha256: await sha256Hex(bytes) });
    }
    const head = await c.env.BUCKET.head(key);
    const response = head
      ? await serveObject(c.env.BUCKET, key, c.req.raw, {
          etag: head.customMetadata?.sha256 ?? head.etag,
          mimeType: head.httpMetadata?.contentType ?? "image/webp",
        })
      : null;
    if (!response) throw notFound("cover image");
    return response;
  });
