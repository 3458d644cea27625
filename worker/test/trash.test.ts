/**
 * The trash: deleting a session, a generation or one output hides it everywhere, restoring brings
 * it back, and the purge removes rows and bytes after 30 days.
 */
import { env } from "cloudflare:test";
import type { Generation, Session, SessionDetail } from "@contract/api";
import type { GalleryPage } from "@contract/gallery";
import { type TrashItem, type TrashPage, trashPageSchema } from "@contract/trash";
import { describe, expect, it } from "vitest";
import { TRASH_RETENTION_MS } from "../trash/trash";
import { insertBatch, insertSession } from "./gallery-support";
import {
  api,
  completeGeneration,
  createGeneration,
  createSession,
  expectProblem,
  runScheduled,
  signUp,
  type TestUser,
  uniqueTag,
  waitForGeneration,
} from "./helpers";

const json = async <T>(response: Response, status = 200): Promise<T> => {
  expect(response.status, await response.clone().text()).toBe(status);
  return response.json<T>();
};
const galleryIds = async (user: TestUser, query = "") =>
  (await json<GalleryPage>(await api(user, "GET", `/api/images?limit=100${query}`))).items.map((item) => item.id);
const trash = async (user: TestUser): Promise<TrashItem[]> => {
  const page = trashPageSchema.parse(await json<TrashPage>(await api(user, "GET", "/api/trash")));
  return page.items;
};
const sessionIds = async (user: TestUser, query = "") =>
  (await json<{ items: Session[] }>(await api(user, "GET", `/api/sessions?limit=100${query}`))).items.map((s) => s.id);

/** A session of the user with two generations of two outputs each (stored rows, via the triggers). */
async function world(label: string) {
  const user = await signUp(label);
  const tag = uniqueTag();
  const sessionId = await insertSession(user.id, `Sea studies ${tag}`);
  const first = await insertBatch(user.id, sessionId, { prompt: `calm sea ${tag}`, outputs: 2 });
  const second = await insertBatch(user.id, sessionId, { prompt: `storm sea ${tag}`, outputs: 2 });
  for (const id of [...first.assetIds, ...second.assetIds]) {
    const { r2_key } = (await env.DB.prepare("SELECT r2_key FROM assets WHERE id = ?")
      .bind(id)
      .first<{ r2_key: string }>())!;
    await env.BUCKET.put(r2_key, "png");
    await env.BUCKET.put(`thumbnails/256/${r2_key}`, "webp");
  }
  await env.DB.prepare("UPDATE image_sessions SET generation_count = 2, succeeded_count = 2 WHERE id = ?")
    .bind(sessionId)
    .run();
  return { user, tag, sessionId, first, second };
}

describe("one output of a batch", () => {
  it("leaves the gallery, its generation and search; comes back on restore", async () => {
    const { user, tag, sessionId, first, second } = await world("asset");
    const [gone, kept] = first.assetIds as [string, string];
    expect((await api(user, "DELETE", `/api/assets/${gone}`)).status).toBe(204);
    expect(await env.DB.prepare("SELECT trashed_at, listed FROM assets WHERE id = ?").bind(gone).first()).toMatchObject(
      {
        trashed_at: expect.any(Number),
        listed: 0,
      },
    );
    expect(await galleryIds(user)).toEqual([...second.assetIds].reverse().concat(kept));
    expect(await galleryIds(user, `&q=calm`)).toEqual([kept]);
    const generation = await json<Generation>(await api(user, "GET", `/api/generations/${first.generationId}`));
    expect(generation.outputs.map((output) => output.id)).toEqual([kept]);
    const [item] = await trash(user);
    expect(item).toMatchObject({
      id: gone,
      kind: "asset",
      title: `calm sea ${tag}`,
      sessionId,
      generationId: first.generationId,
      imageCount: 1,
      thumbnailUrl: `/api/assets/${gone}/thumbnail?w=256`,
    });
    expect(Date.parse(item!.purgeAt) - Date.parse(item!.trashedAt)).toBe(TRASH_RETENTION_MS);
    // Its bytes stay reachable for the trash page; it can no longer be starred or deleted twice.
    expect((await api(user, "GET", `/api/assets/${gone}`)).status).toBe(200);
    await expectProblem(await api(user, "PUT", `/api/assets/${gone}/favorite`), 404);
    await expectProblem(await api(user, "DELETE", `/api/assets/${gone}`), 404);

    const restored = await json<TrashItem>(await api(user, "POST", `/api/trash/${gone}/restore`));
    expect(restored).toMatchObject({ id: gone, kind: "asset" });
    expect(await galleryIds(user)).toEqual([...first.assetIds, ...second.assetIds].reverse());
    expect(await trash(user)).toEqual([]);
    await expectProblem(await api(user, "POST", `/api/trash/${gone}/restore`), 404);
  });

  it("an uploaded input is not a gallery image: DELETE /api/assets/:id answers 404", async () => {
    const user = await signUp("input");
    const id = `ast_input_fixture_${uniqueTag()}`;
    await env.DB.prepare(
      "INSERT INTO assets (id, user_id, role, r2_key, mime_type, size_bytes, sha256, created_at) VALUES (?, ?, 'input', 'k', 'image/png', 1, 'x', 1)",
    )
      .bind(id, user.id)
      .run();
    await expectProblem(await api(user, "DELETE", `/api/assets/${id}`), 404);
  });
});

describe("a generation", () => {
  it("leaves its session, the gallery, search and the counters; comes back on restore", async () => {
    const { user, sessionId, first, second } = await world("generation");
    expect((await api(user, "DELETE", `/api/generations/${second.generationId}`)).status).toBe(204);
    const detail = await json<SessionDetail>(await api(user, "GET", `/api/sessions/${sessionId}`));
    expect(detail.generations.map((g) => g.id)).toEqual([first.generationId]);
    expect(detail.generationCount).toBe(1);
    expect(await galleryIds(user)).toEqual([...first.assetIds].reverse());
    expect(await galleryIds(user, "&q=storm")).toEqual([]);
    expect(await sessionIds(user, "&q=storm")).toEqual([]);
    await expectProblem(await api(user, "GET", `/api/generations/${second.generationId}`), 404);
    await expectProblem(await api(user, "POST", `/api/generations/${second.generationId}/retry`, {}), 404);
    expect((await trash(user)).map((item) => [item.kind, item.id, item.imageCount])).toEqual([
      ["generation", second.generationId, 2],
    ]);

    await json(await api(user, "POST", `/api/trash/${second.generationId}/restore`));
    expect(await galleryIds(user)).toEqual([...first.assetIds, ...second.assetIds].reverse());
    expect(await sessionIds(user, "&q=storm")).toEqual([sessionId]);
    expect((await json<SessionDetail>(await api(user, "GET", `/api/sessions/${sessionId}`))).generationCount).toBe(2);
  });

  it("still running: canceled first, and restored as canceled", async () => {
    const user = await signUp("running");
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, { prompt: `slow ${uniqueTag()}` });
    await waitForGeneration(user, created.id, (g) => g.predictionId !== null, "submission");
    expect((await api(user, "DELETE", `/api/generations/${created.id}`)).status).toBe(204);
    const row = await env.DB.prepare("SELECT status, trashed_at FROM generations WHERE id = ?")
      .bind(created.id)
      .first<{ status: string; trashed_at: number }>();
    expect(row).toMatchObject({ status: "canceled", trashed_at: expect.any(Number) });
    expect(await env.SESSION_ROOM.getByName(session.id).pendingJobs()).toEqual([]);
    await json(await api(user, "POST", `/api/trash/${created.id}/restore`));
    expect((await json<Generation>(await api(user, "GET", `/api/generations/${created.id}`))).status).toBe("canceled");
  });
});

describe("a session", () => {
  it("leaves the list, search, the gallery and its own address; comes back on restore", async () => {
    const { user, tag, sessionId, first, second } = await world("session");
    expect((await api(user, "DELETE", `/api/sessions/${sessionId}`)).status).toBe(204);
    expect(await sessionIds(user)).toEqual([]);
    expect(await sessionIds(user, `&q=${tag}`)).toEqual([]);
    expect(await galleryIds(user)).toEqual([]);
    await expectProblem(await api(user, "GET", `/api/sessions/${sessionId}`), 404);
    await expectProblem(await api(user, "GET", `/api/generations/${first.generationId}`), 404);
    await expectProblem(
      await api(user, "POST", `/api/sessions/${sessionId}/generations`, {
        model: "black-forest-labs/flux-schnell",
        prompt: "x",
      }),
      404,
    );
    // Only the session is listed: what is inside comes back with it.
    const items = await trash(user);
    expect(items.map((item) => [item.kind, item.id, item.imageCount])).toEqual([["session", sessionId, 4]]);
    expect(items[0]!.thumbnailUrl).toBe(`/api/assets/${second.assetIds[1]}/thumbnail?w=256`);
    // Restoring a generation inside a session in the trash: not in the trash list, so 404.
    await expectProblem(await api(user, "POST", `/api/trash/${first.generationId}/restore`), 404);

    await json(await api(user, "POST", `/api/trash/${sessionId}/restore`));
    expect(await sessionIds(user, `&q=${tag}`)).toEqual([sessionId]);
    expect(await galleryIds(user)).toEqual([...first.assetIds, ...second.assetIds].reverse());
  });

  it("a running generation in a deleted session is canceled and its room forgets it", async () => {
    const user = await signUp("running-session");
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, { prompt: `slow ${uniqueTag()}` });
    expect((await api(user, "DELETE", `/api/sessions/${session.id}`)).status).toBe(204);
    const row = await env.DB.prepare("SELECT status FROM generations WHERE id = ?")
      .bind(created.id)
      .first<{ status: string }>();
    expect(row?.status).toBe("canceled");
    expect(await env.SESSION_ROOM.getByName(session.id).pendingJobs()).toEqual([]);
  });
});

describe("the purge", () => {
  it("removes what was trashed more than 30 days ago with its bytes, once, and nothing else", async () => {
    const { user, sessionId, first, second } = await world("purge");
    const loose = await world("purge-session");
    const real = await completeGeneration(
      user,
      (await createGeneration(user, (await createSession(user)).id, { prompt: `keep me ${uniqueTag()}` })).id,
    );
    await api(user, "DELETE", `/api/assets/${first.assetIds[0]}`);
    await api(user, "DELETE", `/api/generations/${second.generationId}`);
    await api(loose.user, "DELETE", `/api/sessions/${loose.sessionId}`);
    const keys = async (assetIds: readonly string[]) =>
      (
        await env.DB.prepare(`SELECT r2_key FROM assets WHERE id IN (${assetIds.map(() => "?").join(",")})`)
          .bind(...assetIds)
          .all<{ r2_key: string }>()
      ).results.map((row) => row.r2_key);
    const goneKeys = [
      ...(await keys([first.assetIds[0]!])),
      ...(await keys(second.assetIds)),
      ...(await keys([...loose.first.assetIds, ...loose.second.assetIds])),
    ];
    expect(goneKeys).toHaveLength(7);

    // Not yet: 29 days later nothing is purged.
    await runScheduled(Date.now() + TRASH_RETENTION_MS - 86_400_000);
    expect(await trash(user)).toHaveLength(2);

    await runScheduled(Date.now() + TRASH_RETENTION_MS + 60_000);
    await runScheduled(Date.now() + TRASH_RETENTION_MS + 120_000);
    expect(await trash(user)).toEqual([]);
    expect(await trash(loose.user)).toEqual([]);
    const count = async (sql: string, ...binds: string[]) =>
      (await env.DB.prepare(sql)
        .bind(...binds)
        .first<{ n: number }>())!.n;
    expect(await count("SELECT count(*) AS n FROM assets WHERE id = ?", first.assetIds[0]!)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM generations WHERE id = ?", second.generationId)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM image_sessions WHERE id = ?", loose.sessionId)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM generations WHERE session_id = ?", loose.sessionId)).toBe(0);
    for (const key of goneKeys) {
      expect(await env.BUCKET.head(key), key).toBeNull();
      expect(await env.BUCKET.head(`thumbnails/256/${key}`), key).toBeNull();
    }
    // What was not in the trash is untouched.
    expect(await galleryIds(user)).toEqual(expect.arrayContaining([first.assetIds[1], real.outputs[0]!.id]));
    expect((await api(user, "GET", `/api/assets/${real.outputs[0]!.id}`)).status).toBe(200);
    expect(await count("SELECT count(*) AS n FROM image_sessions WHERE id = ?", sessionId)).toBe(1);
    // Gone for good: nothing to restore.
    await expectProblem(await api(user, "POST", `/api/trash/${second.generationId}/restore`), 404);
  });
});

describe("another user", () => {
  it("never sees the trash of someone else, nor restores from it", async () => {
    const { user, sessionId } = await world("owner");
    const intruder = await signUp("intruder");
    await api(user, "DELETE", `/api/sessions/${sessionId}`);
    expect(await trash(intruder)).toEqual([]);
    const foreign = await expectProblem(await api(intruder, "POST", `/api/trash/${sessionId}/restore`), 404);
    const missing = await expectProblem(await api(intruder, "POST", "/api/trash/ses_000/restore"), 404);
    expect(foreign).toEqual(missing);
    expect((await trash(user)).map((item) => item.id)).toEqual([sessionId]);
  });
});
