/**
 * The HTTP API: shared context, the routes, and the one error handler that turns every failure
 * into problem+json.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { createDb } from "./db/client";
import { apiHeaders } from "./http/headers";
import type { AppEnv } from "./http/types";
import { readConfig } from "./lib/config";
import { log } from "./lib/logger";
import { ProblemError, problemResponse } from "./lib/problem";
import { adminRoutes } from "./routes/admin";
import { assetRoutes } from "./routes/assets";
import { authRoutes } from "./routes/auth";
import { generationRoutes } from "./routes/generations";
import { healthRoutes } from "./routes/health";
import { imageRoutes } from "./routes/images";
import { modelRoutes } from "./routes/models";
import { referenceRoutes } from "./routes/references";
import { sessionRoutes } from "./routes/sessions";
import { trashRoutes } from "./routes/trash";
import { usageRoutes } from "./routes/usage";
import { webhookRoutes } from "./routes/webhooks";

/** Every request gets the database. */
const database: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("db", createDb(c.env.DB));
  await next();
};

/**
 * The configuration, checked once per isolate by the first request that needs it: a missing or
 * malformed variable answers 503 naming it (the health probe, which runs before this, reports it).
 */
const configuration: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("config", readConfig(c.env));
  await next();
};

/** JSON bodies are small; uploads and webhooks bound their own (larger) bodies as they read them. */
const MAX_JSON_BODY_BYTES = 64 * 1024;
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BODY_BYTES,
  onError: () => {
    throw new ProblemError(413, `The request body is larger than ${MAX_JSON_BODY_BYTES / 1024} KB.`);
  },
});
const OWN_BODY_LIMITS = new Set(["/api/assets", "/api/references", "/api/webhooks/replicate", "/api/sessions/import"]);
const jsonBodies: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (OWN_BODY_LIMITS.has(c.req.path)) return next();
  // Every other body is JSON. The validators read only JSON and would take anything else for an
  // empty object, silently dropping what was sent: refuse it instead.
  const hasBody = Number(c.req.header("Content-Length") ?? 0) > 0 || c.req.header("Transfer-Encoding") !== undefined;
  const mediaType = c.req.header("Content-Type")?.split(";")[0]?.trim() ?? "";
  if (hasBody && !JSON_MEDIA_TYPE.test(mediaType)) {
    throw new ProblemError(415, "The request body must be JSON.", {
      errors: [{ path: "Content-Type", message: `Expected application/json, got ${mediaType || "none"}` }],
    });
  }
  return jsonBodyLimit(c, next);
};

/**
 * The API, one router per resource. Each resource signs its requests in once (`requireUser`),
 * except the public ones: signing in, the health probe and Replicate's signed webhook.
 */
export const app = new Hono<AppEnv>()
  .basePath("/api")
  .use(apiHeaders)
  .use(database)
  // Before the configuration: the probe answers (and names what is missing) even when it is incomplete.
  .route("/health", healthRoutes)
  .use(configuration)
  .use(jsonBodies)
  .route("/", authRoutes)
  .route("/sessions", sessionRoutes)
  .route("/generations", generationRoutes)
  .route("/assets", assetRoutes)
  .route("/images", imageRoutes)
  .route("/trash", trashRoutes)
  .route("/references", referenceRoutes)
  .route("/models", modelRoutes)
  .route("/usage", usageRoutes)
  .route("/webhooks", webhookRoutes)
  .route("/admin", adminRoutes);

/** The API's routes with their inputs and outputs, for the web app's typed client (`hc<AppType>`). */
export type AppType = typeof app;

app.notFound(() => problemResponse(new ProblemError(404, "No such endpoint.")));

app.onError((error, c) => {
  if (error instanceof ProblemError) return problemResponse(error);
  if (error instanceof HTTPException) {
    // Hono's own rejections, e.g. a body that is not valid JSON.
    return problemResponse(new ProblemError(error.status, error.message || "The request could not be processed."));
  }
  log.error("request.failed", { method: c.req.method, path: c.req.path, error });
  return problemResponse(
    new ProblemError(500, "Something went wrong on our side. Nothing you sent was lost; try again."),
  );
});
