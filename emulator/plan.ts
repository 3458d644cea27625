/**
 * Pure planning of a prediction: its timeline (when it starts, which log lines appear when, when
 * each output file is ready, when it completes) and its output size. Everything a prediction shows
 * at a given emulator time is derived from this plan, so every read is consistent.
 */
import { ASPECT_SIZES, type CatalogModel } from "./catalog";
import { CONTENT_TYPES, type OutputFormat } from "./images";

/** Emulator ms a prediction stays `starting`. */
export const QUEUE_MS = 400;
/** Gap between the last progress line and the first output file, and between output files. */
export const OUTPUT_GAP_MS = 200;
/** Gap between the last output file and completion (uploads, cleanup). */
export const FINALIZE_MS = 500;
/** How long after start a prediction whose inputs can't be read fails. */
export const INPUT_FAILURE_MS = 300;
/** API predictions' inputs, outputs, files and logs are removed this long after completion (§1.7). */
export const DATA_RETENTION_MS = 60 * 60 * 1000;
/** Frame rate of the emulator's videos (real MP4s, kept small so tests stay fast). */
export const VIDEO_FPS = 8;

export interface LogLine {
  at: number;
  text: string;
}

export interface PlannedOutput {
  index: number;
  readyAt: number;
  format: OutputFormat;
  contentType: string;
}

export interface Timeline {
  startAt: number;
  logLines: LogLine[];
  outputs: PlannedOutput[];
  completeAt: number;
}

/** A planning-time problem that makes the prediction fail once it starts (e.g. CUDA OOM). */
export class PlanError extends Error {
  override name = "PlanError";
}

function numberInput(input: Record<string, unknown>, name: string, fallback: number): number {
  const value = input[name];
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function stringInput(input: Record<string, unknown>, name: string): string | undefined {
  const value = input[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The value an input takes: the request's, else the schema default. */
export function inputOrDefault(model: CatalogModel, input: Record<string, unknown>, name: string): unknown {
  const value = input[name];
  if (value !== undefined && value !== null) return value;
  const spec = model.inputs[name];
  return spec && "default" in spec ? spec.default : undefined;
}

export function outputFormatOf(model: CatalogModel, input: Record<string, unknown>): OutputFormat {
  if (model.kind === "video") return "mp4";
  const requested = model.inputs.output_format ? inputOrDefault(model, input, "output_format") : undefined;
  return requested === "png" || requested === "jpg" || requested === "webp" ? requested : model.behaviour.defaultFormat;
}

/** A video's length in seconds: its duration input, else the model's fixed length. */
export function videoSecondsOf(model: CatalogModel, input: Record<string, unknown>): number {
  const { durationInput, videoSeconds } = model.behaviour;
  const value = durationInput ? inputOrDefault(model, input, durationInput) : undefined;
  const seconds = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 20) : (videoSeconds ?? 2);
}

export function outputCountOf(model: CatalogModel, input: Record<string, unknown>): number {
  if (model.output === "single") return 1;
  return Math.max(1, Math.floor(numberInput(input, "num_outputs", 1)));
}

function stepsOf(model: CatalogModel, input: Record<string, unknown>): number {
  const { stepsInput, fixedSteps } = model.behaviour;
  if (stepsInput) {
    const value = inputOrDefault(model, input, stepsInput);
    return typeof value === "number" ? Math.max(1, Math.floor(value)) : 1;
  }
  return fixedSteps ?? 1;
}

function clock(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  return `${String(Math.floor(whole / 60)).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
}

const PARTIAL_BLOCKS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** One tqdm line, e.g. ` 40%|████      | 2/5 [00:01<00:01, 2.46it/s]` (parsed by `parseProgressFromLogs`). */
export function tqdmLine(current: number, total: number, stepMs: number): string {
  if (current === 0) return `  0%|          | 0/${total} [00:00<?, ?it/s]`;
  const fraction = current / total;
  const percent = String(Math.floor(fraction * 100)).padStart(3, " ");
  const cells = fraction * 10;
  const full = Math.floor(cells);
  const partial = full < 10 ? (PARTIAL_BLOCKS[Math.floor((cells - full) * 8)] ?? "") : "";
  const bar = ("█".repeat(full) + partial).padEnd(10, " ");
  const elapsed = (current * stepMs) / 1000;
  const remaining = ((total - current) * stepMs) / 1000;
  const rate = (1000 / stepMs).toFixed(2);
  return `${percent}%|${bar}| ${current}/${total} [${clock(elapsed)}<${clock(remaining)}, ${rate}it/s]`;
}

function preambleOf(model: CatalogModel, input: Record<string, unknown>): string[] {
  const hasImage =
    model.behaviour.imageInput !== undefined && stringInput(input, model.behaviour.imageInput) !== undefined;
  switch (model.id) {
    case "stability-ai/sdxl": {
      const hasMask = stringInput(input, "mask") !== undefined;
      const mode = hasImage && hasMask ? "inpainting mode" : hasImage ? "img2img mode" : "txt2img mode";
      return [`Prompt: ${String(inputOrDefault(model, input, "prompt") ?? "")}`, mode];
    }
    case "minimax/video-01":
      return [
        inputOrDefault(model, input, "prompt_optimizer") === true ? "Optimizing prompt" : "Using prompt as given",
        "Generating video",
      ];
    case "black-forest-labs/flux-schnell":
    case "black-forest-labs/flux-dev":
      return [
        ...(hasImage ? ["Image-to-image mode"] : []),
        inputOrDefault(model, input, "go_fast") === true ? "running quantized prediction" : "running bf16 prediction",
      ];
    default:
      return [hasImage ? "Editing image" : "Generating image"];
  }
}

/** The success timeline, from creation to `succeeded`. */
export function planTimeline(
  model: CatalogModel,
  input: Record<string, unknown>,
  seed: number,
  createdAt: number,
): Timeline {
  const startAt = createdAt + QUEUE_MS;
  const outputCount = outputCountOf(model, input);
  // Batched outputs cost a bit more per step, not N times more.
  const stepMs = Math.round(model.behaviour.stepMs * (1 + 0.3 * (outputCount - 1)));
  const logLines: LogLine[] = [{ at: startAt, text: `Using seed: ${seed}` }];
  const preamble = preambleOf(model, input);
  for (const [i, text] of preamble.entries()) {
    logLines.push({ at: startAt + Math.round((model.behaviour.setupMs * (i + 1)) / (preamble.length + 1)), text });
  }

  const steps = stepsOf(model, input);
  const bars: number[] = [];
  const refine = model.inputs.refine ? inputOrDefault(model, input, "refine") : undefined;
  if (refine === "expert_ensemble_refiner") {
    // SDXL's base model runs the high-noise part, the refiner the rest: two progress bars.
    const base = Math.max(1, Math.round(steps * numberInput(input, "high_noise_frac", 0.8)));
    bars.push(base, Math.max(1, steps - base));
  } else if (refine === "base_image_refiner") {
    bars.push(steps, Math.max(1, Math.floor(numberInput(input, "refine_steps", steps))));
  } else {
    bars.push(steps);
  }
  let at = startAt + model.behaviour.setupMs;
  for (const total of bars) {
    logLines.push({ at, text: tqdmLine(0, total, stepMs) });
    for (let current = 1; current <= total; current++) {
      at += stepMs;
      logLines.push({ at, text: tqdmLine(current, total, stepMs) });
    }
  }
  const format = outputFormatOf(model, input);
  const contentType = CONTENT_TYPES[format];
  const outputs: PlannedOutput[] = [];
  for (let index = 0; index < outputCount; index++) {
    outputs.push({ index, readyAt: at + OUTPUT_GAP_MS * (index + 1), format, contentType });
  }
  const completeAt = at + OUTPUT_GAP_MS * outputCount + FINALIZE_MS;
  return { startAt, logLines, outputs, completeAt };
}

// ---- Output size ----------------------------------------------------------------------------------

function roundTo(value: number, multiple: number): number {
  return Math.max(multiple, Math.round(value / multiple) * multiple);
}

/** A size with the source's aspect ratio and about `area` pixels, sides multiples of 16. */
function matchAspect(source: { width: number; height: number }, area: number): [number, number] {
  const aspect = source.width / source.height;
  const height = Math.sqrt(area / aspect);
  return [roundTo(height * aspect, 16), roundTo(height, 16)];
}

function scaled([width, height]: readonly [number, number], scale: number): { width: number; height: number } {
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Output size in pixels. Nominal sizes are the real model's (e.g. 1344×768 for FLUX 16:9) multiplied
 * by `scale` (the emulator renders at 1/4 by default to keep tests fast; FLUX sizes are multiples of
 * 64, so ratios stay exact). SDXL image-to-image keeps its source's size, as cog-sdxl does, and is
 * not scaled again, so iterating on an output doesn't shrink it.
 */
export function outputSizeOf(
  model: CatalogModel,
  input: Record<string, unknown>,
  source: { width: number; height: number } | undefined,
  scale: number,
): { width: number; height: number } {
  const aspectSize = (ratio: unknown): readonly [number, number] =>
    ASPECT_SIZES[typeof ratio === "string" ? ratio : "1:1"] ?? [1024, 1024];
  switch (model.id) {
    case "stability-ai/sdxl": {
      if (source) {
        const limit = Math.max(64, Math.round(2048 * scale));
        const factor = Math.min(1, limit / Math.max(source.width, source.height));
        return {
          width: Math.max(1, Math.round(source.width * factor)),
          height: Math.max(1, Math.round(source.height * factor)),
        };
      }
      const width = numberInput(input, "width", 1024);
      const height = numberInput(input, "height", 1024);
      if (width <= 0 || height <= 0 || width % 8 !== 0 || height % 8 !== 0) {
        throw new PlanError(`\`height\` and \`width\` have to be divisible by 8 but are ${height} and ${width}.`);
      }
      if (width * height > 2048 * 2048) {
        throw new PlanError("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 79.15 GiB total capacity)");
      }
      return scaled([width, height], scale);
    }
    case "black-forest-labs/flux-1.1-pro": {
      const ratio = inputOrDefault(model, input, "aspect_ratio");
      if (ratio === "custom") {
        return scaled(
          [roundTo(numberInput(input, "width", 1024), 32), roundTo(numberInput(input, "height", 1024), 32)],
          scale,
        );
      }
      return scaled(aspectSize(ratio), scale);
    }
    case "black-forest-labs/flux-kontext-pro": {
      const ratio = inputOrDefault(model, input, "aspect_ratio");
      if (ratio === "match_input_image") return scaled(source ? matchAspect(source, 1024 * 1024) : [1024, 1024], scale);
      return scaled(aspectSize(ratio), scale);
    }
    default:
      break;
  }
  if (model.kind === "video") {
    // About 720p, in the source's aspect ratio (or the one asked for); H.264 needs even sides.
    const ratio = String(inputOrDefault(model, input, "aspect_ratio") ?? "16:9");
    const [w, h] = ratio.split(":").map(Number);
    const shape = source ?? (w && h ? { width: w, height: h } : { width: 16, height: 9 });
    const { width, height } = scaled(matchAspect(shape, 1280 * 720), scale);
    return { width: Math.max(2, width - (width % 2)), height: Math.max(2, height - (height % 2)) };
  }
  if (model.inputs.width && model.inputs.height && !model.inputs.aspect_ratio) {
    // Models sized by width and height (SDXL-like), at the size asked for.
    return scaled([numberInput(input, "width", 1024), numberInput(input, "height", 1024)], scale);
  }
  // FLUX schnell / dev and the like: a megapixel (or a quarter of one); img2img takes the source's aspect.
  const quarter = inputOrDefault(model, input, "megapixels") === "0.25";
  const nominal = source
    ? matchAspect(source, quarter ? 512 * 512 : 1024 * 1024)
    : aspectSize(inputOrDefault(model, input, "aspect_ratio"));
  const [width, height] = quarter && !source ? [nominal[0] / 2, nominal[1] / 2] : nominal;
  return scaled([width, height], scale);
}
