/**
 * The emulator's model catalog: ids, Cog-style input schemas and the few numbers that shape a run.
 *
 * Dependency-free on purpose, so Worker code and tests (running in workerd) can import model ids and
 * schemas from here. Inputs follow `replicate-api.md` §10; schemas are shaped as Cog generates them
 * (§5.2): `x-order`, `format: "uri"` for files, enums as `allOf: [{ $ref }]` plus one enum component.
 */

export type FieldSpec =
  | { kind: "string"; description: string; default?: string; required?: boolean }
  | { kind: "uri"; description: string; required?: boolean }
  /** A list of files (Cog `list[Path]`): `{ type: "array", items: { type: "string", format: "uri" } }`. */
  | { kind: "uri-list"; description: string; maxItems?: number; required?: boolean }
  | { kind: "integer"; description: string; default?: number; minimum?: number; maximum?: number; required?: boolean }
  | { kind: "number"; description: string; default?: number; minimum?: number; maximum?: number; required?: boolean }
  | { kind: "boolean"; description: string; default?: boolean; required?: boolean }
  /** Cog emits string and integer enums alike as `allOf: [{ $ref }]` to a component. */
  | {
      kind: "enum";
      description: string;
      values: readonly string[] | readonly number[];
      default?: string | number;
      required?: boolean;
    };

export type ModelKind = "image" | "video";

/** Timing and behaviour of one model, in emulator milliseconds. */
export interface ModelBehaviour {
  /** Time spent before the first progress line (loading, encoding the prompt). */
  setupMs: number;
  /** Time per denoising step (per progress-bar tick). */
  stepMs: number;
  /** Input that sets the number of steps; absent = the model always runs `fixedSteps`. */
  stepsInput?: string;
  fixedSteps?: number;
  /** Inputs holding the source image (image-to-image) and mask, if the model has them. */
  imageInput?: string;
  maskInput?: string;
  /** Input whose image only guides colours (e.g. FLUX Redux `image_prompt`). */
  guideImageInput?: string;
  /** Output format when the model has no `output_format` input or it is omitted (videos: `mp4`). */
  defaultFormat: "webp" | "png" | "jpg" | "mp4";
  /** Videos: the input holding the length in seconds, and the length when it is absent. */
  durationInput?: string;
  videoSeconds?: number;
}

export interface CatalogModel {
  owner: string;
  name: string;
  /** `owner/name` */
  id: string;
  description: string;
  /** Official models run through `POST /v1/models/{owner}/{name}/predictions` and echo `version: "hidden"`. */
  official: boolean;
  kind: ModelKind;
  /** Latest version id (64 hex). Official models have one too; predictions just don't show it. */
  versionId: string;
  /** Older versions that also run (same schema). */
  olderVersionIds: readonly string[];
  versionCreatedAt: string;
  createdAt: string;
  inputs: Readonly<Record<string, FieldSpec>>;
  /** `array` = list of file URLs; `single` = one file URL string. */
  output: "array" | "single";
  behaviour: ModelBehaviour;
}

const FLUX_ASPECT_RATIOS = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"] as const;

/** FLUX sizes at one megapixel (cog-flux `ASPECT_RATIOS`), plus Kontext's 2:1 and 1:2. */
export const ASPECT_SIZES: Readonly<Record<string, readonly [number, number]>> = {
  "1:1": [1024, 1024],
  "16:9": [1344, 768],
  "21:9": [1536, 640],
  "3:2": [1216, 832],
  "2:3": [832, 1216],
  "4:5": [896, 1088],
  "5:4": [1088, 896],
  "3:4": [896, 1152],
  "4:3": [1152, 896],
  "9:16": [768, 1344],
  "9:21": [640, 1536],
  "2:1": [1408, 704],
  "1:2": [704, 1408],
};

const prompt = (required: boolean, description = "Prompt for generated image"): FieldSpec => ({
  kind: "string",
  description,
  ...(required ? { required: true } : {}),
});
const seed: FieldSpec = { kind: "integer", description: "Random seed. Set for reproducible generation" };
const outputQuality: FieldSpec = {
  kind: "integer",
  description:
    "Quality when saving the output images, from 0 to 100. 100 is best quality, 0 is lowest quality. Not relevant for .png outputs",
  default: 80,
  minimum: 0,
  maximum: 100,
};
const fluxOutputFormat: FieldSpec = {
  kind: "enum",
  description: "Format of the output images",
  values: ["webp", "jpg", "png"],
  default: "webp",
};
const numOutputs: FieldSpec = {
  kind: "integer",
  description: "Number of outputs to generate",
  default: 1,
  minimum: 1,
  maximum: 4,
};
const megapixels: FieldSpec = {
  kind: "enum",
  description: "Approximate number of megapixels for generated image",
  values: ["1", "0.25"],
  default: "1",
};
const disableSafetyChecker: FieldSpec = {
  kind: "boolean",
  description: "Disable safety checker for generated images.",
  default: false,
};
const goFast: FieldSpec = {
  kind: "boolean",
  description: "Run faster predictions with model optimized for speed (currently fp8 quantized)",
  default: true,
};

export const SDXL_VERSION = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc";
export const SDXL_OLDER_VERSION = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b";

export const CATALOG: readonly CatalogModel[] = [
  {
    owner: "black-forest-labs",
    name: "flux-schnell",
    id: "black-forest-labs/flux-schnell",
    description: "The fastest image generation model tailored for local development and personal use",
    official: true,
    kind: "image",
    versionId: "6977bcb4f6a397055573d90895e9586a734846faba59e542b0feb9a2b0a261a3",
    olderVersionIds: [],
    versionCreatedAt: "2024-08-01T12:00:00.000Z",
    createdAt: "2024-07-30T00:00:00.000Z",
    inputs: {
      prompt: prompt(true),
      aspect_ratio: {
        kind: "enum",
        description: "Aspect ratio for the generated image",
        values: FLUX_ASPECT_RATIOS,
        default: "1:1",
      },
      num_outputs: numOutputs,
      num_inference_steps: {
        kind: "integer",
        description:
          "Number of denoising steps. 4 is recommended, and lower number of steps produce lower quality outputs, faster.",
        default: 4,
        minimum: 1,
        maximum: 4,
      },
      seed,
      output_format: fluxOutputFormat,
      output_quality: outputQuality,
      disable_safety_checker: disableSafetyChecker,
      go_fast: goFast,
      megapixels,
    },
    output: "array",
    behaviour: { setupMs: 100, stepMs: 150, stepsInput: "num_inference_steps", defaultFormat: "webp" },
  },
  {
    owner: "black-forest-labs",
    name: "flux-dev",
    id: "black-forest-labs/flux-dev",
    description:
      "A 12 billion parameter rectified flow transformer capable of generating images from text descriptions",
    official: true,
    kind: "image",
    versionId: "a34dd8f82c8e2ade2dc61392c62e28f634d1bc3685b32fcc86de52c4df3c0668",
    olderVersionIds: [],
    versionCreatedAt: "2024-08-01T12:00:00.000Z",
    createdAt: "2024-07-29T00:00:00.000Z",
    inputs: {
      prompt: prompt(true),
      aspect_ratio: {
        kind: "enum",
        description:
          "Aspect ratio for the generated image. Ignored when an input image is given (the output takes its aspect ratio)",
        values: FLUX_ASPECT_RATIOS,
        default: "1:1",
      },
      image: {
        kind: "uri",
        description: "Input image for image to image mode. The aspect ratio of your output will match this image",
      },
      prompt_strength: {
        kind: "number",
        description: "Prompt strength when using img2img. 1.0 corresponds to full destruction of information in image",
        default: 0.8,
        minimum: 0,
        maximum: 1,
      },
      num_outputs: numOutputs,
      num_inference_steps: {
        kind: "integer",
        description: "Number of denoising steps. Recommended range is 28-50",
        default: 28,
        minimum: 1,
        maximum: 50,
      },
      guidance: { kind: "number", description: "Guidance for generated image", default: 3, minimum: 0, maximum: 10 },
      seed,
      output_format: fluxOutputFormat,
      output_quality: outputQuality,
      disable_safety_checker: disableSafetyChecker,
      go_fast: goFast,
      megapixels,
    },
    output: "array",
    behaviour: {
      setupMs: 200,
      stepMs: 75,
      stepsInput: "num_inference_steps",
      imageInput: "image",
      defaultFormat: "webp",
    },
  },
  {
    owner: "black-forest-labs",
    name: "flux-1.1-pro",
    id: "black-forest-labs/flux-1.1-pro",
    description:
      "Faster, better FLUX Pro. Text-to-image model with excellent image quality, prompt adherence, and output diversity.",
    official: true,
    kind: "image",
    versionId: "9fa964779e77fc49784a19e76b45b58c37bc59c874eca4b242bf610bd46c6454",
    olderVersionIds: [],
    versionCreatedAt: "2024-10-02T12:00:00.000Z",
    createdAt: "2024-10-01T00:00:00.000Z",
    inputs: {
      prompt: prompt(true, "Text prompt for image generation"),
      image_prompt: {
        kind: "uri",
        description:
          "Image to use with Flux Redux. This is used together with the text prompt to guide the generation towards the composition of the image_prompt.",
      },
      aspect_ratio: {
        kind: "enum",
        description: "Aspect ratio for the generated image",
        values: ["custom", "1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3"],
        default: "1:1",
      },
      width: {
        kind: "integer",
        description:
          "Width of the generated image in text-to-image mode. Only used when aspect_ratio=custom. Must be a multiple of 32 (if it's not, it will be rounded to nearest multiple of 32).",
        minimum: 256,
        maximum: 1440,
      },
      height: {
        kind: "integer",
        description:
          "Height of the generated image in text-to-image mode. Only used when aspect_ratio=custom. Must be a multiple of 32 (if it's not, it will be rounded to nearest multiple of 32).",
        minimum: 256,
        maximum: 1440,
      },
      safety_tolerance: {
        kind: "integer",
        description: "Safety tolerance, 1 is most strict and 6 is most permissive",
        default: 2,
        minimum: 1,
        maximum: 6,
      },
      seed,
      prompt_upsampling: {
        kind: "boolean",
        description: "Automatically modify the prompt for more creative generation",
        default: false,
      },
      output_format: fluxOutputFormat,
      output_quality: outputQuality,
    },
    output: "single",
    behaviour: { setupMs: 300, stepMs: 50, fixedSteps: 20, guideImageInput: "image_prompt", defaultFormat: "webp" },
  },
  {
    owner: "black-forest-labs",
    name: "flux-kontext-pro",
    id: "black-forest-labs/flux-kontext-pro",
    description:
      "A state-of-the-art text-based image editing model that delivers high-quality outputs with excellent prompt following and consistent results",
    official: true,
    kind: "image",
    versionId: "bc63ed5a0274ebc1007eda47f8294a59cb3f7f678bc371a98f49ed77acba2d66",
    olderVersionIds: [],
    versionCreatedAt: "2025-05-29T12:00:00.000Z",
    createdAt: "2025-05-29T00:00:00.000Z",
    inputs: {
      prompt: prompt(
        true,
        "Text description of what you want to generate, or the instruction on how to edit the given image.",
      ),
      input_image: { kind: "uri", description: "Image to use as reference. Must be jpeg, png, gif, or webp." },
      aspect_ratio: {
        kind: "enum",
        description:
          "Aspect ratio of the generated image. Use 'match_input_image' to match the aspect ratio of the input image.",
        values: [
          "match_input_image",
          "1:1",
          "16:9",
          "9:16",
          "4:3",
          "3:4",
          "3:2",
          "2:3",
          "4:5",
          "5:4",
          "21:9",
          "9:21",
          "2:1",
          "1:2",
        ],
        default: "match_input_image",
      },
      seed,
      output_format: {
        kind: "enum",
        description: "Output format for the generated image",
        values: ["jpg", "png"],
        default: "png",
      },
      safety_tolerance: {
        kind: "integer",
        description:
          "Safety tolerance, 0 is most strict and 6 is most permissive. 2 is currently the maximum allowed when input images are used.",
        default: 2,
        minimum: 0,
        maximum: 6,
      },
      prompt_upsampling: { kind: "boolean", description: "Automatic prompt improvement", default: false },
    },
    output: "single",
    behaviour: { setupMs: 300, stepMs: 100, fixedSteps: 20, imageInput: "input_image", defaultFormat: "png" },
  },
  {
    owner: "stability-ai",
    name: "sdxl",
    id: "stability-ai/sdxl",
    description: "A text-to-image generative AI model that creates beautiful images",
    official: false,
    kind: "image",
    versionId: SDXL_VERSION,
    olderVersionIds: [SDXL_OLDER_VERSION],
    versionCreatedAt: "2023-11-22T22:45:34.000Z",
    createdAt: "2023-07-26T17:53:09.000Z",
    inputs: {
      prompt: { kind: "string", description: "Input prompt", default: "An astronaut riding a rainbow unicorn" },
      negative_prompt: { kind: "string", description: "Input Negative Prompt", default: "" },
      image: { kind: "uri", description: "Input image for img2img or inpaint mode" },
      mask: {
        kind: "uri",
        description: "Input mask for inpaint mode. Black areas will be preserved, white areas will be inpainted.",
      },
      width: { kind: "integer", description: "Width of output image", default: 1024 },
      height: { kind: "integer", description: "Height of output image", default: 1024 },
      num_outputs: numOutputs,
      scheduler: {
        kind: "enum",
        description: "scheduler",
        values: ["DDIM", "DPMSolverMultistep", "HeunDiscrete", "KarrasDPM", "K_EULER_ANCESTRAL", "K_EULER", "PNDM"],
        default: "K_EULER",
      },
      num_inference_steps: {
        kind: "integer",
        description: "Number of denoising steps",
        default: 50,
        minimum: 1,
        maximum: 500,
      },
      guidance_scale: {
        kind: "number",
        description: "Scale for classifier-free guidance",
        default: 7.5,
        minimum: 1,
        maximum: 50,
      },
      prompt_strength: {
        kind: "number",
        description:
          "Prompt strength when using img2img / inpaint. 1.0 corresponds to full destruction of information in image",
        default: 0.8,
        minimum: 0,
        maximum: 1,
      },
      seed: { kind: "integer", description: "Random seed. Leave blank to randomize the seed" },
      refine: {
        kind: "enum",
        description: "Which refine style to use",
        values: ["no_refiner", "expert_ensemble_refiner", "base_image_refiner"],
        default: "no_refiner",
      },
      high_noise_frac: {
        kind: "number",
        description: "For expert_ensemble_refiner, the fraction of noise to use",
        default: 0.8,
        minimum: 0,
        maximum: 1,
      },
      refine_steps: {
        kind: "integer",
        description: "For base_image_refiner, the number of steps to refine, defaults to num_inference_steps",
      },
      apply_watermark: {
        kind: "boolean",
        description: "Applies a watermark to enable determining if an image is generated in downstream applications.",
        default: true,
      },
      lora_scale: {
        kind: "number",
        description: "LoRA additive scale. Only applicable on trained models.",
        default: 0.6,
        minimum: 0,
        maximum: 1,
      },
      replicate_weights: {
        kind: "string",
        description: "Replicate LoRA weights to use. Leave blank to use the default weights.",
      },
      disable_safety_checker: {
        kind: "boolean",
        description: "Disable safety checker for generated images.",
        default: false,
      },
    },
    output: "array",
    behaviour: {
      setupMs: 300,
      stepMs: 40,
      stepsInput: "num_inference_steps",
      imageInput: "image",
      maskInput: "mask",
      defaultFormat: "png",
    },
  },
  {
    owner: "minimax",
    name: "video-01",
    id: "minimax/video-01",
    description: "Generate 6s videos with prompts or images. (Also known as Hailuo)",
    official: true,
    kind: "video",
    versionId: "3b630749ae0d6098ac207bcc2397b46f396651411859d4e56f2aab479150adfa",
    olderVersionIds: [],
    versionCreatedAt: "2024-11-26T12:00:00.000Z",
    createdAt: "2024-11-26T00:00:00.000Z",
    inputs: {
      prompt: { kind: "string", description: "Text prompt for generation" },
      prompt_optimizer: { kind: "boolean", description: "Use prompt optimizer", default: true },
      first_frame_image: {
        kind: "uri",
        description:
          "First frame image for video generation. The output video will have the same aspect ratio as this image.",
      },
      subject_reference: {
        kind: "uri",
        description: "An optional character reference image to use as the subject in the generated video",
      },
    },
    output: "single",
    // A real H.264 MP4 (see video.ts) whose first frame is the input image.
    behaviour: {
      setupMs: 500,
      stepMs: 100,
      fixedSteps: 50,
      imageInput: "first_frame_image",
      guideImageInput: "subject_reference",
      defaultFormat: "mp4",
      videoSeconds: 6,
    },
  },
];

/**
 * Public models the emulator knows besides the catalog above, so that adding a model by name works
 * offline (`replicate-api.md` §10). More can be configured at run time (`POST /__control/models`).
 */
export const EXTRA_MODELS: readonly CatalogModel[] = [
  {
    owner: "kwaivgi",
    name: "kling-v2.0",
    id: "kwaivgi/kling-v2.0",
    description: "Generate 5s and 10s videos in 720p resolution",
    official: true,
    kind: "video",
    versionId: "c17ab6fb62ef7ec4f1d31b6e0b8b3a4f0e0e4bd2f2d0f0a7b1f5e1c2d3a4b5c6",
    olderVersionIds: [],
    versionCreatedAt: "2025-04-15T12:00:00.000Z",
    createdAt: "2025-04-15T00:00:00.000Z",
    inputs: {
      prompt: { kind: "string", description: "Text prompt for video generation", required: true },
      negative_prompt: { kind: "string", description: "Things you do not want to see in the video", default: "" },
      aspect_ratio: {
        kind: "enum",
        description: "Aspect ratio of the video. Ignored if start_image is provided.",
        values: ["16:9", "9:16", "1:1"],
        default: "16:9",
      },
      start_image: { kind: "uri", description: "First frame of the video" },
      cfg_scale: {
        kind: "number",
        description:
          "Flexibility in video generation; The higher the value, the lower the model's degree of flexibility, and the stronger the relevance to the user's prompt.",
        default: 0.5,
        minimum: 0,
        maximum: 1,
      },
      duration: { kind: "enum", description: "Duration of the video in seconds", values: [5, 10], default: 5 },
    },
    output: "single",
    behaviour: {
      setupMs: 400,
      stepMs: 80,
      fixedSteps: 40,
      imageInput: "start_image",
      defaultFormat: "mp4",
      durationInput: "duration",
      videoSeconds: 5,
    },
  },
];

export const MODEL_IDS: readonly string[] = CATALOG.map((model) => model.id);

const BUILT_IN: readonly CatalogModel[] = [...CATALOG, ...EXTRA_MODELS];

/** The built-in models (the catalog and the extras), by `owner`/`name`. */
export function findModel(owner: string, name: string): CatalogModel | undefined {
  return BUILT_IN.find((model) => model.owner === owner && model.name === name);
}

export function findModelByVersion(versionId: string): CatalogModel | undefined {
  return BUILT_IN.find((model) => model.versionId === versionId || model.olderVersionIds.includes(versionId));
}

// ---- Cog-style OpenAPI schema -------------------------------------------------------------------

export type JsonSchema = Record<string, unknown>;

function titleOf(field: string): string {
  return field
    .split("_")
    .map((word) => (word ? word.charAt(0).toUpperCase() + word.slice(1) : word))
    .join(" ");
}

/** `components.schemas.Input` plus one enum component per enum field, as Cog emits them. */
export function inputSchemaOf(model: CatalogModel): { input: JsonSchema; enums: Record<string, JsonSchema> } {
  const properties: Record<string, JsonSchema> = {};
  const enums: Record<string, JsonSchema> = {};
  const required: string[] = [];
  Object.entries(model.inputs).forEach(([field, spec], order) => {
    if (spec.required) required.push(field);
    const common: JsonSchema = { description: spec.description, "x-order": order };
    switch (spec.kind) {
      case "enum":
        enums[field] = {
          enum: [...spec.values],
          type: spec.values.every((value) => typeof value === "number") ? "integer" : "string",
          title: field,
          description: "An enumeration.",
        };
        properties[field] = {
          allOf: [{ $ref: `#/components/schemas/${field}` }],
          ...(spec.default !== undefined ? { default: spec.default } : {}),
          ...common,
        };
        break;
      case "uri":
        properties[field] = { type: "string", title: titleOf(field), format: "uri", ...common };
        break;
      case "uri-list":
        properties[field] = {
          type: "array",
          items: { type: "string", format: "uri" },
          title: titleOf(field),
          ...(spec.maxItems !== undefined ? { maxItems: spec.maxItems } : {}),
          ...common,
        };
        break;
      case "integer":
      case "number":
        properties[field] = {
          type: spec.kind,
          title: titleOf(field),
          ...(spec.default !== undefined ? { default: spec.default } : {}),
          ...(spec.minimum !== undefined ? { minimum: spec.minimum } : {}),
          ...(spec.maximum !== undefined ? { maximum: spec.maximum } : {}),
          ...common,
        };
        break;
      case "string":
      case "boolean":
        properties[field] = {
          type: spec.kind,
          title: titleOf(field),
          ...(spec.default !== undefined ? { default: spec.default } : {}),
          ...common,
        };
        break;
    }
  });
  const input: JsonSchema = { type: "object", title: "Input", ...(required.length ? { required } : {}), properties };
  return { input, enums };
}

export function outputSchemaOf(model: CatalogModel): JsonSchema {
  return model.output === "array"
    ? { type: "array", items: { type: "string", format: "uri" }, title: "Output" }
    : { type: "string", format: "uri", title: "Output" };
}

/** The whole Cog-generated OpenAPI document served as `latest_version.openapi_schema`. */
export function openApiSchemaOf(model: CatalogModel): JsonSchema {
  const { input, enums } = inputSchemaOf(model);
  const webhookEvents = ["start", "output", "logs", "completed"];
  return {
    openapi: "3.0.2",
    info: { title: "Cog", version: "0.1.0" },
    paths: {},
    components: {
      schemas: {
        Input: input,
        Output: outputSchemaOf(model),
        ...enums,
        Status: {
          enum: ["starting", "processing", "succeeded", "canceled", "failed"],
          type: "string",
          title: "Status",
          description: "An enumeration.",
        },
        WebhookEvent: { enum: webhookEvents, type: "string", title: "WebhookEvent", description: "An enumeration." },
        PredictionRequest: {
          type: "object",
          title: "PredictionRequest",
          properties: {
            id: { type: "string", title: "Id" },
            input: { $ref: "#/components/schemas/Input" },
            webhook: { type: "string", title: "Webhook", format: "uri", maxLength: 65536, minLength: 1 },
            created_at: { type: "string", title: "Created At", format: "date-time" },
            output_file_prefix: { type: "string", title: "Output File Prefix" },
            webhook_events_filter: {
              type: "array",
              items: { $ref: "#/components/schemas/WebhookEvent" },
              default: webhookEvents,
            },
          },
        },
        PredictionResponse: {
          type: "object",
          title: "PredictionResponse",
          properties: {
            id: { type: "string", title: "Id" },
            logs: { type: "string", title: "Logs", default: "" },
            error: { type: "string", title: "Error" },
            input: { $ref: "#/components/schemas/Input" },
            output: { $ref: "#/components/schemas/Output" },
            status: { $ref: "#/components/schemas/Status" },
            metrics: { type: "object", title: "Metrics" },
            version: { type: "string", title: "Version" },
            created_at: { type: "string", title: "Created At", format: "date-time" },
            started_at: { type: "string", title: "Started At", format: "date-time" },
            completed_at: { type: "string", title: "Completed At", format: "date-time" },
          },
        },
        ValidationError: {
          type: "object",
          title: "ValidationError",
          required: ["loc", "msg", "type"],
          properties: {
            loc: { type: "array", items: { anyOf: [{ type: "string" }, { type: "integer" }] }, title: "Location" },
            msg: { type: "string", title: "Message" },
            type: { type: "string", title: "Error Type" },
          },
        },
        HTTPValidationError: {
          type: "object",
          title: "HTTPValidationError",
          properties: {
            detail: { type: "array", items: { $ref: "#/components/schemas/ValidationError" }, title: "Detail" },
          },
        },
      },
    },
  };
}
