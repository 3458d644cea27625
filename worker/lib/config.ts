/**
 * Configuration read from the environment (wrangler vars and secrets, `.dev.vars` locally), checked
 * with zod the first time a request needs it. The names are fixed by the public contract. Only the
 * Replicate token is required; a missing or malformed value is reported by its name, with how to
 * set it, instead of surfacing later as a confusing failure.
 */
import { z } from "zod";
import { ProblemError } from "./problem";

export const DEFAULT_REPLICATE_BASE_URL = "https://api.replicate.com/v1";
export const DEFAULT_OUTPUT_HOSTS = "replicate.delivery,*.replicate.delivery";
export const DEFAULT_SESSION_CONCURRENCY = 4;

export type AppConfig = {
  replicateToken: string;
  replicateBaseUrl: string;
  /** The current signing secret; null when it is fetched from Replicate instead. */
  webhookSecret: string | null;
  /** The secret being rotated out: deliveries signed with it still verify until it is removed. */
  previousWebhookSecret: string | null;
  outputHosts: string[];
  publicUrl: string | null;
  passwordPepper: string;
  /** Accounts (by email, lower case) allowed to read the operations endpoints. */
  adminEmails: string[];
  sessionConcurrency: number;
  /** Per-user limits on starting generations (null: none). */
  limits: { perMinute: number | null; dailyGenerations: number | null; dailyCostUsd: number | null };
};

export const DEFAULT_LIMITS = { perMinute: 30, dailyGenerations: 500, dailyCostUsd: 25 } as const;

/** A positive number, or `none` (or `off`) for no limit; unset: the default. */
const limit = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx): number | null => {
      if (value === undefined) return fallback;
      const raw = value.toLowerCase();
      if (raw === "none" || raw === "off") return null;
      const number = Number(raw);
      if (Number.isFinite(number) && number > 0) return number;
      ctx.addIssue({ code: "custom", message: "Must be a positive number, or none for no limit", input: value });
      return z.NEVER;
    });

const httpUrl = (what: string) =>
  z
    .url({ protocol: /^https?$/, error: `Must be an http(s) URL: ${what}` })
    .transform((value) => value.replace(/\/+$/, ""))
    .optional();

const webhookSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, "Must be a Standard Webhooks secret: whsec_ followed by base64")
  .optional();

const commaList = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);

const EMAIL = /^[^\s@,]+@[^\s@,]+$/;

const envSchema = z.object({
  REPLICATE_API_TOKEN: z.string({
    error: "Missing: the Replicate API token. Set it with `wrangler secret put REPLICATE_API_TOKEN`.",
  }),
  REPLICATE_BASE_URL: httpUrl("the Replicate API base, e.g. https://api.replicate.com/v1"),
  REPLICATE_WEBHOOK_SECRET: webhookSecret,
  REPLICATE_WEBHOOK_SECRET_PREVIOUS: webhookSecret,
  REPLICATE_OUTPUT_HOSTS: z.string().default(DEFAULT_OUTPUT_HOSTS).transform(commaList),
  PUBLIC_URL: httpUrl("the origin Replicate can reach, e.g. https://studio.example.com"),
  PASSWORD_PEPPER: z.string().default(""),
  ADMIN_EMAILS: z
    .string()
    .default("")
    .transform(commaList)
    .refine((emails) => emails.every((email) => EMAIL.test(email)), "Must be a comma-separated list of emails"),
  SESSION_CONCURRENCY: z.coerce
    .number({ error: "Must be a whole number from 1 to 64" })
    .int("Must be a whole number from 1 to 64")
    .min(1, "Must be a whole number from 1 to 64")
    .max(64, "Must be a whole number from 1 to 64")
    .default(DEFAULT_SESSION_CONCURRENCY),
  LOG_LEVEL: z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(["debug", "info", "warn", "error"], { error: "Must be debug, info, warn or error" }))
    .optional(),
  GENERATIONS_PER_MINUTE: limit(DEFAULT_LIMITS.perMinute),
  DAILY_GENERATION_LIMIT: limit(DEFAULT_LIMITS.dailyGenerations),
  DAILY_COST_LIMIT_USD: limit(DEFAULT_LIMITS.dailyCostUsd),
});

type EnvName = keyof typeof envSchema.shape;
const ENV_NAMES = Object.keys(envSchema.shape) as EnvName[];

/** An unset variable and an empty one (`NAME=` in `.dev.vars`) both mean: not configured. */
function presentValues(env: Env): Partial<Record<EnvName, string>> {
  const source: Record<string, unknown> = { ...env };
  const values: Partial<Record<EnvName, string>> = {};
  for (const name of ENV_NAMES) {
    const value = source[name];
    if (typeof value === "string" && value.trim()) values[name] = value.trim();
  }
  return values;
}

export type ConfigProblem = { path: string; message: string };

const HINT = "Set secrets with `wrangler secret put NAME` and vars in wrangler.toml (locally: `.dev.vars`).";

/** The deployment is missing a value or has a malformed one: nothing can be done until it is fixed. */
export class ConfigError extends ProblemError {
  constructor(readonly problems: ConfigProblem[]) {
    super(503, `The server is not configured: ${problems.map((problem) => problem.path).join(", ")}. ${HINT}`, {
      errors: problems,
      title: "Server Not Configured",
    });
    this.name = "ConfigError";
  }
}

export type ConfigCheck = { ok: true; config: AppConfig } | { ok: false; error: ConfigError };

// Bindings are fixed for the life of an isolate: each environment object is checked once.
const checked = new WeakMap<object, ConfigCheck>();

export function checkConfig(env: Env): ConfigCheck {
  const known = checked.get(env);
  if (known) return known;
  const parsed = envSchema.safeParse(presentValues(env));
  const result: ConfigCheck = parsed.success
    ? { ok: true, config: toConfig(parsed.data) }
    : {
        ok: false,
        error: new ConfigError(
          parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })),
        ),
      };
  checked.set(env, result);
  return result;
}

/** The configuration, or a ConfigError (a 503 problem naming each missing or malformed variable). */
export function readConfig(env: Env): AppConfig {
  const result = checkConfig(env);
  if (!result.ok) throw result.error;
  return result.config;
}

function toConfig(values: z.infer<typeof envSchema>): AppConfig {
  return {
    replicateToken: values.REPLICATE_API_TOKEN,
    replicateBaseUrl: values.REPLICATE_BASE_URL ?? DEFAULT_REPLICATE_BASE_URL,
    webhookSecret: values.REPLICATE_WEBHOOK_SECRET ?? null,
    previousWebhookSecret: values.REPLICATE_WEBHOOK_SECRET_PREVIOUS ?? null,
    outputHosts: values.REPLICATE_OUTPUT_HOSTS,
    publicUrl: values.PUBLIC_URL ?? null,
    passwordPepper: values.PASSWORD_PEPPER,
    adminEmails: values.ADMIN_EMAILS,
    sessionConcurrency: values.SESSION_CONCURRENCY,
    limits: {
      perMinute: values.GENERATIONS_PER_MINUTE,
      dailyGenerations: values.DAILY_GENERATION_LIMIT,
      dailyCostUsd: values.DAILY_COST_LIMIT_USD,
    },
  };
}
