import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Level, log, lowestLevel } from "../lib/logger";

afterEach(() => vi.restoreAllMocks());

describe("the logger", () => {
  it("lets through LOG_LEVEL and above, info when it is unset or names no level", () => {
    expect(lowestLevel(undefined)).toBe("info");
    expect(lowestLevel("")).toBe("info");
    expect(lowestLevel("verbose")).toBe("info");
    expect(lowestLevel(" Debug ")).toBe("debug");
    expect(lowestLevel("WARN")).toBe("warn");
    expect(lowestLevel("error")).toBe("error");
  });

  it("writes one JSON line per event at or above this run's LOG_LEVEL, with its ids", () => {
    const levels: Level[] = ["debug", "info", "warn", "error"];
    const spies = Object.fromEntries(
      levels.map((level) => [level, vi.spyOn(console, level).mockImplementation(() => undefined)]),
    ) as Record<Level, ReturnType<typeof vi.spyOn>>;

    for (const level of levels) log[level]("generation.completed", { generationId: "gen_1", predictionId: "p1" });
    log.error("request.failed", { error: new Error("boom") });

    const lowest = levels.indexOf(lowestLevel(env.LOG_LEVEL));
    for (const [index, level] of levels.entries()) {
      const spy = spies[level];
      if (index < lowest) {
        expect(spy, level).not.toHaveBeenCalled();
        continue;
      }
      expect(JSON.parse(String(spy.mock.calls[0]?.[0]))).toMatchObject({
        level,
        event: "generation.completed",
        generationId: "gen_1",
        predictionId: "p1",
      });
    }
    // Errors keep their name and message (JSON.stringify alone would write `{}`).
    expect(JSON.parse(String(spies.error.mock.calls.at(-1)?.[0]))).toMatchObject({
      level: "error",
      error: { name: "Error", message: "boom" },
    });
  });
});
