/**
 * Listing at scale, on loopback only: for each size (default 1k, 10k and 100k images), a fresh
 * database is seeded (`npm run seed`) and the app starts as `npm run dev` starts it; then each
 * listing request is timed, one at a time, against each Worker's own socket: the gallery's first
 * page, a page 90% of the way down (by its cursor), a search, and the session list. Reports p50 and p99
 * per size and the ratio of p99 at the largest size to p99 at the smallest (target ≤ 1.5), and the
 * query plans at the largest size.
 *
 *   npm run bench -- --only listing [--sizes 1000,10000,100000] [--requests 200]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getPlatformProxy } from "wrangler";
import { type SeedSummary, type Stack, seedState, startStack } from "../../web/e2e/stack";
import { createDb } from "../db/client";
import { explain, queryShapes } from "./query-shapes";
import { percentile, workerSocket } from "./support";

export type ListingResult = {
  sizes: number[];
  /** request name → size → latencies summary */
  rows: { request: string; size: number; p50: number; p99: number }[];
  ratios: { request: string; ratio: number }[];
  plans: { name: string; plan: string[] }[];
  seedSeconds: Record<number, number>;
};

const REQUESTS = [
  "GET /api/images (first page)",
  "GET /api/images (page at 90%)",
  "GET /api/images?q=",
  "GET /api/sessions",
] as const;

async function timeOne(url: string, token: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
  return performance.now() - started;
}

/** The cursor of the page 90% of the way down the gallery, found by walking it. */
async function deepCursor(base: string, token: string, images: number): Promise<string> {
  let cursor = "";
  let seen = 0;
  while (seen < images * 0.9) {
    const response = await fetch(
      `${base}/api/images?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      {
        headers: { Authorization: `Bearer ${token}` },
      },
    );
    const page = (await response.json()) as { items: unknown[]; nextCursor: string | null };
    seen += page.items.length;
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return cursor;
}

async function plansAt(stateDir: string, seed: SeedSummary): Promise<{ name: string; plan: string[] }[]> {
  const proxy = await getPlatformProxy<{ DB: D1Database }>({
    configPath: "wrangler.toml",
    persist: { path: `${stateDir}/v3` },
    remoteBindings: false,
  });
  try {
    const shapes = queryShapes(createDb(proxy.env.DB), seed.userId);
    const plans: { name: string; plan: string[] }[] = [];
    for (const shape of shapes) plans.push({ name: shape.name, plan: await explain(proxy.env.DB, shape) });
    return plans;
  } finally {
    await proxy.dispose();
  }
}

type Target = { size: number; token: string; urls: Record<(typeof REQUESTS)[number], string> };

/**
 * All sizes are up at once and their requests interleave (size after size, request after request),
 * so whatever else the machine does falls on every size alike and the ratios compare like with like.
 */
export async function runListing(sizes: number[], requests: number): Promise<ListingResult> {
  const seedSeconds: Record<number, number> = {};
  let plans: ListingResult["plans"] = [];
  const stateDirs: string[] = [];
  const stacks: Stack[] = [];
  try {
    const seeds: SeedSummary[] = [];
    for (const size of sizes) {
      const stateDir = mkdtempSync(join(tmpdir(), `studio-bench-${size}-`));
      stateDirs.push(stateDir);
      const started = performance.now();
      const [seed] = await seedState(stateDir, [{ images: size }]);
      if (!seed) throw new Error(`Seeding ${size} images failed`);
      seedSeconds[size] = Math.round((performance.now() - started) / 1000);
      if (size === Math.max(...sizes)) plans = await plansAt(stateDir, seed);
      seeds.push(seed);
      stacks.push(await startStack({ stateDir }));
    }
    // Each start builds the web app, which makes the stacks already running reload: find the
    // Workers' sockets once every stack is up and settled.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const targets: Target[] = [];
    for (const [index, size] of sizes.entries()) {
      const seed = seeds[index]!;
      const base = await workerSocket(stacks[index]!);
      const cursor = await deepCursor(base, seed.token, seed.images);
      targets.push({
        size,
        token: seed.token,
        urls: {
          "GET /api/images (first page)": `${base}/api/images?limit=50`,
          "GET /api/images (page at 90%)": `${base}/api/images?limit=50&cursor=${encodeURIComponent(cursor)}`,
          "GET /api/images?q=": `${base}/api/images?limit=50&q=${seed.searchWord}`,
          "GET /api/sessions": `${base}/api/sessions?limit=24`,
        },
      });
    }
    const latencies = new Map<string, number[]>();
    // The first ten rounds warm every isolate and SQLite's page cache; they are not counted.
    for (let round = 0; round < requests + 10; round++) {
      for (const request of REQUESTS) {
        for (const target of targets) {
          const ms = await timeOne(target.urls[request], target.token);
          if (round < 10) continue;
          const key = `${request} ${target.size}`;
          latencies.set(key, [...(latencies.get(key) ?? []), ms]);
        }
      }
    }
    const rows: ListingResult["rows"] = REQUESTS.flatMap((request) =>
      sizes.map((size) => {
        const measured = latencies.get(`${request} ${size}`) ?? [];
        return { request, size, p50: percentile(measured, 50), p99: percentile(measured, 99) };
      }),
    );
    const smallest = Math.min(...sizes);
    const largest = Math.max(...sizes);
    const ratios = REQUESTS.map((request) => {
      const at = (size: number) => rows.find((row) => row.request === request && row.size === size)?.p99 ?? Number.NaN;
      return { request, ratio: at(largest) / at(smallest) };
    });
    return { sizes, rows, ratios, plans, seedSeconds };
  } finally {
    for (const stack of stacks) await stack.stop();
    for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
  }
}
