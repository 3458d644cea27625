/**
 * Export and import: a round trip keeps the shape (generations, params, lineage, assets, and the
 * bytes with a zip); a malformed or hostile document is refused whole, with the path at fault,
 * and creates nothing.
 */
import { env, SELF } from "cloudflare:test";
import type { Asset, Generation, ReferenceUploadResult, SessionDetail } from "@contract/api";
import { type ExportDocument, type ImportResult, MANIFEST_FILE } from "@contract/transfer";
import { unzipSync, zipSync } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  completeGeneration,
  createGeneration,
  createSession,
  ORIGIN,
  signUp,
  type TestUser,
  uniqueTag,
  upload,
  waitForGeneration,
} from "./helpers";
import { makePng } from "./images";
import { footprint, problemOf, sha256Of } from "./security/support";

function post(user: TestUser, body: BodyInit, type: string): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/api/sessions/import`, {
    method: "POST",
    headers: { Authorization: `Bearer ${user.token}`, "Content-Type": type },
    body,
  });
}

async function detail(user: TestUser, id: string): Promise<SessionDetail> {
  const response = await api(user, "GET", `/api/sessions/${id}?limit=200`);
  expect(response.status).toBe(200);
  return response.json<SessionDetail>();
}

/** What must survive a round trip: everything but ids, times of the copy, and predictions. */
function shapeOf(session: SessionDetail) {
  const byId = new Map(session.generations.map((g, index) => [g.id, index]));
  const asset = (a: Asset | undefined) => (a ? { role: a.role, sha256: a.sha256, mimeType: a.mimeType } : null);
  return {
    title: session.title,
    generations: session.generations.map((g: Generation) => ({
      model: g.model,
      prompt: g.prompt,
      negativePrompt: g.negativePrompt,
      params: g.params,
      status: g.status,
      parent: g.parentGenerationId ? byId.get(g.parentGenerationId) : null,
      sourceOutputIndex: g.sourceOutputIndex,
      inputs: g.inputs.map(asset),
      references: g.references.map((r) => r.sha256),
      outputs: g.outputs.map((o) => ({ ...asset(o), width: o.width, height: o.height, sizeBytes: o.sizeBytes })),
      createdAt: g.createdAt,
    })),
  };
}

let owner: TestUser;
let sessionId: string;

beforeAll(async () => {
  owner = await signUp("exporter");
  const tag = uniqueTag();
  sessionId = (await createSession(owner, `Harbour ${tag}`)).id;
  const root = await completeGeneration(
    owner,
    (await createGeneration(owner, sessionId, { prompt: `boats at dawn ${tag}`, params: { numOutputs: 2, seed: 7 } }))
      .id,
  );
  const child = await createGeneration(owner, sessionId, {
    model: "black-forest-labs/flux-dev",
    prompt: `boats at dusk ${tag}`,
    parentGenerationId: root.id,
    sourceOutputIndex: 1,
    params: { strength: 0.6 },
  });
  await completeGeneration(owner, child.id);
  const input = await (
    await upload(owner, "/api/assets", [{ name: "in.png", bytes: await makePng(64, 48, (x) => [x * 4, 9, 90]) }], {
      role: "input",
    })
  ).json<Asset>();
  const mask = await (
    await upload(
      owner,
      "/api/assets",
      [{ name: "m.png", bytes: await makePng(64, 48, (x) => [x > 30 ? 255 : 0, 0, 0]) }],
      {
        role: "mask",
      },
    )
  ).json<Asset>();
  await completeGeneration(
    owner,
    (
      await createGeneration(owner, sessionId, {
        model: "stability-ai/sdxl",
        prompt: `repaint the sky ${tag}`,
        negativePrompt: "blurry",
        sourceAssetId: input.id,
        maskAssetId: mask.id,
      })
    ).id,
  );
  const reference = (
    await (
      await upload(owner, "/api/references", [
        { name: "style.png", bytes: await makePng(20, 20, (x) => [200, x * 9, 1]) },
      ])
    ).json<ReferenceUploadResult>()
  ).items[0]!;
  await completeGeneration(
    owner,
    (
      await createGeneration(owner, sessionId, {
        model: "black-forest-labs/flux-1.1-pro",
        prompt: `in this style ${tag}`,
        referenceImageIds: [reference.id],
      })
    ).id,
  );
  const canceled = await createGeneration(owner, sessionId, { prompt: `never mind ${tag}` });
  await api(owner, "POST", `/api/generations/${canceled.id}/cancel`);
  await waitForGeneration(owner, canceled.id, (g) => g.status === "canceled");
}, 120_000);

describe("export → import", () => {
  it("JSON: the same user gets an equal session with new ids, the bytes copied from what they hold", async () => {
    const response = await api(owner, "GET", `/api/sessions/${sessionId}/export`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Disposition")).toMatch(/^attachment; filename="harbour-t[0-9a-f]+\.json"$/);
    const document = await response.json<ExportDocument>();
    expect(document).toMatchObject({ version: 1, session: { title: expect.stringMatching(/^Harbour /) } });
    expect(document.generations).toHaveLength(5);
    expect(document.assets.map((a) => a.role).sort()).toEqual([
      "input",
      "mask",
      "output",
      "output",
      "output",
      "output",
      "output",
      "reference",
    ]);

    const imported = await post(owner, JSON.stringify(document), "application/json");
    expect(imported.status, await imported.clone().text()).toBe(201);
    const result = await imported.json<ImportResult>();
    expect(result).toMatchObject({ importedGenerations: 5, importedAssets: 8, missingAssets: [], generationCount: 5 });
    const [original, copy] = [await detail(owner, sessionId), await detail(owner, result.id)];
    expect(shapeOf(copy)).toEqual(shapeOf(original));
    const oldIds = new Set([
      ...original.generations.map((g) => g.id),
      ...original.generations.flatMap((g) => g.outputs.map((o) => o.id)),
    ]);
    expect(
      [...copy.generations.map((g) => g.id), ...copy.generations.flatMap((g) => g.outputs.map((o) => o.id))].some(
        (id) => oldIds.has(id),
      ),
    ).toBe(false);
    // Its outputs are real stored bytes of its own.
    for (const output of copy.generations.flatMap((g) => g.outputs)) {
      const bytes = await (await api(owner, "GET", output.url)).arrayBuffer();
      expect(await sha256Of(bytes)).toBe(output.sha256);
    }
  });

  it("zip: another user gets the same session, bytes included; a JSON document alone brings no bytes", async () => {
    const response = await api(owner, "GET", `/api/sessions/${sessionId}/export?format=zip`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/zip");
    const zip = new Uint8Array(await response.arrayBuffer());
    const files = unzipSync(zip);
    const manifest = JSON.parse(new TextDecoder().decode(files[MANIFEST_FILE])) as ExportDocument;
    expect(Object.keys(files).sort()).toEqual([MANIFEST_FILE, ...manifest.assets.map((a) => a.file!)].sort());
    for (const asset of manifest.assets) expect(await sha256Of(files[asset.file!]!)).toBe(asset.sha256);

    const friend = await signUp("importer");
    const withoutBytes = await (await post(friend, JSON.stringify(manifest), "application/json")).json<ImportResult>();
    expect(withoutBytes.missingAssets).toHaveLength(8);

    const imported = await post(friend, zip, "application/zip");
    expect(imported.status, await imported.clone().text()).toBe(201);
    const result = await imported.json<ImportResult>();
    expect(result).toMatchObject({ importedGenerations: 5, importedAssets: 8, missingAssets: [] });
    const copy = await detail(friend, result.id);
    expect(shapeOf(copy)).toEqual(shapeOf(await detail(owner, sessionId)));
    for (const output of copy.generations.flatMap((g) => [...g.outputs, ...g.inputs])) {
      const bytes = await (await api(friend, "GET", output.url)).arrayBuffer();
      expect(await sha256Of(bytes)).toBe(output.sha256);
    }
    // Still the owner's: the friend's copy is theirs alone.
    expect((await api(owner, "GET", `/api/sessions/${result.id}`)).status).toBe(404);
  });
});

describe("hostile documents", () => {
  let valid = {} as ExportDocument;
  let zip: Uint8Array;
  const html = new TextEncoder().encode("<html><script>alert(1)</script></html>");
  let htmlSha = "";
  beforeAll(async () => {
    htmlSha = await sha256Of(html);
    valid = await (await api(owner, "GET", `/api/sessions/${sessionId}/export`)).json<ExportDocument>();
    zip = new Uint8Array(await (await api(owner, "GET", `/api/sessions/${sessionId}/export?format=zip`)).arrayBuffer());
  });
  const edit = (change: (doc: ExportDocument & Record<string, unknown>) => void) => {
    const doc = structuredClone(valid) as ExportDocument & Record<string, unknown>;
    change(doc);
    return JSON.stringify(doc);
  };
  const g = (doc: ExportDocument, index: number) => doc.generations[index] as unknown as Record<string, unknown>;
  const rezip = (change: (files: Record<string, Uint8Array>) => void) => {
    const files = unzipSync(zip);
    change(files);
    return zipSync(files, { level: 0 });
  };
  const manifestOf = (files: Record<string, Uint8Array>) =>
    JSON.parse(new TextDecoder().decode(files[MANIFEST_FILE])) as ExportDocument;
  const setManifest = (files: Record<string, Uint8Array>, doc: ExportDocument) => {
    files[MANIFEST_FILE] = new TextEncoder().encode(JSON.stringify(doc));
  };

  const cases: [name: string, body: () => BodyInit, type: string, path: string | (() => string)][] = [
    ["not JSON", () => "{ version: 1", "application/json", "(body)"],
    ["a future version", () => edit((d) => Object.assign(d, { version: 2 })), "application/json", "version"],
    ["no generations", () => edit((d) => Reflect.deleteProperty(d, "generations")), "application/json", "generations"],
    [
      "its own parent",
      () => edit((d) => Object.assign(g(d, 1), { parentGenerationId: d.generations[1]!.id })),
      "application/json",
      "generations.1.parentGenerationId",
    ],
    [
      "a parent after its child (a cycle)",
      () => edit((d) => Object.assign(g(d, 0), { parentGenerationId: d.generations[1]!.id, sourceOutputIndex: 0 })),
      "application/json",
      "generations.0.parentGenerationId",
    ],
    [
      "a parent not in the document",
      () => edit((d) => Object.assign(g(d, 1), { parentGenerationId: "gen_elsewhere" })),
      "application/json",
      "generations.1.parentGenerationId",
    ],
    [
      "an output of no generation",
      () => edit((d) => Object.assign(d.assets.find((a) => a.role === "output")!, { generationId: "gen_ghost" })),
      "application/json",
      () => `assets.${valid.assets.findIndex((a) => a.role === "output")}.generationId`,
    ],
    [
      "the same id twice",
      () => edit((d) => Object.assign(g(d, 2), { id: d.generations[0]!.id })),
      "application/json",
      "generations.2.id",
    ],
    [
      "an object smuggled into params",
      () => edit((d) => Object.assign(g(d, 0), { params: { seed: 1, image: { url: "file:///etc/passwd" } } })),
      "application/json",
      "generations.0.params.image",
    ],
    [
      "a prompt of 5,000 characters",
      () => edit((d) => Object.assign(g(d, 0), { prompt: "x".repeat(5000) })),
      "application/json",
      "generations.0.prompt",
    ],
    [
      "an unknown status",
      () => edit((d) => Object.assign(g(d, 0), { status: "exploded" })),
      "application/json",
      "generations.0.status",
    ],
    [
      "an id that is a path",
      () => edit((d) => Object.assign(g(d, 0), { id: "../../etc" })),
      "application/json",
      "generations.0.id",
    ],
    [
      "a reference used as the source image",
      () => edit((d) => Object.assign(g(d, 0), { sourceAssetId: d.assets.find((a) => a.role === "reference")!.id })),
      "application/json",
      "generations.0.sourceAssetId",
    ],
    [
      "2,001 generations",
      () => edit((d) => Object.assign(d, { generations: Array.from({ length: 2001 }, () => d.generations[0]) })),
      "application/json",
      "generations",
    ],
    [
      "a zip without a manifest",
      () =>
        rezip((files) => {
          delete files[MANIFEST_FILE];
          files["../../evil.sh"] = new Uint8Array([1]);
        }),
      "application/zip",
      MANIFEST_FILE,
    ],
    [
      "a zip whose file does not match its hash",
      () =>
        rezip((files) => {
          const doc = manifestOf(files);
          const name = doc.assets[0]!.file!;
          files[name] = files[name]!.map((byte, i) => (i === 40 ? byte ^ 1 : byte));
        }),
      "application/zip",
      "assets.0.sha256",
    ],
    [
      "a zip with a page posing as an image",
      () =>
        rezip((files) => {
          const doc = manifestOf(files);
          files[doc.assets[0]!.file!] = html;
          Object.assign(doc.assets[0]!, { sizeBytes: html.length, sha256: htmlSha });
          setManifest(files, doc);
        }),
      "application/zip",
      "assets.0.mimeType",
    ],
    ["bytes that are not a zip", () => new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]), "application/zip", "(body)"],
  ];

  it.each(cases)("%s: 400 naming the fault, nothing created", async (_name, body, type, path) => {
    const importer = await signUp("hostile");
    const before = await footprint(importer.id);
    const response = await post(importer, body(), type);
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem.errors?.map((error) => error.path)).toContain(typeof path === "string" ? path : path());
    expect(await footprint(importer.id)).toEqual(before);
    const objects = await env.BUCKET.list({ prefix: `outputs/${importer.id}/` });
    expect(objects.objects).toEqual([]);
  });

  it("refuses a body that is neither JSON nor a zip with 415, and anonymous callers with 401", async () => {
    const importer = await signUp("hostile");
    const response = await post(importer, "title,prompt", "text/csv");
    expect(response.status).toBe(415);
    await problemOf(response);
    const anonymous = await SELF.fetch(`${ORIGIN}/api/sessions/import`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(valid),
    });
    expect(anonymous.status).toBe(401);
  });

  it("another user's session cannot be exported", async () => {
    const intruder = await signUp("intruder");
    expect((await api(intruder, "GET", `/api/sessions/${sessionId}/export`)).status).toBe(404);
    expect((await api(intruder, "GET", `/api/sessions/${sessionId}/export?format=zip`)).status).toBe(404);
  });
});
