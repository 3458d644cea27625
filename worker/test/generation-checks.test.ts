/**
 * Starting a generation answers the first problem it finds, in a fixed order: who is asking (401,
 * or 403 for a cookie sent cross-site), then the body (400), then whose session it is (404), then
 * the model and what the request names (400, each naming its field). Signing in happens within the
 * route's batch of reads; none of these answers stores anything.
 */
import { env, SELF } from "cloudflare:test";
import type { Asset, Problem, Reference } from "@contract/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  completeGeneration,
  createGeneration,
  createSession,
  ORIGIN,
  signUp,
  type TestUser,
  uniqueTag,
  upload,
  waitForGeneration,
} from "./helpers";
import { makePng } from "./images";

const SCHNELL = "black-forest-labs/flux-schnell";
const SDXL = "stability-ai/sdxl";
const VIDEO = "minimax/video-01";
const MISSING = "missing0000000000000000000";

let owner: TestUser;
let stranger: TestUser;
let sessionId: string;
let otherSessionId: string;
let strangerSessionId: string;
let input: Asset;
let mask: Asset;
let strangerInput: Asset;
let reference: Reference;
let outputOfOtherSession: string;
let outputParentId: string;

async function uploadAsset(user: TestUser, role: "input" | "mask", seed: number): Promise<Asset> {
  const bytes = await makePng(16, 16, (x, y) => [(x * seed) % 256, (y + seed) % 256, seed]);
  const response = await upload(user, "/api/assets", [{ name: "image.png", bytes, type: "image/png" }], { role });
  expect(response.status).toBe(201);
  return response.json<Asset>();
}

beforeAll(async () => {
  [owner, stranger] = await Promise.all([signUp("checks-owner"), signUp("checks-stranger")]);
  const sessions = await Promise.all([createSession(owner), createSession(owner), createSession(stranger)]);
  [sessionId, otherSessionId, strangerSessionId] = [sessions[0].id, sessions[1].id, sessions[2].id];
  [input, mask, strangerInput] = await Promise.all([
    uploadAsset(owner, "input", 3),
    uploadAsset(owner, "mask", 5),
    uploadAsset(stranger, "input", 7),
  ]);
  const bytes = await makePng(20, 20, (x, y) => [x * 9, y * 9, 90]);
  const references = await upload(owner, "/api/references", [{ name: "style.png", bytes, type: "image/png" }]);
  expect(references.status).toBe(201);
  reference = (await references.json<{ items: Reference[] }>()).items[0]!;
  const done = await completeGeneration(
    owner,
    (await createGeneration(owner, otherSessionId, { prompt: `elsewhere ${uniqueTag()}` })).id,
  );
  outputOfOtherSession = done.outputs[0]!.id;
  outputParentId = done.id;
});

/** Generations this file started: their rooms submit them before the file ends. */
const started: string[] = [];
afterAll(async () => {
  for (const id of started) await waitForGeneration(owner, id, (g) => g.predictionId !== null, "its submission");
});

/** A POST to start a generation, its body as given (a string is sent as it is). */
function post(session: string, body: unknown, headers: Record<string, string>): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/api/sessions/${session}/generations`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A generation started as the owner: 202 and its view. */
async function answeredView(session: string, body: Record<string, unknown>) {
  const response = await post(session, body, bearer(owner));
  const text = await response.text();
  expect(response.status, text).toBe(202);
  const view = JSON.parse(text) as { id: string; parentGenerationId: string | null; inputs: { id: string }[] };
  started.push(view.id);
  return view;
}

const bearer = (user: TestUser) => ({ Authorization: `Bearer ${user.token}` });

/** The problem answered, as a person reads it. */
async function answered(response: Response): Promise<Pick<Problem, "status" | "title" | "detail" | "errors">> {
  expect(response.headers.get("Content-Type")).toContain("application/problem+json");
  const { status, title, detail, errors } = await response.json<Problem>();
  expect(response.status).toBe(status);
  return { status, title, detail, ...(errors ? { errors } : {}) };
}

const countIn = async (session: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM generations WHERE session_id = ?")
    .bind(session)
    .first<{ n: number }>())!.n;

const valid = { model: SCHNELL, prompt: "a quiet harbour" };
const invalidBody = { model: SCHNELL, prompt: "" };

describe("who is asking comes first", () => {
  it.each([
    ["no credential", {}],
    ["a forged bearer token", { Authorization: "Bearer isk_forged" }],
    ["a forged cookie", { Cookie: "studio_session=forged", Origin: ORIGIN }],
  ] as const)("%s: 401, whatever the body", async (_label, headers) => {
    const detail = "Authorization" in headers ? "The bearer token is not valid." : "Sign in to continue.";
    for (const body of [valid, invalidBody, "{not json", { ...valid, parentGenerationId: MISSING }]) {
      for (const session of [sessionId, strangerSessionId, MISSING]) {
        expect(await answered(await post(session, body, headers))).toEqual({
          status: 401,
          title: "Unauthorized",
          detail,
        });
      }
    }
    expect(await countIn(sessionId)).toBe(0);
  });

  it("a cookie sent from another site: 403, before the body is looked at", async () => {
    for (const body of [valid, invalidBody, "{not json"]) {
      const response = await post(sessionId, body, { Cookie: owner.cookie, Origin: "https://elsewhere.example" });
      expect(await answered(response)).toEqual({
        status: 403,
        title: "Forbidden",
        detail: "Cross-origin requests are not allowed.",
      });
    }
    expect(await countIn(sessionId)).toBe(0);
  });

  it("the same cookie from the studio itself gets through", async () => {
    const response = await post(otherSessionId, valid, { Cookie: owner.cookie, Origin: ORIGIN });
    expect(response.status).toBe(202);
    started.push((await response.json<{ id: string }>()).id);
  });
});

describe("then the body, then whose session it is", () => {
  it("a body that is not JSON: 400", async () => {
    const problem = await answered(await post(strangerSessionId, "{not json", bearer(owner)));
    expect(problem).toMatchObject({ status: 400, detail: "Malformed JSON in request body" });
  });

  it("an invalid body: 400 naming the field, even for someone else's session", async () => {
    for (const session of [sessionId, strangerSessionId]) {
      expect(await answered(await post(session, invalidBody, bearer(owner)))).toEqual({
        status: 400,
        title: "Bad Request",
        detail: expect.stringMatching(/^Invalid request body: prompt /),
        errors: [{ path: "prompt", message: expect.any(String) }],
      });
    }
  });

  it("someone else's session, or none: 404, before anything the request names is checked", async () => {
    const named = {
      model: "nobody/nothing",
      prompt: "p",
      parentGenerationId: MISSING,
      sourceAssetId: strangerInput.id,
      referenceImageIds: [MISSING],
    };
    const missing = await answered(await post(MISSING, named, bearer(owner)));
    expect(missing).toMatchObject({ status: 404 });
    expect(await answered(await post(strangerSessionId, named, bearer(owner)))).toEqual(missing);
    expect(await answered(await post(strangerSessionId, valid, bearer(owner)))).toEqual(missing);
    expect(await countIn(strangerSessionId)).toBe(0);
  });
});

describe("then the model and what the request names, the first problem found", () => {
  const refused = (path: string, message: string, detail: string) => ({
    status: 400,
    title: "Bad Request",
    detail,
    errors: [{ path, message }],
  });

  it.each([
    [
      "an unknown model before a missing parent",
      () => ({ model: "nobody/nothing", prompt: "p", parentGenerationId: MISSING }),
      refused(
        "model",
        "Unknown model; add it with POST /api/models, or see GET /api/models",
        "The model nobody/nothing is neither in the catalog nor in your models.",
      ),
    ],
    [
      "a missing parent before a missing source",
      () => ({ model: SDXL, prompt: "p", parentGenerationId: MISSING, sourceAssetId: MISSING }),
      refused(
        "parentGenerationId",
        "No such generation in this session",
        "The parent generation is not part of this session.",
      ),
    ],
    [
      "someone else's image as the source, before a missing mask",
      () => ({ model: SDXL, prompt: "p", sourceAssetId: strangerInput.id, maskAssetId: MISSING }),
      refused(
        "sourceAssetId",
        "No such input or output image",
        "The sourceAssetId does not name one of your input or output images.",
      ),
    ],
    [
      "a mask as the source",
      () => ({ model: SDXL, prompt: "p", sourceAssetId: mask.id }),
      refused(
        "sourceAssetId",
        "No such input or output image",
        "The sourceAssetId does not name one of your input or output images.",
      ),
    ],
    [
      "an output of another session as the source",
      () => ({ model: SDXL, prompt: "p", sourceAssetId: outputOfOtherSession }),
      refused(
        "sourceAssetId",
        "Not an output of this session",
        "Iterate from outputs of this session, or upload the image.",
      ),
    ],
    [
      "an input as the mask, before a missing reference",
      () => ({
        model: SDXL,
        prompt: "p",
        sourceAssetId: input.id,
        maskAssetId: input.id,
        referenceImageIds: [MISSING],
      }),
      refused("maskAssetId", "No such mask image", "The maskAssetId does not name one of your mask images."),
    ],
    [
      "a missing reference, named by its position",
      () => ({ model: VIDEO, prompt: "p", referenceImageIds: [reference.id, MISSING] }),
      refused("referenceImageIds.1", "No such reference image", "A reference image does not exist or was deleted."),
    ],
    [
      "a source the model cannot start from, once everything named is found",
      () => ({ model: SCHNELL, prompt: "p", sourceAssetId: input.id }),
      refused(
        "model",
        "Cannot start from an image",
        `${SCHNELL} makes images from text only; pick a model that can start from an image.`,
      ),
    ],
  ])("%s", async (_label, body, problem) => {
    expect(await answered(await post(sessionId, body(), bearer(owner)))).toEqual(problem);
    expect(await countIn(sessionId)).toBe(0);
  });

  it("an output of the session itself is a source, with or without its generation as the parent", async () => {
    const parentId = (
      await answeredView(otherSessionId, { model: SDXL, prompt: "x", sourceAssetId: outputOfOtherSession })
    ).parentGenerationId;
    expect(parentId).toBeNull();
    const child = await answeredView(otherSessionId, {
      model: SDXL,
      prompt: "y",
      parentGenerationId: outputParentId,
      sourceAssetId: outputOfOtherSession,
    });
    expect(child.parentGenerationId).toBe(outputParentId);
    expect(child.inputs.map((asset) => asset.id)).toEqual([outputOfOtherSession]);
  });

  it("what is found is used: a source, a mask and references of the user's", async () => {
    const masked = await api(owner, "POST", `/api/sessions/${sessionId}/generations`, {
      model: SDXL,
      prompt: `masked ${uniqueTag()}`,
      sourceAssetId: input.id,
      maskAssetId: mask.id,
    });
    expect(masked.status).toBe(202);
    const maskedView = await masked.json<{ id: string; inputs: { id: string }[] }>();
    started.push(maskedView.id);
    expect(maskedView.inputs.map((asset) => asset.id).sort()).toEqual([input.id, mask.id].sort());
    const referenced = await api(owner, "POST", `/api/sessions/${sessionId}/generations`, {
      model: VIDEO,
      prompt: `referenced ${uniqueTag()}`,
      referenceImageIds: [reference.id],
    });
    expect(referenced.status).toBe(202);
    const referencedView = await referenced.json<{ id: string; references: Reference[] }>();
    started.push(referencedView.id);
    expect(referencedView.references).toEqual([
      expect.objectContaining({ id: reference.id, sha256: reference.sha256, replicateStatus: expect.any(String) }),
    ]);
  });
});
