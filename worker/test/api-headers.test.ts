/**
 * Every API answer says what it is and how it may be kept: `nosniff` always; `no-store` unless the
 * route chose its own caching (a user's image bytes: private and immutable); a policy that lets
 * nothing run or frame it if it is opened as a page. Problems, 401s and unknown paths included.
 */
import { describe, expect, it } from "vitest";
import { API_CONTENT_SECURITY_POLICY } from "../http/headers";
import { api, signUp, upload } from "./helpers";
import { makePng } from "./images";
import { appRoutes, fillParams } from "./security/support";

function expectApiHeaders(response: Response, label: string): void {
  expect(response.headers.get("X-Content-Type-Options"), label).toBe("nosniff");
  expect(response.headers.get("Cache-Control"), label).toBe("no-store");
  expect(response.headers.get("Content-Security-Policy"), label).toBe(API_CONTENT_SECURITY_POLICY);
  expect(response.headers.get("Referrer-Policy"), label).toBe("no-referrer");
}

describe("API response headers", () => {
  it("every route, signed in or not, found or not", async () => {
    const user = await signUp("headers");
    for (const route of appRoutes()) {
      // Deleting the account is tried elsewhere; here it would end the run's user.
      if (route.key === "DELETE /api/me") continue;
      const path = fillParams(route.path, "x_missing");
      for (const who of [null, user]) {
        const response = await api(who, route.method, path, route.method === "GET" ? undefined : {});
        if (response.status === 101) continue;
        expectApiHeaders(response, `${route.key} as ${who ? "user" : "anonymous"} → ${response.status}`);
        await response.arrayBuffer();
      }
    }
    const unknown = await api(user, "GET", "/api/no-such-thing");
    expect(unknown.status).toBe(404);
    expectApiHeaders(unknown, "unknown path");
  });

  it("a user's data is never stored; their image bytes keep their own private, immutable caching", async () => {
    const user = await signUp("headers");
    const me = await api(user, "GET", "/api/me");
    expect(me.status).toBe(200);
    expectApiHeaders(me, "GET /api/me");

    const uploaded = await upload(
      user,
      "/api/assets",
      [{ name: "in.png", bytes: await makePng(8, 8, () => [10, 20, 30]), type: "image/png" }],
      {
        role: "input",
      },
    );
    expect(uploaded.status).toBe(201);
    expectApiHeaders(uploaded, "POST /api/assets");
    const { url } = await uploaded.json<{ url: string }>();
    const bytes = await api(user, "GET", new URL(url, "https://studio.test").pathname);
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(bytes.headers.get("Cache-Control")).toBe("private, max-age=31536000, immutable");
    expect(bytes.headers.get("Content-Security-Policy")).toBe("default-src 'none'; sandbox");
    await bytes.arrayBuffer();
  });
});
