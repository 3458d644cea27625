/**
 * The curated catalog: the models the studio offers everyone, with what we know of them by hand
 * (their kind, a description, the pinned version of a community model, and which of their inputs
 * our fields map onto). Everything here works without asking Replicate; their schemas, fetched and
 * cached, add validation and each model's own controls. Prices live in prices.ts.
 */
import type { ModelInputNames, ModelSummary } from "@contract/api";

export type CatalogModel = Pick<ModelSummary, "id" | "kind" | "description" | "capabilities" | "official"> & {
  /** Community models run this pinned version; official models run by name. */
  version?: string;
  inputs: ModelInputNames;
  /** Whether the references input takes a list (else one URL). */
  referencesList?: boolean;
  limits: ModelSummary["limits"];
  /** Inputs always sent (e.g. FLUX 1.1 [pro] sizes by width and height only with `aspect_ratio: custom`). */
  defaultInput?: Record<string, string | number | boolean>;
};

export const MODELS: readonly CatalogModel[] = [
  {
    id: "black-forest-labs/flux-schnell",
    kind: "image",
    official: true,
    description: "FLUX.1 [schnell]: the fastest FLUX model, for drafts and quick ideas.",
    capabilities: { textToImage: true, imageToImage: false, mask: false, references: false },
    inputs: {
      prompt: "prompt",
      aspectRatio: "aspect_ratio",
      steps: "num_inference_steps",
      seed: "seed",
      numOutputs: "num_outputs",
    },
    limits: { references: 0, outputs: 4 },
  },
  {
    id: "black-forest-labs/flux-dev",
    kind: "image",
    official: true,
    description: "FLUX.1 [dev]: high quality text-to-image and image-to-image.",
    capabilities: { textToImage: true, imageToImage: true, mask: false, references: false },
    inputs: {
      prompt: "prompt",
      aspectRatio: "aspect_ratio",
      steps: "num_inference_steps",
      guidance: "guidance",
      strength: "prompt_strength",
      seed: "seed",
      numOutputs: "num_outputs",
      image: "image",
    },
    limits: { references: 0, outputs: 4 },
  },
  {
    id: "black-forest-labs/flux-1.1-pro",
    kind: "image",
    official: true,
    description: "FLUX1.1 [pro]: excellent prompt following at any size, guided by a reference image.",
    capabilities: { textToImage: true, imageToImage: false, mask: false, references: true },
    // `image_prompt` guides the composition (Redux): a reference, not a source to edit.
    inputs: {
      prompt: "prompt",
      width: "width",
      height: "height",
      aspectRatio: "aspect_ratio",
      seed: "seed",
      references: "image_prompt",
    },
    limits: { references: 1, outputs: 1 },
    defaultInput: { aspect_ratio: "custom" },
  },
  {
    id: "black-forest-labs/flux-kontext-pro",
    kind: "image",
    official: true,
    description: "FLUX.1 Kontext [pro]: edit an image with a plain-language instruction.",
    capabilities: { textToImage: true, imageToImage: true, mask: false, references: false },
    inputs: { prompt: "prompt", aspectRatio: "aspect_ratio", seed: "seed", image: "input_image" },
    limits: { references: 0, outputs: 1 },
  },
  {
    id: "stability-ai/sdxl",
    kind: "image",
    official: false,
    description: "Stable Diffusion XL: negative prompts, schedulers, inpainting with masks.",
    capabilities: { textToImage: true, imageToImage: true, mask: true, references: false },
    version: "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc",
    inputs: {
      prompt: "prompt",
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
    limits: { references: 0, outputs: 4 },
  },
  {
    id: "minimax/video-01",
    kind: "video",
    official: true,
    description: "MiniMax Video-01: a six-second video from a prompt, starting from an image if you like.",
    capabilities: { textToImage: true, imageToImage: true, mask: false, references: true },
    // `subject_reference` is a character to keep, not the first frame.
    inputs: { prompt: "prompt", image: "first_frame_image", references: "subject_reference" },
    limits: { references: 1, outputs: 1 },
  },
];

export const DEFAULT_MODEL_ID = "black-forest-labs/flux-schnell";
/** What "Animate" runs unless the person picks another video model. */
export const DEFAULT_VIDEO_MODEL_ID = "minimax/video-01";

export const findCatalogModel = (id: string): CatalogModel | undefined => MODELS.find((model) => model.id === id);
