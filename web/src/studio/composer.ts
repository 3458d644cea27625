/**
 * The state of a prompt form, kept apart from its markup so a page can fill it in ("Reuse prompt")
 * and read it back as a validated `CreateGenerationRequest`.
 */
import { createStore, type SetStoreFunction } from "solid-js/store";
import {
  createGenerationSchema,
  type CreateGenerationRequest,
  type Generation,
  type GenerationParams,
} from "../../../worker/contract/api";
import { issuesByPath } from "../ui/fields";

export const SIZE_PRESETS = [
  { id: "default", label: "Model default" },
  { id: "1024x1024", label: "Square · 1024 × 1024", width: 1024, height: 1024 },
  { id: "896x1152", label: "Portrait · 896 × 1152", width: 896, height: 1152 },
  { id: "1152x896", label: "Landscape · 1152 × 896", width: 1152, height: 896 },
  { id: "768x1344", label: "Tall 9:16 · 768 × 1344", width: 768, height: 1344 },
  { id: "1344x768", label: "Wide 16:9 · 1344 × 768", width: 1344, height: 768 },
  { id: "custom", label: "Custom…" },
] as const;
export type SizePresetId = (typeof SIZE_PRESETS)[number]["id"];

export type ComposerFields = {
  prompt: string;
  /** Empty until the person picks one: the page's default model applies. */
  model: string;
  negativePrompt: string;
  size: SizePresetId;
  width: string;
  height: string;
  seed: string;
  numOutputs: string;
};

/** The form fields whose errors are shown in place; everything else goes to the form-level message. */
export const FIELD_PATHS = [
  "prompt",
  "model",
  "negativePrompt",
  "params.width",
  "params.height",
  "params.seed",
  "params.numOutputs",
] as const;
export type FieldPath = (typeof FIELD_PATHS)[number];
export type FieldErrors = Partial<Record<FieldPath, string>>;

const FRIENDLY: Partial<Record<FieldPath, string>> = {
  "params.width": "Use a whole number of pixels from 64 to 2048.",
  "params.height": "Use a whole number of pixels from 64 to 2048.",
  "params.seed": "Use a whole number from 0 to 4294967295, or leave empty for a random seed.",
  "params.numOutputs": "Choose 1 to 4 images.",
};

export type Composer = {
  fields: ComposerFields;
  set: SetStoreFunction<ComposerFields>;
  /** Validates against the contract's `createGenerationSchema`. */
  toRequest: (defaultModel: string) => { ok: true; request: CreateGenerationRequest } | { ok: false; errors: FieldErrors };
  /** Fills the form from an earlier generation ("Reuse prompt"). */
  loadFrom: (generation: Generation) => void;
};

const LAST_MODEL_KEY = "image-studio:model";

export function rememberedModel(): string {
  try {
    return localStorage.getItem(LAST_MODEL_KEY) ?? "";
  } catch {
    return "";
  }
}

export function rememberModel(model: string): void {
  try {
    localStorage.setItem(LAST_MODEL_KEY, model);
  } catch {
    // Private mode or storage disabled: nothing to remember.
  }
}

const toNumber = (value: string): number | undefined => {
  const trimmed = value.trim();
  return trimmed === "" ? undefined : Number(trimmed);
};

export function createComposer(initial: Partial<ComposerFields> = {}): Composer {
  const [fields, set] = createStore<ComposerFields>({
    prompt: "",
    model: "",
    negativePrompt: "",
    size: "default",
    width: "1024",
    height: "1024",
    seed: "",
    numOutputs: "1",
    ...initial,
  });

  const toRequest: Composer["toRequest"] = (defaultModel) => {
    const params: GenerationParams = {};
    const preset = SIZE_PRESETS.find((p) => p.id === fields.size);
    if (preset && "width" in preset) {
      params.width = preset.width;
      params.height = preset.height;
    } else if (fields.size === "custom") {
      params.width = toNumber(fields.width);
      params.height = toNumber(fields.height);
    }
    const seed = toNumber(fields.seed);
    if (seed !== undefined) params.seed = seed;
    const numOutputs = toNumber(fields.numOutputs);
    if (numOutputs !== undefined && numOutputs !== 1) params.numOutputs = numOutputs;

    const candidate = {
      model: fields.model || defaultModel,
      prompt: fields.prompt,
      negativePrompt: fields.negativePrompt.trim() || undefined,
      params: Object.keys(params).length > 0 ? params : undefined,
    };
    const parsed = createGenerationSchema.safeParse(candidate);
    if (parsed.success) return { ok: true, request: parsed.data };

    const byPath = issuesByPath(parsed.error.issues);
    const errors: FieldErrors = {};
    for (const path of FIELD_PATHS) {
      const message = byPath[path];
      if (message) errors[path] = FRIENDLY[path] ?? message;
    }
    return { ok: false, errors };
  };

  const loadFrom = (generation: Generation) => {
    const { width, height, seed, numOutputs } = generation.params;
    const preset =
      typeof width === "number" && typeof height === "number"
        ? (SIZE_PRESETS.find((p) => "width" in p && p.width === width && p.height === height)?.id ?? "custom")
        : "default";
    set({
      prompt: generation.prompt,
      model: generation.model,
      negativePrompt: generation.negativePrompt ?? "",
      size: preset,
      width: typeof width === "number" ? String(width) : fields.width,
      height: typeof height === "number" ? String(height) : fields.height,
      seed: typeof seed === "number" ? String(seed) : "",
      numOutputs: typeof numOutputs === "number" ? String(numOutputs) : "1",
    });
  };

  return { fields, set, toRequest, loadFrom };
}
