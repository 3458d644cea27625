/**
 * Whether a failure is worth another try, and how long to wait before it. The session room
 * (preparing and submitting a prediction), the completions consumer (storing outputs) and the cron
 * sweep (handing a generation to its room) decide with `isRetryable` alone and back off with
 * `retryDelayMs`; each bounds its own number of attempts.
 */
import { DrizzleQueryError } from "drizzle-orm";

/** A failure we raise on purpose, saying whether trying again later could help. */
export class PipelineError extends Error {
  readonly retryable: boolean;
  /** How long the other side asked us to wait (Retry-After), if it said. */
  readonly retryAfterMs: number | null;

  constructor(message: string, options: { retryable: boolean; retryAfterMs?: number | null }) {
    super(message);
    this.name = "PipelineError";
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/**
 * Our own failures say whether they are retryable. Anything else — D1, R2, fetch, a Durable Object
 * call — is presumed transient: every caller bounds its attempts, so a failure that is in fact
 * permanent costs a few tries, while a hiccup taken for permanent would fail a generation for good.
 */
export const isRetryable = (error: unknown): boolean => (error instanceof PipelineError ? error.retryable : true);

/** The wait the other side asked for, if any. */
export const retryAfterOf = (error: unknown): number | null =>
  error instanceof PipelineError ? error.retryAfterMs : null;

/** Exponential backoff: 2 s, 4 s, 8 s … up to `maxMs`. `attempts` counts the tries made so far. */
export const retryDelayMs = (attempts: number, maxMs: number): number =>
  Math.min(maxMs, 1_000 * 2 ** Math.max(1, attempts));

/**
 * A failure as a user may read it on their generation: a failed query says what D1 answered,
 * without the statement and its parameters.
 */
export function failureReason(error: unknown): string {
  if (error instanceof DrizzleQueryError) return `The database failed: ${failureReason(error.cause)}`;
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : "Unknown error";
}
