/**
 * The curated model catalog: which Replicate models the studio offers, how our generation
 * parameters map onto each model's own input names, and what a run costs.
 */
import type { CreateGenerationRequest, GenerationParams, ModelSummary } from "@contract/api";

type InputNames = {
  negativePrompt?: string;
  width?: string;
  height?: string;
  /** Models that size by aspect ratio instead of width/height. */
  aspectRatio?: { name: string; choices: readonly string[] };
  steps?: string;
  guidance?: string;
  strength?: string;
  scheduler?: string;
  seed?: string;
  numOutputs?: string;
  image?: string;
  mask?: string;
  /** Where reference images go: one URL, or a list of up to `max`. */
  references?: { name: string; max: number; list: boolean };
};

type Pricing = { per: "output"; usd: number } | { per: "second"; usd: number };

export type CatalogModel = ModelSummary & {
  /** Community models run a pinned version; official models run by name. */
  version?: string;
  inputs: InputNames;
  pricing: Pricing;
  defaultParams?: Record<string, string | number | boolean>;
};

const FLUX_ASPECT_RATIOS = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"] as const;

export const MODELS: readonly CatalogModel[] = [
  {
    id: "black-forest-labs/flux-schnell",
    kind: "image",
    description: "FLUX.1 [schnell]: the fastest FLUX model, for drafts and quick ideas.",
    capabilities: { textToImage: true, imageToImage: false, mask: false, references: false },
    inputs: {
      aspectRatio: { name: "aspect_ratio", choices: FLUX_ASPECT_RATIOS },
      steps: "num_inference_steps",
      seed: "seed",
      numOutputs: "num_outputs",
    },
    // $3 per 1,000 output images.
    pricing: { per: "output", usd: 0.003 },
  },
  {
    id: "black-forest-labs/flux-dev",
    kind: "image",
    description: "FLUX.1 [dev]: high quality text-to-image and image-to-image.",
    capabilities: { textToImage: true, imageToImage: true, mask: false, references: false },
    inputs: {
      aspectRatio: { name: "aspect_ratio", choices: FLUX_ASPECT_RATIOS },
      steps: "num_inference_steps",
      guidance: "guidance",
      strength: "prompt_strength",
      seed: "seed",
      numOutputs: "num_outputs",
      image: "image",
    },
    pricing: { per: "output", usd: 0.025 },
  },
  {
    id: "black-forest-labs/flux-1.1-pro",
    kind: "image",
    description: "FLUX1.1 [pro]: excellent prompt following at any size, guided by a reference image.",
    capabilities: { textToImage: true, imageToImage: false, mask: false, references: true },
    inputs: {
      width: "width",
      height: "height",
      seed: "seed",
      references: { name: "image_prompt", max: 1, list: false },
    },
    defaultParams: { aspect_ratio: "custom" },
    pricing: { per: "output", usd: 0.04 },
  },
  {
    id: "black-forest-labs/flux-kontext-pro",
    kind: "image",
    description: "FLUX.1 Kontext [pro]: edit an image with a plain-language instruction.",
    capabilities: { textToImage: true, imageToImage: true, mask: false, references: false },
    inputs: { seed: "seed", image: "input_image" },
    pricing: { per: "output", usd: 0.04 },
  },
  {
    id: "stability-ai/sdxl",
    kind: "image",
    description: "Stable Diffusion XL: negative prompts, schedulers, inpainting with masks.",
    capabilities: { textToImage: true, imageToImage: true, mask: true, references: false },
    version: "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc",
    inputs: {
      negativePrompt: "negative_prompt",
      width: "width",
      height: "height",
      steps: "num_inference_steps",
      guidance: "guidance_scale",
      strength: "prompt_strength",
      scheduler: "scheduler",
      seed: "seed",
      numOutputs: "num_outputs",
      image: "image",
      mask: "mask",
    },
    // Billed by GPU time (Nvidia L40S).
    pricing: { per: "second", usd: 0.000975 },
  },
  {
    id: "minimax/video-01",
    kind: "video",
    description: "MiniMax Video-01: a short video from a prompt and a first frame.",
    capabilities: { textToImage: true, imageToImage: true, mask: false, references: true },
    inputs: { image: "first_frame_image", references: { name: "subject_reference", max: 1, list: false } },
    // Replicate publishes no per-video price for it; an estimate until one is published.
    pricing: { per: "output", usd: 0.5 },
  },
];

export const DEFAULT_MODEL_ID = "black-forest-labs/flux-schnell";

export const findModel = (id: string): CatalogModel | undefined => MODELS.find((model) => model.id === id);

const STANDARD_PARAMS = new Set([
  "width",
  "height",
  "steps",
  "guidance",
  "strength",
  "scheduler",
  "seed",
  "numOutputs",
]);

/**
 * Model inputs the studio fills itself from checked fields (the prompt, and the images it uploaded
 * from the caller's own assets and references): never taken from `params`, or a caller could run
 * a prompt other than the one stored, or point the model at any file URL, another user's included.
 */
export function reservedInputNames(model: CatalogModel): ReadonlySet<string> {
  const { negativePrompt, image, mask, references } = model.inputs;
  return new Set(["prompt", negativePrompt, image, mask, references?.name].filter((name): name is string => !!name));
}

function nearestAspectRatio(width: number, height: number, choices: readonly string[]): string {
  const target = Math.log(width / height);
  let best = choices[0] ?? "1:1";
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const choice of choices) {
    const [w, h] = choice.split(":").map(Number);
    if (!w || !h) continue;
    const distance = Math.abs(Math.log(w / h) - target);
    if (distance < bestDistance) {
      best = choice;
      bestDistance = distance;
    }
  }
  return best;
}

export type ModelInputFiles = { image?: string; mask?: string; references?: string[] };

/** The `input` object of the Replicate prediction for a generation request. */
export function buildModelInput(
  model: CatalogModel,
  request: Pick<CreateGenerationRequest, "prompt" | "negativePrompt"> & { params: GenerationParams },
  files: ModelInputFiles = {},
): Record<string, unknown> {
  const names = model.inputs;
  const params = request.params;
  const input: Record<string, unknown> = { ...model.defaultParams, prompt: request.prompt };
  const set = (name: string | undefined, value: unknown) => {
    if (name && value !== undefined && value !== null && value !== "") input[name] = value;
  };
  set(names.negativePrompt, request.negativePrompt);
  set(names.width, params.width);
  set(names.height, params.height);
  if (names.aspectRatio && params.width && params.height) {
    set(names.aspectRatio.name, nearestAspectRatio(params.width, params.height, names.aspectRatio.choices));
  }
  set(names.steps, params.steps);
  set(names.guidance, params.guidance);
  set(names.strength, params.strength);
  set(names.scheduler, params.scheduler);
  set(names.seed, params.seed);
  set(names.numOutputs, params.numOutputs);
  set(names.image, files.image);
  set(names.mask, files.mask);
  if (names.references && files.references?.length) {
    set(
      names.references.name,
      names.references.list ? files.references.slice(0, names.references.max) : files.references[0],
    );
  }
  // Model-specific inputs (anything outside our standard set) go through under their own names.
  const reserved = reservedInputNames(model);
  for (const [key, value] of Object.entries(params)) {
    if (!STANDARD_PARAMS.has(key) && !reserved.has(key)) set(key, value);
  }
  return input;
}

/** Cost in USD from the price table and what the prediction reports. */
export function costOf(
  model: CatalogModel | undefined,
  outputCount: number,
  predictSeconds: number | null,
): number | null {
  if (!model) return null;
  if (model.pricing.per === "output") return round(model.pricing.usd * outputCount);
  return predictSeconds === null ? null : round(model.pricing.usd * predictSeconds);
}

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6;
