/** Models: the catalog and the user's own, adding one by name, and each model's input schema. */
import { type InputSchema, inputSchemaSchema, type ModelPage, type ModelSummary } from "@contract/api";
import { api, done, readJson } from "./client";
import { unreadableAnswer } from "./errors";

export async function listModels(): Promise<ModelPage> {
  return readJson(await api.models.$get());
}

/** Adds a public Replicate model by `owner/name` or `owner/name:version` (404 when Replicate has none). */
export async function addModel(id: string): Promise<ModelSummary> {
  return readJson(await api.models.$post({ json: { id } }));
}

export async function removeModel(id: string): Promise<void> {
  const [owner = "", name = ""] = id.split("/");
  await done(await api.models[":owner"][":name"].$delete({ param: { owner, name } }));
}

/** The model's input JSON Schema (Cog's enums resolved), checked before the form trusts it. */
export async function fetchModelSchema(id: string): Promise<InputSchema> {
  const [owner = "", name = ""] = id.split("/");
  const response = await api.models[":owner"][":name"].schema.$get({
    param: { owner: encodeURIComponent(owner), name: encodeURIComponent(name) },
  });
  const parsed = inputSchemaSchema.safeParse(await readJson(response));
  if (!parsed.success) throw unreadableAnswer(response.status, response.url);
  return parsed.data;
}
