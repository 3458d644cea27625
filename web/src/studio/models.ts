import { createResource, type InitializedResource } from "solid-js";
import { modelSummarySchema, pageSchema, type ModelSummary } from "../../../worker/contract/api";
import { api } from "../lib/api";

export const DEFAULT_MODEL_ID = "black-forest-labs/flux-schnell";

const FALLBACK_MODELS: ModelSummary[] = [
  {
    id: DEFAULT_MODEL_ID,
    kind: "image",
    description: "Fast text-to-image",
    capabilities: { textToImage: true, imageToImage: false, mask: false, references: false },
  },
];

const modelsResponseSchema = pageSchema(modelSummarySchema).partial({ nextCursor: true });

let cached: Promise<ModelSummary[]> | undefined;

/** The catalog's text-to-image models, fetched once per page load; never empty. */
function loadModels(): Promise<ModelSummary[]> {
  cached ??= api
    .get("/api/models", modelsResponseSchema)
    .then((body) => {
      const usable = body.items.filter((m) => m.kind === "image" && m.capabilities.textToImage);
      return usable.length > 0 ? usable : FALLBACK_MODELS;
    })
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
