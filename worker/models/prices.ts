/**
 * The price table (configuration; Replicate's published prices, `replicate-api.md` §9). Official
 * models are billed per output; the others by the seconds they run (`metrics.predict_time`) on
 * their hardware.
 */
import type { Pricing } from "@contract/api";

/** USD per second of each hardware SKU. */
export const HARDWARE_USD_PER_SECOND: Readonly<Record<string, number>> = {
  cpu: 0.0001,
  "gpu-t4": 0.000225,
  "gpu-a40-small": 0.000575,
  "gpu-a40-large": 0.000725,
  "gpu-l40s": 0.000975,
  "gpu-a100-large": 0.0014,
  "gpu-h100": 0.001525,
};

/** USD per output of official models. */
export const OUTPUT_PRICES_USD: Readonly<Record<string, number>> = {
  "black-forest-labs/flux-schnell": 0.003,
  "black-forest-labs/flux-dev": 0.025,
  "black-forest-labs/flux-pro": 0.055,
  "black-forest-labs/flux-1.1-pro": 0.04,
  "black-forest-labs/flux-kontext-pro": 0.04,
  // No published per-video price; an estimate until there is one.
  "minimax/video-01": 0.5,
};

/** The hardware a community model runs on, where we know it; others are assumed to run on the default. */
export const MODEL_HARDWARE: Readonly<Record<string, string>> = { "stability-ai/sdxl": "gpu-l40s" };
export const DEFAULT_HARDWARE = "gpu-l40s";

/** Typical run time in seconds, for estimates before a time-billed model has run for this person. */
export const TYPICAL_SECONDS: Readonly<Record<string, number>> = { "stability-ai/sdxl": 8 };
export const DEFAULT_TYPICAL_SECONDS = 10;

/** How a model is billed, or null when an official model's price is not in the table. */
export function pricingOf(modelId: string, official: boolean): Pricing | null {
  if (official) {
    const usd = OUTPUT_PRICES_USD[modelId];
    return usd === undefined ? null : { per: "output", usd };
  }
  const hardware = MODEL_HARDWARE[modelId] ?? DEFAULT_HARDWARE;
  return {
    per: "second",
    usd: HARDWARE_USD_PER_SECOND[hardware] ?? 0,
    hardware,
    typicalSeconds: TYPICAL_SECONDS[modelId] ?? DEFAULT_TYPICAL_SECONDS,
  };
}

/** Amounts in US dollars are kept to the micro-dollar (`roundUsd`). */
export const USD_ROUNDING = 1e-6;
export const roundUsd = (usd: number): number => Math.round(usd * 1e6) / 1e6;

/** What a run is expected to cost before it runs. */
export function estimateCost(pricing: Pricing | null, outputs: number, typicalSeconds?: number): number | null {
  if (!pricing) return null;
  if (pricing.per === "output") return roundUsd(pricing.usd * outputs);
  return roundUsd(pricing.usd * (typicalSeconds ?? pricing.typicalSeconds));
}

/** What a finished run cost: its outputs, or the seconds it ran. */
export function actualCost(pricing: Pricing | null, outputs: number, predictSeconds: number | null): number | null {
  if (!pricing) return null;
  if (pricing.per === "output") return roundUsd(pricing.usd * outputs);
  return predictSeconds === null ? null : roundUsd(pricing.usd * predictSeconds);
}
