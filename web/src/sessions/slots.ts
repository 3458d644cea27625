/**
 * The images of a session as one sequence, oldest first: every output of every generation (a batch
 * of four is four slots), and a placeholder slot for each image a generation is still making (or one
 * for a generation that ended without any). The history rail, the viewer and swipes all walk it.
 */
import { type Asset, type Generation, isTerminalStatus } from "@contract/api";

export type Slot = {
  generation: Generation;
  /** Which output of the generation (its `sourceOutputIndex` when iterating from it). */
  index: number;
  /** How many slots the generation has. */
  count: number;
  asset: Asset | undefined;
};

export const slotKey = (generationId: string, index: number): string => `${generationId}:${index}`;

export const outputsOf = (generation: Generation): Asset[] =>
  generation.outputs.filter((asset) => asset.role === "output");

/** Images the generation asked for: `numOutputs` (1 to 4), 1 when unset. */
export function expectedOutputs(generation: Generation): number {
  const n = generation.params.numOutputs;
  return typeof n === "number" && n >= 1 ? Math.min(4, Math.floor(n)) : 1;
}

export function slotCount(generation: Generation): number {
  const outputs = outputsOf(generation).length;
  if (outputs > 0) return outputs;
  return isTerminalStatus(generation.status) ? 1 : expectedOutputs(generation);
}

export function slotsOf(generations: readonly Generation[]): Slot[] {
  const slots: Slot[] = [];
  for (const generation of generations) {
    const outputs = outputsOf(generation);
    const count = slotCount(generation);
    for (let index = 0; index < count; index += 1) slots.push({ generation, index, count, asset: outputs[index] });
  }
  return slots;
}

/** The image's alternative text: which image of its batch, and the prompt that made it. */
export const describeSlot = (slot: Slot): string =>
  slot.count > 1
    ? `Image ${slot.index + 1} of ${slot.count}: ${slot.generation.prompt}`
    : `Image: ${slot.generation.prompt}`;

export const isVideo = (asset: Asset): boolean => asset.mimeType.startsWith("video/");

/** Whether the generation can be iterated from: it has (or may still get) an image. */
export const canIterateFrom = (generation: Generation): boolean =>
  !isTerminalStatus(generation.status) || outputsOf(generation).length > 0;
