/**
 * The completions queue consumer. Each message is a prediction's state (from a webhook or a poll).
 * Terminal successes have their outputs downloaded into R2 first; then the session's Durable Object
 * applies the state exactly once. Failures retry with backoff; what still fails lands in the
 * dead-letter queue, whose consumer records it, makes one last attempt, and otherwise fails the
 * generation with the reason. (While the dead-letter queue's delivery is paused, its messages wait:
 * resuming delivery replays them, see docs/operations.md.)
 *
 * A batch costs a fixed handful of D1 statements, not a few per message: the webhook-ids already
 * processed, the generations and their recorded outputs are each read once for the whole batch.
 * A terminal state whose webhook named its session is first put to that session's room, one call
 * per session: the room usually applied it already (the webhook's fast path), and then the message
 * is acknowledged without reading D1 or R2.
 */

import { isTerminalStatus } from "@contract/api";
import { inArray, sql } from "drizzle-orm";
import { createDb, D1_MAX_BOUND_PARAMETERS, type Database } from "../db/client";
import { deadLetters, type GenerationRow, generations, webhookReceipts } from "../db/schema";
import { findGenerationByPrediction, recordPipelineError } from "../generations/lifecycle";
import { findRecordedOutputs, keepOutputs, type RecordedOutputs, recordOutputs } from "../generations/outputs";
import { isTerminalPrediction } from "../generations/status";
import { chunks } from "../lib/chunks";
import { type AppConfig, readConfig } from "../lib/config";
import { newId } from "../lib/ids";
import { log } from "../lib/logger";
import { failureReason, isRetryable, retryDelayMs } from "../lib/retryable";
import { outputUrls, type Prediction, predictionSchema } from "../replicate/prediction";
import { type CompletionMessage, completionMessageSchema } from "./messages";

/** Each environment names its queues (`image-studio[-env]-completions`); the dead-letter one ends in `-dlq`. */
export const isDeadLetterQueue = (queue: string): boolean => queue.endsWith("-dlq");

/** Redelivery backs off up to this; after the queue's last retry the message is dead-lettered. */
const MAX_REDELIVERY_DELAY_MS = 5 * 60_000;

/** How many predictions of one batch are worked on at once (each may hold a downloaded output in memory). */
const PREDICTIONS_IN_PARALLEL = 8;

const sessionRoom = (env: Env, sessionId: string) => env.SESSION_ROOM.getByName(sessionId);

type Delivery = { message: Message<unknown>; completion: CompletionMessage; prediction: Prediction };

/** What the batch already knows, read once for all its messages. */
type BatchContext = {
  env: Env;
  db: Database;
  config: AppConfig;
  generations: Map<string, GenerationRow>;
  recorded: RecordedOutputs;
  /** Generations this batch brought to a terminal state, and by which path (webhook or poll). */
  completed: Map<string, CompletionMessage["source"]>;
};

function parseDelivery(message: Message<unknown>): Delivery | null {
  const completion = completionMessageSchema.safeParse(message.body);
  if (!completion.success) return null;
  const prediction = predictionSchema.safeParse(completion.data.prediction);
  return prediction.success ? { message, completion: completion.data, prediction: prediction.data } : null;
}

export async function consumeCompletions(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  if (isDeadLetterQueue(batch.queue)) {
    await consumeDeadLetters(batch, env, db);
    return;
  }
  const deliveries: Delivery[] = [];
  for (const message of batch.messages) {
    const delivery = parseDelivery(message);
    if (delivery) deliveries.push(delivery);
    else {
      log.warn("completion.malformed_message");
      message.ack();
    }
  }

  // Replicate repeats a webhook under the same webhook-id until it gets a 2xx: one already
  // processed is acknowledged again and nothing more.
  const processed = await findProcessedWebhooks(
    db,
    deliveries.map((delivery) => delivery.completion.webhookId),
  );
  const unseen: Delivery[] = [];
  for (const delivery of deliveries) {
    if (processed.has(delivery.completion.webhookId ?? "")) delivery.message.ack();
    else unseen.push(delivery);
  }
  const { applied, fresh } = await settledByRooms(env, unseen);
  for (const delivery of applied) delivery.message.ack();

  // The same state of the same prediction several times in one batch has one effect: the latest
  // copy (freshest logs) stands for all of them.
  const byState = new Map<string, Delivery[]>();
  for (const delivery of fresh) {
    const key = `${delivery.prediction.id} ${delivery.prediction.status}`;
    byState.set(key, [...(byState.get(key) ?? []), delivery]);
  }
  const groups = [...byState.values()];

  const found = await findGenerationsByPrediction(db, [...new Set(fresh.map((delivery) => delivery.prediction.id))]);
  const withOutputs = groups.flatMap(([first]) =>
    first?.prediction.status === "succeeded" ? (found.get(first.prediction.id)?.id ?? []) : [],
  );
  const context: BatchContext = {
    env,
    db,
    config: readConfig(env),
    generations: found,
    recorded: await findRecordedOutputs(db, withOutputs),
    completed: new Map(),
  };

  const acknowledged: Delivery[] = [...applied];
  for (const slice of chunks(groups, PREDICTIONS_IN_PARALLEL)) {
    for (const done of await Promise.all(slice.map((group) => settleState(context, group)))) acknowledged.push(...done);
  }
  await recordProcessedWebhooks(
    db,
    acknowledged.map((delivery) => delivery.completion.webhookId),
  );
  await recordCompletionSources(db, context.completed);
  const retried = fresh.length + applied.length - acknowledged.length;
  // A batch whose every state the rooms had already applied tells nothing new: at debug.
  (fresh.length > 0 || retried > 0 ? log.info : log.debug)("completion.batch", {
    messages: batch.messages.length,
    repeats: deliveries.length - unseen.length,
    applied: applied.length,
    retried,
  });
}

/** How many sessions' rooms are asked at once. */
const ROOMS_IN_PARALLEL = 8;

/**
 * Splits terminal states into those their session's room has already applied (one call per room;
 * it waits for a state it is applying right now) and the rest, which the consumer works on. A room
 * that cannot answer, or names no such prediction, leaves its messages to D1 as before.
 */
async function settledByRooms(
  env: Env,
  deliveries: readonly Delivery[],
): Promise<{ applied: Delivery[]; fresh: Delivery[] }> {
  const bySession = new Map<string, Delivery[]>();
  for (const delivery of deliveries) {
    const sessionId = delivery.completion.sessionId;
    if (!sessionId || !isTerminalPrediction(delivery.prediction)) continue;
    bySession.set(sessionId, [...(bySession.get(sessionId) ?? []), delivery]);
  }
  const appliedSet = new Set<Delivery>();
  for (const slice of chunks([...bySession], ROOMS_IN_PARALLEL)) {
    await Promise.all(
      slice.map(async ([sessionId, inSession]) => {
        try {
          const known = await sessionRoom(env, sessionId).appliedTerminal([
            ...new Set(inSession.map((delivery) => delivery.prediction.id)),
          ]);
          for (const delivery of inSession) if (known[delivery.prediction.id]) appliedSet.add(delivery);
        } catch (error) {
          log.warn("completion.room_unanswered", { sessionId, error: failureReason(error) });
        }
      }),
    );
  }
  return {
    applied: deliveries.filter((delivery) => appliedSet.has(delivery)),
    fresh: deliveries.filter((delivery) => !appliedSet.has(delivery)),
  };
}

/** Applies one prediction state; returns the deliveries acknowledged (all of them, unless it is retried). */
async function settleState(context: BatchContext, group: Delivery[]): Promise<Delivery[]> {
  const latest = group.reduce((a, b) => (b.completion.receivedAt > a.completion.receivedAt ? b : a));
  const copies = group.filter((delivery) => delivery !== latest);
  for (const copy of copies) copy.message.ack();
  const generation = context.generations.get(latest.prediction.id);
  try {
    await applyPrediction(context, latest.prediction, generation);
    if (generation && !isTerminalStatus(generation.status) && isTerminalPrediction(latest.prediction)) {
      context.completed.set(generation.id, latest.completion.source);
    }
    latest.message.ack();
    return group;
  } catch (error) {
    const reason = failureReason(error);
    log.warn("completion.failed", {
      predictionId: latest.prediction.id,
      generationId: generation?.id,
      attempts: latest.message.attempts,
      error: reason,
    });
    // Kept for the dead-letter consumer; failing to keep it must not stop the retry.
    if (generation) {
      await recordPipelineError(context.db, generation.id, reason).catch((recordError: unknown) =>
        log.warn("completion.reason_not_recorded", { generationId: generation.id, error: failureReason(recordError) }),
      );
    }
    if (!isRetryable(error) && generation) {
      await sessionRoom(context.env, generation.sessionId).failGeneration(
        generation.id,
        `Could not keep the output: ${reason}`,
      );
      latest.message.ack();
      return group;
    }
    latest.message.retry({
      delaySeconds: retryDelayMs(latest.message.attempts, MAX_REDELIVERY_DELAY_MS) / 1_000,
    });
    return copies;
  }
}

async function applyPrediction(
  context: BatchContext,
  prediction: Prediction,
  generation: GenerationRow | undefined,
): Promise<void> {
  if (!generation) {
    // Not ours (or a prediction we abandoned, e.g. a duplicate create): nothing to do.
    log.info("completion.unknown_prediction", { predictionId: prediction.id });
    return;
  }
  // A generation that finished otherwise (failed, canceled) never takes outputs afterwards.
  if (isTerminalStatus(generation.status) && generation.status !== "succeeded") return;
  if (prediction.status === "succeeded") {
    // Also repairs a succeeded generation whose object went missing (a crash between R2 and D1).
    const { env, db, config, recorded } = context;
    const kept = await keepOutputs(
      db,
      env.BUCKET,
      generation,
      outputUrls(prediction),
      config.outputHosts,
      recorded.get(generation.id) ?? new Map(),
      env.IMAGES,
    );
    await recordOutputs(db, kept);
  }
  // Nothing can change a generation that has finished: spare the room the call.
  if (isTerminalStatus(generation.status)) return;
  await sessionRoom(context.env, generation.sessionId).applyPrediction(generation.id, prediction);
}

async function findGenerationsByPrediction(
  db: Database,
  predictionIds: readonly string[],
): Promise<Map<string, GenerationRow>> {
  const found = new Map<string, GenerationRow>();
  for (const ids of chunks(predictionIds, D1_MAX_BOUND_PARAMETERS)) {
    for (const row of await db.select().from(generations).where(inArray(generations.predictionId, ids))) {
      if (row.predictionId) found.set(row.predictionId, row);
    }
  }
  return found;
}

async function findProcessedWebhooks(db: Database, webhookIds: readonly (string | undefined)[]): Promise<Set<string>> {
  const ids = [...new Set(webhookIds.filter((id): id is string => id !== undefined))];
  const processed = new Set<string>();
  for (const slice of chunks(ids, D1_MAX_BOUND_PARAMETERS)) {
    for (const row of await db
      .select({ id: webhookReceipts.id })
      .from(webhookReceipts)
      .where(inArray(webhookReceipts.id, slice))) {
      processed.add(row.id);
    }
  }
  return processed;
}

/** Written after the effect: a crash in between only lets a repeat through, which changes nothing. */
async function recordProcessedWebhooks(db: Database, webhookIds: readonly (string | undefined)[]): Promise<void> {
  const ids = [...new Set(webhookIds.filter((id): id is string => id !== undefined))];
  const receivedAt = new Date();
  // Two parameters per row.
  for (const slice of chunks(ids, D1_MAX_BOUND_PARAMETERS / 2)) {
    await db
      .insert(webhookReceipts)
      .values(slice.map((id) => ({ id, receivedAt })))
      .onConflictDoNothing();
  }
}

/**
 * Which path finished each generation, for the operations stats: one statement for the batch, and
 * only the first word counts (a later repeat through the other path changes nothing).
 */
async function recordCompletionSources(db: Database, completed: Map<string, CompletionMessage["source"]>) {
  // Three parameters per generation.
  for (const slice of chunks([...completed], Math.floor(D1_MAX_BOUND_PARAMETERS / 3))) {
    const cases = sql.join(
      slice.map(([id, source]) => sql`WHEN ${id} THEN ${source}`),
      sql` `,
    );
    const ids = sql.join(
      slice.map(([id]) => sql`${id}`),
      sql`, `,
    );
    await db.run(
      sql`UPDATE generations SET completed_via = CASE id ${cases} END WHERE id IN (${ids}) AND completed_via IS NULL`,
    );
  }
}

/**
 * Messages that failed every retry. Each is recorded, then tried once more (the cause may be gone:
 * after an outage, paused dead-letter delivery replays its messages this way); if that fails too,
 * the generation fails with the reason.
 */
async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env, db: Database): Promise<void> {
  for (const message of batch.messages) {
    const delivery = parseDelivery(message);
    const generation = delivery ? await findGenerationByPrediction(db, delivery.prediction.id) : undefined;
    if (!delivery || !generation) {
      await recordDeadLetter(db, { generation, predictionId: delivery?.prediction.id, outcome: "unknown_prediction" });
      message.ack();
      continue;
    }
    const context: BatchContext = {
      env,
      db,
      config: readConfig(env),
      generations: new Map([[delivery.prediction.id, generation]]),
      recorded: await findRecordedOutputs(db, delivery.prediction.status === "succeeded" ? [generation.id] : []),
      completed: new Map(),
    };
    try {
      await applyPrediction(context, delivery.prediction, generation);
      await recordDeadLetter(db, { generation, predictionId: delivery.prediction.id, outcome: "replayed" });
      if (!isTerminalStatus(generation.status) && isTerminalPrediction(delivery.prediction)) {
        await recordCompletionSources(db, new Map([[generation.id, delivery.completion.source]]));
      }
      log.warn("completion.dead_letter_replayed", {
        generationId: generation.id,
        predictionId: delivery.prediction.id,
      });
    } catch (error) {
      const reason = failureReason(error) || generation.pipelineError || "the completion could not be processed";
      log.error("completion.dead_lettered", {
        generationId: generation.id,
        predictionId: generation.predictionId ?? undefined,
        error: reason,
      });
      await recordDeadLetter(db, { generation, predictionId: delivery.prediction.id, outcome: "failed", reason });
      await sessionRoom(env, generation.sessionId).failGeneration(
        generation.id,
        `Could not keep the outputs after several attempts: ${reason}`,
      );
    }
    message.ack();
  }
}

async function recordDeadLetter(
  db: Database,
  letter: {
    generation: GenerationRow | undefined;
    predictionId: string | undefined;
    outcome: "replayed" | "failed" | "unknown_prediction";
    reason?: string;
  },
): Promise<void> {
  await db.insert(deadLetters).values({
    id: newId("dlq"),
    userId: letter.generation?.userId ?? null,
    generationId: letter.generation?.id ?? null,
    predictionId: letter.predictionId ?? null,
    outcome: letter.outcome,
    reason: letter.reason ?? null,
    receivedAt: new Date(),
  });
}
