/**
 * Managing sessions: search over titles and prompts, filters, clone, and big sessions loaded in
 * pages (newest first, the selected lineage along) with a bounded live snapshot.
 */
import { env, SELF } from "cloudflare:test";
import type { Generation, GenerationPage, Session, SessionDetail, SessionPage } from "@contract/api";
import type { LiveServerMessage } from "@contract/live";
import { beforeAll, describe, expect, it } from "vitest";
import { insertGeneration, insertSession, nextTime } from "./gallery-support";
import {
  api,
  completeGeneration,
  createGeneration,
  createSession,
  expectProblem,
  ORIGIN,
  signUp,
  type TestUser,
  uniqueTag,
} from "./helpers";

const json = async <T>(response: Response, status = 200): Promise<T> => {
  expect(response.status, await response.clone().text()).toBe(status);
  return response.json<T>();
};
const titles = async (user: TestUser, query: string) =>
  (await json<SessionPage>(await api(user, "GET", `/api/sessions?limit=100&${query}`))).items
    .map((s) => s.title)
    .sort();

describe("the session list", () => {
  let user: TestUser;
  let dayTwo = 0;
  beforeAll(async () => {
    user = await signUp("lister");
    const other = await signUp("other");
    const mountains = await insertSession(user.id, "Mountain diary");
    await insertGeneration(user.id, mountains, { prompt: "glacier at sunrise", model: "black-forest-labs/flux-dev" });
    dayTwo = nextTime(86_400_000);
    const city = await insertSession(user.id, "City walks");
    await insertGeneration(user.id, city, { prompt: "neon alley in the rain", status: "failed" });
    await insertGeneration(user.id, city, { prompt: "tram at dusk" });
    await insertSession(user.id, "Empty one");
    const theirs = await insertSession(other.id, "Mountain diary");
    await insertGeneration(other.id, theirs, { prompt: "glacier at sunrise", status: "failed" });
  });

  it.each([
    ["a title word", "q=diary", ["Mountain diary"]],
    ["a prompt word", "q=neon", ["City walks"]],
    ["a prefix of a prompt word", "q=glac", ["Mountain diary"]],
    ["a title word and a prompt word together", "q=city%20tram", ["City walks"]],
    ["nothing", "q=volcano", []],
    ["model", "model=black-forest-labs/flux-dev", ["Mountain diary"]],
    ["status", "status=failed", ["City walks"]],
    ["status and model together (the same generation)", "status=failed&model=black-forest-labs/flux-dev", []],
    ["search and status", "q=glacier&status=failed", []],
  ])("finds by %s, the user's own only", async (_what, query, expected) => {
    expect(await titles(user, query)).toEqual(expected);
  });

  it("filters by a date range of the generations", async () => {
    expect(await titles(user, `from=${new Date(dayTwo).toISOString()}`)).toEqual(["City walks"]);
    expect(await titles(user, `to=${new Date(dayTwo - 1).toISOString()}`)).toEqual(["Mountain diary"]);
  });

  it("refuses bad filters with the field at fault", async () => {
    for (const [query, path] of [
      ["status=finished", "status"],
      ["model=nope", "model"],
      ["to=31-12-2026", "to"],
      ["cursor=%%%", "cursor"],
    ]) {
      const problem = await expectProblem(await api(user, "GET", `/api/sessions?${query}`), 400);
      expect(problem.errors?.map((error) => error.path)).toEqual([path]);
    }
  });
});

describe("cloning", () => {
  it("copies settings and lineage, no outputs; the copies have not run and can be run", async () => {
    const user = await signUp("cloner");
    const session = await createSession(user, "Originals");
    const root = await completeGeneration(
      user,
      (await createGeneration(user, session.id, { prompt: `a lighthouse ${uniqueTag()}`, params: { seed: 42 } })).id,
    );
    const child = await completeGeneration(
      user,
      (
        await createGeneration(user, session.id, {
          model: "black-forest-labs/flux-dev",
          prompt: "the lighthouse at night",
          parentGenerationId: root.id,
          params: { strength: 0.5 },
        })
      ).id,
    );
    const copy = await json<Session>(await api(user, "POST", `/api/sessions/${session.id}/clone`, {}), 201);
    expect(copy).toMatchObject({
      title: "Originals (copy)",
      generationCount: 2,
      succeededCount: 0,
      thumbnailUrl: null,
    });
    const detail = await json<SessionDetail>(await api(user, "GET", `/api/sessions/${copy.id}`));
    const [rootCopy, childCopy] = detail.generations as [Generation, Generation];
    expect(rootCopy).toMatchObject({
      prompt: root.prompt,
      params: { seed: 42 },
      status: "canceled",
      outputs: [],
      predictionId: null,
      clonedFromGenerationId: root.id,
    });
    expect(childCopy).toMatchObject({
      model: "black-forest-labs/flux-dev",
      prompt: child.prompt,
      parentGenerationId: rootCopy.id,
      sourceOutputIndex: 0,
      clonedFromGenerationId: child.id,
      outputs: [],
    });
    // Running a copy is a retry of its settings.
    const rerun = await json<Generation>(await api(user, "POST", `/api/generations/${rootCopy.id}/retry`, {}), 202);
    expect(rerun).toMatchObject({ sessionId: copy.id, prompt: root.prompt, params: { seed: 42 } });
    // The original is untouched, and named titles are kept.
    expect((await json<SessionDetail>(await api(user, "GET", `/api/sessions/${session.id}`))).generations).toHaveLength(
      2,
    );
    const named = await json<Session>(
      await api(user, "POST", `/api/sessions/${session.id}/clone`, { title: "Second take" }),
      201,
    );
    expect(named.title).toBe("Second take");
    await expectProblem(await api(user, "POST", `/api/sessions/${session.id}/clone`, { title: "" }), 400);
    const intruder = await signUp("intruder");
    await expectProblem(await api(intruder, "POST", `/api/sessions/${session.id}/clone`, {}), 404);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM image_sessions WHERE user_id = ?")
      .bind(intruder.id)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
  });
});

describe("a session of 260 generations", () => {
  let user: TestUser;
  let sessionId: string;
  const ids: string[] = [];
  beforeAll(async () => {
    user = await signUp("big");
    sessionId = await insertSession(user.id, "Big");
    let parent: string | null = null;
    for (let i = 0; i < 260; i++) {
      // Every tenth generation continues the lineage of the one ten before.
      const id: string = await insertGeneration(user.id, sessionId, {
        prompt: `step ${i}`,
        parentGenerationId: i % 10 === 0 ? parent : null,
      });
      if (i % 10 === 0) parent = id;
      ids.push(id);
    }
  }, 60_000);

  it("GET /api/sessions/:id answers the newest page, oldest first, and a cursor to the older ones", async () => {
    const detail = await json<SessionDetail>(await api(user, "GET", `/api/sessions/${sessionId}`));
    expect(detail.generations.map((g) => g.id)).toEqual(ids.slice(-50));
    expect(detail.generationsCursor).toEqual(expect.any(String));
    const older: string[] = [];
    let cursor: string | null = detail.generationsCursor;
    while (cursor) {
      const page: GenerationPage = await json<GenerationPage>(
        await api(user, "GET", `/api/sessions/${sessionId}/generations?limit=100&cursor=${encodeURIComponent(cursor)}`),
      );
      older.push(...page.items.map((g) => g.id));
      cursor = page.nextCursor;
    }
    expect(older).toEqual(ids.slice(0, -50).reverse());
  });

  it("brings the selected lineage along, and answers a generation's ancestry root first", async () => {
    const leaf = ids[200]!;
    const lineage = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200].map(
      (i) => ids[i]!,
    );
    const ancestry = await json<GenerationPage>(await api(user, "GET", `/api/generations/${leaf}/ancestry`));
    expect(ancestry.items.map((g) => g.id)).toEqual(lineage);
    expect(ancestry.nextCursor).toBeNull();
    const detail = await json<SessionDetail>(
      await api(user, "GET", `/api/sessions/${sessionId}?limit=5&lineageOf=${leaf}`),
    );
    expect(detail.generations.map((g) => g.id)).toEqual([...lineage, ...ids.slice(-5)]);
    const intruder = await signUp("intruder");
    await expectProblem(await api(intruder, "GET", `/api/generations/${leaf}/ancestry`), 404);
    await expectProblem(await api(intruder, "GET", `/api/sessions/${sessionId}/generations`), 404);
  });

  it("the live snapshot is the newest page too", async () => {
    const response = await SELF.fetch(`${ORIGIN}/api/sessions/${sessionId}/live`, {
      headers: { Upgrade: "websocket", Authorization: `Bearer ${user.token}` },
    });
    expect(response.status).toBe(101);
    const socket = response.webSocket!;
    const first = new Promise<LiveServerMessage>((resolve) =>
      socket.addEventListener("message", (event) => resolve(JSON.parse(String(event.data)) as LiveServerMessage), {
        once: true,
      }),
    );
    socket.accept();
    const snapshot = await first;
    socket.close(1000, "done");
    expect(snapshot.type).toBe("snapshot");
    if (snapshot.type !== "snapshot") return;
    expect(snapshot.generations.map((g) => g.id)).toEqual(ids.slice(-50));
    expect(snapshot.generationsCursor).toEqual(expect.any(String));
  });
});

describe("refusals", () => {
  it("answers bad pages and formats with the field at fault", async () => {
    const user = await signUp("refusals");
    const session = await createSession(user, "Refusals");
    const cases: [path: string, field: string][] = [
      [`/api/sessions/${session.id}/generations?cursor=bm9wZQ`, "cursor"],
      [`/api/sessions/${session.id}/generations?limit=500`, "limit"],
      [`/api/sessions/${session.id}?limit=0`, "limit"],
      [`/api/sessions/${session.id}/export?format=pdf`, "format"],
      ["/api/trash?cursor=%5B1%5D", "cursor"],
      ["/api/trash?limit=1000", "limit"],
    ];
    for (const [path, field] of cases) {
      const problem = await expectProblem(await api(user, "GET", path), 400);
      expect(
        problem.errors?.map((error) => error.path),
        path,
      ).toEqual([field]);
    }
    await expectProblem(await api(user, "GET", "/api/generations/gen_missing/ancestry"), 404);
    await expectProblem(await api(null, "GET", "/api/trash"), 401);
  });
});
