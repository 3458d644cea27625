/**
 * The one logger: one JSON line per event, with the ids that let an operator follow a generation
 * across the Worker, the queue consumer and the session's Durable Object.
 */
import { env } from "cloudflare:workers";

const LEVELS = ["debug", "info", "warn", "error"] as const;
export type Level = (typeof LEVELS)[number];

/** The lowest level a LOG_LEVEL setting lets through: `info` when it is unset or names no level. */
export function lowestLevel(setting: string | undefined): Level {
  return LEVELS.find((level) => level === setting?.trim().toLowerCase()) ?? "info";
}

/**
 * Lines below LOG_LEVEL (default `info`) are not written: per-request events are `debug`, because at
 * webhook rates a line per request costs more than it tells.
 */
const threshold = LEVELS.indexOf(lowestLevel(env.LOG_LEVEL));
export type LogFields = {
  userId?: string;
  sessionId?: string;
  generationId?: string;
  predictionId?: string;
  [key: string]: unknown;
};

function write(level: Level, event: string, fields: LogFields): void {
  if (LEVELS.indexOf(level) < threshold) return;
  const line = JSON.stringify({ level, event, ...fields, time: new Date().toISOString() }, (_key, value: unknown) =>
    value instanceof Error ? { name: value.name, message: value.message } : value,
  );
  console[level](line);
}

export const log = {
  debug: (event: string, fields: LogFields = {}) => write("debug", event, fields),
  info: (event: string, fields: LogFields = {}) => write("info", event, fields),
  warn: (event: string, fields: LogFields = {}) => write("warn", event, fields),
  error: (event: string, fields: LogFields = {}) => write("error", event, fields),
};

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "string" ? error : "Unknown error";
