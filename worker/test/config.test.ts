/**
 * Configuration is checked the first time a request needs it: a deployment missing a secret or
 * holding a malformed value answers with a problem naming each variable (and how to set it) and
 * changes nothing; the health probe names them too. Requests go straight into the Worker with a
 * changed copy of the real bindings.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../index";
import { ORIGIN, signUp } from "./helpers";
import { problemOf } from "./security/support";

async function call(bindings: Env, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`${ORIGIN}${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const signupRequest = (email: string): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json", Origin: ORIGIN },
  body: JSON.stringify({ email, password: "correct horse battery" }),
});

describe("configuration", () => {
  it("a missing REPLICATE_API_TOKEN answers 503 naming it and how to set it, and nothing is stored", async () => {
    const bindings = { ...env, REPLICATE_API_TOKEN: "" };
    const email = `unconfigured-${crypto.randomUUID()}@example.com`;
    const response = await call(bindings, "/api/auth/signup", signupRequest(email));
    expect(response.status).toBe(503);
    const problem = await problemOf(response);
    expect(problem.detail).toContain("REPLICATE_API_TOKEN");
    expect(problem.errors).toEqual([
      { path: "REPLICATE_API_TOKEN", message: expect.stringContaining("wrangler secret put REPLICATE_API_TOKEN") },
    ]);
    expect(await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind(email).first()).toBeNull();

    // The same request with the token set goes through.
    expect((await call(env, "/api/auth/signup", signupRequest(email))).status).toBe(201);
  });

  it("names every malformed value at once, with what it must be", async () => {
    const user = await signUp("config");
    const bindings = {
      ...env,
      PUBLIC_URL: "ftp://studio.example",
      REPLICATE_BASE_URL: "not a url",
      REPLICATE_WEBHOOK_SECRET: "secret-without-prefix",
      SESSION_CONCURRENCY: "lots",
      LOG_LEVEL: "verbose",
      ADMIN_EMAILS: "ops@example.com, not-an-email",
      DAILY_COST_LIMIT_USD: "twenty dollars",
      GENERATIONS_PER_MINUTE: "none",
    };
    const response = await call(bindings, "/api/sessions", { headers: { Authorization: `Bearer ${user.token}` } });
    expect(response.status).toBe(503);
    const problem = await problemOf(response);
    const byName = Object.fromEntries((problem.errors ?? []).map((error) => [error.path, error.message]));
    expect(Object.keys(byName).sort()).toEqual([
      "ADMIN_EMAILS",
      "DAILY_COST_LIMIT_USD",
      "LOG_LEVEL",
      "PUBLIC_URL",
      "REPLICATE_BASE_URL",
      "REPLICATE_WEBHOOK_SECRET",
      "SESSION_CONCURRENCY",
    ]);
    expect(byName.PUBLIC_URL).toContain("http(s) URL");
    expect(byName.REPLICATE_WEBHOOK_SECRET).toContain("whsec_");
    expect(byName.SESSION_CONCURRENCY).toContain("whole number");
    expect(byName.LOG_LEVEL).toContain("debug, info, warn or error");
    expect(byName.ADMIN_EMAILS).toContain("emails");
    expect(byName.DAILY_COST_LIMIT_USD).toContain("positive number, or none");
    for (const name of Object.keys(byName)) expect(problem.detail).toContain(name);
  });

  it("empty values mean unset: defaults apply and the app answers", async () => {
    const user = await signUp("config");
    const bindings = {
      ...env,
      PUBLIC_URL: "",
      SESSION_CONCURRENCY: " ",
      LOG_LEVEL: "",
      ADMIN_EMAILS: "",
      DAILY_GENERATION_LIMIT: "",
    };
    const response = await call(bindings, "/api/sessions", { headers: { Authorization: `Bearer ${user.token}` } });
    expect(response.status).toBe(200);
  });
});

describe("GET /api/health", () => {
  it("reports D1, R2, the Replicate backend and a complete configuration", async () => {
    const response = await call(env, "/api/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      d1: true,
      r2: true,
      replicate: true,
      replicateBaseUrl: env.REPLICATE_BASE_URL,
      config: { ok: true },
    });
  });

  it("reports a Replicate backend that does not answer, and still serves", async () => {
    // A port nothing listens on: the backend is down.
    const bindings = { ...env, REPLICATE_BASE_URL: "http://127.0.0.1:9/v1" };
    const response = await call(bindings, "/api/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, d1: true, r2: true, replicate: false });
  });

  it("answers 503 naming what is missing when the configuration is incomplete", async () => {
    const bindings = { ...env, REPLICATE_API_TOKEN: "" };
    const response = await call(bindings, "/api/health");
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      ok: false,
      d1: true,
      r2: true,
      replicate: false,
      replicateBaseUrl: null,
      config: {
        ok: false,
        errors: [{ path: "REPLICATE_API_TOKEN", message: expect.stringContaining("Replicate API token") }],
      },
    });
  });
});
