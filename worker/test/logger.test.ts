import { afterEach, describe, expect, it, vi } from "vitest";
import { log } from "../lib/logger";

afterEach(() => vi.restoreAllMocks());

describe("the logger", () => {
  it("writes one JSON line per event at or above LOG_LEVEL (default info), with its ids", () => {
    const info = vi.spyOn(console, "info").mockImplementation(() => undefined);
    const debug = vi.spyOn(console, "debug").mockImplementation(() => undefined);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);

    log.debug("webhook.accepted", { predictionId: "p1" });
    log.info("generation.succeeded", { generationId: "gen_1", predictionId: "p1" });
    log.error("request.failed", { error: new Error("boom") });

    expect(debug).not.toHaveBeenCalled();
    expect(info).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(info.mock.calls[0]![0]))).toMatchObject({
      level: "info",
      event: "generation.succeeded",
      generationId: "gen_1",
      predictionId: "p1",
    });
    // Errors keep their name and message (JSON.stringify alone would write `{}`).
    expect(JSON.parse(String(error.mock.calls[0]![0]))).toMatchObject({
      level: "error",
      error: { name: "Error", message: "boom" },
    });
  });
});
