/**
 * The state of a prompt form, kept apart from its markup so a page can fill it in ("Use this batch")
 * and read it back as a validated `CreateGenerationRequest`.
 *
 * The model is the person's choice, never switched for them: when it cannot do what the next
 * generation needs (start from an image, take a mask, use references), `modelNote` says so and the
 * form is not sent. Its settings are the model's own, read from its input schema (`schemaFields`);
 * what was touched is kept per model, so going back to a model finds them again.
 */

import {
  type CreateGenerationRequest,
  createGenerationSchema,
  type Generation,
  type GenerationParams,
  type InputSchema,
  type ModelSummary,
} from "@contract/api";
import { createMemo, createResource, type Resource } from "solid-js";
import { createStore, produce, type SetStoreFunction } from "solid-js/store";
import {
  DEFAULT_MODEL_ID,
  estimateCost,
  loadModelSchema,
  type ModelNeeds,
  modelLabel,
  unmetNeed,
  useModels,
} from "../models";
import { createReferenceTray, type ReferenceTray } from "../references";
import { issuesByPath } from "../ui/fields";
import { type FieldValue, fieldsOf, initialValue, paramValue, type SchemaField, valuesFromParams } from "./schemaForm";

export type ComposerFields = {
  prompt: string;
  /** Empty until the person picks one: the page's default model applies. */
  model: string;
  negativePrompt: string;
  /** When the model's schema can't be had: a seed, in our own field. */
  seed: string;
};

/** Field errors by path as the API names them: `prompt`, `model`, `negativePrompt`, `params.<input>`. */
export type FieldErrors = Record<string, string | undefined>;

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
  needs: () => ModelNeeds;
  /** Every model the person can choose (the catalog and their own). */
  models: () => ModelSummary[];
  /** The list is still on its way (until then only the default model is known, without its price). */
  modelsLoading: () => boolean;
  selectedModel: () => string;
  selectedSummary: () => ModelSummary | undefined;
  /** What the chosen model cannot do of what the next generation needs, when it can't. */
  modelNote: () => string | undefined;
  /** When the chosen model can't do it: the first model that can, for the person to choose. */
  suggestion: () => ModelSummary | undefined;
  /** The first model of the list that can do this (e.g. take a mask), for "Switch to …". */
  firstModelWith: (needs: Partial<ModelNeeds>) => ModelSummary | undefined;
  /** The chosen model's input schema (undefined while loading; errored when it can't be had). */
  schema: Resource<InputSchema>;
  /** The chosen model's settings as form fields, in its order. */
  schemaFields: () => SchemaField[];
  /** A field's value as shown (touched, else the model's default). */
  value: (name: string) => FieldValue;
  setValue: (name: string, value: FieldValue) => void;
  /** Puts every setting of the chosen model back to its default. */
  resetValues: () => void;
  touched: () => string[];
  /** How many outputs the next run makes, and what it should cost (null: price unknown). */
  outputs: () => number;
  estimate: () => number | null;
  /** Validates against the contract's `createGenerationSchema` (no source fields: the page adds them). */
  toRequest: () => { ok: true; request: CreateGenerationRequest } | { ok: false; errors: FieldErrors };
  /** Fills the form from an earlier generation: model, prompt, negative prompt, settings, references. */
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

export function createComposer(options: ComposerOptions = {}, initial: Partial<ComposerFields> = {}): Composer {
  const [fields, set] = createStore<ComposerFields>({
    prompt: "",
    model: "",
    negativePrompt: "",
    seed: "",
    ...initial,
  });
  /** Touched settings, per model id. */
  const [values, setValues] = createStore<Record<string, Record<string, FieldValue>>>({});
  const models = useModels();

  /** The model asked for: picked in the form, else the page's preference, else the last one used. */
  const selectedModel = createMemo((): string => {
    if (fields.model) return fields.model;
    const preferred = options.preferredModel?.();
    if (preferred) return preferred;
    const remembered = rememberedModel();
    if (remembered && models().some((m) => m.id === remembered)) return remembered;
    return models()[0]?.id ?? DEFAULT_MODEL_ID;
  });
  const selectedSummary = () => models().find((m) => m.id === selectedModel());
  const references = createReferenceTray(() => {
    const model = selectedSummary();
    return model ? { limit: model.limits.references, modelName: modelLabel(model) } : undefined;
  });

  const needs = (): ModelNeeds => {
    const page = options.needs?.() ?? { source: false, mask: false };
    return { source: page.source, mask: page.mask, references: references.items.length > 0 };
  };

  const modelNote = createMemo((): string | undefined => {
    const summary = selectedSummary();
    if (!summary) return undefined;
    const reason = unmetNeed(summary, needs());
    if (reason) return `${modelLabel(summary)} ${reason}. Choose another model, or change what it starts from.`;
    if (references.items.length > summary.limits.references && summary.limits.references > 0) {
      return `${modelLabel(summary)} takes at most ${summary.limits.references} reference image${summary.limits.references === 1 ? "" : "s"}; remove ${references.items.length - summary.limits.references}.`;
    }
    return undefined;
  });

  const [schema] = createResource(selectedModel, loadModelSchema);
  const schemaFields = createMemo((): SchemaField[] => {
    const loaded = schema.state === "ready" || schema.state === "refreshing" ? schema.latest : undefined;
    const summary = selectedSummary();
    return loaded && summary ? fieldsOf(loaded, summary) : [];
  });
  const own = () => values[selectedModel()] ?? {};
  const value = (name: string): FieldValue => {
    const touched = own()[name];
    if (touched !== undefined) return touched;
    const field = schemaFields().find((f) => f.name === name);
    return field ? initialValue(field) : "";
  };
  const setValue = (name: string, next: FieldValue) => {
    const id = selectedModel();
    setValues(id, (current) => ({ ...(current ?? {}), [name]: next }));
  };

  const outputs = (): number => {
    const name = selectedSummary()?.inputs.numOutputs;
    const count = name ? Number(value(name)) : 1;
    return Number.isInteger(count) && count > 0 ? count : 1;
  };

  const toRequest: Composer["toRequest"] = () => {
    const errors: FieldErrors = {};
    const note = modelNote();
    if (note) errors.model = note;
    const params: GenerationParams = {};
    const fieldsByName = new Map(schemaFields().map((field) => [field.name, field]));
    const summary = selectedSummary();
    for (const [name, raw] of Object.entries(own())) {
      const field = fieldsByName.get(name);
      // Settings of an earlier schema the model no longer has are sent as they are: the server judges.
      if (!field) {
        if (raw !== "") params[name] = raw;
        continue;
      }
      if (field.kind === "file") continue;
      // Strength only means something when starting from an image.
      if (name === summary?.inputs.strength && !needs().source) continue;
      const converted = paramValue(field, raw);
      if (converted === "invalid") errors[`params.${name}`] = field.integer ? "Use a whole number" : "Use a number";
      else if (converted !== undefined) params[name] = converted;
    }
    if (schemaFields().length === 0 && fields.seed.trim() !== "") {
      const seed = Number(fields.seed);
      if (Number.isInteger(seed) && seed >= 0) params.seed = seed;
      else errors["params.seed"] = "Use a whole number from 0 to 4294967295, or leave empty for a random seed.";
    }
    const referenceImageIds = references.ids();
    const candidate = {
      model: selectedModel(),
      prompt: fields.prompt,
      negativePrompt: fields.negativePrompt.trim() || undefined,
      params: Object.keys(params).length > 0 ? params : undefined,
      referenceImageIds: referenceImageIds.length > 0 ? referenceImageIds : undefined,
    };
    const parsed = createGenerationSchema.safeParse(candidate);
    if (!parsed.success) Object.assign(errors, issuesByPath(parsed.error.issues));
    if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
    return { ok: true, request: parsed.data };
  };

  const loadFrom = (generation: Generation) => {
    set({
      prompt: generation.prompt,
      model: generation.model,
      negativePrompt: generation.negativePrompt ?? "",
      seed: typeof generation.params.seed === "number" ? String(generation.params.seed) : "",
    });
    const summary = models().find((m) => m.id === generation.model);
    const loaded = valuesFromParams(generation.params, summary);
    setValues(
      produce((all) => {
        all[generation.model] = loaded;
      }),
    );
    references.load(generation.references);
  };

  return {
    fields,
    set,
    references,
    needs,
    models,
    modelsLoading: () => models.loading,
    selectedModel,
    selectedSummary,
    modelNote,
    firstModelWith: (wanted) => models().find((m) => unmetNeed(m, { ...needs(), ...wanted }) === null),
    suggestion: () =>
      modelNote() ? models().find((m) => m.id !== selectedModel() && unmetNeed(m, needs()) === null) : undefined,
    schema,
    schemaFields,
    value,
    setValue,
    resetValues: () => {
      const id = selectedModel();
      setValues(
        produce((all) => {
          all[id] = {};
        }),
      );
    },
    touched: () => Object.keys(own()),
    outputs,
    estimate: () => {
      const summary = selectedSummary();
      return summary ? estimateCost(summary, outputs()) : null;
    },
    toRequest,
    loadFrom,
  };
}
