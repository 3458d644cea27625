/**
 * Replicate's prediction statuses as a generation's, in one place (generations/status.ts): the
 * mapping, the order statuses move in, and what a user sees when webhooks bring each of them.
 */

import { GENERATION_STATUSES, type GenerationStatus, TERMINAL_STATUSES } from "@contract/api";
import { describe, expect, it } from "vitest";
import { advances, generationStatusOf, isTerminalPrediction } from "../generations/status";
import { PREDICTION_STATUSES, type Prediction } from "../replicate/prediction";
import {
  completionOf,
  consumeBatch,
  createGeneration,
  createSession,
  getGeneration,
  signUp,
  uniqueTag,
  waitForGeneration,
} from "./helpers";

const prediction = (status: Prediction["status"]): Prediction => ({ id: "p", status });

describe("the status mapping", () => {
  it("gives each Replicate status its generation status, terminal exactly when Replicate's is", () => {
    const mapped = Object.fromEntries(
      PREDICTION_STATUSES.map((status) => [status, generationStatusOf(prediction(status))]),
    );
    expect(mapped).toEqual({
      starting: "starting",
      processing: "running",
      succeeded: "succeeded",
      failed: "failed",
      canceled: "canceled",
      aborted: "timed_out",
    });
    const terminal = PREDICTION_STATUSES.filter((status) => isTerminalPrediction(prediction(status)));
    expect(terminal).toEqual(["succeeded", "failed", "canceled", "aborted"]);
  });

  it("moves only forward, and never on from a terminal status", () => {
    const forward: [GenerationStatus, GenerationStatus][] = [];
    for (const from of GENERATION_STATUSES) {
      for (const to of GENERATION_STATUSES) if (advances(from, to)) forward.push([from, to]);
    }
    const terminal = [...TERMINAL_STATUSES];
    expect(forward).toEqual([
      ["queued", "starting"],
      ["queued", "running"],
      ...terminal.map((to): [GenerationStatus, GenerationStatus] => ["queued", to]),
      ["starting", "running"],
      ...terminal.map((to): [GenerationStatus, GenerationStatus] => ["starting", to]),
      ...terminal.map((to): [GenerationStatus, GenerationStatus] => ["running", to]),
    ]);
  });
});

describe("statuses arriving from Replicate", () => {
  it("runs, then times out when Replicate aborts it, and late events move it no further", async () => {
    const user = await signUp();
    const { id: sessionId } = await createSession(user);
    const created = await createGeneration(user, sessionId, { prompt: `aborted ${uniqueTag()}` });
    const { predictionId } = await waitForGeneration(user, created.id, (g) => g.predictionId !== null);
    const deliver = (...statuses: Prediction["status"][]) =>
      consumeBatch(
        "image-studio-completions",
        statuses.map((status, i) => ({
          ...completionOf({ id: predictionId, status, logs: "", output: null, error: null }),
          receivedAt: Date.now() + i,
        })),
      );

    expect(await deliver("processing")).toEqual({ acked: 1, retried: 0 });
    expect((await getGeneration(user, created.id)).status).toBe("running");

    expect(await deliver("aborted")).toEqual({ acked: 1, retried: 0 });
    const timedOut = await getGeneration(user, created.id);
    expect(timedOut).toMatchObject({
      status: "timed_out",
      error: "Replicate stopped the prediction before it started (deadline reached).",
    });

    expect(await deliver("processing", "starting", "succeeded")).toEqual({ acked: 3, retried: 0 });
    expect(await getGeneration(user, created.id)).toEqual(timedOut);
  });
});
