/**
 * API fuzzing with fast-check: every JSON endpoint that takes a body or a query gets a few hundred
 * requests — valid bodies, near misses derived from the contract's zod schemas, arbitrary JSON,
 * hostile strings and bodies that are not JSON at all. Whatever comes in, the API answers below 500,
 * every refusal is RFC 9457 problem+json with its own status, validation failures name their
 * fields, and what it does accept is stored as sent.
 */
import { env } from "cloudflare:test";
import {
  type Asset,
  createGenerationSchema,
  createSessionSchema,
  createTokenSchema,
  credentialsSchema,
  type Generation,
  listSessionsQuerySchema,
  pageSchema,
  type ReferenceUploadResult,
  referenceSchema,
  renameSessionSchema,
  retryGenerationSchema,
  sessionSchema,
} from "@contract/api";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { api, createGeneration, createSession, ORIGIN, signUp, type TestUser, upload } from "../helpers";
import { makePng } from "../images";
import { bodiesFor, hostileCursor, jsonSchemaOf, junkString, queriesFor, type RawBody } from "./arbitraries";
import { callWorker, problemOf } from "./support";

const SCHNELL = "black-forest-labs/flux-schnell";
const RUNS = 400;

type Sent = { method: string; path: string; raw?: RawBody; extra?: Record<string, string> };

let fuzzer: TestUser;
let stranger: TestUser;
let ownSessionId: string;
let strangerSessionId: string;
let strangerGeneration: Generation;
/** Ids that exist but are not the fuzzer's, and ids that exist nowhere. */
let foreignIds: string[];

beforeAll(async () => {
  fuzzer = await signUp("fuzzer");
  stranger = await signUp("stranger");
  ownSessionId = (await createSession(fuzzer, "fuzz target")).id;
  strangerSessionId = (await createSession(stranger, "not yours")).id;
  strangerGeneration = await createGeneration(stranger, strangerSessionId, {
    model: SCHNELL,
    prompt: "a stranger's picture",
  });
  const png = await makePng(16, 16, (x, y) => [x * 16, y * 16, 3]);
  const asset = await (
    await upload(stranger, "/api/assets", [{ name: "a.png", bytes: png }], { role: "input" })
  ).json<Asset>();
  const mask = await (
    await upload(stranger, "/api/assets", [{ name: "m.png", bytes: png }], { role: "mask" })
  ).json<Asset>();
  const reference = (
    await (await upload(stranger, "/api/references", [{ name: "r.png", bytes: png }])).json<ReferenceUploadResult>()
  ).items[0]!;
  foreignIds = [
    strangerGeneration.id,
    asset.id,
    mask.id,
    reference.id,
    strangerSessionId,
    "gen_00000000000000000000000000",
    "ast_x",
    "ref_'; --",
    "x".repeat(64),
  ];
}, 30_000);

function send({ method, path, raw, extra }: Sent, who: TestUser | null): Promise<Response> {
  const headers: Record<string, string> = { Origin: ORIGIN };
  if (who) headers.Authorization = `Bearer ${who.token}`;
  if (raw?.contentType) headers["Content-Type"] = raw.contentType;
  return callWorker(`${ORIGIN}${path}`, { method, headers: { ...headers, ...extra }, body: raw?.body ?? undefined });
}

/** The invariants every response keeps, whatever was sent. Returns the parsed 2xx body, if any. */
async function checkInvariants(
  response: Response,
  sent: Sent,
  options: { queryEndpoint?: boolean } = {},
): Promise<unknown> {
  const label = `${sent.method} ${sent.path.slice(0, 300)} ${sent.raw ? JSON.stringify(sent.raw).slice(0, 300) : ""}`;
  expect(response.status, label).toBeLessThan(500);
  if (response.status < 400) return response.status === 204 ? null : response.json();
  const problem = await problemOf(response);
  if (response.status === 429) expect(response.headers.get("Retry-After")).toMatch(/^\d+$/);
  // A well-formed request that fails validation says which fields are at fault.
  if (response.status === 400 && (options.queryEndpoint || sent.raw?.parsedJson)) {
    expect(problem.errors?.length ?? 0, label).toBeGreaterThan(0);
    for (const error of problem.errors ?? []) {
      expect(error.path.length).toBeGreaterThan(0);
      expect(error.message.length).toBeGreaterThan(0);
    }
  }
  return undefined;
}

const sentJson = (raw: RawBody): unknown =>
  raw.parsedJson && typeof raw.body === "string" ? JSON.parse(raw.body) : undefined;

/** Runs the property and returns how often each status came back. */
async function fuzz(
  arbitrary: fc.Arbitrary<Sent>,
  who: TestUser | null,
  onSuccess: (body: unknown, sent: Sent, status: number) => Promise<void> | void,
  options: { queryEndpoint?: boolean; runs?: number; check?: (response: Response, sent: Sent) => Promise<void> } = {},
): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (sent) => {
      const response = await send(sent, who);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (options.check) {
        // Not JSON: the caller checks the body; the status and error shape are checked here.
        expect(response.status, JSON.stringify(sent)).toBeLessThan(500);
        if (response.status >= 400 && sent.method === "HEAD")
          expect(response.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
        else if (response.status >= 400) await problemOf(response);
        else await options.check(response, sent);
        return;
      }
      const body = await checkInvariants(response, sent, options);
      if (response.status < 400) await onSuccess(body, sent, response.status);
    }),
    { numRuns: options.runs ?? RUNS },
  );
  return statuses;
}

/** The generators reached both sides of the endpoint: some accepted (when possible), some refused. */
function expectSpread(statuses: Map<number, number>, accepted: number | null, refused: number[] = [400]): void {
  const seen = [...statuses.keys()];
  if (accepted !== null) expect(seen, JSON.stringify([...statuses])).toContain(accepted);
  for (const status of refused) expect(seen, JSON.stringify([...statuses])).toContain(status);
}

describe("fuzzing the JSON API", () => {
  it("sign-up: never a 500; accepted accounts are stored as typed, lower-cased", async () => {
    const bodies = bodiesFor(jsonSchemaOf(credentialsSchema), { validWeight: 2 });
    const statuses = await fuzz(
      bodies.map((raw) => ({ method: "POST", path: "/api/auth/signup", raw })),
      null,
      async (body, sent) => {
        const { user } = z.object({ user: z.object({ id: z.string(), email: z.string() }) }).parse(body);
        const input = z.object({ email: z.string() }).parse(sentJson(sent.raw!));
        expect(user.email).toBe(input.email.trim().toLowerCase());
        const row = await env.DB.prepare("SELECT email FROM users WHERE id = ?")
          .bind(user.id)
          .first<{ email: string }>();
        expect(row?.email).toBe(user.email);
      },
      { runs: 250 },
    );
    expectSpread(statuses, 201);
  }, 60_000);

  it("sign-in: never a 500, never a session for a wrong password", async () => {
    const bodies = fc.oneof(
      bodiesFor(jsonSchemaOf(credentialsSchema)),
      // Near misses of a real account: its email with junk passwords.
      fc.tuple(junkString, fc.constantFrom(" ", "", "\u0000")).map(
        ([password, pad]): RawBody => ({
          contentType: "application/json",
          body: JSON.stringify({ email: `${pad}${fuzzer.email.toUpperCase()}${pad}`, password }),
          parsedJson: true,
        }),
      ),
    );
    const statuses = await fuzz(
      bodies.map((raw) => ({ method: "POST", path: "/api/auth/login", raw })),
      null,
      () => {
        throw new Error("No generated password is right");
      },
      { runs: 250 },
    );
    expectSpread(statuses, null, [400, 401]);
  }, 60_000);

  it("API tokens: never a 500; a created token carries the trimmed name", async () => {
    const statuses = await fuzz(
      bodiesFor(jsonSchemaOf(createTokenSchema)).map((raw) => ({ method: "POST", path: "/api/tokens", raw })),
      fuzzer,
      (body, sent) => {
        const created = z
          .object({ id: z.string(), name: z.string(), token: z.string().startsWith("isk_") })
          .parse(body);
        const input = sentJson(sent.raw!);
        if (input !== undefined) expect(created.name).toBe(z.object({ name: z.string() }).parse(input).name.trim());
      },
    );
    expectSpread(statuses, 201);
  }, 60_000);

  it("creating sessions: never a 500; a created session has the title and model sent", async () => {
    const statuses = await fuzz(
      bodiesFor(jsonSchemaOf(createSessionSchema), { validWeight: 3 }).map((raw) => ({
        method: "POST",
        path: "/api/sessions",
        raw,
      })),
      fuzzer,
      (body, sent) => {
        const session = sessionSchema.parse(body);
        const input = sentJson(sent.raw!);
        if (input === undefined) return; // Not JSON: the server reads it as `{}`.
        const { title, model } = z.object({ title: z.string().optional(), model: z.string().optional() }).parse(input);
        expect(session.title).toBe(title?.trim() ?? "New session");
        expect(session.model).toBe(model ?? null);
      },
    );
    expectSpread(statuses, 201);
  }, 60_000);

  it("listing sessions: never a 500 whatever the query; only the caller's sessions come back", async () => {
    const mine = new Set(
      (
        await env.DB.prepare("SELECT id FROM image_sessions WHERE user_id = ?").bind(fuzzer.id).all<{ id: string }>()
      ).results.map((row) => row.id),
    );
    const queries = queriesFor(jsonSchemaOf(listSessionsQuerySchema), { cursor: hostileCursor });
    const statuses = await fuzz(
      queries.map((query) => ({ method: "GET", path: `/api/sessions?${query}` })),
      fuzzer,
      async (body) => {
        const page = pageSchema(sessionSchema).parse(body);
        const fresh = (
          await env.DB.prepare("SELECT id FROM image_sessions WHERE user_id = ?").bind(fuzzer.id).all<{ id: string }>()
        ).results;
        for (const row of fresh) mine.add(row.id);
        for (const item of page.items) expect(mine.has(item.id)).toBe(true);
      },
      { queryEndpoint: true },
    );
    expectSpread(statuses, 200);
  }, 60_000);

  it("renaming a session: never a 500; the stored title is the trimmed one sent", async () => {
    const statuses = await fuzz(
      bodiesFor(jsonSchemaOf(renameSessionSchema), { validWeight: 2 }).map((raw) => ({
        method: "PATCH",
        path: `/api/sessions/${ownSessionId}`,
        raw,
      })),
      fuzzer,
      async (body, sent) => {
        const session = sessionSchema.parse(body);
        const { title } = z.object({ title: z.string() }).parse(sentJson(sent.raw!));
        expect(session.title).toBe(title.trim());
        const row = await env.DB.prepare("SELECT title FROM image_sessions WHERE id = ?")
          .bind(ownSessionId)
          .first<{ title: string }>();
        expect(row?.title).toBe(title.trim());
      },
    );
    expectSpread(statuses, 200);
  }, 60_000);

  it("creating generations in someone else's session: never a 500, never accepted", async () => {
    const statuses = await fuzz(
      bodiesFor(jsonSchemaOf(createGenerationSchema), { validWeight: 3 }).map((raw) => ({
        method: "POST",
        path: `/api/sessions/${strangerSessionId}/generations`,
        raw,
      })),
      fuzzer,
      () => {
        throw new Error("Accepted a generation in another user's session");
      },
    );
    expectSpread(statuses, null, [400, 404]);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM generations WHERE session_id = ?")
      .bind(strangerSessionId)
      .first<{ n: number }>())!;
    expect(n).toBe(1);
  }, 60_000);

  it("creating generations from ids that are not the caller's: never a 500, never accepted", async () => {
    const idFields = ["parentGenerationId", "sourceAssetId", "maskAssetId", "referenceImageIds"] as const;
    const injected = fc
      .tuple(
        bodiesFor(jsonSchemaOf(createGenerationSchema), { validWeight: 4 }),
        fc.constantFrom(...idFields),
        fc.constantFrom(...foreignIds),
        fc.constantFrom(SCHNELL, "black-forest-labs/flux-dev", "stability-ai/sdxl", "black-forest-labs/flux-1.1-pro"),
      )
      .map(([raw, field, id, model]): RawBody => {
        const value = sentJson(raw);
        if (!value || typeof value !== "object" || Array.isArray(value)) return raw;
        // Keep the rest as generated (valid or not), but always point at something not ours.
        const body = { model, ...value, [field]: field === "referenceImageIds" ? [id] : id };
        return { ...raw, body: JSON.stringify(body) };
      });
    const statuses = await fuzz(
      injected.map((raw) => ({ method: "POST", path: `/api/sessions/${ownSessionId}/generations`, raw })),
      fuzzer,
      () => {
        throw new Error("Accepted a generation built on another user's (or no one's) resources");
      },
    );
    expectSpread(statuses, null, [400]);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM generations WHERE user_id = ?")
      .bind(fuzzer.id)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
  }, 60_000);

  it("retrying someone else's generation: never a 500, never accepted", async () => {
    const bodies = fc.oneof(
      bodiesFor(jsonSchemaOf(retryGenerationSchema), { validWeight: 3 }).map((raw): RawBody | undefined => raw),
      fc.constant(undefined),
    );
    const statuses = await fuzz(
      bodies.map((raw) => ({
        method: "POST",
        path: `/api/generations/${strangerGeneration.id}/retry`,
        ...(raw ? { raw } : {}),
      })),
      fuzzer,
      () => {
        throw new Error("Retried another user's generation");
      },
    );
    expectSpread(statuses, null, [400, 404]);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM generations WHERE session_id = ?")
      .bind(strangerSessionId)
      .first<{ n: number }>())!;
    expect(n).toBe(1);
  }, 60_000);

  it("listing references: never a 500 whatever the query; never someone else's", async () => {
    const schema = jsonSchemaOf(
      z.object({ limit: z.number().int().min(1).max(100), cursor: z.string().max(200) }).partial(),
    );
    const statuses = await fuzz(
      queriesFor(schema, { cursor: hostileCursor }).map((query) => ({
        method: "GET",
        path: `/api/references?${query}`,
      })),
      fuzzer,
      (body) => {
        // The fuzzer owns no references; the stranger does.
        expect(pageSchema(referenceSchema).parse(body).items).toEqual([]);
      },
      { queryEndpoint: true },
    );
    expectSpread(statuses, 200);
  }, 60_000);
});

/** What a header value can hold: visible ASCII and spaces (the runtime refuses anything else). */
const headerJunk = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  maxLength: 48,
});

describe("fuzzing what serves files", () => {
  it("an owned asset under any Range and conditional headers: never a 500, refusals as problem+json, parts that add up", async () => {
    const png = await makePng(48, 40, (x, y) => [x * 5, y * 6, 100]);
    const asset = await (
      await upload(fuzzer, "/api/assets", [{ name: "a.png", bytes: png }], { role: "input" })
    ).json<Asset>();
    const whole = new Uint8Array(
      await (
        await callWorker(`${ORIGIN}${asset.url}`, { headers: { Authorization: `Bearer ${fuzzer.token}` } })
      ).arrayBuffer(),
    );
    expect(whole.length).toBe(asset.sizeBytes);
    const size = asset.sizeBytes;
    const position = fc.oneof(fc.constantFrom(0, 1, size - 1, size, size + 1, 2 ** 53, -1), fc.nat({ max: size * 2 }));
    const range = fc.oneof(
      fc.tuple(position, position).map(([a, b]) => `bytes=${a}-${b}`),
      position.map((a) => `bytes=${a}-`),
      position.map((a) => `bytes=-${a}`),
      fc.constantFrom(
        "bytes=",
        "bytes=-",
        "bytes=0-1,3-4",
        "bytes=1e3-",
        "items=0-1",
        "bytes = 0-1",
        "bytes=0x10-",
        "bytes=99999999999999999999999-",
        "bytes=-0",
        "",
      ),
      headerJunk,
    );
    const etag = fc.oneof(
      fc.constant(`"${asset.sha256}"`),
      fc.constant("*"),
      fc.constant(`W/"${asset.sha256}"`),
      fc.constant(`"x", "${asset.sha256}"`),
      headerJunk,
    );
    const headers = fc.record(
      {
        Range: range,
        "If-None-Match": etag,
        "If-Range": etag,
        "If-Modified-Since": fc.constantFrom("Thu, 01 Jan 1970 00:00:00 GMT", "yesterday", ""),
      },
      { requiredKeys: [] },
    );
    const statuses = await fuzz(
      fc
        .tuple(headers, fc.constantFrom("GET", "HEAD"))
        .map(([extra, method]): Sent => ({ method, path: asset.url, extra })),
      fuzzer,
      () => undefined,
      {
        runs: 300,
        check: async (response, sent) => {
          if (response.status === 206) {
            const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get("Content-Range") ?? "");
            expect(match, sent.path).not.toBeNull();
            const [start, end, total] = [Number(match![1]), Number(match![2]), Number(match![3])];
            expect(total).toBe(size);
            expect(end).toBeLessThan(size);
            const body = new Uint8Array(await response.arrayBuffer());
            if (sent.method === "GET") expect(body).toEqual(whole.subarray(start, end + 1));
          } else if (response.status === 200 && sent.method === "GET") {
            expect(new Uint8Array(await response.arrayBuffer())).toEqual(whole);
          } else if (response.status === 416) {
            expect(response.headers.get("Content-Range")).toBe(`bytes */${size}`);
          }
        },
      },
    );
    expectSpread(statuses, 206, [416]);
  }, 60_000);
});

describe("found by fuzzing", () => {
  it("searches with long queries and symbols (a 500 before): symbols are neither wildcards nor syntax", async () => {
    const user = await signUp("search");
    const long = `${"x".repeat(150)} the end`;
    for (const title of ["50% off", "500 days", "a_b", "axb", "Summer Holiday", long]) await createSession(user, title);
    const search = async (q: string): Promise<string[]> => {
      const response = await api(user, "GET", `/api/sessions?q=${encodeURIComponent(q)}`);
      expect(response.status).toBe(200);
      return pageSchema(sessionSchema)
        .parse(await response.json())
        .items.map((session) => session.title)
        .sort();
    };
    expect(await search(long)).toEqual([long]);
    expect(await search("😀".repeat(100))).toEqual([]);
    // Words match the start of words: "50" finds "50" and "500"; "%", "_" and quotes are not syntax.
    expect(await search("50%")).toEqual(["50% off", "500 days"]);
    expect(await search("a_b")).toEqual(["a_b"]);
    expect(await search('"a" OR x* NEAR(')).toEqual([]);
    expect(await search("HOLIDAY")).toEqual(["Summer Holiday"]);
    expect(await search("  days ")).toEqual(["500 days"]);
  });

  it("refuses text that is not Unicode (unpaired surrogates) instead of storing mangled bytes", async () => {
    const user = await signUp("unicode");
    const session = await createSession(user, "kept as is");
    const cases: [method: string, path: string, body: unknown, field: string][] = [
      ["POST", "/api/sessions", { title: "a\uD800b" }, "title"],
      ["PATCH", `/api/sessions/${session.id}`, { title: "\uDC00" }, "title"],
      ["POST", "/api/tokens", { name: "x\uDBFF" }, "name"],
      [
        "POST",
        `/api/sessions/${session.id}/generations`,
        { model: SCHNELL, prompt: "a cat", params: { "style\uD800": "x" } },
        "params.style\uD800",
      ],
      ["POST", `/api/sessions/${session.id}/generations`, { model: SCHNELL, prompt: "a cat \uD83D" }, "prompt"],
    ];
    for (const [method, path, body, field] of cases) {
      const response = await api(user, method, path, body);
      expect(response.status, path).toBe(400);
      expect((await problemOf(response)).errors?.map((error) => error.path)).toEqual([field]);
    }
    // A well-formed astral character is fine.
    const emoji = await api(user, "PATCH", `/api/sessions/${session.id}`, { title: "🦊 fox" });
    expect(sessionSchema.parse(await emoji.json()).title).toBe("🦊 fox");
    const rows = await env.DB.prepare("SELECT title FROM image_sessions WHERE user_id = ?")
      .bind(user.id)
      .all<{ title: string }>();
    expect(rows.results.map((row) => row.title)).toEqual(["🦊 fox"]);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM generations WHERE user_id = ?")
      .bind(user.id)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
    const tokens = await env.DB.prepare("SELECT name FROM api_tokens WHERE user_id = ?")
      .bind(user.id)
      .all<{ name: string }>();
    expect(tokens.results.map((row) => row.name)).toEqual(["tests"]);
  });
});
