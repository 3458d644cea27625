/**
 * The state of a prompt form, kept apart from its markup so a page can fill it in ("Use this batch")
 * and read it back as a validated `CreateGenerationRequest`.
 *
 * It also picks the model: the person's choice when it can do what the next generation needs (start
 * from an image, take a mask, use references), otherwise the first model of the catalog that can,
 * with a sentence saying why (`modelNote`).
 */

import {
  type CreateGenerationRequest,
  createGenerationSchema,
  type Generation,
  type GenerationParams,
  type ModelSummary,
} from "@contract/api";
import { createMemo } from "solid-js";
import { createStore, reconcile, type SetStoreFunction } from "solid-js/store";
import { modelName } from "../lib/format";
import { DEFAULT_MODEL_ID, type ModelNeeds, unmetNeed, useModels } from "../models";
import { createReferenceTray, type ReferenceTray } from "../references";
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
  /** How far an image-to-image run may move from its source, 0..1; empty: the model's default. */
  strength: string;
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
  "params.strength",
] as const;
export type FieldPath = (typeof FIELD_PATHS)[number];
export type FieldErrors = Partial<Record<FieldPath, string>>;

const FRIENDLY: Partial<Record<FieldPath, string>> = {
  "params.width": "Use a whole number of pixels from 64 to 2048.",
  "params.height": "Use a whole number of pixels from 64 to 2048.",
  "params.seed": "Use a whole number from 0 to 4294967295, or leave empty for a random seed.",
  "params.numOutputs": "Choose 1 to 4 images.",
  "params.strength": "Use a number from 0 (keep the source) to 1 (ignore it).",
};

/** Parameters the form has its own field for; any other loaded parameter is carried over as is. */
const FORM_PARAMS = new Set(["width", "height", "seed", "numOutputs", "strength"]);

export type ComposerOptions = {
  /** The page's preferred model when the person hasn't picked one (e.g. the session's last model). */
  preferredModel?: () => string | null | undefined;
  /** Whether the next generation starts from an image and carries a mask (references are known here). */
  needs?: () => { source: boolean; mask: boolean };
};

export type Composer = {
  fields: ComposerFields;
  set: SetStoreFunction<ComposerFields>;
  references: ReferenceTray;
  /** Loaded parameters without a field of their own (steps, guidance, scheduler, model-specific). */
  carried: () => GenerationParams;
  clearCarried: () => void;
  needs: () => ModelNeeds;
  /** Models that can do what the next generation needs (all of them if none can). */
  modelChoices: () => ModelSummary[];
  selectedModel: () => string;
  selectedSummary: () => ModelSummary | undefined;
  /** Why the model shown differs from the one asked for, when it does. */
  modelNote: () => string | undefined;
  /** The first model of the catalog that can do this (e.g. take a mask), for "Switch to …". */
  firstModelWith: (needs: Partial<ModelNeeds>) => ModelSummary | undefined;
  /** Validates against the contract's `createGenerationSchema` (no source fields: the page adds them). */
  toRequest: () => { ok: true; request: CreateGenerationRequest } | { ok: false; errors: FieldErrors };
  /** Fills the form from an earlier generation: model, prompt, negative prompt, params, references. */
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

export function createComposer(options: ComposerOptions = {}, initial: Partial<ComposerFields> = {}): Composer {
  const [fields, set] = createStore<ComposerFields>({
    prompt: "",
    model: "",
    negativePrompt: "",
    size: "default",
    width: "1024",
    height: "1024",
    seed: "",
    numOutputs: "1",
    strength: "",
    ...initial,
  });
  const [carry, setCarry] = createStore<{ params: GenerationParams }>({ params: {} });
  const references = createReferenceTray();
  const models = useModels();

  const needs = (): ModelNeeds => {
    const page = options.needs?.() ?? { source: false, mask: false };
    return { source: page.source, mask: page.mask, references: references.items.length > 0 };
  };

  const modelChoices = createMemo(() => {
    const wanted = needs();
    const capable = models().filter((m) => unmetNeed(m, wanted) === null);
    return capable.length > 0 ? capable : models();
  });

  /** The model asked for: picked in the form, else the page's preference, else the last one used. */
  const wantedModel = (): string => {
    if (fields.model) return fields.model;
    const preferred = options.preferredModel?.();
    if (preferred) return preferred;
    const remembered = rememberedModel();
    if (remembered && models().some((m) => m.id === remembered)) return remembered;
    return models()[0]?.id ?? DEFAULT_MODEL_ID;
  };

  const selection = createMemo((): { id: string; note?: string } => {
    const wanted = wantedModel();
    const summary = models().find((m) => m.id === wanted);
    // A model outside the catalog we know (the catalog failed to load): trust the person.
    if (!summary) return { id: wanted };
    const reason = unmetNeed(summary, needs());
    if (!reason) return { id: wanted };
    const fallback = modelChoices()[0];
    if (!fallback || unmetNeed(fallback, needs()) !== null) {
      return {
        id: wanted,
        note: "No model can do all of this at once: remove the mask, the source image or the references.",
      };
    }
    return {
      id: fallback.id,
      note: `${modelName(wanted)} ${reason}, so ${modelName(fallback.id)} is selected.`,
    };
  });

  const toRequest: Composer["toRequest"] = () => {
    const params: GenerationParams = {};
    for (const [key, value] of Object.entries(carry.params)) {
      if (!FORM_PARAMS.has(key) && value !== undefined) params[key] = value;
    }
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
    const strength = toNumber(fields.strength);
    if (strength !== undefined && needs().source) params.strength = strength;

    const referenceImageIds = references.ids();
    const candidate = {
      model: selection().id,
      prompt: fields.prompt,
      negativePrompt: fields.negativePrompt.trim() || undefined,
      params: Object.keys(params).length > 0 ? params : undefined,
      referenceImageIds: referenceImageIds.length > 0 ? referenceImageIds : undefined,
    };
    const parsed = createGenerationSchema.safeParse(candidate);
    if (parsed.success) return { ok: true, request: parsed.data };

    const byPath = issuesByPath(parsed.error.issues);
    const errors: FieldErrors = {};
    for (const path of FIELD_PATHS) {
      const message = byPath[path];
      if (message) errors[path] = FRIENDLY[path] ?? message;
    }
    if (Object.keys(errors).length === 0) {
      // Only a carried-over parameter can fail outside the form's own fields.
      const [path, message] = Object.entries(byPath)[0] ?? ["", "invalid"];
      errors.prompt = `A loaded setting was refused (${path}: ${message}). Clear the loaded settings under More options.`;
    }
    return { ok: false, errors };
  };

  const loadFrom = (generation: Generation) => {
    const { width, height, seed, numOutputs, strength } = generation.params;
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
      strength: typeof strength === "number" ? String(strength) : "",
    });
    const rest: GenerationParams = {};
    for (const [key, value] of Object.entries(generation.params)) {
      if (!FORM_PARAMS.has(key) && value !== undefined) rest[key] = value;
    }
    setCarry("params", reconcile(rest));
    references.load(generation.references);
  };

  return {
    fields,
    set,
    references,
    carried: () => carry.params,
    clearCarried: () => setCarry("params", reconcile({})),
    needs,
    modelChoices,
    selectedModel: () => selection().id,
    selectedSummary: () => models().find((m) => m.id === selection().id),
    modelNote: () => selection().note,
    firstModelWith: (wanted) => models().find((m) => unmetNeed(m, { ...needs(), ...wanted }) === null),
    toRequest,
    loadFrom,
  };
}
