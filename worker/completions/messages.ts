/** The messages carried by the completions queue: a prediction's state, from a webhook or a poll. */
import { z } from "zod";

export const completionMessageSchema = z.object({
  type: z.literal("prediction"),
  source: z.enum(["webhook", "poll"]),
  /** The prediction as Replicate sent it; validated again by the consumer. */
  prediction: z.unknown(),
  receivedAt: z.number(),
  /** The delivery's `webhook-id`: a repeat of one already processed is only acknowledged. */
  webhookId: z.string().optional(),
  /**
   * The session the webhook URL named (a hint, not trusted: it is not signed). Its room is asked
   * whether it already applied a terminal state, which spares the consumer D1 and R2 when it has.
   */
  sessionId: z.string().optional(),
});
export type CompletionMessage = z.infer<typeof completionMessageSchema>;
