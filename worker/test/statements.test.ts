/**
 * The D1 statements a request runs, recorded by wrapping the real D1 binding (every statement
 * still runs on the local D1). Signing a request in is one lookup of the credential, and with a
 * bearer token one stamp of its last use: once per request, whichever router answers it.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../index";
import { createSession, ORIGIN, signUp, type TestUser } from "./helpers";
import { appRoutes, fillParams, hasParam } from "./security/support";

/** The SQL of every statement prepared (or executed directly) through the binding, in order. */
function recordingD1(db: D1Database, statements: string[]): D1Database {
  return new Proxy(db, {
    get(target, property) {
      if (property === "prepare" || property === "exec") {
        return (query: string) => {
          statements.push(query);
          return property === "prepare" ? target.prepare(query) : target.exec(query);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** One request straight into the Worker with the recording binding; the statements it ran. */
async function statementsOf(
  path: string,
  init: RequestInit = {},
): Promise<{ response: Response; statements: string[] }> {
  const statements: string[] = [];
  const ctx = createExecutionContext();
  const request = new Request(`${ORIGIN}${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, { ...env, DB: recordingD1(env.DB, statements) }, ctx);
  await waitOnExecutionContext(ctx);
  await response.body?.cancel();
  return { response, statements };
}

/** The sign-in statements: the credential looked up by its hash, and a token's use stamped. */
const tokenLookups = (statements: string[]) =>
  statements.filter((sql) => /^select\b.*\bfrom "api_tokens".*"token_hash" = \?/i.test(sql));
const tokenStamps = (statements: string[]) =>
  statements.filter((sql) => /^update "api_tokens" set "last_used_at"/i.test(sql));
const cookieLookups = (statements: string[]) =>
  statements.filter((sql) => /^select\b.*\bfrom "auth_sessions"/i.test(sql));

let user: TestUser;
let sessionId: string;

beforeAll(async () => {
  user = await signUp("counted");
  sessionId = (await createSession(user, "counted")).id;
});

describe("D1 statements per request", () => {
  it("GET /api/sessions/:id with a bearer token looks the token up once and stamps it once", async () => {
    const { response, statements } = await statementsOf(`/api/sessions/${sessionId}`, {
      headers: { Authorization: `Bearer ${user.token}` },
    });
    expect(response.status).toBe(200);
    expect(tokenLookups(statements)).toHaveLength(1);
    expect(tokenStamps(statements)).toHaveLength(1);
    expect(cookieLookups(statements)).toHaveLength(0);
    // Signing in comes first; the route's own reads follow.
    expect(statements.slice(0, 2)).toEqual([...tokenLookups(statements), ...tokenStamps(statements)]);
    expect(statements.length).toBeGreaterThan(2);
    // The stamp is stored.
    const row = await env.DB.prepare("SELECT last_used_at FROM api_tokens WHERE user_id = ? AND name = 'tests'")
      .bind(user.id)
      .first<{ last_used_at: number | null }>();
    expect(row?.last_used_at).toEqual(expect.any(Number));
  });

  it("GET /api/sessions/:id with the session cookie looks the cookie up once", async () => {
    const { response, statements } = await statementsOf(`/api/sessions/${sessionId}`, {
      headers: { Cookie: user.cookie },
    });
    expect(response.status).toBe(200);
    expect(cookieLookups(statements)).toHaveLength(1);
    expect(tokenLookups(statements)).toHaveLength(0);
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
      expect(tokenLookups(statements)).toHaveLength(1);
      expect(tokenStamps(statements)).toHaveLength(1);
    },
  );

  it("DELETE /api/me signs the bearer request in exactly once", async () => {
    const leaving = await signUp("counted-leaving");
    const { response, statements } = await statementsOf("/api/me", {
      method: "DELETE",
      headers: { Authorization: `Bearer ${leaving.token}` },
    });
    expect(response.status).toBe(204);
    expect(tokenLookups(statements)).toHaveLength(1);
    expect(tokenStamps(statements)).toHaveLength(1);
  });
});
