/**
 * Reference images: uploaded once, deduplicated by SHA-256, kept in R2, and sent to Replicate's
 * 24-hour Files API transparently, refreshed by cron while in use.
 */
import { createScheduledController, env } from "cloudflare:test";
import type { Reference, ReferenceUploadResult } from "@contract/api";
import { describe, expect, it } from "vitest";
import worker from "../index";
import {
  api,
  completeGeneration,
  createGeneration,
  createSession,
  expectProblem,
  getGeneration,
  predictionInput,
  signUp,
  type TestUser,
  uniqueTag,
  upload,
  waitForGeneration,
} from "./helpers";
import { chunk, concat, contains, jpegWithGps, makePng } from "./images";

const PRO = "black-forest-labs/flux-1.1-pro";
const HOUR = 60 * 60 * 1000;

const distinctPng = (seed: number) => makePng(40, 30, (x, y) => [(x * seed) % 256, (y * 3 + seed) % 256, seed % 256]);

async function uploadReferences(
  user: TestUser,
  files: { name: string; bytes: Uint8Array; type?: string }[],
): Promise<ReferenceUploadResult> {
  const response = await upload(user, "/api/references", files);
  expect(response.status).toBe(201);
  return response.json<ReferenceUploadResult>();
}

async function uploadsOf(user: TestUser, sha256: string) {
  const { results } = await env.DB.prepare(
    "SELECT id, url, replicate_file_id, uploaded_at, expires_at FROM replicate_uploads WHERE user_id = ? AND sha256 = ? ORDER BY uploaded_at",
  )
    .bind(user.id, sha256)
    .all<{ id: string; url: string; replicate_file_id: string; uploaded_at: number; expires_at: number }>();
  return results;
}

async function generateWith(user: TestUser, referenceId: string) {
  const session = await createSession(user);
  const generation = await createGeneration(user, session.id, {
    model: PRO,
    prompt: `in this style ${uniqueTag()}`,
    referenceImageIds: [referenceId],
  });
  return completeGeneration(user, generation.id);
}

describe("uploading references", () => {
  it("stores the same bytes once, even when uploaded twice at the same moment", async () => {
    const user = await signUp();
    const bytes = await distinctPng(17);
    const first = await uploadReferences(user, [{ name: "cat.png", bytes, type: "image/png" }]);
    expect(first.items[0]).toMatchObject({
      deduplicated: false,
      originalName: "cat.png",
      mimeType: "image/png",
      width: 40,
      height: 30,
      usageCount: 0,
      replicateStatus: "will_refresh",
    });
    const again = await uploadReferences(user, [{ name: "cat-copy.png", bytes }]);
    expect(again.items[0]).toMatchObject({ id: first.items[0]!.id, deduplicated: true });

    const twin = await distinctPng(23);
    const concurrent = await Promise.all(
      [0, 1, 2].map(() => uploadReferences(user, [{ name: "twin.png", bytes: twin }])),
    );
    const ids = new Set(concurrent.map((result) => result.items[0]!.id));
    expect(ids.size).toBe(1);
    expect(concurrent.filter((result) => !result.items[0]!.deduplicated).length).toBeLessThanOrEqual(1);

    const { results } = await env.DB.prepare('SELECT sha256 FROM "references" WHERE user_id = ?')
      .bind(user.id)
      .all<{ sha256: string }>();
    expect(results).toHaveLength(2);
    expect((await env.BUCKET.list({ prefix: `blobs/${user.id}/` })).objects).toHaveLength(2);
    const content = await api(user, "GET", first.items[0]!.url);
    expect(content.headers.get("Content-Type")).toBe("image/png");

    // Another user uploading the same bytes gets their own reference.
    const other = await signUp("other");
    const theirs = await uploadReferences(other, [{ name: "cat.png", bytes }]);
    expect(theirs.items[0]).toMatchObject({ deduplicated: false });
    expect(theirs.items[0]!.id).not.toBe(first.items[0]!.id);
  });

  it("judges each file on its own: bad files get their own error, good ones are stored", async () => {
    const user = await signUp();
    const good = await distinctPng(31);
    const result = await uploadReferences(user, [
      { name: "good.png", bytes: good },
      { name: "evil.svg", bytes: new TextEncoder().encode("<svg onload=alert(1)></svg>"), type: "image/svg+xml" },
      { name: "empty.jpg", bytes: new Uint8Array() },
    ]);
    expect(result.items.map((item) => item.originalName)).toEqual(["good.png"]);
    expect(result.errors).toEqual([
      expect.objectContaining({ index: 1, fileName: "evil.svg", status: 415 }),
      expect.objectContaining({ index: 2, fileName: "empty.jpg", status: 400 }),
    ]);
    const allBad = await expectProblem(
      await upload(user, "/api/references", [{ name: "x.gif", bytes: new TextEncoder().encode("GIF89a....") }]),
      415,
    );
    expect(allBad.errors?.[0]?.path).toBe("file.0");
    const { n } = (await env.DB.prepare('SELECT count(*) AS n FROM "references" WHERE user_id = ?')
      .bind(user.id)
      .first<{ n: number }>())!;
    expect(n).toBe(1);
  });

  it("strips EXIF and GPS from the stored reference", async () => {
    const user = await signUp();
    const result = await uploadReferences(user, [
      { name: "../../etc/holiday\u0007.jpg", bytes: await jpegWithGps(), type: "image/jpeg" },
    ]);
    const reference = result.items[0]!;
    expect(reference.originalName).toBe("holiday.jpg");
    const stored = new Uint8Array(await (await api(user, "GET", reference.url)).arrayBuffer());
    expect(contains(stored, "GPSLatitude")).toBe(false);
    expect(contains(stored, "Exif")).toBe(false);
  });

  it("keeps a PNG's pixels byte for byte, without its text, and refuses one whose pixels are damaged", async () => {
    const user = await signUp();
    const color = (x: number, y: number): [number, number, number] => [x * 7, y * 5, 99];
    const plain = await makePng(36, 20, color);
    const withText = await makePng(36, 20, color, [
      chunk("tEXt", new TextEncoder().encode("Comment\u0000taken at home")),
    ]);
    const result = await uploadReferences(user, [{ name: "notes.png", bytes: withText }]);
    const stored = new Uint8Array(await (await api(user, "GET", result.items[0]!.url)).arrayBuffer());
    expect([...stored]).toEqual([...plain]);
    expect(result.items[0]).toMatchObject({ mimeType: "image/png", width: 36, height: 20, sizeBytes: plain.length });

    // The image data replaced by bytes that are no zlib stream, with a correct checksum: not an image.
    const idatAt = new TextDecoder("latin1").decode(plain).indexOf("IDAT") - 4;
    const garbage = concat(
      plain.subarray(0, idatAt),
      chunk("IDAT", new Uint8Array(64).fill(0x41)),
      plain.subarray(-12),
    );
    const refused = await expectProblem(
      await upload(user, "/api/references", [{ name: "bad.png", bytes: garbage }]),
      400,
    );
    expect(refused.detail).toMatch(/could not be decoded/);
  });

  it("lists newest first with a cursor, hides deleted ones, and keeps them private", async () => {
    const user = await signUp();
    const uploaded: Reference[] = [];
    for (let i = 0; i < 3; i++)
      uploaded.push(
        (await uploadReferences(user, [{ name: `r${i}.png`, bytes: await distinctPng(40 + i) }])).items[0]!,
      );
    const page1 = await (await api(user, "GET", "/api/references?limit=2")).json<{
      items: Reference[];
      nextCursor: string | null;
    }>();
    expect(page1.items.map((item) => item.originalName)).toEqual(["r2.png", "r1.png"]);
    const page2 = await (await api(user, "GET", `/api/references?limit=2&cursor=${page1.nextCursor}`)).json<{
      items: Reference[];
      nextCursor: string | null;
    }>();
    expect(page2).toMatchObject({ items: [expect.objectContaining({ originalName: "r0.png" })], nextCursor: null });

    const other = await signUp("other");
    await expectProblem(await api(other, "DELETE", `/api/references/${uploaded[0]!.id}`), 404);
    await expectProblem(await api(other, "GET", uploaded[0]!.url), 404);
    expect((await (await api(other, "GET", "/api/references")).json<{ items: Reference[] }>()).items).toEqual([]);
    const session = await createSession(other);
    const stolen = await expectProblem(
      await api(other, "POST", `/api/sessions/${session.id}/generations`, {
        model: PRO,
        prompt: "x",
        referenceImageIds: [uploaded[0]!.id],
      }),
      400,
    );
    expect(stolen.errors?.[0]?.path).toBe("referenceImageIds.0");

    expect((await api(user, "DELETE", `/api/references/${uploaded[1]!.id}`)).status).toBe(204);
    const after = await (await api(user, "GET", "/api/references")).json<{ items: Reference[] }>();
    expect(after.items.map((item) => item.originalName)).toEqual(["r2.png", "r0.png"]);
    // The bytes stay for history.
    expect((await api(user, "GET", uploaded[1]!.url)).status).toBe(200);
    // Uploading it again brings it back.
    const restored = await uploadReferences(user, [{ name: "again.png", bytes: await distinctPng(41) }]);
    expect(restored.items[0]).toMatchObject({ id: uploaded[1]!.id, deduplicated: true });
  });
});

describe("serving references", () => {
  it("answers a problem+json 404 for a reference whose stored bytes are gone", async () => {
    const user = await signUp();
    const [reference] = (await uploadReferences(user, [{ name: "gone.png", bytes: await distinctPng(77) }])).items;
    expect((await api(user, "GET", reference!.thumbnailUrl)).status).toBe(200);
    const row = await env.DB.prepare('SELECT r2_key FROM "references" WHERE id = ?')
      .bind(reference!.id)
      .first<{ r2_key: string }>();
    await env.BUCKET.delete([row!.r2_key, `thumbnails/256/${row!.r2_key}`]);

    const content = await expectProblem(await api(user, "GET", reference!.url), 404);
    const thumbnail = await expectProblem(await api(user, "GET", reference!.thumbnailUrl), 404);
    expect(thumbnail.detail).toBe(content.detail);
  });
});

describe("references on Replicate", () => {
  it("uploads a reference through the Files API and puts its URL in the model input", async () => {
    const user = await signUp();
    const reference = (await uploadReferences(user, [{ name: "style.png", bytes: await distinctPng(51) }])).items[0]!;
    const done = await generateWith(user, reference.id);
    expect(done.status).toBe("succeeded");
    const [uploadRow] = await uploadsOf(user, reference.sha256);
    expect(uploadRow).toBeDefined();
    expect((await predictionInput(done.predictionId!)).image_prompt).toBe(uploadRow!.url);
    expect(done.references.map((r) => r.id)).toEqual([reference.id]);
    const listed = (await (await api(user, "GET", "/api/references")).json<{ items: Reference[] }>()).items[0]!;
    expect(listed).toMatchObject({ id: reference.id, usageCount: 1, replicateStatus: "fresh" });
    expect(listed.lastUsedAt).not.toBeNull();
    // Replicate really has it.
    const file = await fetch(uploadRow!.url, { headers: { Authorization: "Bearer r8_test_token" } });
    expect(file.status).toBe(200);
  });

  it("reuses an upload younger than 20 hours, and uploads again when older or gone", async () => {
    const user = await signUp();
    const reference = (await uploadReferences(user, [{ name: "style.png", bytes: await distinctPng(61) }])).items[0]!;
    await generateWith(user, reference.id);
    expect(await uploadsOf(user, reference.sha256)).toHaveLength(1);

    // 2 hours later: reused.
    await env.DB.prepare("UPDATE replicate_uploads SET uploaded_at = uploaded_at - ? WHERE user_id = ?")
      .bind(2 * HOUR, user.id)
      .run();
    await generateWith(user, reference.id);
    expect(await uploadsOf(user, reference.sha256)).toHaveLength(1);

    // 21 hours later: uploaded again before submitting, and the new URL is used.
    await env.DB.prepare("UPDATE replicate_uploads SET uploaded_at = uploaded_at - ? WHERE user_id = ?")
      .bind(19 * HOUR, user.id)
      .run();
    const third = await generateWith(user, reference.id);
    const afterAge = await uploadsOf(user, reference.sha256);
    expect(afterAge).toHaveLength(2);
    expect((await predictionInput(third.predictionId!)).image_prompt).toBe(afterAge[1]!.url);

    // Replicate lost it (deleted): uploaded again on the next use.
    const deleted = await fetch(afterAge[1]!.url, {
      method: "DELETE",
      headers: { Authorization: "Bearer r8_test_token" },
    });
    expect(deleted.status).toBe(204);
    const fourth = await generateWith(user, reference.id);
    const afterDelete = await uploadsOf(user, reference.sha256);
    expect(afterDelete).toHaveLength(3);
    expect((await predictionInput(fourth.predictionId!)).image_prompt).toBe(afterDelete[2]!.url);
    expect((await getGeneration(user, fourth.id)).status).toBe("succeeded");
  }, 60_000);

  it("fails the generation with a clear message when the upload to Replicate cannot be made", async () => {
    const user = await signUp();
    const reference = (await uploadReferences(user, [{ name: "style.png", bytes: await distinctPng(71) }])).items[0]!;
    // The bytes we keep are gone (e.g. an operator's mistake): nothing can be sent to Replicate.
    await env.BUCKET.delete(`blobs/${user.id}/${reference.sha256}`);
    const session = await createSession(user);
    const generation = await createGeneration(user, session.id, {
      model: PRO,
      prompt: `missing bytes ${uniqueTag()}`,
      referenceImageIds: [reference.id],
    });
    const failed = await waitForGeneration(user, generation.id, (g) => g.status === "failed");
    expect(failed.error).toMatch(/stored file .* is missing/);
    expect(failed.predictionId).toBeNull();
    expect(await uploadsOf(user, reference.sha256)).toHaveLength(0);
  });
});

describe("the reference refresh cron", () => {
  it("refreshes references used this week that expire within four hours, once, and leaves older ones alone", async () => {
    const user = await signUp();
    const [active, stale] = (
      await uploadReferences(user, [
        { name: "active.png", bytes: await distinctPng(81) },
        { name: "stale.png", bytes: await distinctPng(82) },
      ])
    ).items;
    await generateWith(user, active!.id);
    await generateWith(user, stale!.id);
    const now = Date.now();
    // Both uploads expire in 3 hours; one reference was last used 8 days ago.
    await env.DB.prepare("UPDATE replicate_uploads SET expires_at = ?, uploaded_at = ? WHERE user_id = ?")
      .bind(now + 3 * HOUR, now - 21 * HOUR, user.id)
      .run();
    await env.DB.prepare('UPDATE "references" SET last_used_at = ? WHERE id = ?')
      .bind(now - 8 * 24 * HOUR, stale!.id)
      .run();

    for (let run = 0; run < 2; run++) {
      await worker.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }), env);
    }
    const activeUploads = await uploadsOf(user, active!.sha256);
    expect(activeUploads).toHaveLength(2);
    expect(activeUploads[1]!.expires_at).toBeGreaterThan(now + 20 * HOUR);
    expect(await uploadsOf(user, stale!.sha256)).toHaveLength(1);

    // Expired records are forgotten.
    await env.DB.prepare("UPDATE replicate_uploads SET expires_at = ? WHERE user_id = ? AND sha256 = ?")
      .bind(now - HOUR, user.id, stale!.sha256)
      .run();
    await worker.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }), env);
    expect(await uploadsOf(user, stale!.sha256)).toHaveLength(0);
  }, 60_000);
});
