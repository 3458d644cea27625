/**
 * `DELETE /api/me`: the account and everything of it go — every row (checked table by table, over
 * every table with a `user_id` column), every R2 object, every file on Replicate — and its cookie
 * and tokens stop working at once. Another user's things are untouched.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import type { Asset, Generation, ReferenceUploadResult } from "@contract/api";
import { beforeAll, describe, expect, it } from "vitest";
import { userObjectPrefixes } from "../accounts/deletion";
import type { CompletionMessage } from "../completions/messages";
import worker from "../index";
import {
  api,
  completeGeneration,
  createGeneration,
  createSession,
  emulator,
  expectProblem,
  ORIGIN,
  signUp,
  type TestUser,
  terminalWebhooks,
  uniqueTag,
  upload,
  waitForGeneration,
} from "./helpers";
import { makePng } from "./images";
import { asCookie, footprint, r2Listing } from "./security/support";

const SCHNELL = "black-forest-labs/flux-schnell";
const PRO = "black-forest-labs/flux-1.1-pro";
const DEV = "black-forest-labs/flux-dev";

/** Every table with a `user_id` column, read from the schema itself: a new one cannot slip by. */
async function tablesWithUserId(): Promise<string[]> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
  ).all<{ name: string }>();
  const owned: string[] = [];
  for (const { name } of tables) {
    const { results: columns } = await env.DB.prepare(`PRAGMA table_info("${name}")`).all<{ name: string }>();
    if (columns.some((column) => column.name === "user_id")) owned.push(name);
  }
  return owned.sort();
}

async function rowsOf(table: string, userId: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM "${table}" WHERE user_id = ?`)
    .bind(userId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** The files the emulator (our Replicate) still has, by id. */
async function replicateFileExists(fileId: string): Promise<boolean> {
  const response = await fetch(`${env.EMULATOR_URL}/v1/files/${fileId}`, {
    headers: { Authorization: `Bearer ${env.REPLICATE_API_TOKEN}` },
  });
  await response.arrayBuffer();
  return response.ok;
}

type Account = {
  user: TestUser;
  generations: Generation[];
  replicateFiles: string[];
};

/** A user with a bit of everything: sessions, outputs and thumbnails, uploads, references, files at Replicate. */
async function busyAccount(label: string): Promise<Account> {
  const user = await signUp(label);
  const session = await createSession(user, `${label}'s session`);
  const made = await completeGeneration(
    user,
    (await createGeneration(user, session.id, { model: SCHNELL, prompt: `${label} ${uniqueTag()}` })).id,
  );
  expect(made.status).toBe("succeeded");
  expect((await api(user, "GET", `/api/assets/${made.outputs[0]!.id}/thumbnail`)).status).toBe(200);

  const input = await upload(
    user,
    "/api/assets",
    [{ name: "in.png", bytes: await makePng(24, 24, (x) => [x * 9, 40, 90]) }],
    {
      role: "input",
    },
  );
  expect(input.status).toBe(201);
  const inputAsset = await input.json<Asset>();
  const references = await upload(user, "/api/references", [
    { name: "style.png", bytes: await makePng(20, 20, (x, y) => [x * 12, y * 12, 200]) },
  ]);
  expect(references.status).toBe(201);
  const reference = (await references.json<ReferenceUploadResult>()).items[0]!;
  const fromSource = await completeGeneration(
    user,
    (
      await createGeneration(user, session.id, {
        model: DEV,
        prompt: `from ${uniqueTag()}`,
        sourceAssetId: inputAsset.id,
      })
    ).id,
  );
  const withReference = await completeGeneration(
    user,
    (
      await createGeneration(user, session.id, {
        model: PRO,
        prompt: `styled ${uniqueTag()}`,
        referenceImageIds: [reference.id],
      })
    ).id,
  );
  // A video with its poster, a model of their own, and limits of their own.
  const video = await completeGeneration(
    user,
    (
      await createGeneration(user, session.id, {
        model: "minimax/video-01",
        prompt: `moving ${uniqueTag()}`,
        parentGenerationId: made.id,
      })
    ).id,
  );
  expect(video.outputs[0]?.posterUrl).toBeTruthy();
  expect((await api(user, "POST", "/api/models", { id: "kwaivgi/kling-v2.0" })).status).toBe(201);
  await env.DB.prepare("INSERT INTO account_limits (user_id, daily_generations) VALUES (?, 100)").bind(user.id).run();
  const { results: files } = await env.DB.prepare("SELECT replicate_file_id FROM replicate_uploads WHERE user_id = ?")
    .bind(user.id)
    .all<{ replicate_file_id: string }>();
  return {
    user,
    generations: [made, fromSource, withReference, video],
    replicateFiles: files.map((f) => f.replicate_file_id),
  };
}

let victim: Account;
let bystander: Account;

beforeAll(async () => {
  [victim, bystander] = await Promise.all([busyAccount("leaving"), busyAccount("staying")]);
  // A dead letter of theirs, and a sign-in throttle counter keyed by their email.
  const terminal = (await terminalWebhooks(victim.generations[0]!.predictionId!)).find(
    (w) => w.status === "succeeded",
  )!;
  const batch = createMessageBatch("image-studio-completions-dlq", [
    {
      id: crypto.randomUUID(),
      timestamp: new Date(),
      attempts: 7,
      body: {
        type: "prediction",
        source: "webhook",
        prediction: JSON.parse(terminal.body),
        receivedAt: Date.now(),
      } satisfies CompletionMessage,
    },
  ]);
  await worker.queue(batch, env);
  await getQueueResult(batch, createExecutionContext());
  const wrongLogin = await api(
    null,
    "POST",
    "/api/auth/login",
    { email: victim.user.email, password: "not the password" },
    { Origin: ORIGIN },
  );
  expect(wrongLogin.status).toBe(401);
}, 120_000);

describe("DELETE /api/me", () => {
  it("from the browser, asks for the password and deletes nothing without the right one", async () => {
    const before = await footprint(victim.user.id);
    await expectProblem(await asCookie(victim.user, "DELETE", "/api/me", {}), 400);
    const wrong = await asCookie(victim.user, "DELETE", "/api/me", { password: "guessing wrong" });
    const problem = await expectProblem(wrong, 403);
    expect(problem.errors?.[0]?.path).toBe("password");
    expect(await footprint(victim.user.id)).toEqual(before);
    expect((await api(victim.user, "GET", "/api/me")).status).toBe(200);
  });

  it("is refused from another site, even with the password", async () => {
    const response = await asCookie(
      victim.user,
      "DELETE",
      "/api/me",
      { password: "correct horse battery" },
      { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" },
    );
    await expectProblem(response, 403);
    expect((await api(victim.user, "GET", "/api/me")).status).toBe(200);
  });

  it("removes every row, object and Replicate file of the user; cookie and token die at once", async () => {
    const tables = await tablesWithUserId();
    expect(tables).toEqual(
      expect.arrayContaining([
        "api_tokens",
        "assets",
        "auth_sessions",
        "dead_letters",
        "generations",
        "image_sessions",
        "references",
        "replicate_uploads",
        "usage_days",
        "user_models",
        "account_limits",
      ]),
    );
    // There is something to delete in each of them, and in R2 and at Replicate.
    for (const table of tables) expect(await rowsOf(table, victim.user.id), table).toBeGreaterThan(0);
    const generationIds = victim.generations.map((g) => g.id);
    const links = () =>
      env.DB.prepare(
        `SELECT count(*) AS n FROM generation_references WHERE generation_id IN (${generationIds.map(() => "?").join(",")})`,
      )
        .bind(...generationIds)
        .first<{ n: number }>();
    expect((await links())?.n).toBeGreaterThan(0);
    const objectsBefore = (await Promise.all(userObjectPrefixes(victim.user.id).map(r2Listing))).flat();
    expect(objectsBefore.map((o) => o.key.split("/")[0])).toEqual(
      expect.arrayContaining(["outputs", "posters", "blobs", "thumbnails"]),
    );
    expect(victim.replicateFiles.length).toBeGreaterThan(0);
    for (const fileId of victim.replicateFiles) expect(await replicateFileExists(fileId)).toBe(true);
    const throttle = `login:account:${victim.user.email}`;
    expect(await env.DB.prepare("SELECT key FROM rate_limits WHERE key = ?").bind(throttle).first()).not.toBeNull();
    const bystanderBefore = await footprint(bystander.user.id);

    const response = await asCookie(victim.user, "DELETE", "/api/me", { password: "correct horse battery" });
    expect(response.status).toBe(204);
    expect(response.headers.get("Set-Cookie")).toMatch(/studio_session=;.*Max-Age=0/i);
    expect(response.headers.get("Clear-Site-Data")).toBe('"cache"');

    // Credentials: the old cookie and the old token are refused.
    await expectProblem(await asCookie(victim.user, "GET", "/api/me"), 401);
    await expectProblem(await api(victim.user, "GET", "/api/me"), 401);
    await expectProblem(await api(victim.user, "GET", `/api/generations/${generationIds[0]}`), 401);

    // Rows, table by table.
    for (const table of tables) expect(await rowsOf(table, victim.user.id), table).toBe(0);
    expect(await env.DB.prepare("SELECT id FROM users WHERE id = ?").bind(victim.user.id).first()).toBeNull();
    expect((await links())?.n).toBe(0);
    expect(await env.DB.prepare("SELECT key FROM rate_limits WHERE key = ?").bind(throttle).first()).toBeNull();

    // Objects: nothing under any of their prefixes, nor anywhere with their id in its key.
    for (const prefix of userObjectPrefixes(victim.user.id)) expect(await r2Listing(prefix), prefix).toEqual([]);
    const everything = await r2Listing("");
    expect(everything.filter((object) => object.key.includes(victim.user.id))).toEqual([]);

    // Replicate: their uploaded files are gone there too.
    for (const fileId of victim.replicateFiles) expect(await replicateFileExists(fileId)).toBe(false);

    // The other user lost nothing.
    expect(await footprint(bystander.user.id)).toEqual(bystanderBefore);
    for (const fileId of bystander.replicateFiles) expect(await replicateFileExists(fileId)).toBe(true);

    // The email is free again.
    expect(
      (
        await api(
          null,
          "POST",
          "/api/auth/signup",
          { email: victim.user.email, password: "a new beginning" },
          { Origin: ORIGIN },
        )
      ).status,
    ).toBe(201);
  });

  it("with a bearer token, as the API contract has it, needs no password", async () => {
    const script = await signUp("scripted");
    const session = await createSession(script);
    const generation = await createGeneration(script, session.id, { model: SCHNELL, prompt: `bye ${uniqueTag()}` });
    // Submitted, and (with no webhook delivered) still running as far as the app knows.
    const running = await waitForGeneration(script, generation.id, (g) => g.predictionId !== null);
    const response = await api(script, "DELETE", "/api/me");
    expect(response.status).toBe(204);
    await expectProblem(await api(script, "GET", "/api/me"), 401);
    for (const table of await tablesWithUserId()) expect(await rowsOf(table, script.id), table).toBe(0);
    // Its prediction still running was canceled at Replicate, so it stops costing.
    const cancels = await emulator.requests(`?predictionId=${running.predictionId}`);
    expect(cancels.filter((request) => request.method === "POST" && request.path.endsWith("/cancel"))).toHaveLength(1);
  });
});
