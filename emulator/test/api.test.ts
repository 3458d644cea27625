/** HTTP-level contract: auth, errors (§7.1), validation, models and schemas (§5), rate-limit headers. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOG, MODEL_IDS, SDXL_VERSION } from "../catalog";
import { type Harness, SDXL, startHarness } from "./helpers";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness({ acceptToken: (token) => token.startsWith("r8_") });
});
afterAll(() => harness.close());

const SCHNELL = "/v1/models/black-forest-labs/flux-schnell/predictions";

async function problem(response: Response): Promise<unknown> {
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  return response.json();
}

describe("auth", () => {
  it("401 without a token", async () => {
    const response = await fetch(`${harness.url}/v1/predictions`);
    expect(response.status).toBe(401);
    expect(await problem(response)).toEqual({
      title: "Unauthenticated",
      detail: "You did not pass an authentication token",
      status: 401,
    });
  });

  it("401 with a token acceptToken rejects", async () => {
    const response = await harness.api("/v1/predictions", { headers: { authorization: "Bearer nope" } });
    expect(response.status).toBe(401);
    expect(await problem(response)).toEqual({
      title: "Unauthenticated",
      detail: "You did not pass a valid authentication token",
      status: 401,
    });
  });

  it("accepts the legacy `Token` scheme too", async () => {
    const response = await harness.api("/v1/predictions", { headers: { authorization: "Token r8_x" } });
    expect(response.status).toBe(200);
  });
});

describe("input validation (422 before anything is created)", () => {
  it("reports required and maximum like Replicate", async () => {
    const before = await harness.api("/v1/predictions").then((r) => r.json());
    const response = await harness.api(SCHNELL, { body: { input: { num_inference_steps: 28 } } });
    expect(response.status).toBe(422);
    expect(await problem(response)).toEqual({
      title: "Input validation failed",
      status: 422,
      detail: "- input: prompt is required\n- input.num_inference_steps: Must be less than or equal to 4\n",
      invalid_fields: [
        { type: "required", field: "input", description: "prompt is required" },
        { type: "number_lte", field: "input.num_inference_steps", description: "Must be less than or equal to 4" },
      ],
    });
    expect(await harness.api("/v1/predictions").then((r) => r.json())).toEqual(before);
  });

  it("checks enums through allOf/$ref, types and minimums", async () => {
    const response = await harness.api("/v1/models/black-forest-labs/flux-kontext-pro/predictions", {
      body: {
        input: { prompt: "x", output_format: "webp", seed: "abc", safety_tolerance: -1, input_image: "not a url" },
      },
    });
    expect(response.status).toBe(422);
    const body = await problem(response);
    expect(body).toMatchObject({
      invalid_fields: expect.arrayContaining([
        {
          type: "enum",
          field: "input.output_format",
          description: 'output_format must be one of the following: "jpg", "png"',
        },
        { type: "invalid_type", field: "input.seed", description: "Invalid type. Expected: integer, given: string" },
        { type: "number_gte", field: "input.safety_tolerance", description: "Must be greater than or equal to 0" },
        { type: "format", field: "input.input_image", description: "Does not match format 'uri'" },
      ]),
    });
  });

  it("rejects integers given as fractions and unknown webhook events", async () => {
    const response = await harness.api(SCHNELL, {
      body: {
        input: { prompt: "x", num_outputs: 1.5 },
        webhook: "https://example.com/h",
        webhook_events_filter: ["completed", "done"],
      },
    });
    expect(response.status).toBe(422);
    const body = await problem(response);
    expect(body).toMatchObject({
      invalid_fields: expect.arrayContaining([
        expect.objectContaining({ type: "invalid_type", field: "input.num_outputs" }),
        expect.objectContaining({ type: "enum", field: "webhook_events_filter.1" }),
      ]),
    });
  });

  it("POST /v1/predictions is additionalProperties:false and needs a version", async () => {
    const response = await harness.api("/v1/predictions", {
      body: { model: "black-forest-labs/flux-schnell", input: { prompt: "x" } },
    });
    expect(response.status).toBe(422);
    expect(await problem(response)).toMatchObject({
      invalid_fields: [
        { type: "required", field: "(root)", description: "version is required" },
        {
          type: "additional_property_not_allowed",
          field: "(root)",
          description: "Additional property model is not allowed",
        },
      ],
    });
  });

  it("unknown versions and community models by name are 'Invalid version or not permitted'", async () => {
    for (const version of ["0".repeat(64), "stability-ai/sdxl", `black-forest-labs/flux-dev:${SDXL}`]) {
      const response = await harness.api("/v1/predictions", { body: { version, input: {} } });
      expect(response.status).toBe(422);
      expect(await problem(response)).toEqual({
        title: "Invalid version or not permitted",
        detail: "The specified version does not exist (or perhaps you don't have permission to use it?)",
        status: 422,
      });
    }
  });

  it("accepts official models by name on POST /v1/predictions", async () => {
    const created = await harness.create("/v1/predictions", {
      version: "black-forest-labs/flux-schnell",
      input: { prompt: "x" },
    });
    expect(created.version).toBe("hidden");
    expect(created.model).toBe("black-forest-labs/flux-schnell");
  });
});

describe("not found", () => {
  it("404s for unknown predictions, community models without version, unknown routes", async () => {
    for (const response of [
      await harness.api("/v1/predictions/doesnotexist00000000000000"),
      await harness.api("/v1/models/stability-ai/sdxl/predictions", { body: { input: { prompt: "x" } } }),
      await harness.api("/v1/models/nobody/nothing"),
      await harness.api("/v1/nothing-here"),
    ]) {
      expect(response.status).toBe(404);
      expect(await problem(response)).toEqual({ detail: "The requested resource could not be found.", status: 404 });
    }
  });
});

describe("models and schemas", () => {
  it("serves every catalog model with a Cog-style schema", async () => {
    expect(MODEL_IDS).toEqual([
      "black-forest-labs/flux-schnell",
      "black-forest-labs/flux-dev",
      "black-forest-labs/flux-1.1-pro",
      "black-forest-labs/flux-kontext-pro",
      "stability-ai/sdxl",
      "minimax/video-01",
    ]);
    for (const model of CATALOG) {
      const response = await harness.api(`/v1/models/${model.id}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        owner: model.owner,
        name: model.name,
        is_official: model.official,
        latest_version: { id: model.versionId },
      });
    }
  });

  it("flux-schnell's Input schema has x-order, enums via allOf/$ref, required prompt", async () => {
    const body = (await harness.api("/v1/models/black-forest-labs/flux-schnell").then((r) => r.json())) as {
      latest_version: { openapi_schema: { components: { schemas: Record<string, Record<string, unknown>> } } };
    };
    const schemas = body.latest_version.openapi_schema.components.schemas;
    const input = schemas.Input as { required: string[]; properties: Record<string, Record<string, unknown>> };
    expect(input.required).toEqual(["prompt"]);
    expect(input.properties.prompt).toMatchObject({ type: "string", "x-order": 0 });
    expect(input.properties.aspect_ratio).toMatchObject({
      allOf: [{ $ref: "#/components/schemas/aspect_ratio" }],
      default: "1:1",
      "x-order": 1,
    });
    expect(schemas.aspect_ratio).toMatchObject({
      type: "string",
      enum: expect.arrayContaining(["1:1", "16:9", "9:21"]),
    });
    expect(input.properties.num_inference_steps).toMatchObject({ type: "integer", minimum: 1, maximum: 4, default: 4 });
    expect(schemas.Output).toEqual({ type: "array", items: { type: "string", format: "uri" }, title: "Output" });
    const dev = (await harness.api("/v1/models/black-forest-labs/flux-dev").then((r) => r.json())) as typeof body;
    expect(dev.latest_version.openapi_schema.components.schemas.Input).toMatchObject({
      properties: { image: { type: "string", format: "uri" } },
    });
  });

  it("lists SDXL versions; official models have none to list", async () => {
    const versions = (await harness.api("/v1/models/stability-ai/sdxl/versions").then((r) => r.json())) as {
      results: Array<{ id: string }>;
    };
    expect(versions.results[0]?.id).toBe(SDXL_VERSION);
    expect(versions.results).toHaveLength(2);
    expect((await harness.api("/v1/models/black-forest-labs/flux-dev/versions")).status).toBe(404);
    expect((await harness.api(`/v1/models/stability-ai/sdxl/versions/${SDXL_VERSION}`)).status).toBe(200);
  });

  it("QUERY /v1/models searches, with quoted or plain bodies", async () => {
    for (const body of ['"video"', "video"]) {
      const response = await fetch(`${harness.url}/v1/models`, {
        method: "QUERY",
        headers: { authorization: "Bearer r8_x", "content-type": "text/plain" },
        body,
      });
      expect(response.status).toBe(200);
      const json = (await response.json()) as { results: Array<{ name: string }> };
      expect(json.results.map((model) => model.name)).toEqual(["video-01", "kling-v2.0"]);
    }
  });
});

describe("files API multipart variants", () => {
  it("accepts `type` and `filename` fields and a string metadata part", async () => {
    const form = new FormData();
    form.append("content", new Blob([new Uint8Array([1, 2, 3])]), "blob");
    form.append("type", "image/png");
    form.append("filename", "picture.png");
    form.append("metadata", JSON.stringify({ owner: "me" }));
    const response = await fetch(`${harness.url}/v1/files`, {
      method: "POST",
      headers: { authorization: "Bearer r8_x" },
      body: form,
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({
      name: "picture.png",
      content_type: "image/png",
      size: 3,
      metadata: { owner: "me" },
    });
    const missing = await fetch(`${harness.url}/v1/files`, {
      method: "POST",
      headers: { authorization: "Bearer r8_x" },
      body: new FormData(),
    });
    expect(missing.status).toBeGreaterThanOrEqual(400);
  });
});

describe("headers", () => {
  it("sets ratelimit headers on normal responses", async () => {
    const create = await harness.api(SCHNELL, { body: { input: { prompt: "x" } } });
    expect(create.status).toBe(201);
    expect(create.headers.get("ratelimit-remaining")).toBe("599");
    expect(create.headers.get("ratelimit-reset")).toBe("1");
    expect(create.headers.get("content-type")).toMatch(/^application\/json/);
    const get = await harness.api("/v1/account");
    expect(get.headers.get("ratelimit-remaining")).toBe("2999");
  });
});
