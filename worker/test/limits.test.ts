import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectProblem, signUp } from "./helpers";

describe("request body limits", () => {
  it("refuses a JSON body over 64 KB with 413 problem+json and stores nothing", async () => {
    const user = await signUp();
    const huge = { title: "x".repeat(70 * 1024) };
    await expectProblem(await api(user, "POST", "/api/sessions", huge), 413);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM image_sessions WHERE user_id = ?").bind(user.id).first<{ n: number }>())!;
    expect(n).toBe(0);
    // Ordinary bodies are untouched.
    expect((await api(user, "POST", "/api/sessions", { title: "fine" })).status).toBe(201);
  });
});
