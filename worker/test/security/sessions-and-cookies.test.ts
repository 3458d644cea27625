/**
 * Sign-in sessions and the browser boundary: what the session cookie looks like and how long it
 * lives, that every state-changing route refuses cookie-authenticated requests from other sites
 * (the table of mutating routes is checked against the app's own route table), and that CORS grants
 * nothing to anyone.
 */
import { env, SELF } from "cloudflare:test";
import type { ReferenceUploadResult } from "@contract/api";
import { describe, expect, it } from "vitest";
import { insertBatch, insertSession } from "../gallery-support";
import { api, createGeneration, createSession, ORIGIN, signUp, type TestUser, upload } from "../helpers";
import { makePng } from "../images";
import { appRoutes, callWorker, fillParams, problemOf, sha256Of } from "./support";

const SCHNELL = "black-forest-labs/flux-schnell";
const PASSWORD = "correct horse battery";
const HTTP_ORIGIN = ORIGIN.replace(/^https:/, "http:");

type SetCookie = { name: string; value: string; attributes: Map<string, string> };

function parseSetCookie(header: string | null): SetCookie {
  expect(header, "a Set-Cookie header").not.toBeNull();
  const [pair, ...rest] = header!.split(";").map((part) => part.trim());
  const eq = pair!.indexOf("=");
  const attributes = new Map<string, string>();
  for (const attribute of rest) {
    const at = attribute.indexOf("=");
    attributes.set((at < 0 ? attribute : attribute.slice(0, at)).toLowerCase(), at < 0 ? "" : attribute.slice(at + 1));
  }
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
}

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  SELF.fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

const signUpAt = (origin: string, email = `cookie-${crypto.randomUUID()}@example.com`) =>
  postJson(`${origin}/api/auth/signup`, { email, password: PASSWORD }, { Origin: origin });

const login = (user: TestUser, headers: Record<string, string> = {}) =>
  postJson(`${ORIGIN}/api/auth/login`, { email: user.email, password: PASSWORD }, { Origin: ORIGIN, ...headers });

const me = (cookie: string) => SELF.fetch(`${ORIGIN}/api/me`, { headers: { Cookie: cookie } });

const cookiePair = (response: Response): string => {
  const cookie = parseSetCookie(response.headers.get("Set-Cookie"));
  return `${cookie.name}=${cookie.value}`;
};

async function sessionRows(userId: string): Promise<{ id: string; expires_at: number }[]> {
  return (
    await env.DB.prepare("SELECT id, expires_at FROM auth_sessions WHERE user_id = ? ORDER BY id")
      .bind(userId)
      .all<{ id: string; expires_at: number }>()
  ).results;
}

describe("the session cookie", () => {
  it("over https: __Host- prefix, Secure, HttpOnly, SameSite=Lax, host-only, Path=/, 30 days", async () => {
    const response = await signUpAt(ORIGIN);
    expect(response.status).toBe(201);
    expect(response.headers.getSetCookie()).toHaveLength(1);
    const cookie = parseSetCookie(response.headers.get("Set-Cookie"));
    expect(cookie.name).toBe("__Host-studio_session");
    expect(cookie.attributes.has("secure")).toBe(true);
    expect(cookie.attributes.has("httponly")).toBe(true);
    expect(cookie.attributes.get("samesite")).toBe("Lax");
    expect(cookie.attributes.get("path")).toBe("/");
    expect(cookie.attributes.has("domain")).toBe(false);
    expect(Number(cookie.attributes.get("max-age"))).toBe(30 * 24 * 60 * 60);
  });

  it("over plain http (local dev): no __Host- prefix, which needs Secure, but still HttpOnly and Lax", async () => {
    const response = await signUpAt(HTTP_ORIGIN);
    expect(response.status).toBe(201);
    const cookie = parseSetCookie(response.headers.get("Set-Cookie"));
    expect(cookie.name).toBe("studio_session");
    expect(cookie.attributes.has("httponly")).toBe(true);
    expect(cookie.attributes.get("samesite")).toBe("Lax");
  });

  it("carries at least 128 random bits, never repeats, and only its SHA-256 is stored", async () => {
    const user = await signUp("cookie");
    const values: string[] = [user.cookie.split("=")[1]!];
    // Eight sign-ins: under the per-account sign-in limit.
    for (let i = 0; i < 8; i++) {
      const response = await login(user);
      expect(response.status).toBe(200);
      values.push(parseSetCookie(response.headers.get("Set-Cookie")).value);
    }
    for (const value of values) {
      expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(value.length * 6, "bits of base64url").toBeGreaterThanOrEqual(128);
    }
    expect(new Set(values).size).toBe(values.length);
    // No two share a prefix longer than chance allows (a counter or a timestamp would).
    for (let i = 1; i < values.length; i++) expect(values[i]!.slice(0, 6)).not.toBe(values[i - 1]!.slice(0, 6));

    const rows = await sessionRows(user.id);
    const latest = values.at(-1)!;
    expect(rows.map((row) => row.id)).toContain(await sha256Of(new TextEncoder().encode(latest)));
    const everything = JSON.stringify(
      (await env.DB.prepare("SELECT * FROM auth_sessions WHERE user_id = ?").bind(user.id).all()).results,
    );
    for (const value of values) expect(everything).not.toContain(value);
    // API tokens likewise: the digest is kept, not the token.
    const tokens = JSON.stringify(
      (await env.DB.prepare("SELECT * FROM api_tokens WHERE user_id = ?").bind(user.id).all()).results,
    );
    expect(tokens).not.toContain(user.token);
    expect(tokens).toContain(await sha256Of(new TextEncoder().encode(user.token)));
  });

  it("is rotated at sign-in: the old value dies, other devices keep theirs", async () => {
    const user = await signUp("cookie");
    const otherDevice = cookiePair(await login(user));
    const response = await login(user, { Cookie: user.cookie });
    expect(response.status).toBe(200);
    const fresh = cookiePair(response);
    expect(fresh).not.toBe(user.cookie);
    await problemOf(await me(user.cookie)).then((problem) => expect(problem.status).toBe(401));
    expect((await me(fresh)).status).toBe(200);
    expect((await me(otherDevice)).status).toBe(200);
    const ids = (await sessionRows(user.id)).map((row) => row.id);
    expect(ids).not.toContain(await sha256Of(new TextEncoder().encode(user.cookie.split("=")[1]!)));
    expect(ids).toHaveLength(2);
  });

  it("is dead after sign-out: cleared in the browser and deleted in D1", async () => {
    const user = await signUp("cookie");
    const response = await SELF.fetch(`${ORIGIN}/api/auth/logout`, {
      method: "POST",
      headers: { Cookie: user.cookie, Origin: ORIGIN },
    });
    expect(response.status).toBe(204);
    const cleared = parseSetCookie(response.headers.get("Set-Cookie"));
    expect(cleared.name).toBe("__Host-studio_session");
    expect(cleared.value).toBe("");
    expect(cleared.attributes.get("max-age")).toBe("0");
    expect(cleared.attributes.has("secure")).toBe(true);
    expect(cleared.attributes.get("path")).toBe("/");
    expect(await sessionRows(user.id)).toEqual([]);
    expect((await problemOf(await me(user.cookie))).status).toBe(401);
    // Replaying it on a state-changing route is refused as unauthenticated, and changes nothing.
    const replay = await SELF.fetch(`${ORIGIN}/api/sessions`, {
      method: "POST",
      headers: { Cookie: user.cookie, Origin: ORIGIN, "Content-Type": "application/json" },
      body: "{}",
    });
    expect((await problemOf(replay)).status).toBe(401);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM image_sessions WHERE user_id = ?")
      .bind(user.id)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
  });

  it("is dead once expired, even though the browser still sends it", async () => {
    const user = await signUp("cookie");
    expect((await me(user.cookie)).status).toBe(200);
    const id = await sha256Of(new TextEncoder().encode(user.cookie.split("=")[1]!));
    await env.DB.prepare("UPDATE auth_sessions SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, id)
      .run();
    expect((await problemOf(await me(user.cookie))).status).toBe(401);
  });

  it("only works under its own name and only as a cookie", async () => {
    const user = await signUp("cookie");
    const value = user.cookie.split("=")[1]!;
    // A cookie without the prefix could have been planted by a sibling subdomain: not read on https.
    expect((await problemOf(await me(`studio_session=${value}`))).status).toBe(401);
    // Session ids and API tokens are separate secrets.
    expect(
      (await problemOf(await api(null, "GET", "/api/me", undefined, { Authorization: `Bearer ${value}` }))).status,
    ).toBe(401);
    expect((await problemOf(await me(`__Host-studio_session=${user.token}`))).status).toBe(401);
  });
});

// -----------------------------------------------------------------------------------------------
// CSRF
// -----------------------------------------------------------------------------------------------

/** Everything a user could see change: which rows exist, and the fields a mutation would touch. */
async function visibleState(userId: string): Promise<unknown> {
  const all = async (query: string) => (await env.DB.prepare(query).bind(userId).all()).results;
  return {
    sessions: await all("SELECT id, title, trashed_at FROM image_sessions WHERE user_id = ? ORDER BY id"),
    // Generations move on by themselves (submitted, running…); only a cancel makes one `canceled`.
    generations: await all(
      "SELECT id, status = 'canceled' AS canceled, trashed_at FROM generations WHERE user_id = ? ORDER BY id",
    ),
    assets: await all("SELECT id, role, favorite, trashed_at FROM assets WHERE user_id = ? ORDER BY id"),
    references: await all('SELECT id, deleted_at FROM "references" WHERE user_id = ? ORDER BY id'),
    tokens: await all("SELECT id, name FROM api_tokens WHERE user_id = ? ORDER BY id"),
    models: await all("SELECT model_id FROM user_models WHERE user_id = ? ORDER BY model_id"),
    authSessions: await all("SELECT id FROM auth_sessions WHERE user_id = ? ORDER BY id"),
    blobs: (await env.BUCKET.list({ prefix: `blobs/${userId}/` })).objects.map((object) => object.key),
  };
}

type Prepared = { path: string; body?: () => BodyInit; contentType?: string };
type CsrfEntry = {
  prepare: (user: TestUser) => Promise<Prepared>;
  /** What the same request gets from a script with a bearer token (or, for sign-in routes, from our own page). */
  okStatus: number;
};

const json = (value: unknown) => ({ body: () => JSON.stringify(value), contentType: "application/json" });
const pngBytes = makePng(12, 12, (x, y) => [x * 20, y * 20, 9]);
const imageForm = (fields: Record<string, string>) => async (): Promise<Pick<Prepared, "body">> => {
  const bytes = await pngBytes;
  return {
    body: () => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.set(name, value);
      form.set("file", new File([bytes], "image.png", { type: "image/png" }));
      return form;
    },
  };
};

/** An output in the user's gallery (stored rows, as the pipeline writes them). */
async function storedOutput(user: TestUser): Promise<string> {
  const sessionId = await insertSession(user.id, "outputs");
  return (await insertBatch(user.id, sessionId, { prompt: "an output" })).assetIds[0]!;
}

async function freshGeneration(user: TestUser): Promise<string> {
  const session = await createSession(user);
  return (
    await createGeneration(user, session.id, {
      model: SCHNELL,
      prompt: `csrf fixture ${crypto.randomUUID().slice(0, 8)}`,
    })
  ).id;
}

/**
 * Every state-changing route. Kept in step with the app: a POST, PATCH or DELETE missing here
 * (webhooks aside, which carry their own signature) fails the suite.
 */
const MUTATING: Record<string, CsrfEntry> = {
  "POST /api/auth/signup": {
    prepare: async () => ({
      path: "/api/auth/signup",
      ...json({ email: `csrf-${crypto.randomUUID()}@example.com`, password: PASSWORD }),
    }),
    okStatus: 201,
  },
  "POST /api/auth/login": {
    prepare: async (user) => ({ path: "/api/auth/login", ...json({ email: user.email, password: PASSWORD }) }),
    okStatus: 200,
  },
  "POST /api/auth/logout": { prepare: async () => ({ path: "/api/auth/logout" }), okStatus: 204 },
  "DELETE /api/me": { prepare: async () => ({ path: "/api/me", ...json({ password: PASSWORD }) }), okStatus: 204 },
  "POST /api/tokens": { prepare: async () => ({ path: "/api/tokens", ...json({ name: "planted" }) }), okStatus: 201 },
  "DELETE /api/tokens/:id": {
    prepare: async (user) => ({
      path: `/api/tokens/${(await (await api(user, "POST", "/api/tokens", { name: "victim" })).json<{ id: string }>()).id}`,
    }),
    okStatus: 204,
  },
  "POST /api/sessions": {
    prepare: async () => ({ path: "/api/sessions", ...json({ title: "planted" }) }),
    okStatus: 201,
  },
  "PATCH /api/sessions/:id": {
    prepare: async (user) => ({
      path: `/api/sessions/${(await createSession(user, "mine")).id}`,
      ...json({ title: "defaced" }),
    }),
    okStatus: 200,
  },
  "DELETE /api/sessions/:id": {
    prepare: async (user) => ({ path: `/api/sessions/${(await createSession(user, "mine")).id}` }),
    okStatus: 204,
  },
  "POST /api/sessions/:id/generations": {
    prepare: async (user) => ({
      path: `/api/sessions/${(await createSession(user)).id}/generations`,
      ...json({ model: SCHNELL, prompt: "spend their credits" }),
    }),
    okStatus: 202,
  },
  "POST /api/generations/:id/cancel": {
    prepare: async (user) => ({ path: `/api/generations/${await freshGeneration(user)}/cancel` }),
    okStatus: 200,
  },
  "POST /api/generations/:id/retry": {
    prepare: async (user) => ({
      path: `/api/generations/${await freshGeneration(user)}/retry`,
      ...json({ newSeed: true }),
    }),
    okStatus: 202,
  },
  "DELETE /api/generations/:id": {
    prepare: async (user) => ({ path: `/api/generations/${await freshGeneration(user)}` }),
    okStatus: 204,
  },
  "POST /api/sessions/:id/clone": {
    prepare: async (user) => ({ path: `/api/sessions/${(await createSession(user, "mine")).id}/clone`, ...json({}) }),
    okStatus: 201,
  },
  "POST /api/sessions/import": {
    prepare: async () => ({
      path: "/api/sessions/import",
      ...json({
        version: 1,
        exportedAt: new Date().toISOString(),
        session: { title: "planted", model: null, createdAt: new Date().toISOString() },
        generations: [],
        assets: [],
      }),
    }),
    okStatus: 201,
  },
  "PUT /api/assets/:id/favorite": {
    prepare: async (user) => ({ path: `/api/assets/${await storedOutput(user)}/favorite` }),
    okStatus: 204,
  },
  "DELETE /api/assets/:id/favorite": {
    prepare: async (user) => {
      const id = await storedOutput(user);
      await env.DB.prepare("UPDATE assets SET favorite = 1 WHERE id = ?").bind(id).run();
      return { path: `/api/assets/${id}/favorite` };
    },
    okStatus: 204,
  },
  "DELETE /api/assets/:id": {
    prepare: async (user) => ({ path: `/api/assets/${await storedOutput(user)}` }),
    okStatus: 204,
  },
  "POST /api/trash/:id/restore": {
    prepare: async (user) => {
      const session = await createSession(user, "deleted");
      expect((await api(user, "DELETE", `/api/sessions/${session.id}`)).status).toBe(204);
      return { path: `/api/trash/${session.id}/restore` };
    },
    okStatus: 200,
  },
  "POST /api/models": {
    prepare: async () => ({ path: "/api/models", ...json({ id: "kwaivgi/kling-v2.0" }) }),
    okStatus: 201,
  },
  "DELETE /api/models/:owner/:name": {
    prepare: async (user) => {
      expect((await api(user, "POST", "/api/models", { id: "kwaivgi/kling-v2.0" })).status).toBe(201);
      return { path: "/api/models/kwaivgi/kling-v2.0" };
    },
    okStatus: 204,
  },
  "POST /api/assets": {
    prepare: async () => ({ path: "/api/assets", ...(await imageForm({ role: "input" })()) }),
    okStatus: 201,
  },
  "POST /api/references": {
    prepare: async () => ({ path: "/api/references", ...(await imageForm({})()) }),
    okStatus: 201,
  },
  "DELETE /api/references/:id": {
    prepare: async (user) => {
      const response = await upload(user, "/api/references", [
        { name: "r.png", bytes: await makePng(10, 10, () => [Math.random() * 255, 1, 2]) },
      ]);
      return { path: `/api/references/${(await response.json<ReferenceUploadResult>()).items[0]!.id}` };
    },
    okStatus: 204,
  },
};

/** How other sites reach us: each must be refused when the request rides on the session cookie. */
const CROSS_SITE: Record<string, Record<string, string>> = {
  "a foreign Origin": { Origin: "https://evil.example" },
  "Sec-Fetch-Site: cross-site, no Origin": { "Sec-Fetch-Site": "cross-site" },
  "a sibling subdomain (same-site)": { Origin: "https://evil.studio.test", "Sec-Fetch-Site": "same-site" },
  "Origin: null (sandboxed frame)": { Origin: "null" },
  "our host over plain http": { Origin: HTTP_ORIGIN },
  "our name as a prefix of theirs": { Origin: `${ORIGIN}.evil.example` },
  "a foreign Origin claiming same-origin": { Origin: "https://evil.example", "Sec-Fetch-Site": "same-origin" },
};

/** Straight into the Worker's fetch handler: this file makes hundreds of these (see support.callWorker). */
function request(method: string, prepared: Prepared, headers: Record<string, string>): Promise<Response> {
  return callWorker(`${ORIGIN}${prepared.path}`, {
    method,
    headers: { ...(prepared.contentType ? { "Content-Type": prepared.contentType } : {}), ...headers },
    body: prepared.body?.(),
  });
}

const split = (key: string) => {
  const [method, path] = key.split(" ");
  return { method: method!, path: path! };
};

describe("CSRF", () => {
  it("the table lists exactly the app's state-changing routes", () => {
    const mutating = appRoutes()
      .filter(
        (route) =>
          ["POST", "PUT", "PATCH", "DELETE"].includes(route.method) &&
          !route.path.startsWith("/api/webhooks/") &&
          // Administrators only; their cross-site refusal is in operations.test.ts.
          !route.path.startsWith("/api/admin/"),
      )
      .map((route) => route.key)
      .sort();
    expect(Object.keys(MUTATING).sort()).toEqual(mutating);
  });

  describe.each(Object.entries(MUTATING))("%s", (key, entry) => {
    const { method } = split(key);

    it("refuses cookie-authenticated requests from other sites with 403 and changes nothing", async () => {
      const user = await signUp("csrf");
      const prepared = await entry.prepare(user);
      const before = await visibleState(user.id);
      for (const [how, headers] of Object.entries(CROSS_SITE)) {
        const response = await request(method, prepared, { Cookie: user.cookie, ...headers });
        expect(response.status, how).toBe(403);
        await problemOf(response);
        expect(await visibleState(user.id), how).toEqual(before);
      }
      // The session it rode on is still there: a forged sign-out or sign-in did nothing.
      expect((await me(user.cookie)).status).toBe(200);
      if (key === "POST /api/auth/signup") {
        const email = (JSON.parse(String(prepared.body!())) as { email: string }).email;
        expect(await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind(email).first()).toBeNull();
      }
    });

    it(
      key.startsWith("POST /api/auth/") ? "works from our own page" : "accepts a bearer token with no Origin",
      async () => {
        const user = await signUp("csrf");
        const prepared = await entry.prepare(user);
        const before = await visibleState(user.id);
        const headers: Record<string, string> = key.startsWith("POST /api/auth/")
          ? { Cookie: user.cookie, Origin: ORIGIN, "Sec-Fetch-Site": "same-origin" }
          : { Authorization: `Bearer ${user.token}` };
        const response = await request(method, prepared, headers);
        expect(response.status, await response.clone().text()).toBe(entry.okStatus);
        await response.arrayBuffer();
        if (key !== "POST /api/auth/signup") expect(await visibleState(user.id)).not.toEqual(before);
      },
    );

    if (!key.startsWith("POST /api/auth/")) {
      it("works with the cookie from our own origin", async () => {
        const user = await signUp("csrf");
        const prepared = await entry.prepare(user);
        const before = await visibleState(user.id);
        const response = await request(method, prepared, {
          Cookie: user.cookie,
          Origin: ORIGIN,
          "Sec-Fetch-Site": "same-origin",
        });
        expect(response.status, await response.clone().text()).toBe(entry.okStatus);
        await response.arrayBuffer();
        expect(await visibleState(user.id)).not.toEqual(before);
      });
    }
  });

  it("refuses a cross-site WebSocket handshake on the live channel", async () => {
    const user = await signUp("csrf");
    const session = await createSession(user);
    for (const [how, headers] of Object.entries(CROSS_SITE)) {
      if (!headers.Origin) continue; // Browsers always send Origin on WebSocket handshakes.
      const response = await SELF.fetch(`${ORIGIN}/api/sessions/${session.id}/live`, {
        headers: { Cookie: user.cookie, Upgrade: "websocket", ...headers },
      });
      expect(response.status, how).toBe(403);
      expect(response.webSocket).toBeNull();
      await problemOf(response);
    }
    const own = await SELF.fetch(`${ORIGIN}/api/sessions/${session.id}/live`, {
      headers: { Cookie: user.cookie, Upgrade: "websocket", Origin: ORIGIN },
    });
    expect(own.status).toBe(101);
    own.webSocket!.accept();
    own.webSocket!.close(1000, "done");
  });
});

// -----------------------------------------------------------------------------------------------
// CORS
// -----------------------------------------------------------------------------------------------

const CORS_HEADERS = [
  "Access-Control-Allow-Origin",
  "Access-Control-Allow-Credentials",
  "Access-Control-Allow-Methods",
  "Access-Control-Allow-Headers",
  "Access-Control-Expose-Headers",
];

function expectNoCorsGrant(response: Response, label: string): void {
  for (const header of CORS_HEADERS) expect(response.headers.get(header), `${label}: ${header}`).toBeNull();
}

describe("CORS is closed", () => {
  it("no response of any route carries a CORS header, for any caller, from any origin", async () => {
    const user = await signUp("cors");
    const session = await createSession(user);
    // Deleting the account would end this user mid-loop; its refusal of other origins is in the CSRF table.
    const routes = appRoutes().filter((route) => route.key !== "DELETE /api/me");
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const path = fillParams(route.path, route.path.startsWith("/api/sessions/") ? session.id : "x_missing");
      for (const [who, auth] of [
        ["anonymous", {}],
        ["bearer", { Authorization: `Bearer ${user.token}` }],
        ["cookie", { Cookie: user.cookie }],
      ] as const) {
        const response = await callWorker(`${ORIGIN}${path}`, {
          method: route.method,
          headers: {
            Origin: "https://evil.example",
            ...auth,
            ...(route.method === "GET" || route.method === "HEAD" ? {} : { "Content-Type": "application/json" }),
          },
          body: route.method === "GET" || route.method === "HEAD" ? undefined : "{}",
        });
        expectNoCorsGrant(response, `${route.key} as ${who}`);
        expect(response.status, `${route.key} as ${who}`).toBeLessThan(500);
        if (response.webSocket) response.webSocket.accept();
        await response.arrayBuffer();
      }
    }
  });

  it("a preflight from a foreign origin gets no grant, whatever it asks for", async () => {
    const user = await signUp("cors");
    const paths = [...new Set(appRoutes().map((route) => fillParams(route.path, "x_missing")))];
    for (const path of paths) {
      for (const requested of ["POST", "DELETE", "PATCH", "GET"]) {
        const response = await callWorker(`${ORIGIN}${path}`, {
          method: "OPTIONS",
          headers: {
            Origin: "https://evil.example",
            "Access-Control-Request-Method": requested,
            "Access-Control-Request-Headers": "authorization, content-type",
            Cookie: user.cookie,
          },
        });
        expectNoCorsGrant(response, `OPTIONS ${path} for ${requested}`);
        expect(response.status, `OPTIONS ${path}`).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        await problemOf(response);
      }
    }
  });
});
