/** The model catalog. */
import type { ModelPage } from "@contract/api";
import { api, readJson } from "./client";

export async function listModels(): Promise<ModelPage> {
  return readJson(await api.models.$get());
}
