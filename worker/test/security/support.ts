/**
 * Shared pieces of the security suites: the app's own route table, requests with a session cookie,
 * raw reads of what a user has stored (D1 rows and R2 keys), and the problem+json check.
 */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { type Problem, problemSchema, THUMBNAIL_WIDTHS } from "@contract/api";
import { expect } from "vitest";
import { app } from "../../app";
import worker from "../../index";
import { ORIGIN, type TestUser } from "../helpers";

export type Route = { method: string; path: string; key: string };

/** Every `METHOD path` the Hono app answers, once each (validators repeat entries; middleware is `ALL`). */
export function appRoutes(): Route[] {
  const seen = new Map<string, Route>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const key = `${route.method} ${route.path}`;
    if (!seen.has(key)) seen.set(key, { method: route.method, path: route.path, key });
  }
  return [...seen.values()];
}

/**
 * A request straight into the Worker's fetch handler with the real bindings. Same code path as
 * `SELF.fetch` minus the test harness's service hop, whose cost grows with every call made in a
 * test file (200 requests: 1.5 s, then 9 s, then 18 s…) — too slow for thousands of fuzz cases.
 */
export async function callWorker(url: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  // No `cf` object outside Cloudflare's edge; the handler reads none.
  const request = new Request(url, init) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export const hasParam = (path: string): boolean => /\/:[^/]+/.test(path);

/** Fills every `:param` of a route path with `value`. */
/** The path with its params filled in; an `owner/name` value fills two params in a row. */
export const fillParams = (path: string, value: string): string => {
  const parts = value.split("/");
  let index = 0;
  return path.replace(/:[^/]+/g, () => encodeURIComponent(parts[Math.min(index++, parts.length - 1)] ?? value));
};

/** A request the way a browser on our own origin sends it: the session cookie and our Origin. */
export function asCookie(
  user: Pick<TestUser, "cookie">,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return SELF.fetch(`${ORIGIN}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      Cookie: user.cookie,
      Origin: ORIGIN,
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * Asserts an RFC 9457 body with the response's own status, and field errors when it says it is a
 * validation failure. Returns the problem for further checks.
 */
export async function problemOf(response: Response): Promise<Problem> {
  expect(response.headers.get("Content-Type") ?? "").toMatch(/^application\/problem\+json/);
  const parsed = problemSchema.safeParse(await response.json());
  expect(parsed.success, parsed.success ? "" : JSON.stringify(parsed.error.issues)).toBe(true);
  const problem = parsed.data!;
  expect(problem.status).toBe(response.status);
  expect(problem.detail.length).toBeGreaterThan(0);
  expect(problem.title.length).toBeGreaterThan(0);
  if (problem.type === "https://imagestudio.dev/problems/validation") {
    expect(problem.errors?.length ?? 0).toBeGreaterThan(0);
  }
  return problem;
}

export async function sha256Of(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const TABLES = [
  "image_sessions",
  "generations",
  "assets",
  "references",
  "api_tokens",
  "auth_sessions",
  "replicate_uploads",
] as const;
export type UserTable = (typeof TABLES)[number];

/** One D1 row by id, as stored. */
export async function rowById(table: UserTable, id: string): Promise<Record<string, unknown> | null> {
  return env.DB.prepare(`SELECT * FROM "${table}" WHERE id = ?`).bind(id).first<Record<string, unknown>>();
}

/** The R2 keys under a prefix, with their size and checksum. */
export async function r2Listing(prefix: string): Promise<{ key: string; size: number; etag: string }[]> {
  const out: { key: string; size: number; etag: string }[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await env.BUCKET.list({ prefix, ...(cursor ? { cursor } : {}) });
    out.push(...page.objects.map((object) => ({ key: object.key, size: object.size, etag: object.etag })));
    if (!page.truncated) return out;
    cursor = page.cursor;
  }
}

/**
 * Everything a user has stored: every row of theirs in each table (ordered by id) and every R2
 * object under their prefixes. Two equal footprints mean nothing of theirs changed in between.
 */
export async function footprint(
  userId: string,
  options: { withTokenUse?: boolean } = {},
): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  for (const table of TABLES) {
    const { results } = await env.DB.prepare(`SELECT * FROM "${table}" WHERE user_id = ? ORDER BY id`)
      .bind(userId)
      .all<Record<string, unknown>>();
    // Using a bearer token stamps `last_used_at`; that is bookkeeping, not a change by the request.
    result[table] =
      table === "api_tokens" && !options.withTokenUse
        ? results.map(({ last_used_at: _lastUsed, ...row }) => row)
        : results;
  }
  const { results: links } = await env.DB.prepare(
    `SELECT gr.* FROM generation_references gr JOIN generations g ON g.id = gr.generation_id WHERE g.user_id = ? ORDER BY gr.generation_id, gr.position`,
  )
    .bind(userId)
    .all<Record<string, unknown>>();
  result.generation_references = links;
  result.user_models = (
    await env.DB.prepare("SELECT model_id, ref FROM user_models WHERE user_id = ? ORDER BY model_id").bind(userId).all()
  ).results;
  result.r2 = [
    ...(await r2Listing(`blobs/${userId}/`)),
    ...(await r2Listing(`outputs/${userId}/`)),
    ...(
      await Promise.all(
        THUMBNAIL_WIDTHS.flatMap((width) => [
          r2Listing(`thumbnails/${width}/blobs/${userId}/`),
          r2Listing(`thumbnails/${width}/outputs/${userId}/`),
        ]),
      )
    ).flat(),
  ];
  return result;
}
