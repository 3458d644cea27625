/**
 * The emulator's clock. Emulator time flows at `speed` × real time from the moment the clock
 * was created, plus an offset that tests move forward with `advance()`. `speed: 0` freezes it,
 * so only `advance()` moves time — the mode deterministic tests use.
 */
export interface EmulatorClock {
  /** Emulator time in epoch milliseconds (integer). */
  now(): number;
  /** Moves emulator time forward by `ms`; returns the new `now()`. */
  advance(ms: number): number;
  /** Moves forward to real wall-clock time if behind it (never backwards); returns `now()`. */
  catchUpToRealTime(): number;
  /** Drops every offset added by `advance()`. */
  reset(): void;
  readonly speed: number;
}

export function createClock(speed = 1, realNow: () => number = Date.now): EmulatorClock {
  if (!Number.isFinite(speed) || speed < 0) throw new RangeError("speed must be a finite number >= 0");
  const origin = realNow();
  let offset = 0;
  const now = (): number => Math.floor(origin + (realNow() - origin) * speed + offset);
  return {
    speed,
    now,
    advance(ms: number): number {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError("ms must be a finite number >= 0");
      offset += ms;
      return now();
    },
    catchUpToRealTime(): number {
      const behind = realNow() - now();
      if (behind > 0) offset += behind;
      return now();
    },
    reset(): void {
      offset = 0;
    },
  };
}
