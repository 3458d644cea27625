import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectProblem, ORIGIN, signUp } from "./helpers";

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  SELF.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: ORIGIN, ...headers },
    body: JSON.stringify(body),
  });

describe("sign up", () => {
  it("creates the account, stores only a PBKDF2 hash and sets a hardened cookie", async () => {
    const email = `Ada-${crypto.randomUUID()}@Example.com`;
    const response = await post("/api/auth/signup", { email, password: "correct horse battery" });
    expect(response.status).toBe(201);
    const body = await response.json<{ user: { id: string; email: string } }>();
    expect(body.user).toEqual({ id: expect.stringMatching(/^usr_/), email: email.toLowerCase() });

    const cookie = response.headers.get("Set-Cookie") ?? "";
    // https origin: the __Host- prefix, Secure, HttpOnly, SameSite=Lax, Path=/.
    expect(cookie).toMatch(/^__Host-studio_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("SameSite=Lax");

    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?")
      .bind(body.user.id)
      .first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(row?.password_hash).not.toContain("correct horse");
    const token = cookie.split(";")[0]!.split("=")[1]!;
    const stored = await env.DB.prepare("SELECT id FROM auth_sessions WHERE user_id = ?")
      .bind(body.user.id)
      .first<{ id: string }>();
    expect(stored?.id).toMatch(/^[0-9a-f]{64}$/);
    expect(stored?.id).not.toBe(token);
  });

  it("rejects a taken email with 409 and a malformed one with 400 naming the field", async () => {
    const user = await signUp();
    await expectProblem(await post("/api/auth/signup", { email: user.email, password: "another password" }), 409);
    const invalid = await expectProblem(
      await post("/api/auth/signup", { email: "not-an-email", password: "short" }),
      400,
    );
    expect(invalid.errors?.map((error) => error.path).sort()).toEqual(["email", "password"]);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE email = 'not-an-email'").first<{
      n: number;
    }>();
    expect(count?.n).toBe(0);
  });

  it("rejects a body that is not JSON with problem+json", async () => {
    const response = await SELF.fetch(`${ORIGIN}/api/auth/signup`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: ORIGIN },
      body: "{nope",
    });
    await expectProblem(response, 400);
  });
});

describe("sign in and out", () => {
  it("signs in with the right password, rotates the session, and signs out for good", async () => {
    const user = await signUp();
    await expectProblem(await post("/api/auth/login", { email: user.email, password: "wrong password!" }), 401);
    await expectProblem(
      await post("/api/auth/login", { email: `nobody-${crypto.randomUUID()}@example.com`, password: "whatever123" }),
      401,
    );

    const login = await post(
      "/api/auth/login",
      { email: user.email, password: "correct horse battery" },
      { Cookie: user.cookie },
    );
    expect(login.status).toBe(200);
    expect(await login.json()).toEqual({ user: { id: user.id, email: user.email } });
    const cookie = login.headers.get("Set-Cookie")!.split(";")[0]!;
    expect(cookie).not.toBe(user.cookie);

    // The session the browser had before signing in is gone (no fixation).
    expect((await SELF.fetch(`${ORIGIN}/api/me`, { headers: { Cookie: user.cookie } })).status).toBe(401);
    const me = await SELF.fetch(`${ORIGIN}/api/me`, { headers: { Cookie: cookie } });
    expect(await me.json()).toEqual({ id: user.id, email: user.email });

    const logout = await post("/api/auth/logout", {}, { Cookie: cookie });
    expect(logout.status).toBe(204);
    // The browser drops its cached copies of this person's images and pages.
    expect(logout.headers.get("Clear-Site-Data")).toBe('"cache"');
    await expectProblem(await SELF.fetch(`${ORIGIN}/api/me`, { headers: { Cookie: cookie } }), 401);
  });

  it("answers 401 problem+json without credentials or with a bad token", async () => {
    await expectProblem(await api(null, "GET", "/api/me"), 401);
    await expectProblem(await api(null, "GET", "/api/me", undefined, { Authorization: "Bearer isk_forged" }), 401);
  });

  it("rejects cookie-authenticated changes from another site (CSRF)", async () => {
    const user = await signUp();
    const crossSite = await SELF.fetch(`${ORIGIN}/api/sessions`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Cookie: user.cookie,
        Origin: "https://evil.example",
        "Sec-Fetch-Site": "cross-site",
      },
      body: JSON.stringify({ title: "forged" }),
    });
    await expectProblem(crossSite, 403);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM image_sessions WHERE user_id = ?")
      .bind(user.id)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
  });
});

describe("API tokens", () => {
  it("creates, lists and deletes tokens; a deleted token stops working", async () => {
    const user = await signUp();
    const created = await api(user, "POST", "/api/tokens", { name: "script" });
    expect(created.status).toBe(201);
    const token = await created.json<{ id: string; name: string; token: string }>();
    expect(token).toMatchObject({
      id: expect.stringMatching(/^tok_/),
      name: "script",
      token: expect.stringMatching(/^isk_/),
    });

    const list = await (await api(user, "GET", "/api/tokens")).json<{ items: { id: string; name: string }[] }>();
    expect(list.items.map((item) => item.name).sort()).toEqual(["script", "tests"]);
    expect(JSON.stringify(list)).not.toContain(token.token);

    const asScript = { ...user, token: token.token };
    expect((await api(asScript, "GET", "/api/me")).status).toBe(200);
    expect((await api(user, "DELETE", `/api/tokens/${token.id}`)).status).toBe(204);
    await expectProblem(await api(asScript, "GET", "/api/me"), 401);
  });

  it("never lets one user delete another's token", async () => {
    const owner = await signUp("owner");
    const other = await signUp("other");
    const { id } = await (await api(owner, "POST", "/api/tokens", { name: "mine" })).json<{ id: string }>();
    await expectProblem(await api(other, "DELETE", `/api/tokens/${id}`), 404);
    const row = await env.DB.prepare("SELECT id FROM api_tokens WHERE id = ?").bind(id).first();
    expect(row).not.toBeNull();
  });
});

describe("throttling", () => {
  it("answers 429 with Retry-After after 10 sign-in attempts on one account, even with the right password", async () => {
    const user = await signUp();
    for (let i = 0; i < 10; i++)
      await expectProblem(await post("/api/auth/login", { email: user.email, password: "wrong password!" }), 401);
    const throttled = await post("/api/auth/login", { email: user.email, password: "correct horse battery" });
    await expectProblem(throttled, 429);
    expect(Number(throttled.headers.get("Retry-After"))).toBeGreaterThan(0);
    const row = await env.DB.prepare("SELECT count FROM rate_limits WHERE key = ?")
      .bind(`login:account:${user.email}`)
      .first<{ count: number }>();
    expect(row?.count).toBe(11);
  });

  it("limits sign-ups and sign-ins per client IP", async () => {
    const ip = `203.0.113.${Math.floor(Math.random() * 250)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const response = await post(
        "/api/auth/signup",
        { email: `ip-${crypto.randomUUID()}@example.com`, password: "correct horse battery" },
        { "CF-Connecting-IP": ip },
      );
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(201));
    expect(statuses[10]).toBe(429);
    const created = await env.DB.prepare("SELECT count(*) AS n FROM rate_limits WHERE key = ?")
      .bind(`signup:ip:${ip}`)
      .first<{ n: number }>();
    expect(created?.n).toBe(1);
    // Another address is not affected.
    expect(
      (
        await post(
          "/api/auth/signup",
          { email: `ip-${crypto.randomUUID()}@example.com`, password: "correct horse battery" },
          { "CF-Connecting-IP": "198.51.100.7" },
        )
      ).status,
    ).toBe(201);
  });
});
