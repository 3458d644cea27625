import type { ModelSummary } from "@contract/api";
import { createResource, type InitializedResource } from "solid-js";
import { listModels } from "../api/models";
import { modelName } from "../lib/format";

export const DEFAULT_MODEL_ID = "black-forest-labs/flux-schnell";

const FALLBACK_MODELS: ModelSummary[] = [
  {
    id: DEFAULT_MODEL_ID,
    kind: "image",
    description: "Fast text-to-image",
    capabilities: { textToImage: true, imageToImage: false, mask: false, references: false },
  },
];

let cached: Promise<ModelSummary[]> | undefined;

/** The whole catalog (image and video models), fetched once per page load; never empty. */
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
  const [models] = createResource(loadModels, { initialValue: FALLBACK_MODELS });
  return models;
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
  model.kind === "video" ? `${modelName(model.id)} (video)` : modelName(model.id);
