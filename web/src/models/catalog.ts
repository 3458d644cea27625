import type { InputSchema, ModelSummary } from "@contract/api";
import { createResource, createRoot, createSignal, type InitializedResource } from "solid-js";
import { addModel, fetchModelSchema, listModels, removeModel } from "../api/models";
import { formatCost, modelName } from "../lib/format";

export const DEFAULT_MODEL_ID = "black-forest-labs/flux-schnell";
/** What "Animate" runs unless the person's list has another video model that starts from an image. */
export const DEFAULT_VIDEO_MODEL_ID = "minimax/video-01";

const FALLBACK_MODELS: ModelSummary[] = [
  {
    id: DEFAULT_MODEL_ID,
    kind: "image",
    description: "Fast text-to-image",
    capabilities: { textToImage: true, imageToImage: false, mask: false, references: false },
    name: "flux-schnell",
    official: true,
    version: null,
    source: "catalog",
    coverImageUrl: null,
    pricing: null,
    limits: { references: 0, outputs: 4 },
    inputs: { prompt: "prompt", seed: "seed", numOutputs: "num_outputs" },
  },
];

/** The list, shared by every form of the page; replaced when a model is added or removed. */
const store = createRoot(() => {
  const [version, setVersion] = createSignal(0);
  return { version, bump: () => setVersion((n) => n + 1) };
});

let cached: Promise<ModelSummary[]> | undefined;

/** The catalog and the person's own models, fetched once per page load (and after a change); never empty. */
function loadModels(): Promise<ModelSummary[]> {
  cached ??= listModels()
    .then((page) => (page.items.length > 0 ? page.items : FALLBACK_MODELS))
    .catch((error: unknown) => {
      cached = undefined; // Try again next time a form mounts.
      console.warn("Models unavailable, using the default model", error);
      return FALLBACK_MODELS;
    });
  return cached;
}

export function useModels(): InitializedResource<ModelSummary[]> {
  const [models] = createResource(store.version, loadModels, { initialValue: FALLBACK_MODELS });
  return models;
}

/** Adds a public Replicate model to the person's list; the lists on the page follow. */
export async function addModelByName(id: string): Promise<ModelSummary> {
  const model = await addModel(id);
  // The list has it at once (a catalog model is there already); the next load asks the server again.
  const before = cached ?? loadModels();
  cached = before.then((list) => (list.some((m) => m.id === model.id) ? list : [...list, model]));
  store.bump();
  return model;
}

export async function removeAddedModel(id: string): Promise<void> {
  await removeModel(id);
  cached = undefined;
  store.bump();
}

const schemas = new Map<string, Promise<InputSchema>>();

/** A model's input schema, fetched once per page load. */
export function loadModelSchema(id: string): Promise<InputSchema> {
  let schema = schemas.get(id);
  if (!schema) {
    schema = fetchModelSchema(id);
    schemas.set(id, schema);
    schema.catch(() => schemas.delete(id)); // Ask again next time.
  }
  return schema;
}

/** What the next generation asks of its model. */
export type ModelNeeds = { source: boolean; mask: boolean; references: boolean };

/** Why `model` can't serve `needs`, as the end of a sentence ("can't start from an image"), or null. */
export function unmetNeed(model: ModelSummary, needs: ModelNeeds): string | null {
  const c = model.capabilities;
  if (needs.source && !c.imageToImage) return "can't start from an image";
  if (!needs.source && !c.textToImage) return "needs an image to start from";
  if (needs.mask && !c.mask) return "takes no mask";
  if (needs.references && !c.references) return "takes no reference images";
  return null;
}

export const modelLabel = (model: ModelSummary): string =>
  model.kind === "video" ? `${model.name || modelName(model.id)} (video)` : model.name || modelName(model.id);

/** "$0.003 an image", "$0.000975 a second of GPU time", or "Price not published". */
export function priceLabel(model: ModelSummary): string {
  const pricing = model.pricing;
  if (!pricing) return "Price not in our table";
  if (pricing.per === "output") return `${formatCost(pricing.usd)} ${model.kind === "video" ? "a video" : "an image"}`;
  return `≈ ${formatCost(pricing.usd * pricing.typicalSeconds)} a run (${formatCost(pricing.usd)}/s of ${pricing.hardware})`;
}

/** What a run is expected to cost, or null when the price is not known. */
export function estimateCost(model: ModelSummary, outputs: number): number | null {
  const pricing = model.pricing;
  if (!pricing) return null;
  return pricing.per === "output" ? pricing.usd * outputs : pricing.usd * pricing.typicalSeconds;
}
