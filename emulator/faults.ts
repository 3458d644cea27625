/**
 * Fault injection rules, added over the control API. A rule applies only to what its `match`
 * selects, so tests sharing one emulator isolate their faults with a unique token in the prompt.
 *
 * `match.path` is a regular expression tested against: the API request path (http, cut and stall
 * faults), the create request's path (fail), the webhook URL's path + query (webhook), the download
 * path (download).
 */
import { z } from "zod";

export const WEBHOOK_EVENTS = ["start", "output", "logs", "completed"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

const matchSchema = z
  .object({
    promptIncludes: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
  })
  .strict();

const effectSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("http"),
      status: z.union([
        z.literal(401),
        z.literal(402),
        z.literal(422),
        z.literal(429),
        z.literal(500),
        z.literal(502),
        z.literal(503),
      ]),
      retryAfter: z.number().int().nonnegative().optional(),
    })
    .strict(),
  z.object({ type: z.literal("fail"), error: z.string().min(1) }).strict(),
  // The request is carried out (a create makes its prediction), then the connection closes with no
  // answer: the answer lost on its way back, the one failure a client cannot tell from "not done".
  z.object({ type: z.literal("cut") }).strict(),
  // The request is carried out, and its answer held back for `ms` of real time: a Replicate that has
  // stopped answering, for the caller's own time limit to end the wait.
  z.object({ type: z.literal("stall"), ms: z.number().int().positive().max(120_000) }).strict(),
  z
    .object({
      type: z.literal("webhook"),
      mode: z.enum(["drop", "duplicate", "delay", "reorder"]),
      events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).optional(),
      delayMs: z.number().nonnegative().optional(),
      copies: z.number().int().min(2).max(20).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("download"),
      mode: z.enum(["error", "truncate", "slow", "chunked"]),
      status: z.number().int().min(400).max(599).optional(),
      delayMs: z.number().nonnegative().max(60_000).optional(),
    })
    .strict(),
]);

export const faultRuleInputSchema = z
  .object({
    match: matchSchema.optional(),
    times: z.number().int().positive().optional(),
    effect: effectSchema,
  })
  .strict();

export type FaultRuleInput = z.infer<typeof faultRuleInputSchema>;
export type FaultEffect = z.infer<typeof effectSchema>;
export type FaultMatch = z.infer<typeof matchSchema>;
export type FaultType = FaultEffect["type"];
export type HttpFaultStatus = Extract<FaultEffect, { type: "http" }>["status"];

export interface FaultRule {
  id: string;
  match: FaultMatch;
  effect: FaultEffect;
  /** Uses left; `null` = unlimited. */
  remaining: number | null;
  hits: number;
}

/** What a fault is matched against; absent facts never match a rule that asks for them. */
export interface FaultSubject {
  prompt?: string | undefined;
  model?: string | undefined;
  path?: string | undefined;
}

export class FaultStore {
  private rules: Array<FaultRule & { pathPattern: RegExp | undefined }> = [];
  private nextId = 1;

  /** Throws SyntaxError when `match.path` is not a valid regular expression. */
  add(input: FaultRuleInput): FaultRule {
    const match = input.match ?? {};
    const pathPattern = match.path === undefined ? undefined : new RegExp(match.path);
    const rule = {
      id: `fault_${this.nextId++}`,
      match,
      effect: input.effect,
      remaining: input.times ?? null,
      hits: 0,
      pathPattern,
    };
    this.rules.push(rule);
    return this.publicView(rule);
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((rule) => rule.id !== id);
    return this.rules.length < before;
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map((rule) => this.publicView(rule));
  }

  /**
   * The first active rule of `type` that matches `subject` (and `accepts`, for effect-specific
   * checks such as webhook event lists). Consumes one use of it.
   */
  take<T extends FaultType>(
    type: T,
    subject: FaultSubject,
    accepts: (effect: Extract<FaultEffect, { type: T }>) => boolean = () => true,
  ): Extract<FaultEffect, { type: T }> | undefined {
    for (const rule of this.rules) {
      const effect = rule.effect;
      if (!isEffectOf(effect, type) || rule.remaining === 0) continue;
      if (!matches(rule.match, rule.pathPattern, subject) || !accepts(effect)) continue;
      if (rule.remaining !== null) rule.remaining -= 1;
      rule.hits += 1;
      return effect;
    }
    return undefined;
  }

  private publicView(rule: FaultRule): FaultRule {
    return { id: rule.id, match: rule.match, effect: rule.effect, remaining: rule.remaining, hits: rule.hits };
  }
}

function isEffectOf<T extends FaultType>(effect: FaultEffect, type: T): effect is Extract<FaultEffect, { type: T }> {
  return effect.type === type;
}

function matches(match: FaultMatch, pathPattern: RegExp | undefined, subject: FaultSubject): boolean {
  if (match.promptIncludes !== undefined && !(subject.prompt ?? "").includes(match.promptIncludes)) return false;
  if (match.promptIncludes !== undefined && subject.prompt === undefined) return false;
  if (match.model !== undefined && subject.model !== match.model) return false;
  if (pathPattern !== undefined && (subject.path === undefined || !pathPattern.test(subject.path))) return false;
  return true;
}
