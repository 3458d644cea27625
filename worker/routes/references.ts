import type { ReferencePage, ReferenceUploadResult } from "@contract/api";
import { and, eq, isNull } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { references } from "../db/schema";
import { requireUser } from "../http/auth";
import { readMultipart } from "../http/multipart";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { notFound, ProblemError } from "../lib/problem";
import {
  findOwnedReference,
  listReferences,
  MAX_FILES_PER_UPLOAD,
  type StoredReference,
  storeReference,
} from "../references/store";
import { referenceViews } from "../references/views";
import { serveObject } from "../storage/objects";
import { ensureThumbnail } from "../storage/thumbnails";
import { MAX_UPLOAD_BYTES } from "../storage/uploads";

const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(30),
  cursor: z.string().max(200).optional(),
});

export const referenceRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .post("/", async (c) => {
    const form = await readMultipart(c.req.raw, MAX_UPLOAD_BYTES, MAX_FILES_PER_UPLOAD);
    const files = form.getAll("file").filter((value): value is File => value instanceof File);
    if (files.length === 0)
      throw new ProblemError(400, "Attach one or more images as multipart fields named `file`.", {
        errors: [{ path: "file", message: "Required" }],
      });
    if (files.length > MAX_FILES_PER_UPLOAD) {
      throw new ProblemError(413, `At most ${MAX_FILES_PER_UPLOAD} files per upload.`, {
        errors: [{ path: "file", message: `At most ${MAX_FILES_PER_UPLOAD}` }],
      });
    }
    const db = c.get("db");
    const userId = c.get("user").id;
    const stored: StoredReference[] = [];
    const errors: ReferenceUploadResult["errors"] = [];
    // One bad file does not sink the others: each is judged on its own.
    for (const [index, file] of files.entries()) {
      try {
        stored.push(await storeReference(db, c.env.BUCKET, c.env.IMAGES, userId, file, `file.${index}`));
      } catch (error) {
        if (!(error instanceof ProblemError)) throw error;
        errors.push({ index, fileName: file.name, status: error.status, detail: error.detail });
      }
    }
    const [first] = errors;
    if (stored.length === 0 && first) {
      throw new ProblemError(
        first.status,
        files.length === 1 ? first.detail : `None of the files could be stored. ${first.detail}`,
        {
          errors: errors.map((error) => ({
            path: `file.${error.index}`,
            message: `${error.fileName}: ${error.detail}`,
          })),
        },
      );
    }
    const views = await referenceViews(
      db,
      stored.map((item) => item.row),
    );
    const result: ReferenceUploadResult = {
      items: views.map((view, i) => ({ ...view, deduplicated: stored[i]?.deduplicated ?? false })),
      errors,
    };
    return c.json(result, 201);
  })
  .get("/", validate("query", listQuerySchema), async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page: ReferencePage = await listReferences(c.get("db"), c.get("user").id, limit, cursor);
    return c.json(page);
  })
  .delete("/:id", async (c) => {
    // Deleting hides the reference; its bytes stay for the generations that used it.
    const hidden = await c
      .get("db")
      .update(references)
      .set({ deletedAt: new Date() })
      .where(
        and(
          eq(references.id, c.req.param("id")),
          eq(references.userId, c.get("user").id),
          isNull(references.deletedAt),
        ),
      )
      .returning({ id: references.id });
    if (hidden.length === 0) throw notFound("reference");
    return c.body(null, 204);
  })
  .get("/:id/content", async (c) => {
    const reference = await findOwnedReference(c.get("db"), c.get("user").id, c.req.param("id"));
    if (!reference) throw notFound("reference");
    const response = await serveObject(c.env.BUCKET, reference.r2Key, c.req.raw, {
      etag: reference.sha256,
      mimeType: reference.mimeType,
    });
    if (!response) throw notFound("reference");
    return response;
  })
  .get("/:id/thumbnail", async (c) => {
    const reference = await findOwnedReference(c.get("db"), c.get("user").id, c.req.param("id"));
    if (!reference) throw notFound("reference");
    const thumbnail = await ensureThumbnail(c.env.BUCKET, c.env.IMAGES, reference);
    const source = thumbnail ?? { key: reference.r2Key, mimeType: reference.mimeType, etag: reference.sha256 };
    const response = await serveObject(c.env.BUCKET, source.key, c.req.raw, {
      etag: `thumb-${source.etag}`,
      mimeType: source.mimeType,
    });
    if (!response) throw notFound("reference");
    return response;
  });
