/**
 * The chaos tests (worker/test/chaos/*.test.ts) put the completion pipeline under chaos on the real
 * local Queue, Durable Objects, D1 and R2, with the emulator's faults: duplicated, shuffled, late
 * and lost webhooks, failing downloads, crashes between the R2 write and the D1 commit, handlers run
 * twice, live sockets under load.
 *
 * Their shared pieces: a seeded shuffle, batched concurrency, cheap D1 polling of many generations,
 * and predictions run to completion at the emulator.
 */
import { env } from "cloudflare:test";
import type { Generation } from "@contract/api";
import { sha256Hex } from "../../lib/ids";
import {
  createGeneration,
  createSession,
  getGeneration,
  type RecordedWebhook,
  setLimits,
  type TestUser,
  terminalWebhooks,
  waitFor,
} from "../helpers";

export function shuffle<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

export async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

export type Row = { id: string; status: string; prediction_id: string | null };

/** One D1 query for many generations, instead of one API request each (keeps the runtime free for the work under test). */
export async function rowsOf(ids: string[]): Promise<Row[]> {
  const placeholders = ids.map(() => "?").join(",");
  const { results } = await env.DB.prepare(
    `SELECT id, status, prediction_id FROM generations WHERE id IN (${placeholders})`,
  )
    .bind(...ids)
    .all<Row>();
  return results;
}

export const allRows = (ids: string[], predicate: (row: Row) => boolean, what: string, timeoutMs = 120_000) =>
  waitFor(
    async () => {
      const rows = await rowsOf(ids);
      return rows.length === ids.length && rows.every(predicate) ? rows : null;
    },
    { timeoutMs, intervalMs: 500, what },
  );

/** Creates `count` generations spread over sessions of four, and waits until Replicate finished them all. */
export async function finishedAtReplicate(
  user: TestUser,
  count: number,
  prompt: string,
): Promise<{ generations: Generation[]; webhooks: Map<string, RecordedWebhook[]> }> {
  // More at once than one person may start by default.
  await setLimits(user, { generationsPerMinute: count + 10 });
  const sessions = await Promise.all(Array.from({ length: Math.ceil(count / 4) }, () => createSession(user)));
  const created: Generation[] = [];
  await inBatches(
    Array.from({ length: count }, (_, i) => i),
    10,
    async (i) => {
      created[i] = await createGeneration(user, sessions[Math.floor(i / 4)]!.id, { prompt: `${prompt} ${i}` });
    },
  );
  await allRows(
    created.map((g) => g.id),
    (row) => row.prediction_id !== null,
    "every generation to be submitted",
  );
  const generations = await Promise.all(created.map((g) => getGeneration(user, g.id)));
  const webhooks = new Map<string, RecordedWebhook[]>();
  for (const generation of generations) webhooks.set(generation.id, await terminalWebhooks(generation.predictionId!));
  return { generations, webhooks };
}

export async function sourceSha(webhooks: RecordedWebhook[]): Promise<string> {
  const terminal = JSON.parse(webhooks.find((w) => w.status === "succeeded")!.body) as { output: string[] };
  return sha256Hex(new Uint8Array(await (await fetch(terminal.output[0]!)).arrayBuffer()));
}
