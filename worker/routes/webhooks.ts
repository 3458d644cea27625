import { Hono } from "hono";
import type { CompletionMessage } from "../completions/messages";
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
 * Replicate's signed webhooks: verified, put on the completions queue (the durable path) and
 * acknowledged at once; the session's room gets the same state after the answer (the fast path).
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

  // Repeats (same webhook-id) are queued too and recognised by the consumer, which keeps this path
  // free of database round trips: it only verifies and hands over.
  const webhookId = verdict.webhookId;
  await c.env.COMPLETIONS.send({
    type: "prediction",
    source: "webhook",
    prediction: queuedPrediction(prediction.data),
    receivedAt: Date.now(),
    webhookId,
  } satisfies CompletionMessage);
  // The fast path: the session's room stores and pushes the state at once, while Replicate already
  // has its answer. The queued copy is the guaranteed path; both are idempotent together.
  const sessionId = c.req.query("session");
  if (sessionId && SESSION_ID.test(sessionId)) {
    const room = c.env.SESSION_ROOM.getByName(sessionId);
    c.executionCtx.waitUntil(
      room
        .receiveWebhook(queuedPrediction(prediction.data))
        .catch((error: unknown) =>
          log.warn("webhook.fast_path_failed", { predictionId: prediction.data.id, error: errorMessage(error) }),
        ),
    );
  }
  log.debug("webhook.accepted", { predictionId: prediction.data.id, status: prediction.data.status, webhookId });
  return c.json({ ok: true });
});
