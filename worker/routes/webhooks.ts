import { Hono } from "hono";
import type { CompletionMessage } from "../completions/messages";
import { isTerminalPrediction } from "../generations/status";
import type { AppEnv } from "../http/types";
import { errorMessage, log } from "../lib/logger";
import { ProblemError } from "../lib/problem";
import { ReplicateGateway } from "../replicate/gateway";
import { predictionSchema, queuedPrediction } from "../replicate/prediction";
import { verifyWebhook } from "../replicate/webhook-signature";

const MAX_WEBHOOK_BYTES = 1024 * 1024;
/** The shape of a session id (worker/lib/ids.ts); anything else never names a room. */
const SESSION_ID = /^ses_[0-9a-z]{26}$/;

/**
 * Replicate's signed webhooks: verified, a terminal state put on the completions queue (the durable
 * path), and acknowledged at once; the session's room gets the state after the answer (the fast
 * path), and a running update the room could not take is queued then.
 * Downloads and state changes happen there and in the consumer, so Replicate never waits on us.
 */
export const webhookRoutes = new Hono<AppEnv>().post("/replicate", async (c) => {
  const declared = Number(c.req.header("Content-Length") ?? 0);
  if (declared > MAX_WEBHOOK_BYTES) throw new ProblemError(413, "The webhook body is too large.");
  const rawBody = await c.req.text();
  if (rawBody.length > MAX_WEBHOOK_BYTES) throw new ProblemError(413, "The webhook body is too large.");

  const secrets = await new ReplicateGateway(c.get("config")).webhookSecrets();
  const verdict = await verifyWebhook(
    secrets,
    {
      id: c.req.header("webhook-id"),
      timestamp: c.req.header("webhook-timestamp"),
      signature: c.req.header("webhook-signature"),
    },
    rawBody,
  );
  if (!verdict.ok) {
    log.warn("webhook.rejected", { reason: verdict.reason, webhookId: c.req.header("webhook-id") });
    throw new ProblemError(401, "The webhook signature is missing, invalid or too old.");
  }

  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw new ProblemError(400, "The webhook body is not JSON.");
  }
  const prediction = predictionSchema.safeParse(body);
  if (!prediction.success) throw new ProblemError(400, "The webhook body is not a prediction.");

  // The session the webhook URL names (the room only acts on predictions it runs, so the unsigned
  // parameter cannot steer anything).
  const named = c.req.query("session");
  const sessionId = named && SESSION_ID.test(named) ? named : undefined;
  const webhookId = verdict.webhookId;
  const state = queuedPrediction(prediction.data);
  const enqueue = () =>
    c.env.COMPLETIONS.send({
      type: "prediction",
      source: "webhook",
      prediction: state,
      receivedAt: Date.now(),
      webhookId,
      ...(sessionId ? { sessionId } : {}),
    } satisfies CompletionMessage);
  // A terminal state is queued before the answer: the durable path, which Replicate's retries back
  // up. Repeats (same webhook-id) are queued too and recognised by the consumer, which keeps this
  // path free of database round trips: it only verifies and hands over.
  const terminal = isTerminalPrediction(prediction.data);
  if (terminal || !sessionId) await enqueue();
  if (sessionId) {
    // The fast path: the session's room stores and pushes the state at once, while Replicate
    // already has its answer. A running update (start, logs) goes to the room alone: Replicate never
    // retries those, a later one or the poll supersedes it, and only if the room could not take it
    // is it queued, so the consumer does not apply every update a second time.
    const room = c.env.SESSION_ROOM.getByName(sessionId);
    c.executionCtx.waitUntil(
      room
        .receiveWebhook(state, verdict.sentAt)
        .catch((error: unknown) => {
          log.warn("webhook.fast_path_failed", { predictionId: prediction.data.id, error: errorMessage(error) });
          return false;
        })
        .then((taken) => (terminal || taken ? undefined : enqueue())),
    );
  }
  log.debug("webhook.accepted", { predictionId: prediction.data.id, status: prediction.data.status, webhookId });
  return c.json({ ok: true });
});
