/**
 * The Replicate HTTP API under `/v1` (`replicate-api.md` §1, §4, §5, §7): auth, rate-limit headers,
 * injected HTTP faults, predictions, models, files, webhook secret, account.
 */
import type { Context, Hono } from "hono";
import { type CatalogModel, openApiSchemaOf } from "./catalog";
import type { AppEnv, EmulatorContext } from "./context";
import { type FaultSubject, type HttpFaultStatus, WEBHOOK_EVENTS, type WebhookEvent } from "./faults";
import { MAX_FILE_BYTES } from "./files";
import type { ModelRegistry } from "./models";
import { isRecord, notFound, paginate, problemResponse, sleep } from "./util";
import { type InvalidField, validateInput, validationProblem } from "./validation";

const CREATE_BODY_KEYS = new Set(["version", "input", "webhook", "webhook_events_filter", "stream"]);
const MODEL_CREATE_BODY_KEYS = new Set(["input", "webhook", "webhook_events_filter", "stream"]);

const invalidVersion = (): Response =>
  problemResponse(422, {
    title: "Invalid version or not permitted",
    detail: "The specified version does not exist (or perhaps you don't have permission to use it?)",
    status: 422,
  });

/** `version` of `POST /v1/predictions`: `<64hex>`, `owner/name:<64hex>` or `owner/name` (official only). */
function resolveVersion(
  models: ModelRegistry,
  version: string,
): { model: CatalogModel; shownVersion: string } | undefined {
  if (/^[0-9a-f]{64}$/.test(version)) {
    const model = models.findByVersion(version);
    return model ? { model, shownVersion: model.official ? "hidden" : version } : undefined;
  }
  const pinned = /^([^/\s]+)\/([^/:\s]+):([0-9a-f]{64})$/.exec(version);
  if (pinned) {
    const model = models.find(pinned[1] ?? "", pinned[2] ?? "");
    const hex = pinned[3] ?? "";
    if (!model || (model.versionId !== hex && !model.olderVersionIds.includes(hex))) return undefined;
    return { model, shownVersion: model.official ? "hidden" : hex };
  }
  const named = /^([^/\s]+)\/([^/:\s]+)$/.exec(version);
  if (named) {
    const model = models.find(named[1] ?? "", named[2] ?? "");
    return model?.official ? { model, shownVersion: "hidden" } : undefined;
  }
  return undefined;
}

/** `Cancel-After`: `1h30m45s`, `90s`, `5m`, or bare seconds; at least 5 s. */
function parseCancelAfter(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(trimmed);
  if (!match || trimmed === "") return undefined;
  return (Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 1000;
}

async function readJson(c: Context<AppEnv>): Promise<{ ok: true; body: unknown } | { ok: false }> {
  try {
    return { ok: true, body: await c.req.json<unknown>() };
  } catch {
    return { ok: false };
  }
}

/** What an injected `http` fault answers, as Replicate words each status (replicate-api.md §7.1). */
const FAULT_BODIES: Record<HttpFaultStatus, Record<string, unknown>> = {
  401: { title: "Unauthenticated", detail: "You did not pass a valid authentication token", status: 401 },
  402: { title: "Payment Required", detail: "You have insufficient credit to run this model.", status: 402 },
  422: {
    title: "Invalid version or not permitted",
    detail: "The specified version does not exist (or perhaps you don't have permission to use it?)",
    status: 422,
  },
  429: { detail: "Request was throttled. Expected available in 1 second." },
  500: { title: "Internal Server Error", detail: "Something went wrong. Please try again.", status: 500 },
  502: { title: "Internal Server Error", detail: "Something went wrong. Please try again.", status: 502 },
  503: { title: "Internal Server Error", detail: "Something went wrong. Please try again.", status: 503 },
};

const invalidJson = (): Response =>
  problemResponse(400, { title: "Invalid JSON", detail: "The request body is not valid JSON.", status: 400 });

export function registerApiRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const { state, clock, baseUrl } = ctx;

  /** Facts about the request that faults can match on (prediction's prompt and model, path). */
  async function faultSubjectOf(c: Context<AppEnv>): Promise<FaultSubject & { predictionId?: string }> {
    const path = c.req.path;
    const existing = /^\/v1\/predictions\/([^/]+)/.exec(path);
    if (existing?.[1]) {
      const record = state.predictions.get(existing[1]);
      const prompt = record?.input.prompt;
      return {
        path,
        predictionId: existing[1],
        prompt: typeof prompt === "string" ? prompt : undefined,
        model: record?.model.id,
      };
    }
    const modelPath = /^\/v1\/models\/([^/]+)\/([^/]+)/.exec(path);
    let model = modelPath ? `${modelPath[1]}/${modelPath[2]}` : undefined;
    let prompt: string | undefined;
    const isCreate =
      c.req.method === "POST" && (path === "/v1/predictions" || /^\/v1\/models\/[^/]+\/[^/]+\/predictions$/.test(path));
    if (isCreate) {
      const parsed = await readJson(c);
      if (parsed.ok && isRecord(parsed.body)) {
        const input = parsed.body.input;
        if (isRecord(input) && typeof input.prompt === "string") prompt = input.prompt;
        if (typeof parsed.body.version === "string")
          model = resolveVersion(state.models, parsed.body.version)?.model.id ?? model;
      }
    }
    return { path, prompt, model };
  }

  app.use("/v1/*", async (c, next) => {
    const entry = state.requests.start(c.req.method, c.req.path, clock.now());
    const finish = (response: Response): Response => {
      entry.status = response.status;
      state.requests.end(entry);
      return response;
    };
    const authorization = c.req.header("authorization") ?? "";
    const token = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (!authorization.trim()) {
      return finish(
        problemResponse(401, {
          title: "Unauthenticated",
          detail: "You did not pass an authentication token",
          status: 401,
        }),
      );
    }
    if (!token || !ctx.acceptToken(token)) {
      return finish(
        problemResponse(401, {
          title: "Unauthenticated",
          detail: "You did not pass a valid authentication token",
          status: 401,
        }),
      );
    }
    const subject = await faultSubjectOf(c);
    if (subject.predictionId) entry.predictionId = subject.predictionId;
    const fault = state.faults.take("http", subject);
    if (fault) {
      const headers: Record<string, string> =
        fault.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : {};
      return finish(problemResponse(fault.status, FAULT_BODIES[fault.status], headers));
    }
    const cut = state.faults.take("cut", subject);
    const stall = state.faults.take("stall", subject);
    await next();
    if (cut) c.env?.outgoing?.socket?.destroy();
    if (stall) await sleep(stall.ms);
    const predictionId = c.get("predictionId");
    if (predictionId) entry.predictionId = predictionId;
    entry.status = c.res.status;
    state.requests.end(entry);
    if (c.res.status < 400) {
      // Values seen in recorded traffic (§7.2): creates 600/min, single-prediction GETs very high, others 3000/min.
      const isCreate = c.req.method === "POST" && c.res.status === 201 && /predictions$/.test(c.req.path);
      const isGetPrediction = c.req.method === "GET" && /^\/v1\/predictions\/[^/]+$/.test(c.req.path);
      c.res.headers.set("ratelimit-remaining", isCreate ? "599" : isGetPrediction ? "59999" : "2999");
      c.res.headers.set("ratelimit-reset", "1");
    }
    return undefined;
  });

  // ---- Predictions ----------------------------------------------------------------------------

  async function createPrediction(
    c: Context<AppEnv>,
    model: CatalogModel,
    shownVersion: string,
    body: Record<string, unknown>,
  ): Promise<Response> {
    const errors: InvalidField[] = [];
    const input = body.input;
    if (!isRecord(input)) {
      const given = input === null ? "null" : Array.isArray(input) ? "array" : typeof input;
      return problemResponse(
        422,
        validationProblem([
          { type: "invalid_type", field: "input", description: `Invalid type. Expected: object, given: ${given}` },
        ]),
      );
    }
    let webhook: string | undefined;
    if (body.webhook !== undefined && body.webhook !== null) {
      if (typeof body.webhook === "string" && /^https?:\/\//.test(body.webhook) && URL.canParse(body.webhook))
        webhook = body.webhook;
      else errors.push({ type: "format", field: "webhook", description: "Does not match format 'uri'" });
    }
    let webhookEventsFilter: WebhookEvent[] | undefined;
    if (body.webhook_events_filter !== undefined && body.webhook_events_filter !== null) {
      const filter = body.webhook_events_filter;
      if (!Array.isArray(filter)) {
        errors.push({
          type: "invalid_type",
          field: "webhook_events_filter",
          description: `Invalid type. Expected: array, given: ${typeof filter}`,
        });
      } else {
        const allowed: readonly unknown[] = WEBHOOK_EVENTS;
        filter.forEach((event, index) => {
          if (!allowed.includes(event)) {
            errors.push({
              type: "enum",
              field: `webhook_events_filter.${index}`,
              description: `webhook_events_filter.${index} must be one of the following: ${WEBHOOK_EVENTS.map((e) => JSON.stringify(e)).join(", ")}`,
            });
          }
        });
        webhookEventsFilter = [...new Set(filter.filter((event): event is WebhookEvent => allowed.includes(event)))];
      }
    }
    let cancelAfterMs: number | undefined;
    const cancelAfter = c.req.header("cancel-after");
    if (cancelAfter !== undefined) {
      cancelAfterMs = parseCancelAfter(cancelAfter);
      if (cancelAfterMs === undefined || cancelAfterMs < 5000) {
        return problemResponse(400, {
          title: "Invalid Cancel-After header",
          detail: "Cancel-After must be a duration of at least 5 seconds, e.g. 30s, 5m, 1h30m.",
          status: 400,
        });
      }
    }
    errors.push(...validateInput(input, openApiSchemaOf(model)));
    if (errors.length > 0) return problemResponse(422, validationProblem(errors));

    const record = state.predictions.create({
      model,
      version: shownVersion,
      input,
      webhook,
      webhookEventsFilter: webhook !== undefined ? webhookEventsFilter : undefined,
      cancelAfterMs,
      createPath: c.req.path,
    });
    c.set("predictionId", record.id);

    const prefer = c.req.header("prefer")?.trim();
    const wait = prefer ? /^wait(?:=(\d+))?$/.exec(prefer) : null;
    if (wait && prefer) {
      const seconds = Math.min(60, Math.max(1, Number(wait[1] ?? 60)));
      const json = await state.predictions.waitForResult(record, seconds);
      return c.json(json, 201, { "preference-applied": prefer });
    }
    return c.json(await state.predictions.jsonAt(record), 201);
  }

  app.post("/v1/predictions", async (c) => {
    const parsed = await readJson(c);
    if (!parsed.ok) return invalidJson();
    const body = parsed.body;
    if (!isRecord(body)) {
      return problemResponse(
        422,
        validationProblem([
          {
            type: "invalid_type",
            field: "(root)",
            description: `Invalid type. Expected: object, given: ${typeof body}`,
          },
        ]),
      );
    }
    const errors: InvalidField[] = [];
    if (body.version === undefined)
      errors.push({ type: "required", field: "(root)", description: "version is required" });
    if (body.input === undefined) errors.push({ type: "required", field: "(root)", description: "input is required" });
    for (const key of Object.keys(body)) {
      if (!CREATE_BODY_KEYS.has(key))
        errors.push({
          type: "additional_property_not_allowed",
          field: "(root)",
          description: `Additional property ${key} is not allowed`,
        });
    }
    if (body.version !== undefined && typeof body.version !== "string") {
      errors.push({
        type: "invalid_type",
        field: "version",
        description: `Invalid type. Expected: string, given: ${typeof body.version}`,
      });
    }
    if (errors.length > 0) return problemResponse(422, validationProblem(errors));
    const resolved = typeof body.version === "string" ? resolveVersion(state.models, body.version) : undefined;
    if (!resolved) return invalidVersion();
    return createPrediction(c, resolved.model, resolved.shownVersion, body);
  });

  app.post("/v1/models/:owner/:name/predictions", async (c) => {
    const model = state.models.find(c.req.param("owner"), c.req.param("name"));
    // Community models need a version: Replicate answers 404 on this endpoint for them.
    if (!model?.official) return notFound();
    const parsed = await readJson(c);
    if (!parsed.ok) return invalidJson();
    const body = parsed.body;
    if (!isRecord(body)) {
      return problemResponse(
        422,
        validationProblem([
          {
            type: "invalid_type",
            field: "(root)",
            description: `Invalid type. Expected: object, given: ${typeof body}`,
          },
        ]),
      );
    }
    const errors: InvalidField[] = [];
    if (body.input === undefined) errors.push({ type: "required", field: "(root)", description: "input is required" });
    for (const key of Object.keys(body)) {
      if (!MODEL_CREATE_BODY_KEYS.has(key))
        errors.push({
          type: "additional_property_not_allowed",
          field: "(root)",
          description: `Additional property ${key} is not allowed`,
        });
    }
    if (errors.length > 0) return problemResponse(422, validationProblem(errors));
    return createPrediction(c, model, "hidden", body);
  });

  app.get("/v1/predictions", async (c) => {
    const after = c.req.query("created_after");
    const before = c.req.query("created_before");
    const afterMs = after ? Date.parse(after) : Number.NaN;
    const beforeMs = before ? Date.parse(before) : Number.NaN;
    const records = state.predictions
      .list()
      .filter((record) => (Number.isNaN(afterMs) ? true : record.createdAt > afterMs))
      .filter((record) => (Number.isNaN(beforeMs) ? true : record.createdAt < beforeMs));
    const { next, previous, page } = paginate(
      records,
      (record) => record.id,
      c.req.query("cursor"),
      (cursor) => {
        const url = new URL(`${baseUrl}/v1/predictions`);
        url.searchParams.set("cursor", cursor);
        if (after) url.searchParams.set("created_after", after);
        if (before) url.searchParams.set("created_before", before);
        return url.toString();
      },
    );
    const now = clock.now();
    const results = await Promise.all(page.map((record) => state.predictions.jsonAt(record, now)));
    return c.json({ next, previous, results });
  });

  app.get("/v1/predictions/:id", async (c) => {
    const record = state.predictions.get(c.req.param("id"));
    if (!record) return notFound();
    return c.json(await state.predictions.jsonAt(record));
  });

  app.post("/v1/predictions/:id/cancel", async (c) => {
    const record = state.predictions.get(c.req.param("id"));
    if (!record) return notFound();
    return c.json(await state.predictions.cancel(record));
  });

  // ---- Models ---------------------------------------------------------------------------------

  const versionJson = (model: CatalogModel, id: string): Record<string, unknown> => ({
    id,
    created_at: model.versionCreatedAt,
    cog_version: "0.9.5",
    openapi_schema: openApiSchemaOf(model),
  });

  const modelJson = (model: CatalogModel): Record<string, unknown> => ({
    url: `https://replicate.com/${model.id}`,
    owner: model.owner,
    name: model.name,
    description: model.description,
    visibility: "public",
    github_url: null,
    paper_url: null,
    license_url: null,
    run_count: state.predictions.list().filter((record) => record.model.id === model.id).length,
    cover_image_url: `${baseUrl}/delivery/covers/${model.owner}/${model.name}.webp`,
    default_example: null,
    is_official: model.official,
    created_at: model.createdAt,
    latest_version: versionJson(model, model.versionId),
  });

  app.get("/v1/models", (c) => c.json({ next: null, previous: null, results: state.models.all().map(modelJson) }));

  // `QUERY /v1/models` (search): the JS client JSON-encodes the query, so strip surrounding quotes.
  app.on("QUERY", "/v1/models", async (c) => {
    let query = (await c.req.text()).trim();
    if (query.startsWith('"')) {
      try {
        const decoded: unknown = JSON.parse(query);
        if (typeof decoded === "string") query = decoded;
      } catch {
        query = query.replace(/^"|"$/g, "");
      }
    }
    const needle = query.toLowerCase();
    const results = state.models
      .all()
      .filter((model) => `${model.id} ${model.description}`.toLowerCase().includes(needle))
      .map(modelJson);
    return c.json({ next: null, previous: null, results });
  });

  app.get("/v1/models/:owner/:name", (c) => {
    const model = state.models.find(c.req.param("owner"), c.req.param("name"));
    return model ? c.json(modelJson(model)) : notFound();
  });

  app.get("/v1/models/:owner/:name/versions", (c) => {
    const model = state.models.find(c.req.param("owner"), c.req.param("name"));
    // Official models don't list versions on Replicate (404); use `latest_version` instead.
    if (!model || model.official) return notFound();
    const results = [model.versionId, ...model.olderVersionIds].map((id) => versionJson(model, id));
    return c.json({ next: null, previous: null, results });
  });

  app.get("/v1/models/:owner/:name/versions/:id", (c) => {
    const model = state.models.find(c.req.param("owner"), c.req.param("name"));
    const id = c.req.param("id");
    if (!model || (model.versionId !== id && !model.olderVersionIds.includes(id))) return notFound();
    return c.json(versionJson(model, id));
  });

  // ---- Files ----------------------------------------------------------------------------------

  const fileNotFound = (): Response => problemResponse(404, { detail: "File not found" });

  app.post("/v1/files", async (c) => {
    const contentType = c.req.header("content-type") ?? "";
    if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
      return problemResponse(400, {
        title: "Bad request",
        detail: "Expected a multipart/form-data body with a `content` part.",
        status: 400,
      });
    }
    let form: FormData;
    try {
      form = await c.req.raw.formData();
    } catch {
      return problemResponse(400, { title: "Bad request", detail: "Malformed multipart/form-data body.", status: 400 });
    }
    const content = form.get("content");
    if (!(content instanceof Blob)) {
      return problemResponse(
        422,
        validationProblem([{ type: "required", field: "(root)", description: "content is required" }]),
      );
    }
    if (content.size > MAX_FILE_BYTES) return problemResponse(413, { detail: "Files must be less than 100MB in size" });
    let metadata: Record<string, unknown> = {};
    const rawMetadata = form.get("metadata");
    if (rawMetadata !== null) {
      const text = typeof rawMetadata === "string" ? rawMetadata : await rawMetadata.text();
      try {
        const parsed: unknown = JSON.parse(text || "{}");
        if (!isRecord(parsed)) throw new Error("not an object");
        metadata = parsed;
      } catch {
        return problemResponse(
          422,
          validationProblem([
            { type: "invalid_type", field: "metadata", description: "Invalid type. Expected: object" },
          ]),
        );
      }
    }
    const typeField = form.get("type");
    const filenameField = form.get("filename");
    const partName = content instanceof File ? content.name : "";
    const name = typeof filenameField === "string" && filenameField ? filenameField : partName || "file";
    const type = typeof typeField === "string" && typeField ? typeField : content.type || "application/octet-stream";
    const stored = state.files.create({
      bytes: new Uint8Array(await content.arrayBuffer()),
      name,
      contentType: type,
      metadata,
    });
    return c.json(state.files.toJson(stored), 201);
  });

  app.get("/v1/files", (c) => {
    const { next, previous, page } = paginate(
      state.files.list(),
      (file) => file.id,
      c.req.query("cursor"),
      (cursor) => `${baseUrl}/v1/files?cursor=${encodeURIComponent(cursor)}`,
    );
    return c.json({ next, previous, results: page.map((file) => state.files.toJson(file)) });
  });

  app.get("/v1/files/:id", (c) => {
    const file = state.files.get(c.req.param("id"));
    return file ? c.json(state.files.toJson(file)) : fileNotFound();
  });

  app.get("/v1/files/:id/download", (c) => {
    const file = state.files.get(c.req.param("id"));
    if (!file) return fileNotFound();
    return c.body(new Uint8Array(file.bytes), 200, {
      "content-type": file.contentType,
      "content-length": String(file.bytes.byteLength),
    });
  });

  app.delete("/v1/files/:id", (c) => (state.files.delete(c.req.param("id")) ? c.body(null, 204) : fileNotFound()));

  // ---- Misc -----------------------------------------------------------------------------------

  app.get("/v1/webhooks/default/secret", (c) => c.json({ key: ctx.webhookSecret }));

  app.get("/v1/account", (c) =>
    c.json({ type: "user", username: "emulator", name: "Replicate Emulator", github_url: null }),
  );

  app.all("/v1/*", () => notFound());
}
