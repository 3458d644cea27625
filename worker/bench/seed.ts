/**
 * `npm run seed -- --images 100000`: fills the local database (the state directory `npm run dev`
 * uses: STUDIO_STATE_DIR, default .wrangler/state; or --state-dir) with one user's sessions,
 * generations and outputs that point at a small set of real stored images, for benchmarks and
 * manual checks. Rows go in through the same D1 (and its triggers) the app uses, in large batches;
 * run it while `npm run dev` is stopped.
 *
 *   npm run seed -- --images 100000 [--email seed@example.com] [--password "correct horse battery"]
 *                   [--per-session 40] [--state-dir DIR] [--json]
 *
 * More people in the same run (each `--also email:images[:per-session]`, same password) cost no
 * second start of the local D1 and R2: `--images 10000 --also small@example.com:100`.
 *
 * Signs in with the email and password; also prints an API token (Authorization: Bearer …).
 * Deterministic for a given --images (a seeded generator), and additive: run twice, get twice.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import sharp from "sharp";
import { getPlatformProxy } from "wrangler";
import { hashPassword } from "../accounts/passwords";
import { newId, randomToken, sha256Hex } from "../lib/ids";
import { titleFromPrompt } from "../sessions/queries";

const arg = (name: string, fallback: string): string => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
};
const PASSWORD = arg("password", "correct horse battery");
const STATE_DIR = arg("state-dir", process.env.STUDIO_STATE_DIR ?? ".wrangler/state");
const AS_JSON = process.argv.includes("--json");

/** One person to seed: `images` images, about `perSession` a session (`--per-session 2000` makes one big session). */
type Person = { email: string; images: number; perSession: number };

function people(): Person[] {
  const perSession = (value: string | undefined) => Math.max(1, Number(value ?? "40") || 40);
  const first = {
    email: arg("email", "seed@example.com").toLowerCase(),
    images: Number(arg("images", "1000")),
    perSession: perSession(arg("per-session", "40")),
  };
  const also = process.argv.flatMap((value, index) =>
    process.argv[index - 1] === "--also" ? [value.split(":") as [string, string?, string?]] : [],
  );
  return [
    first,
    ...also.map(([email, images, per]) => ({
      email: email.toLowerCase(),
      images: Number(images ?? "1000"),
      perSession: perSession(per),
    })),
  ];
}
/** D1 refuses statements longer than 100 KB. */
const MAX_STATEMENT_BYTES = 90_000;
const STATEMENTS_PER_BATCH = 10;

/** Subjects used in prompts, each in about 1 in SUBJECTS.length prompts: `lighthouse` is the benchmark's search. */
export const SUBJECTS = [
  "lighthouse",
  "fox",
  "glacier",
  "harbour",
  "tram",
  "orchard",
  "cathedral",
  "desert",
  "owl",
  "volcano",
  "library",
  "market",
  "canyon",
  "teapot",
  "robot",
  "castle",
  "waterfall",
  "bicycle",
  "meadow",
  "submarine",
  "lantern",
  "dragon",
  "greenhouse",
  "skyline",
  "reef",
  "windmill",
  "violin",
  "forest",
  "train",
  "comet",
  "temple",
  "bridge",
  "garden",
  "tiger",
  "island",
  "kitchen",
  "observatory",
  "bakery",
  "carousel",
  "stadium",
];
const SETTINGS = [
  "at dawn",
  "in the rain",
  "under neon lights",
  "in deep snow",
  "at golden hour",
  "on a foggy night",
  "in spring",
  "by the sea",
];
const STYLES = [
  "watercolor",
  "oil painting",
  "35mm photo",
  "isometric render",
  "ink sketch",
  "studio photo",
  "pixel art",
  "cinematic",
];
const MODELS: [string, number][] = [
  ["black-forest-labs/flux-schnell", 0.5],
  ["black-forest-labs/flux-dev", 0.25],
  ["stability-ai/sdxl", 0.15],
  ["black-forest-labs/flux-1.1-pro", 0.1],
];
const SIZES: [number, number][] = [
  [512, 512],
  [768, 1024],
  [1024, 768],
  [1024, 1024],
  [1344, 768],
  [640, 1536],
  [1536, 640],
  [896, 1152],
];

/** A small deterministic generator (mulberry32), so a seed of N images is the same every time. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pepper(): string {
  if (!existsSync(".dev.vars")) return "";
  const match = readFileSync(".dev.vars", "utf8").match(/^\s*PASSWORD_PEPPER\s*=\s*(.*?)\s*$/m);
  return match?.[1]?.replace(/^["']|["']$/g, "") ?? "";
}

type SeedImage = { bytes: Uint8Array; width: number; height: number; sha256: string };

/** Real WebP images of the sizes above: a gradient each, so thumbnails have something to show. */
async function makeImages(): Promise<SeedImage[]> {
  return Promise.all(
    SIZES.map(async ([width, height], index) => {
      const pixels = Buffer.alloc(width * height * 3);
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) {
          const offset = (y * width + x) * 3;
          pixels[offset] = (x * 255) / width;
          pixels[offset + 1] = (y * 255) / height;
          pixels[offset + 2] = (index * 31) % 255;
        }
      const bytes = new Uint8Array(
        await sharp(pixels, { raw: { width, height, channels: 3 } })
          .webp({ quality: 70 })
          .toBuffer(),
      );
      return { bytes, width, height, sha256: await sha256Hex(bytes) };
    }),
  );
}

type Value = string | number | null;

const literal = (value: Value): string =>
  value === null ? "NULL" : typeof value === "number" ? String(value) : `'${value.replaceAll("'", "''")}'`;

/**
 * Multi-row INSERTs with the values written out (our own generated data), each under D1's 100 KB
 * statement limit: a few hundred rows per statement, so 100,000 rows are a few hundred statements.
 */
function inserts(table: string, columns: string[], rows: Value[][]): { sql: string; values: Value[] }[] {
  const head = `INSERT INTO ${table} (${columns.join(", ")}) VALUES `;
  const statements: { sql: string; values: Value[] }[] = [];
  let tuples: string[] = [];
  let length = head.length;
  for (const row of rows) {
    const tuple = `(${row.map(literal).join(", ")})`;
    if (tuples.length && length + tuple.length + 2 > MAX_STATEMENT_BYTES) {
      statements.push({ sql: head + tuples.join(", "), values: [] });
      tuples = [];
      length = head.length;
    }
    tuples.push(tuple);
    length += tuple.length + 2;
  }
  if (tuples.length) statements.push({ sql: head + tuples.join(", "), values: [] });
  return statements;
}

type Run = (statements: { sql: string; values: Value[] }[]) => Promise<void>;

async function main(): Promise<void> {
  const quiet = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
  execFileSync(
    "node_modules/.bin/wrangler",
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", STATE_DIR],
    {
      env: quiet,
      stdio: AS_JSON ? "ignore" : "inherit",
    },
  );
  const proxy = await getPlatformProxy<{ DB: D1Database; BUCKET: R2Bucket }>({
    configPath: "wrangler.toml",
    persist: { path: `${STATE_DIR}/v3` },
    remoteBindings: false,
  });
  try {
    const { DB: db, BUCKET: bucket } = proxy.env;
    const run: Run = async (statements) => {
      for (let start = 0; start < statements.length; start += STATEMENTS_PER_BATCH) {
        await db.batch(
          statements.slice(start, start + STATEMENTS_PER_BATCH).map((s) => db.prepare(s.sql).bind(...s.values)),
        );
      }
    };
    const images = await makeImages();
    for (const person of people()) {
      const started = Date.now();
      const summary = await seedPerson(db, bucket, run, images, person);
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      if (AS_JSON) console.log(JSON.stringify({ ...summary, seconds }));
      else
        console.log(
          `Seeded ${summary.images} images in ${summary.generations} generations and ${summary.sessions} sessions in ${seconds} s.\nSign in as ${person.email} / ${PASSWORD}, or use Authorization: Bearer ${summary.token}`,
        );
    }
  } finally {
    await proxy.dispose();
  }
}

/** One person's account, token, sessions, generations and outputs (pointing at the shared images). */
async function seedPerson(db: D1Database, bucket: R2Bucket, run: Run, images: readonly SeedImage[], person: Person) {
  const { email, images: imageCount, perSession } = person;
  const existing = await db.prepare("SELECT id FROM users WHERE email = ?").bind(email).first<{ id: string }>();
  const userId = existing?.id ?? newId("usr");
  if (!existing) {
    await db
      .prepare("INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)")
      .bind(userId, email, await hashPassword(PASSWORD, pepper()), Date.now())
      .run();
  }
  const token = `isk_${randomToken()}`;
  await db
    .prepare("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)")
    .bind(newId("tok"), userId, "seed", await sha256Hex(token), Date.now())
    .run();

  const keys = images.map((_, index) => `outputs/${userId}/seed/${index}`);
  for (const [index, image] of images.entries()) {
    await bucket.put(keys[index]!, image.bytes, {
      httpMetadata: { contentType: "image/webp" },
      customMetadata: { sha256: image.sha256 },
    });
  }

  const next = random(imageCount);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const pickModel = () => {
    let roll = next();
    for (const [model, share] of MODELS) {
      roll -= share;
      if (roll < 0) return model;
    }
    return MODELS[0]?.[0] ?? "black-forest-labs/flux-schnell";
  };
  // About 40 images a session (--per-session) and 2 a generation; spread over the last year, oldest first.
  const sessionCount = Math.max(1, Math.round(imageCount / perSession));
  const now = Date.now();
  const span = 365 * 86_400_000;
  const sessions: Value[][] = [];
  const generations: Value[][] = [];
  const assets: Value[][] = [];
  const sessionIds = Array.from({ length: sessionCount }, (_, i) => newId("ses", now - span + i));
  const titled = new Set<string>();
  let made = 0;
  let generationIndex = 0;
  const generationStep = Math.max(4, Math.floor(span / Math.max(1, imageCount / 1.8)));
  while (made < imageCount) {
    const at = now - span + generationIndex * generationStep;
    const sessionId = sessionIds[Math.min(sessionCount - 1, Math.floor((made / imageCount) * sessionCount))]!;
    const prompt = `A ${pick(SUBJECTS)} ${pick(SETTINGS)}, ${pick(STYLES)}`;
    const roll = next();
    const status = roll < 0.05 ? "failed" : roll < 0.08 ? "canceled" : "succeeded";
    const outputs =
      status === "failed" ? 0 : status === "canceled" ? 1 : Math.min(imageCount - made, 1 + Math.floor(next() * 3));
    const model = pickModel();
    const size = Math.floor(next() * SIZES.length);
    const [width, height] = SIZES[size]!;
    const generationId = newId("gen", at);
    if (!titled.has(sessionId)) {
      titled.add(sessionId);
      sessions.push([sessionId, userId, titleFromPrompt(prompt), model, at, at, at]);
    }
    generations.push([
      generationId,
      userId,
      sessionId,
      status,
      model,
      prompt,
      JSON.stringify({ width, height, numOutputs: Math.max(1, outputs), seed: Math.floor(next() * 2 ** 32) }),
      status === "succeeded" ? 1 : 0,
      status === "failed" ? "The model failed: out of memory" : null,
      at,
      at + 500,
      at + 1500,
      1500,
    ]);
    for (let index = 0; index < outputs; index++) {
      const image = images[size]!;
      assets.push([
        newId("ast", at + 1500 + index),
        userId,
        generationId,
        "output",
        index,
        keys[size]!,
        "image/webp",
        image.bytes.length,
        width,
        height,
        image.sha256,
        at + 1500 + index,
        next() < 0.03 ? 1 : 0,
      ]);
      made++;
    }
    generationIndex++;
  }
  await run(
    inserts(
      "image_sessions",
      ["id", "user_id", "title", "model", "last_activity_at", "created_at", "updated_at"],
      sessions,
    ),
  );
  await run(
    inserts(
      "generations",
      [
        "id",
        "user_id",
        "session_id",
        "status",
        "model",
        "prompt",
        "params",
        "progress",
        "error",
        "created_at",
        "submitted_at",
        "completed_at",
        "duration_ms",
      ],
      generations,
    ),
  );
  await run(
    inserts(
      "assets",
      [
        "id",
        "user_id",
        "generation_id",
        "role",
        "output_index",
        "r2_key",
        "mime_type",
        "size_bytes",
        "width",
        "height",
        "sha256",
        "created_at",
        "favorite",
      ],
      assets,
    ),
  );
  // The counters and thumbnails the rooms keep, in one pass.
  await db
    .prepare(
      `UPDATE image_sessions SET
        generation_count = (SELECT count(*) FROM generations g WHERE g.session_id = image_sessions.id),
        succeeded_count = (SELECT count(*) FROM generations g WHERE g.session_id = image_sessions.id AND g.status = 'succeeded'),
        failed_count = (SELECT count(*) FROM generations g WHERE g.session_id = image_sessions.id AND g.status IN ('failed', 'timed_out')),
        thumbnail_asset_id = (SELECT a.id FROM assets a WHERE a.session_id = image_sessions.id AND a.listed = 1 ORDER BY a.gallery_key DESC LIMIT 1),
        last_activity_at = coalesce((SELECT max(created_at) FROM generations g WHERE g.session_id = image_sessions.id), last_activity_at),
        updated_at = coalesce((SELECT max(created_at) FROM generations g WHERE g.session_id = image_sessions.id), updated_at)
      WHERE user_id = ?`,
    )
    .bind(userId)
    .run();
  // Planner statistics, as D1 keeps them.
  await db.prepare("PRAGMA optimize").run();
  return {
    stateDir: STATE_DIR,
    userId,
    email: email,
    password: PASSWORD,
    token,
    sessions: sessions.length,
    generations: generations.length,
    images: assets.length,
    searchWord: SUBJECTS[0],
  };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
