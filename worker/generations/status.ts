/**
 * Statuses, decided once: what each of Replicate's prediction statuses means for a generation, and
 * how far along each generation status is. The session room and the lifecycle's conditional
 * updates read them from here; which statuses are terminal is the contract's (TERMINAL_STATUSES).
 */
import { type GenerationStatus, isTerminalStatus } from "@contract/api";
import type { Prediction, PredictionStatus } from "../replicate/prediction";

export type RunningStatus = "starting" | "running";
export type TerminalStatus = Exclude<GenerationStatus, "queued" | RunningStatus>;

const FROM_PREDICTION = {
  starting: "starting",
  processing: "running",
  succeeded: "succeeded",
  failed: "failed",
  canceled: "canceled",
  // Terminated before it started, e.g. its deadline passed while queued.
  aborted: "timed_out",
} as const satisfies Record<PredictionStatus, RunningStatus | TerminalStatus>;

/** The generation status a prediction's status stands for. */
export const generationStatusOf = (prediction: Prediction): RunningStatus | TerminalStatus =>
  FROM_PREDICTION[prediction.status];

export const isTerminal = (status: GenerationStatus): status is TerminalStatus => isTerminalStatus(status);

export const isTerminalPrediction = (prediction: Prediction): boolean => isTerminal(generationStatusOf(prediction));

const NOT_TERMINAL_IN_ORDER: readonly GenerationStatus[] = ["queued", "starting", "running"];
const TERMINAL_RANK = NOT_TERMINAL_IN_ORDER.length;

/** How far along a status is: queued < starting < running < every terminal status (all equal). */
export const rankOf = (status: GenerationStatus): number =>
  isTerminal(status) ? TERMINAL_RANK : NOT_TERMINAL_IN_ORDER.indexOf(status);

/** Whether moving from `from` to `to` goes forward (a generation never moves back, nor on from terminal). */
export const advances = (from: GenerationStatus, to: GenerationStatus): boolean =>
  !isTerminal(from) && rankOf(to) > rankOf(from);
