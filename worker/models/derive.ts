/**
 * What a model we have no curated entry for can do, read from its input schema: which of its inputs
 * our fields map onto (steps → `num_inference_steps`, guidance → `guidance_scale`, …), which file
 * inputs take the source image, the mask and reference images, and so its capabilities. Names that
 * are ambiguous (an `image_prompt` guides, it is not the image to edit) are settled by the rules below.
 */
import type { InputSchema, ModelInputNames, ModelSummary, SchemaProperty } from "@contract/api";
import { isFileProperty } from "./schema";

type NumericName = "steps" | "guidance" | "strength" | "seed" | "numOutputs" | "width" | "height";

const NUMERIC_CANDIDATES: Record<NumericName, { names: readonly string[]; integer: boolean }> = {
  width: { names: ["width"], integer: true },
  height: { names: ["height"], integer: true },
  steps: { names: ["num_inference_steps", "steps", "num_steps", "sample_steps"], integer: true },
  guidance: { names: ["guidance", "guidance_scale", "cfg_scale", "cfg"], integer: false },
  strength: { names: ["prompt_strength", "strength", "denoising_strength", "image_strength"], integer: false },
  seed: { names: ["seed"], integer: true },
  numOutputs: { names: ["num_outputs", "number_of_images", "num_images", "batch_size"], integer: true },
};

/** The image a generation starts from, in the order a model is likely to name it. */
const SOURCE_NAMES = ["image", "input_image", "first_frame_image", "start_image", "init_image", "img", "input"];
/** File inputs that only guide: references, never the image to edit. */
const REFERENCE_PATTERN = /reference|image_prompt|style_image|subject|ip_adapter/;
/** File inputs that are neither a source nor a reference (an end frame, a control image, audio…). */
const OTHER_FILE_PATTERN = /mask|end_image|last_frame|tail|control|depth|pose|audio|video/;

const isNumber = (property: SchemaProperty | undefined, integer: boolean): boolean =>
  property?.type === "integer" || (!integer && property?.type === "number");

const isSingleFile = (property: SchemaProperty | undefined): boolean =>
  property !== undefined && property.type === "string" && property.format === "uri";

/** Our fields and the studio-filled inputs, under this model's own names. */
export function deriveInputNames(schema: InputSchema): ModelInputNames {
  const { properties } = schema;
  const names: ModelInputNames = {};
  if (properties.prompt?.type === "string") names.prompt = "prompt";
  if (properties.negative_prompt?.type === "string") names.negativePrompt = "negative_prompt";
  for (const [field, { names: candidates, integer }] of Object.entries(NUMERIC_CANDIDATES) as [
    NumericName,
    (typeof NUMERIC_CANDIDATES)[NumericName],
  ][]) {
    const found = candidates.find((name) => isNumber(properties[name], integer));
    if (found) names[field] = found;
  }
  if (Array.isArray(properties.aspect_ratio?.enum)) names.aspectRatio = "aspect_ratio";
  const scheduler = ["scheduler", "sampler"].find((name) => properties[name]?.type === "string");
  if (scheduler) names.scheduler = scheduler;

  const files = Object.entries(properties).filter(([, property]) => isFileProperty(property));
  const mask = files.find(([name]) => /mask/.test(name));
  const references =
    files.find(([name, property]) => REFERENCE_PATTERN.test(name) && property.type === "array") ??
    files.find(([name]) => REFERENCE_PATTERN.test(name));
  const source =
    SOURCE_NAMES.find((name) => isSingleFile(properties[name])) ??
    files.find(
      ([name, property]) =>
        isSingleFile(property) &&
        /image|frame/.test(name) &&
        !REFERENCE_PATTERN.test(name) &&
        !OTHER_FILE_PATTERN.test(name),
    )?.[0];
  if (source) names.image = source;
  if (mask && source) names.mask = mask[0];
  if (references) names.references = references[0];
  return names;
}

/** Videos say so in their description or take video-shaped inputs. */
export function deriveKind(schema: InputSchema, text: string): "image" | "video" {
  const { properties } = schema;
  if (["first_frame_image", "start_image", "fps", "frames_per_second", "num_frames"].some((name) => name in properties))
    return "video";
  if ("duration" in properties && /video/i.test(text)) return "video";
  return /\bvideos?\b/i.test(text) ? "video" : "image";
}

export function deriveCapabilities(schema: InputSchema, names: ModelInputNames): ModelSummary["capabilities"] {
  const required = new Set(schema.required ?? []);
  return {
    textToImage: names.prompt !== undefined && !(names.image && required.has(names.image)),
    imageToImage: names.image !== undefined,
    mask: names.mask !== undefined,
    references: names.references !== undefined,
  };
}

export function deriveLimits(schema: InputSchema, names: ModelInputNames): ModelSummary["limits"] {
  const references = names.references ? schema.properties[names.references] : undefined;
  const outputs = names.numOutputs ? schema.properties[names.numOutputs] : undefined;
  return {
    references: !references ? 0 : references.type === "array" ? (references.maxItems ?? 4) : 1,
    outputs: typeof outputs?.maximum === "number" ? outputs.maximum : 1,
  };
}
