/**
 * What we read from a Replicate prediction (webhook body or GET response). What its status means
 * for a generation is decided in generations/status.ts.
 */

import { parseProgressFromLogs } from "replicate";
import { z } from "zod";

export const PREDICTION_STATUSES = ["starting", "processing", "succeeded", "failed", "canceled", "aborted"] as const;
export type PredictionStatus = (typeof PREDICTION_STATUSES)[number];

export const predictionSchema = z.looseObject({
  id: z.string().min(1).max(100),
  status: z.enum(PREDICTION_STATUSES),
  output: z.unknown().optional(),
  logs: z.string().nullish(),
  error: z.unknown().optional(),
  metrics: z.record(z.string(), z.unknown()).nullish(),
  created_at: z.string().nullish(),
  started_at: z.string().nullish(),
  completed_at: z.string().nullish(),
});
export type Prediction = z.infer<typeof predictionSchema>;

/** Of the logs only the end matters (the latest progress bar); of an error, its opening. */
const QUEUED_LOG_TAIL_CHARS = 8 * 1024;
const QUEUED_ERROR_CHARS = 8 * 1024;

/**
 * The part of a prediction the completion pipeline reads, small enough for a queue message (128 KB):
 * inputs (which may hold data URIs) stay behind, logs keep their tail and an error its opening.
 */
export function queuedPrediction(prediction: Prediction): Prediction {
  const error = errorMessageOf(prediction);
  return {
    id: prediction.id,
    status: prediction.status,
    output: prediction.output,
    logs: prediction.logs?.slice(-QUEUED_LOG_TAIL_CHARS),
    error: error?.slice(0, QUEUED_ERROR_CHARS) ?? null,
    metrics: prediction.metrics,
    created_at: prediction.created_at,
    started_at: prediction.started_at,
    completed_at: prediction.completed_at,
  };
}

/** Output URLs in order, whether the model returns one URL or a list of them. */
export function outputUrls(prediction: Prediction): string[] {
  const output = prediction.output;
  if (typeof output === "string") return [output];
  if (Array.isArray(output)) return output.filter((item): item is string => typeof item === "string");
  return [];
}

/** 0..1 from the tqdm-style progress bars in the logs; null when there is none yet. */
export function progressOf(prediction: Prediction): number | null {
  if (!prediction.logs) return null;
  const parsed = parseProgressFromLogs(prediction.logs);
  return parsed ? Math.min(1, Math.max(0, parsed.percentage)) : null;
}

export function errorMessageOf(prediction: Prediction): string | null {
  if (prediction.error === null || prediction.error === undefined) return null;
  return typeof prediction.error === "string" ? prediction.error : JSON.stringify(prediction.error);
}

export function predictSeconds(prediction: Prediction): number | null {
  const value = prediction.metrics?.predict_time;
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export const parseTime = (value: string | null | undefined): Date | null => {
  if (!value) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time);
};
