import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectProblem, ORIGIN, signUp } from "./helpers";

describe("request body limits", () => {
  it("refuses a JSON body over 64 KB with 413 problem+json and stores nothing", async () => {
    const user = await signUp();
    const huge = { title: "x".repeat(70 * 1024) };
    await expectProblem(await api(user, "POST", "/api/sessions", huge), 413);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM image_sessions WHERE user_id = ?")
      .bind(user.id)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
    // Ordinary bodies are untouched.
    expect((await api(user, "POST", "/api/sessions", { title: "fine" })).status).toBe(201);
  });

  it("refuses a body that is not JSON with 415 naming Content-Type, instead of ignoring it", async () => {
    const user = await signUp();
    const post = (body: BodyInit, contentType?: string) =>
      SELF.fetch(`${ORIGIN}/api/sessions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${user.token}`, ...(contentType ? { "Content-Type": contentType } : {}) },
        body,
      });
    for (const [body, contentType] of [
      ['{"title":"sent as text"}', "text/plain"],
      ["title=sent+as+a+form", "application/x-www-form-urlencoded"],
      ['{"title":"no type"}', undefined],
    ] as const) {
      const problem = await expectProblem(await post(body, contentType), 415);
      expect(problem.errors?.[0]?.path).toBe("Content-Type");
    }
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM image_sessions WHERE user_id = ?")
      .bind(user.id)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
    // JSON with a charset, or a vendor JSON type, is JSON.
    expect((await post('{"title":"with charset"}', "application/json; charset=utf-8")).status).toBe(201);
    expect((await post('{"title":"vendor"}', "application/vnd.api+json")).status).toBe(201);
  });
});
