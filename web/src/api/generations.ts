/** One generation: cancel it, retry it, delete it. (It is started in its session: sessions.ts.) */
import type { Generation, GenerationPage } from "@contract/api";
import { api, done, idParam, readJson } from "./client";

export async function cancelGeneration(id: string): Promise<Generation> {
  return readJson(await api.generations[":id"].cancel.$post({ param: idParam(id) }));
}

/** Queues a copy (202); `newSeed` picks a fresh random seed instead of repeating the same one. */
export async function retryGeneration(id: string, options: { newSeed?: boolean } = {}): Promise<Generation> {
  return readJson(
    await api.generations[":id"].retry.$post({ param: idParam(id), json: options.newSeed ? { newSeed: true } : {} }),
  );
}

export async function deleteGeneration(id: string): Promise<void> {
  await done(await api.generations[":id"].$delete({ param: idParam(id) }));
}

/** The generation's ancestry, root first, ending with the generation itself. */
export async function fetchAncestry(id: string): Promise<GenerationPage> {
  return readJson(await api.generations[":id"].ancestry.$get({ param: idParam(id) }));
}

export async function fetchGeneration(id: string): Promise<Generation> {
  return readJson(await api.generations[":id"].$get({ param: idParam(id) }));
}
