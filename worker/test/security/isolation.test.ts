/**
 * Tenant isolation, generated from the app's own route table: every route with a `:param` is called
 * on the owner's resource by another signed-up user (404, indistinguishable from a resource that
 * does not exist, nothing of the owner's changed) and anonymously (401). A param route missing from
 * the table below fails the suite, so a new route cannot ship without its isolation check.
 */
import { env, SELF } from "cloudflare:test";
import type { Asset, Generation, Reference, ReferenceUploadResult, Session } from "@contract/api";
import { beforeAll, describe, expect, it } from "vitest";
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
  waitFor,
} from "../helpers";
import { makePng } from "../images";
import { appRoutes, asCookie, fillParams, footprint, hasParam, problemOf } from "./support";

const SCHNELL = "black-forest-labs/flux-schnell";

type World = {
  owner: TestUser;
  intruder: TestUser;
  session: Session;
  generation: Generation;
  inputAsset: Asset;
  outputAsset: Asset;
  reference: Reference;
  token: { id: string; token: string };
  /** A generation of the owner's in the trash. */
  trashed: Generation;
  /** A public model the owner added (catalog models are everyone's). */
  model: { id: string };
};

type Fixture = keyof Omit<World, "owner" | "intruder">;

/** How to name each kind of resource, and an id of the same shape that exists nowhere. */
const FIXTURES: Record<Fixture, { id: (world: World) => string; missing: string }> = {
  session: { id: (w) => w.session.id, missing: "ses_00000000000000000000000000" },
  generation: { id: (w) => w.generation.id, missing: "gen_00000000000000000000000000" },
  inputAsset: { id: (w) => w.inputAsset.id, missing: "ast_00000000000000000000000000" },
  outputAsset: { id: (w) => w.outputAsset.id, missing: "ast_00000000000000000000000000" },
  reference: { id: (w) => w.reference.id, missing: "ref_00000000000000000000000000" },
  token: { id: (w) => w.token.id, missing: "tok_00000000000000000000000000" },
  trashed: { id: (w) => w.trashed.id, missing: "gen_00000000000000000000000000" },
  model: { id: (w) => w.model.id, missing: "nobody/no-such-model" },
};

type Entry = {
  /** The owner's resources this route is tried on. */
  targets: Fixture[];
  /** A body that would be accepted from the owner, so only ownership can explain a refusal. */
  body?: unknown;
  headers?: Record<string, string>;
  /** What the owner gets (the table's own sanity check: the fixture really is reachable). */
  ownerStatus: number;
};

/**
 * Every route with a path parameter. Keep in step with the app: the first test fails on any route
 * that is missing here (or listed here but gone from the app).
 */
const PARAM_ROUTES: Record<string, Entry> = {
  "GET /api/sessions/:id": { targets: ["session"], ownerStatus: 200 },
  "GET /api/sessions/:id/live": { targets: ["session"], headers: { Upgrade: "websocket" }, ownerStatus: 101 },
  "GET /api/generations/:id": { targets: ["generation"], ownerStatus: 200 },
  "GET /api/assets/:id": { targets: ["inputAsset", "outputAsset"], ownerStatus: 200 },
  "GET /api/assets/:id/thumbnail": { targets: ["inputAsset", "outputAsset"], ownerStatus: 200 },
  "GET /api/references/:id/content": { targets: ["reference"], ownerStatus: 200 },
  "GET /api/references/:id/thumbnail": { targets: ["reference"], ownerStatus: 200 },
  "POST /api/sessions/:id/generations": {
    targets: ["session"],
    body: { model: SCHNELL, prompt: "written by someone else" },
    ownerStatus: 202,
  },
  "POST /api/generations/:id/retry": { targets: ["generation"], body: { newSeed: true }, ownerStatus: 202 },
  "POST /api/generations/:id/cancel": { targets: ["generation"], ownerStatus: 200 },
  "PATCH /api/sessions/:id": { targets: ["session"], body: { title: "renamed by someone else" }, ownerStatus: 200 },
  "GET /api/sessions/:id/generations": { targets: ["session"], ownerStatus: 200 },
  "GET /api/sessions/:id/export": { targets: ["session"], ownerStatus: 200 },
  "POST /api/sessions/:id/clone": { targets: ["session"], body: {}, ownerStatus: 201 },
  "GET /api/generations/:id/ancestry": { targets: ["generation"], ownerStatus: 200 },
  "PUT /api/assets/:id/favorite": { targets: ["outputAsset"], ownerStatus: 204 },
  "DELETE /api/assets/:id/favorite": { targets: ["outputAsset"], ownerStatus: 204 },
  "POST /api/trash/:id/restore": { targets: ["trashed"], ownerStatus: 200 },
  "GET /api/models/:owner/:name/schema": { targets: ["model"], ownerStatus: 200 },
  "GET /api/models/:owner/:name/cover": { targets: ["model"], ownerStatus: 200 },
  // Destructive ones last: the owner's sanity check runs in this order.
  "DELETE /api/models/:owner/:name": { targets: ["model"], ownerStatus: 204 },
  "DELETE /api/tokens/:id": { targets: ["token"], ownerStatus: 204 },
  "DELETE /api/references/:id": { targets: ["reference"], ownerStatus: 204 },
  "DELETE /api/assets/:id": { targets: ["outputAsset"], ownerStatus: 204 },
  "DELETE /api/generations/:id": { targets: ["generation"], ownerStatus: 204 },
  "DELETE /api/sessions/:id": { targets: ["session"], ownerStatus: 204 },
};

/** Public by design: signing in, the health probe and Replicate's signed webhook. */
const PUBLIC = [/^\/api\/auth\//, /^\/api\/health$/, /^\/api\/webhooks\/replicate$/];

const split = (key: string): { method: string; path: string } => {
  const [method, path] = key.split(" ");
  return { method: method!, path: path! };
};

/** One request as `who`: by bearer token, by session cookie (from our own origin), or anonymously. */
function call(
  who: TestUser | null,
  via: "bearer" | "cookie" | "anonymous",
  method: string,
  path: string,
  entry: Pick<Entry, "body" | "headers">,
): Promise<Response> {
  const headers = entry.headers ?? {};
  if (who && via === "cookie") return asCookie(who, method, path, entry.body, headers);
  return api(via === "bearer" ? who : null, method, path, entry.body, headers);
}

let world: World;

beforeAll(async () => {
  const owner = await signUp("owner");
  const intruder = await signUp("intruder");
  const session = await createSession(owner, "private session");
  const generation = await completeGeneration(
    owner,
    (await createGeneration(owner, session.id, { model: SCHNELL, prompt: `private ${uniqueTag()}` })).id,
  );
  expect(generation.status).toBe("succeeded");
  const outputAsset = generation.outputs[0]!;
  const png = await makePng(32, 24, (x, y) => [x * 8, y * 10, 77]);
  const assetResponse = await upload(owner, "/api/assets", [{ name: "private.png", bytes: png, type: "image/png" }], {
    role: "input",
  });
  expect(assetResponse.status).toBe(201);
  const inputAsset = await assetResponse.json<Asset>();
  const referenceResponse = await upload(owner, "/api/references", [
    { name: "style.png", bytes: await makePng(20, 20, (x) => [x * 12, 0, 200]) },
  ]);
  expect(referenceResponse.status).toBe(201);
  const reference = (await referenceResponse.json<ReferenceUploadResult>()).items[0]!;
  const tokenResponse = await api(owner, "POST", "/api/tokens", { name: "ci" });
  expect(tokenResponse.status).toBe(201);
  const token = await tokenResponse.json<{ id: string; token: string }>();
  const trashed = await createGeneration(owner, session.id, { model: SCHNELL, prompt: `discarded ${uniqueTag()}` });
  expect((await api(owner, "DELETE", `/api/generations/${trashed.id}`)).status).toBe(204);
  const modelResponse = await api(owner, "POST", "/api/models", { id: "kwaivgi/kling-v2.0" });
  expect(modelResponse.status).toBe(201);
  const model = await modelResponse.json<{ id: string }>();
  // Let the session's counters settle, so "unchanged" compares a resting state.
  const settled = await waitFor(
    async () => {
      const detail = await (await api(owner, "GET", `/api/sessions/${session.id}`)).json<Session>();
      return detail.succeededCount === 1 ? detail : null;
    },
    { what: "session counters" },
  );
  world = { owner, intruder, session: settled, generation, inputAsset, outputAsset, reference, token, trashed, model };
}, 60_000);

describe("the isolation table", () => {
  it("lists exactly the app's routes with a path parameter", () => {
    // Operator routes answer 403 to everyone but the administrators: their suite is operations.test.ts.
    const paramRoutes = appRoutes()
      .filter((route) => hasParam(route.path) && !route.path.startsWith("/api/admin/"))
      .map((route) => route.key)
      .sort();
    expect(paramRoutes.length).toBeGreaterThan(0);
    expect(Object.keys(PARAM_ROUTES).sort()).toEqual(paramRoutes);
  });
});

describe.each(Object.entries(PARAM_ROUTES))("%s", (key, entry) => {
  const { method, path } = split(key);

  it.each(entry.targets)(
    "on the owner's %s: 404 to another user, as if it did not exist, and changes nothing",
    async (fixture) => {
      const target = fillParams(path, FIXTURES[fixture].id(world));
      const missing = fillParams(path, FIXTURES[fixture].missing);
      for (const via of ["bearer", "cookie"] as const) {
        const before = await footprint(world.owner.id);
        const response = await call(world.intruder, via, method, target, entry);
        expect(response.status, `${via} ${method} ${target}`).toBe(404);
        const problem = await problemOf(response);
        expect(await footprint(world.owner.id)).toEqual(before);

        // Nothing tells a foreign resource from one that was never there.
        const absent = await call(world.intruder, via, method, missing, entry);
        expect(absent.status).toBe(404);
        expect(await problemOf(absent)).toEqual(problem);
      }
      // The intruder gained nothing either.
      const theirs = await footprint(world.intruder.id);
      for (const table of [
        "image_sessions",
        "generations",
        "assets",
        "references",
        "replicate_uploads",
        "r2",
      ] as const) {
        expect(theirs[table], table).toEqual([]);
      }
    },
  );

  it("401 without credentials, or with forged ones, and changes nothing", async () => {
    const target = fillParams(path, FIXTURES[entry.targets[0]!].id(world));
    const before = await footprint(world.owner.id);
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: "Bearer isk_forged" },
      { Cookie: "__Host-studio_session=forged", Origin: ORIGIN },
    ];
    for (const headers of attempts) {
      const response = await api(null, method, target, entry.body, { ...entry.headers, ...headers });
      expect(response.status, JSON.stringify(headers)).toBe(401);
      await problemOf(response);
    }
    expect(await footprint(world.owner.id)).toEqual(before);
  });
});

describe("routes without a parameter", () => {
  const guarded = appRoutes().filter(
    (route) => !hasParam(route.path) && !PUBLIC.some((pattern) => pattern.test(route.path)),
  );

  it("include the ones people rely on", () => {
    expect(guarded.map((route) => route.key)).toEqual(
      expect.arrayContaining(["GET /api/me", "POST /api/sessions", "GET /api/sessions", "POST /api/assets"]),
    );
  });

  it.each(guarded.map((route) => [route.key, route] as const))(
    "%s answers 401 unauthenticated, before reading the body",
    async (_key, route) => {
      const attempts: Record<string, string>[] = [
        {},
        { Authorization: "Bearer isk_forged" },
        { Cookie: "__Host-studio_session=forged", Origin: ORIGIN },
      ];
      for (const headers of attempts) {
        const body = route.method === "GET" ? undefined : {};
        const response = await api(null, route.method, route.path, body, headers);
        expect(response.status, JSON.stringify(headers)).toBe(401);
        await problemOf(response);
      }
    },
  );
});

describe("model inputs that carry files", () => {
  // A Replicate file URL of ours (every user's uploads live on the studio's one Replicate account).
  const foreignFile = "https://api.replicate.com/v1/files/someone-elses-upload";
  const cases: [model: string, input: string][] = [
    ["black-forest-labs/flux-dev", "image"],
    ["black-forest-labs/flux-kontext-pro", "input_image"],
    ["black-forest-labs/flux-1.1-pro", "image_prompt"],
    ["stability-ai/sdxl", "image"],
    ["stability-ai/sdxl", "mask"],
    ["minimax/video-01", "first_frame_image"],
    ["minimax/video-01", "subject_reference"],
    [SCHNELL, "prompt"],
    ["stability-ai/sdxl", "negative_prompt"],
  ];

  it.each(cases)(
    "%s: params.%s cannot stand in for an owned asset, reference or the stored prompt",
    async (model, input) => {
      const session = await createSession(world.intruder);
      const response = await api(world.intruder, "POST", `/api/sessions/${session.id}/generations`, {
        model,
        prompt: "harmless",
        params: { [input]: foreignFile },
      });
      expect(response.status).toBe(400);
      const problem = await problemOf(response);
      expect(problem.errors?.map((error) => error.path)).toEqual([`params.${input}`]);
      const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM generations WHERE session_id = ?")
        .bind(session.id)
        .first<{ n: number }>())!;
      expect(n).toBe(0);
    },
  );
});

describe("the owner", () => {
  // Runs after the matrix (vitest keeps file order): proves each fixture was reachable, so the
  // 404s above come from ownership and not from a wrong id or body.
  it("gets through on every route of the table", async () => {
    for (const [key, entry] of Object.entries(PARAM_ROUTES)) {
      const { method, path } = split(key);
      for (const fixture of entry.targets) {
        const response = await call(
          world.owner,
          "bearer",
          method,
          fillParams(path, FIXTURES[fixture].id(world)),
          entry,
        );
        expect(response.status, `${key} on ${fixture}`).toBe(entry.ownerStatus);
        if (response.status === 101) {
          response.webSocket!.accept();
          response.webSocket!.close(1000, "done");
        } else {
          await response.arrayBuffer();
        }
      }
    }
    await waitFor(async () => (await api(world.owner, "GET", `/api/sessions/${world.session.id}`)).status === 404, {
      what: "the session to be gone",
    });
    expect(
      (await SELF.fetch(`${ORIGIN}/api/me`, { headers: { Authorization: `Bearer ${world.token.token}` } })).status,
    ).toBe(401);
  });
});
