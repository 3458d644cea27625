/**
 * GET /api/images (the gallery), favourites and thumbnails: what the grid and the viewer rely on.
 */
import { env } from "cloudflare:test";
import { type GalleryItem, type GalleryPage, galleryPageSchema } from "@contract/gallery";
import { beforeAll, describe, expect, it } from "vitest";
import { sniffMedia } from "../storage/media-type";
import { insertBatch, insertSession, nextTime } from "./gallery-support";
import {
  api,
  completeGeneration,
  createGeneration,
  createSession,
  expectProblem,
  signUp,
  type TestUser,
  uniqueTag,
} from "./helpers";

async function gallery(user: TestUser, query = ""): Promise<GalleryPage> {
  const response = await api(user, "GET", `/api/images${query ? `?${query}` : ""}`);
  expect(response.status, await response.clone().text()).toBe(200);
  const parsed = galleryPageSchema.safeParse(await response.json());
  expect(parsed.success, parsed.success ? "" : JSON.stringify(parsed.error.issues)).toBe(true);
  return parsed.data!;
}

/** Every page of a query, following the cursors. */
async function walk(user: TestUser, query: string, limit = 3): Promise<GalleryItem[]> {
  const items: GalleryItem[] = [];
  let cursor: string | null = null;
  do {
    const page: GalleryPage = await gallery(
      user,
      `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

const ids = (items: readonly { id: string }[]) => items.map((item) => item.id);

describe("the gallery of a real generation", () => {
  it("lists its outputs with their session, prompt, thumbnails in two widths and a readable download", async () => {
    const user = await signUp("gallery");
    const session = await createSession(user, "Winter studies");
    const prompt = `A red fox in deep snow ${uniqueTag()}`;
    const generation = await completeGeneration(
      user,
      (await createGeneration(user, session.id, { prompt, params: { numOutputs: 2 } })).id,
    );
    expect(generation.status).toBe("succeeded");
    const page = await gallery(user);
    expect(ids(page.items)).toEqual([...generation.outputs].reverse().map((output) => output.id));
    const [newest] = page.items;
    expect(newest).toMatchObject({
      generationId: generation.id,
      sessionId: session.id,
      sessionTitle: "Winter studies",
      prompt,
      model: "black-forest-labs/flux-schnell",
      status: "succeeded",
      outputIndex: 1,
      favorite: false,
      params: { numOutputs: 2 },
      thumbnails: [
        { width: 256, url: `/api/assets/${newest!.id}/thumbnail?w=256` },
        { width: 768, url: `/api/assets/${newest!.id}/thumbnail?w=768` },
      ],
    });
    expect(newest!.downloadName).toMatch(/^a-red-fox-in-deep-snow-t[0-9a-f]+-2\.(png|webp|jpg)$/);

    // Each width is made once and kept in R2; the grid never needs the original.
    const output = await env.DB.prepare("SELECT r2_key FROM assets WHERE id = ?")
      .bind(newest!.id)
      .first<{ r2_key: string }>();
    for (const { width, url } of newest!.thumbnails) {
      const response = await api(user, "GET", url);
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toBe("image/webp");
      const media = sniffMedia(new Uint8Array(await response.arrayBuffer()));
      expect(media?.width).toBeLessThanOrEqual(width);
      expect(await env.BUCKET.head(`thumbnails/${width}/${output!.r2_key}`)).not.toBeNull();
    }
    await expectProblem(await api(user, "GET", `/api/assets/${newest!.id}/thumbnail?w=300`), 400);

    const download = await api(user, "GET", newest!.downloadUrl);
    expect(download.status).toBe(200);
    expect(download.headers.get("Content-Disposition")).toBe(
      `attachment; filename="${newest!.downloadName}"; filename*=UTF-8''${newest!.downloadName}`,
    );
    await download.arrayBuffer();

    const other = await signUp("other");
    expect((await gallery(other)).items).toEqual([]);
    expect((await gallery(other, `q=${encodeURIComponent(prompt)}`)).items).toEqual([]);
    await expectProblem(await api(other, "GET", newest!.thumbnails[1]!.url), 404);
  });
});

describe("search and filters", () => {
  let user: TestUser;
  let other: TestUser;
  const stored: Record<string, { sessionId: string; generationId: string; assetIds: string[] }> = {};
  let from = 0;

  beforeAll(async () => {
    user = await signUp("filters");
    other = await signUp("other");
    const alpine = await insertSession(user.id, "Alpine Journal");
    const harbour = await insertSession(user.id, "Harbour nights");
    stored.fox = {
      sessionId: alpine,
      ...(await insertBatch(user.id, alpine, {
        prompt: "A red fox crossing a glacier",
        outputs: 2,
        width: 512,
        height: 512,
      })),
    };
    from = nextTime(86_400_000);
    stored.lake = {
      sessionId: alpine,
      ...(await insertBatch(user.id, alpine, {
        prompt: "Turquoise lake, café on the shore",
        model: "black-forest-labs/flux-dev",
        outputs: 1,
        width: 1536,
        height: 640,
      })),
    };
    stored.boats = {
      sessionId: harbour,
      ...(await insertBatch(user.id, harbour, {
        prompt: "Fishing boats under lanterns",
        status: "canceled",
        outputs: 3,
        width: 768,
        height: 1344,
      })),
    };
    const theirs = await insertSession(other.id, "Alpine Journal");
    await insertBatch(other.id, theirs, { prompt: "A red fox crossing a glacier", outputs: 2 });
  });

  const of = (...names: string[]) =>
    names
      .flatMap((name) => [...stored[name]!.assetIds].reverse())
      .sort()
      .reverse();
  const listed = async (query: string) =>
    ids(await walk(user, query))
      .sort()
      .reverse();

  it("lists everything newest first, one user's only", async () => {
    expect(ids(await walk(user, "x=1"))).toEqual([
      ...[...stored.boats!.assetIds].reverse(),
      ...[...stored.lake!.assetIds].reverse(),
      ...[...stored.fox!.assetIds].reverse(),
    ]);
  });

  it.each([
    ["a prompt word", "q=glacier", ["fox"]],
    ["a title word", "q=harbour", ["boats"]],
    ["a prefix", "q=lant", ["boats"]],
    ["two words from prompt and title", "q=fox%20alpine", ["fox"]],
    ["any case and accents", "q=CAFE", ["lake"]],
    ["words in any order", "q=glacier%20red", ["fox"]],
    ["a word nobody used", "q=zeppelin", []],
    ["symbols only (nothing)", "q=%22%2A%28", []],
  ])("q matches %s", async (_what, query, expected) => {
    expect(await listed(query)).toEqual(of(...expected));
  });

  it.each([
    ["sessionId", (): string => `sessionId=${stored.fox!.sessionId}`, ["fox", "lake"]],
    ["model", (): string => "model=black-forest-labs/flux-dev", ["lake"]],
    ["status", (): string => "status=canceled", ["boats"]],
    ["from", (): string => `from=${new Date(from).toISOString()}`, ["lake", "boats"]],
    ["to (a date-time, inclusive)", (): string => `to=${new Date(from - 1).toISOString()}`, ["fox"]],
    ["minWidth", (): string => "minWidth=1000", ["lake"]],
    ["minHeight", (): string => "minHeight=700", ["boats"]],
    ["session and search", (): string => `sessionId=${stored.fox!.sessionId}&q=lake`, ["lake"]],
    [
      "model, status and minWidth",
      (): string => "model=black-forest-labs/flux-schnell&status=succeeded&minWidth=500",
      ["fox"],
    ],
    ["search and date range", (): string => `q=fox&from=${new Date(from).toISOString()}`, []],
    [
      "search and a date that ends the day",
      (): string => `q=fox&to=${new Date(from).toISOString().slice(0, 10)}`,
      ["fox"],
    ],
  ] as const)("filters by %s", async (_what, query, expected) => {
    expect(await listed(query())).toEqual(of(...expected));
  });

  it("favourites: starred, filtered, unstarred; idempotent", async () => {
    const [star] = stored.boats!.assetIds;
    expect((await api(user, "PUT", `/api/assets/${star}/favorite`)).status).toBe(204);
    expect((await api(user, "PUT", `/api/assets/${star}/favorite`)).status).toBe(204);
    const row = await env.DB.prepare("SELECT favorite FROM assets WHERE id = ?")
      .bind(star)
      .first<{ favorite: number }>();
    expect(row?.favorite).toBe(1);
    expect(ids(await walk(user, "favorite=true"))).toEqual([star]);
    expect(await listed("favorite=false")).toEqual(of("fox", "lake", "boats").filter((id) => id !== star));
    expect((await gallery(user, "favorite=true&q=lanterns")).items.map((item) => [item.id, item.favorite])).toEqual([
      [star, true],
    ]);
    // Another user can neither star it nor tell it exists.
    const foreign = await api(other, "PUT", `/api/assets/${star}/favorite`);
    const missing = await api(other, "PUT", "/api/assets/ast_00000000000000000000000000/favorite");
    expect(await (await expectProblem(foreign, 404)).detail).toBe((await expectProblem(missing, 404)).detail);
    expect((await api(user, "DELETE", `/api/assets/${star}/favorite`)).status).toBe(204);
    expect((await gallery(user, "favorite=true")).items).toEqual([]);
  });

  it("refuses bad queries with the field at fault", async () => {
    for (const [query, path] of [
      ["cursor=nonsense", "cursor"],
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["status=done", "status"],
      ["from=yesterday", "from"],
      ["minWidth=-3", "minWidth"],
      ["favorite=maybe", "favorite"],
    ]) {
      const problem = await expectProblem(await api(user, "GET", `/api/images?${query}`), 400);
      expect(
        problem.errors?.map((error) => error.path),
        query,
      ).toEqual([path]);
    }
    await expectProblem(await api(null, "GET", "/api/images"), 401);
  });
});
