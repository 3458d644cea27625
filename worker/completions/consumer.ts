/**
 * The completions queue consumer. Each message is a prediction's state (from a webhook or a poll).
 * Terminal successes have their outputs downloaded into R2 first; then the session's Durable Object
 * applies the state exactly once. Failures retry with backoff; what still fails lands in the
 * dead-letter queue, whose consumer records the reason on the generation.
 */
import { isTerminalStatus } from "../contract/api";
import { createDb, type Database } from "../db/client";
import { findGenerationByPrediction, recordPipelineError } from "../generations/lifecycle";
import { OutputDownloadError, storeOutputs } from "../generations/outputs";
import { readConfig, type AppConfig } from "../lib/config";
import { errorMessage, log } from "../lib/logger";
import { outputUrls, predictionSchema } from "../replicate/prediction";
import { completionMessageSchema } from "./messages";

export const DEAD_LETTER_QUEUE = "image-studio-completions-dlq";

/** Backoff for redelivery: 2 s, 4 s, 8 s … capped at 5 minutes. */
export const retryDelaySeconds = (attempts: number): number => Math.min(300, 2 ** Math.max(1, attempts));

const sessionRoom = (env: Env, sessionId: string) => env.SESSION_ROOM.getByName(sessionId);

async function processMessage(env: Env, db: Database, config: AppConfig, body: unknown): Promise<void> {
  const message = completionMessageSchema.safeParse(body);
  const prediction = message.success ? predictionSchema.safeParse(message.data.prediction) : null;
  if (!message.success || !prediction?.success) {
    log.warn("completion.malformed_message");
    return;
  }
  const generation = await findGenerationByPrediction(db, prediction.data.id);
  if (!generation) {
    // Not ours (or a prediction we abandoned, e.g. a duplicate create): nothing to do.
    log.info("completion.unknown_prediction", { predictionId: prediction.data.id });
    return;
  }
  // A generation that finished otherwise (failed, canceled) never takes outputs afterwards.
  if (isTerminalStatus(generation.status) && generation.status !== "succeeded") return;
  if (prediction.data.status === "succeeded") {
    // Also repairs a succeeded generation whose object went missing (a crash between R2 and D1).
    await storeOutputs(db, env.BUCKET, generation, outputUrls(prediction.data), config.outputHosts);
  }
  // Nothing can change a generation that has finished: spare the room the call.
  if (isTerminalStatus(generation.status)) return;
  await sessionRoom(env, generation.sessionId).applyPrediction(generation.id, prediction.data);
}

export async function consumeCompletions(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  const config = readConfig(env);
  if (batch.queue === DEAD_LETTER_QUEUE) {
    await consumeDeadLetters(batch, env, db);
    return;
  }
  // Messages are independent (every step is idempotent and the room serialises transitions), so a
  // batch is processed concurrently.
  await Promise.all(batch.messages.map((message) => handleMessage(env, db, config, message)));
}

async function handleMessage(env: Env, db: Database, config: AppConfig, message: Message<unknown>): Promise<void> {
  try {
    await processMessage(env, db, config, message.body);
    message.ack();
    log.info("completion.processed", { attempts: message.attempts });
  } catch (error) {
    const reason = errorMessage(error);
    const prediction = predictionSchema.safeParse(completionMessageSchema.safeParse(message.body).data?.prediction);
    const generation = prediction.success ? await findGenerationByPrediction(db, prediction.data.id) : undefined;
    log.warn("completion.failed", {
      predictionId: prediction.success ? prediction.data.id : undefined,
      generationId: generation?.id,
      attempts: message.attempts,
      error: reason,
    });
    if (generation) await recordPipelineError(db, generation.id, reason);
    if (error instanceof OutputDownloadError && error.permanent && generation) {
      await sessionRoom(env, generation.sessionId).failGeneration(generation.id, `Could not keep the output: ${reason}`);
      message.ack();
    } else {
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}

/** Messages that failed every retry: the generation fails with the last reason recorded. */
async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env, db: Database): Promise<void> {
  for (const message of batch.messages) {
    const prediction = predictionSchema.safeParse(completionMessageSchema.safeParse(message.body).data?.prediction);
    const generation = prediction.success ? await findGenerationByPrediction(db, prediction.data.id) : undefined;
    if (generation) {
      const reason = generation.pipelineError ?? "the completion could not be processed";
      log.error("completion.dead_lettered", { generationId: generation.id, predictionId: generation.predictionId ?? undefined, error: reason });
      await sessionRoom(env, generation.sessionId).failGeneration(
        generation.id,
        `Could not keep the outputs after several attempts: ${reason}`,
      );
    }
    message.ack();
  }
}
