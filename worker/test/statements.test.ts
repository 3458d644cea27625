/**
 * The D1 statements a request runs, recorded by wrapping the real D1 binding (every statement
 * still runs on the local D1). Signing a request in is one statement: the cookie's look-up, or for a
 * bearer token its look-up and the stamp of its last use together (the look-up alone when the token's
 * use was stamped less than a minute ago); once per request, whichever router answers it. In
 * production every statement is a round trip, so the counts below are latency.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { apiTokenSignIn, TOKEN_STAMP_INTERVAL_MS } from "../accounts/credentials";
import { createDb } from "../db/client";
import { sha256Hex } from "../lib/ids";
import { createSession, signUp, type TestUser, upload } from "./helpers";
import { makePng } from "./images";
import { recordingD1, statementsOf } from "./recording-d1";
import { appRoutes, fillParams, hasParam } from "./security/support";

/** A token's sign-in that stamps its use as it looks it up. */
const STAMPING_SIGN_IN =
  /^update "api_tokens" set "last_used_at" = \? where "api_tokens"\."token_hash" = \? returning/i;
/** A token's sign-in that only looks it up (its use was stamped within the minute). */
const READING_SIGN_IN = /^select\b.*\bfrom "api_tokens" where "api_tokens"\."token_hash" = \?$/i;
/** The sign-in statements: a token looked up by its hash (its use stamped with it, at most once a minute). */
const tokenSignIns = (statements: string[]) =>
  statements.filter((sql) => STAMPING_SIGN_IN.test(sql) || READING_SIGN_IN.test(sql));
/** Statements on the tokens themselves, besides the sign-in (a route's reads may name the user through a subquery on it). */
const otherTokenStatements = (statements: string[]) =>
  statements.filter((sql) => /^[^(]*"api_tokens"/i.test(sql) && !tokenSignIns([sql]).length);
const cookieLookups = (statements: string[]) =>
  statements.filter((sql) => /^select\b[^(]*\bfrom "auth_sessions"/i.test(sql));

let user: TestUser;
let sessionId: string;

beforeAll(async () => {
  user = await signUp("counted");
  sessionId = (await createSession(user, "counted")).id;
});

describe("D1 statements per request", () => {
  it("GET /api/sessions/:id with a bearer token looks the token up (and stamps it) in one statement", async () => {
    const { response, statements } = await statementsOf(`/api/sessions/${sessionId}`, {
      headers: { Authorization: `Bearer ${user.token}` },
    });
    expect(response.status).toBe(200);
    expect(tokenSignIns(statements)).toHaveLength(1);
    expect(otherTokenStatements(statements)).toHaveLength(0);
    expect(cookieLookups(statements)).toHaveLength(0);
    // Signing in comes first; the route's own reads follow.
    expect(statements[0]).toBe(tokenSignIns(statements)[0]);
    expect(statements.length).toBeGreaterThan(1);
    // The stamp is stored.
    const row = await env.DB.prepare("SELECT last_used_at FROM api_tokens WHERE user_id = ? AND name = 'tests'")
      .bind(user.id)
      .first<{ last_used_at: number | null }>();
    expect(row?.last_used_at).toEqual(expect.any(Number));
  });

  it("a token's use is stamped as it signs in, then not again within the minute", async () => {
    const token = await signUp("stamped");
    const db = createDb(env.DB);
    const hash = await sha256Hex(token.token);
    const lastUsed = async () =>
      (
        await env.DB.prepare("SELECT last_used_at FROM api_tokens WHERE user_id = ?")
          .bind(token.id)
          .first<{ last_used_at: number | null }>()
      )?.last_used_at;
    // Later than anything this isolate stamped before: the first sign-in stamps.
    const start = Date.now() + 10 * TOKEN_STAMP_INTERVAL_MS;
    const signIn = async (at: number) => {
      const statement = apiTokenSignIn(db, hash, at);
      return { sql: statement.toSQL().sql, rows: await statement };
    };
    const first = await signIn(start);
    expect(first.sql).toMatch(STAMPING_SIGN_IN);
    expect(first.rows).toEqual([{ id: token.id, email: token.email }]);
    expect(await lastUsed()).toBe(start);
    // Within the minute: the same user, read without writing.
    const soon = await signIn(start + TOKEN_STAMP_INTERVAL_MS - 1);
    expect(soon.sql).toMatch(READING_SIGN_IN);
    expect(soon.rows).toEqual([{ id: token.id, email: token.email }]);
    expect(await lastUsed()).toBe(start);
    // A minute on, stamped again.
    const later = await signIn(start + TOKEN_STAMP_INTERVAL_MS);
    expect(later.sql).toMatch(STAMPING_SIGN_IN);
    expect(await lastUsed()).toBe(start + TOKEN_STAMP_INTERVAL_MS);
    // An unknown token reads nobody either way.
    expect(await apiTokenSignIn(db, await sha256Hex("isk_nobody"), start)).toEqual([]);
    expect(await apiTokenSignIn(db, await sha256Hex("isk_nobody"), start + 1)).toEqual([]);
  });

  it("GET /api/sessions/:id with the session cookie looks the cookie up once", async () => {
    const { response, statements } = await statementsOf(`/api/sessions/${sessionId}`, {
      headers: { Cookie: user.cookie },
    });
    expect(response.status).toBe(200);
    expect(cookieLookups(statements)).toHaveLength(1);
    expect(tokenSignIns(statements)).toHaveLength(0);
  });

  /** Public by design: signing in, the health probe and Replicate's signed webhook. */
  const PUBLIC = [/^\/api\/auth\//, /^\/api\/health$/, /^\/api\/webhooks\//];
  // Deleting the account is counted on an account of its own, below: here it would end the shared one.
  const guarded = appRoutes().filter(
    (route) => !PUBLIC.some((pattern) => pattern.test(route.path)) && route.key !== "DELETE /api/me",
  );

  it.each(guarded.map((route) => [route.key, route] as const))(
    "%s signs a bearer request in exactly once",
    async (_key, route) => {
      // An id that exists nowhere and an empty body: whatever the route answers, it signs in first.
      const path = hasParam(route.path) ? fillParams(route.path, "missing") : route.path;
      const { response, statements } = await statementsOf(path, {
        method: route.method,
        headers: { Authorization: `Bearer ${user.token}`, "Content-Type": "application/json" },
        ...(route.method === "GET" ? {} : { body: "{}" }),
      });
      expect(response.status, `${route.key} → ${response.status}`).not.toBe(401);
      expect(tokenSignIns(statements)).toHaveLength(1);
    },
  );

  it("DELETE /api/me signs the bearer request in exactly once", async () => {
    const leaving = await signUp("counted-leaving");
    const { response, statements } = await statementsOf("/api/me", {
      method: "DELETE",
      headers: { Authorization: `Bearer ${leaving.token}` },
    });
    expect(response.status).toBe(204);
    expect(tokenSignIns(statements)).toHaveLength(1);
  });
});

describe("D1 statements of the requests people make most", () => {
  const bearer = () => ({ Authorization: `Bearer ${user.token}`, "Content-Type": "application/json" });

  it("answers each in a fixed, small number of statements and calls to D1, signing in once", async () => {
    const session = (await createSession(user, "counted routes")).id;
    const start = (prompt: string) =>
      statementsOf(`/api/sessions/${session}/generations`, {
        method: "POST",
        headers: bearer(),
        body: JSON.stringify({ model: "black-forest-labs/flux-schnell", prompt }),
      });
    // The first generation of a model in an isolate may be the one that builds its definition.
    expect((await start("first")).response.status).toBe(202);
    const created = await start("counted");
    expect(created.response.status).toBe(202);
    const stored = await env.DB.prepare("SELECT id, status FROM generations WHERE session_id = ? AND prompt = ?")
      .bind(session, "counted")
      .all<{ id: string; status: string }>();
    expect(stored.results).toHaveLength(1);
    const generationId = stored.results[0]!.id;

    const me = await statementsOf("/api/me", { headers: bearer() });
    const generation = await statementsOf(`/api/generations/${generationId}`, { headers: bearer() });
    const detail = await statementsOf(`/api/sessions/${session}`, { headers: bearer() });
    for (const { response } of [me, generation, detail]) expect(response.status).toBe(200);
    const counts = Object.fromEntries(
      Object.entries({
        "GET /api/me": me,
        "GET /api/generations/:id": generation,
        "GET /api/sessions/:id": detail,
        "POST /api/sessions/:id/generations": created,
      }).map(([route, { statements, calls }]) => [route, { statements: statements.length, calls }]),
    );
    // In production every call to D1 is a round trip; a batch is one call, whatever it carries.
    // Were 2, 6, 6 and 9 statements, each its own call: signing in took two, a generation was read twice.
    // Then a new generation took 11 statements in 6 calls: the session, the model, the limits and the
    // rate each had a call of their own; then 12 in 3, signing in on its own; then 12 in 2, the
    // checks' reads in one batch with signing in, the writes in another.
    expect(counts).toEqual({
      // Signing in, nothing else.
      "GET /api/me": { statements: 1, calls: 1 },
      // One batch: signing in, the generation (owned by whoever signed in, not in the trash), its
      // outputs, inputs and references.
      "GET /api/generations/:id": { statements: 5, calls: 1 },
      // One batch: signing in, the session (owned by whoever signed in), its newest generations, their
      // outputs, inputs and references.
      "GET /api/sessions/:id": { statements: 6, calls: 1 },
      // One atomic batch: the generation (stored only if every check holds: the session is theirs,
      // the model's schema unchanged, the daily limits), signing in, the session, its counters, the
      // usage ledger and the per-minute rate (its counter and the guard that refuses past it).
      "POST /api/sessions/:id/generations": { statements: 7, calls: 1 },
    });
    for (const { statements } of [me, generation, detail, created]) expect(tokenSignIns(statements)).toHaveLength(1);
  });

  it("starts a generation from a parent, a source, a mask or references in the same one call", async () => {
    const session = (await createSession(user, "counted names")).id;
    const post = (body: Record<string, unknown>) =>
      statementsOf(`/api/sessions/${session}/generations`, {
        method: "POST",
        headers: bearer(),
        body: JSON.stringify(body),
      });
    const parent = await post({ model: "stability-ai/sdxl", prompt: "counted parent" });
    expect(parent.response.status).toBe(202);
    const parentId = (JSON.parse(parent.body) as { id: string }).id;
    // Each model's first generation in an isolate may be the one that builds its definition.
    expect((await post({ model: "minimax/video-01", prompt: "counted video" })).response.status).toBe(202);
    const png = await makePng(16, 16, (x, y) => [x * 16, y * 16, 128]);
    const uploaded = async (path: string, fields: Record<string, string> = {}) => {
      const response = await upload(user, path, [{ name: "counted.png", bytes: png, type: "image/png" }], fields);
      expect(response.status).toBe(201);
      return response.json<{ id: string; items?: { id: string }[] }>();
    };
    const mask = await uploaded("/api/assets", { role: "mask" });
    const source = await uploaded("/api/assets", { role: "input" });
    const reference = (await uploaded("/api/references")).items![0]!;

    const fromParent = await post({
      model: "stability-ai/sdxl",
      prompt: "from the parent",
      parentGenerationId: parentId,
      maskAssetId: mask.id,
    });
    const fromSource = await post({
      model: "minimax/video-01",
      prompt: "from a source",
      sourceAssetId: source.id,
      referenceImageIds: [reference.id],
    });
    for (const { response } of [fromParent, fromSource]) expect(response.status).toBe(202);
    // What is named is checked in the generation's insert; each lookup the answer shows (a parent, a
    // source or a mask; references and their Replicate uploads) is one more statement in the same
    // batch, and the references are stored with it: the call stays one.
    expect({ statements: fromParent.statements.length, calls: fromParent.calls }).toEqual({ statements: 9, calls: 1 });
    expect({ statements: fromSource.statements.length, calls: fromSource.calls }).toEqual({ statements: 11, calls: 1 });
    for (const { statements } of [fromParent, fromSource]) expect(tokenSignIns(statements)).toHaveLength(1);
    const answered = JSON.parse(fromSource.body) as { inputs: { id: string }[]; references: { id: string }[] };
    expect(answered.inputs.map((asset) => asset.id)).toEqual([source.id]);
    expect(answered.references.map((item) => item.id)).toEqual([reference.id]);
  });

  it("answers a new generation as stored, without reading it again", async () => {
    const session = (await createSession(user, "counted answer")).id;
    const { body, statements } = await statementsOf(`/api/sessions/${session}/generations`, {
      method: "POST",
      headers: bearer(),
      body: JSON.stringify({ model: "black-forest-labs/flux-schnell", prompt: "counted answer" }),
    });
    const answered = JSON.parse(body) as { id: string; status: string; prompt: string; outputs: unknown[] };
    expect(answered).toMatchObject({ status: "queued", prompt: "counted answer", outputs: [] });
    // (Today's generations are read for the quota before it exists; the new one is never read back.)
    const readsOfIt = statements.filter((sql) =>
      /^select\b.*\bfrom "generations".*"generations"\."id" (=|in)/i.test(sql),
    );
    expect(readsOfIt).toHaveLength(0);
    const stored = await env.DB.prepare("SELECT prompt FROM generations WHERE id = ?")
      .bind(answered.id)
      .first<{ prompt: string }>();
    expect(stored?.prompt).toBe("counted answer");
  });
});

describe("the database handle", () => {
  it("is made once per binding, and each binding keeps its own", () => {
    const recorded: string[] = [];
    const other = recordingD1(env.DB, recorded);
    expect(createDb(env.DB)).toBe(createDb(env.DB));
    expect(createDb(other)).toBe(createDb(other));
    expect(createDb(other)).not.toBe(createDb(env.DB));
  });
});
