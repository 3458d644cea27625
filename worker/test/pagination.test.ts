/**
 * Keyset pagination under concurrent change, property-based: between page requests, random
 * inserts (anywhere in the order), moves to the trash and hard deletes happen. Whatever was present
 * throughout the walk is listed exactly once, nothing is listed twice, and the order holds.
 */
import { env } from "cloudflare:test";
import type { SessionPage } from "@contract/api";
import type { GalleryPage } from "@contract/gallery";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { insertBatch, insertOutput, insertSession } from "./gallery-support";
import { ORIGIN, signUp, type TestUser } from "./helpers";
import { callWorker } from "./security/support";

const RUNS = 15;

async function get<T>(user: TestUser, path: string): Promise<T> {
  const response = await callWorker(`${ORIGIN}${path}`, { headers: { Authorization: `Bearer ${user.token}` } });
  expect(response.status).toBe(200);
  return response.json<T>();
}

const send = (user: TestUser, method: string, path: string) =>
  callWorker(`${ORIGIN}${path}`, { method, headers: { Authorization: `Bearer ${user.token}` } });

type Change = { kind: "insert" | "trash" | "delete"; at: number; pick: number };
const changes = fc.array(
  fc.record({
    kind: fc.constantFrom("insert", "trash", "delete"),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    pick: fc.nat(),
  }) as fc.Arbitrary<Change>,
  { maxLength: 4 },
);

describe("GET /api/images", () => {
  it("never skips nor repeats an image present throughout, whatever changes between pages", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 7 }),
        fc.array(changes, { minLength: 12, maxLength: 12 }),
        async (limit, between) => {
          const user = await signUp("pages");
          const sessionId = await insertSession(user.id, "Walk");
          const base = Date.UTC(2025, 0, 1);
          const times: number[] = [];
          const alive = new Map<string, number>();
          for (let i = 0; i < 18; i++) {
            const at = base + i * 1000;
            const { assetIds } = await insertBatch(user.id, sessionId, { prompt: `image ${i}`, createdAt: at });
            alive.set(assetIds[0]!, at);
            times.push(at);
          }
          const present = new Set(alive.keys());
          const seen: string[] = [];
          let cursor: string | null = null;
          let step = 0;
          do {
            const query = `/api/images?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
            const page: GalleryPage = await get<GalleryPage>(user, query);
            seen.push(...page.items.map((item) => item.id));
            cursor = page.nextCursor;
            for (const change of between[step++ % between.length]!) {
              const ids = [...alive.keys()];
              if (change.kind === "insert" || ids.length === 0) {
                // Anywhere in the order: among the oldest, the newest, or in between (same ms too).
                const at = base + Math.floor(change.at * 20_000);
                const generation = await insertBatch(user.id, sessionId, { prompt: "late", createdAt: at, outputs: 0 });
                alive.set(await insertOutput(user.id, generation.generationId, { createdAt: at }), at);
                continue;
              }
              const id = ids[change.pick % ids.length]!;
              alive.delete(id);
              present.delete(id);
              if (change.kind === "trash") expect((await send(user, "DELETE", `/api/assets/${id}`)).status).toBe(204);
              else await env.DB.prepare("DELETE FROM assets WHERE id = ?").bind(id).run();
            }
          } while (cursor);
          expect(new Set(seen).size).toBe(seen.length);
          for (const id of present) expect(seen, id).toContain(id);
          const keys = await Promise.all(
            seen.map(
              async (id) =>
                (
                  await env.DB.prepare("SELECT gallery_key AS k FROM assets WHERE id = ?")
                    .bind(id)
                    .first<{ k: number }>()
                )?.k,
            ),
          );
          const known = keys.filter((key): key is number => key !== undefined);
          expect(known).toEqual([...known].sort((a, b) => b - a));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("GET /api/sessions", () => {
  it("never skips nor repeats a session present throughout, in every sort", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom("updated", "created", "generations", "successRate"),
        fc.constantFrom("desc", "asc"),
        fc.array(changes, { minLength: 12, maxLength: 12 }),
        async (limit, sort, order, between) => {
          const user = await signUp("session-pages");
          const alive = new Set<string>();
          const base = Date.UTC(2025, 0, 1);
          for (let i = 0; i < 12; i++) {
            const id = await insertSession(user.id, `Session ${i}`, base + (i % 4) * 1000);
            await env.DB.prepare("UPDATE image_sessions SET generation_count = ?, succeeded_count = ? WHERE id = ?")
              .bind(i % 3, i % 2, id)
              .run();
            alive.add(id);
          }
          const present = new Set(alive);
          const seen: string[] = [];
          let cursor: string | null = null;
          let step = 0;
          do {
            const query = `/api/sessions?limit=${limit}&sort=${sort}&order=${order}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
            const page: SessionPage = await get<SessionPage>(user, query);
            seen.push(...page.items.map((item) => item.id));
            cursor = page.nextCursor;
            for (const change of between[step++ % between.length]!) {
              const ids = [...alive];
              if (change.kind === "insert" || ids.length === 0) {
                alive.add(await insertSession(user.id, "late", base + Math.floor(change.at * 5) * 1000));
                continue;
              }
              const id = ids[change.pick % ids.length]!;
              alive.delete(id);
              present.delete(id);
              if (change.kind === "trash") expect((await send(user, "DELETE", `/api/sessions/${id}`)).status).toBe(204);
              else await env.DB.prepare("DELETE FROM image_sessions WHERE id = ?").bind(id).run();
            }
          } while (cursor);
          expect(new Set(seen).size).toBe(seen.length);
          for (const id of present) expect(seen, id).toContain(id);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
