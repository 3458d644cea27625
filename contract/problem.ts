/**
 * RFC 9457 problem details, the one error shape of the API. Written with `zod/mini` so the web app
 * can check error answers without loading the whole of zod.
 */
import * as z from "zod/mini";

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  errors: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
  /** For 429 and quota 403s: the limit that was reached, and when it resets. */
  limit: z.optional(z.object({ name: z.string(), max: z.number(), used: z.number(), resetsAt: z.string() })),
});
export type Problem = z.infer<typeof problemSchema>;
