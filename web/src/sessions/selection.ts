/**
 * Which image of the session the viewer shows. Kept in the URL (`?g=<generation>&o=<output>`), so a
 * reload or a shared link keeps it; without one, the newest generation's first image.
 */

import type { Generation } from "@contract/api";
import { useSearchParams } from "@solidjs/router";
import { type Accessor, createMemo } from "solid-js";
import { type Slot, slotKey } from "./slots";

export type SelectedSlot = { slot: Slot; position: number };

export type Selection = {
  /** The selected slot and its position among all the session's slots. */
  current: Accessor<SelectedSlot | undefined>;
  slot: () => Slot | undefined;
  generation: () => Generation | undefined;
  /** `slotKey` of the selected slot, as the history rail marks it. */
  key: () => string | undefined;
  select: (generationId: string, outputIndex: number) => void;
  /** The previous or next image (swipe, arrow keys). */
  move: (step: -1 | 1) => void;
};

export function createSelection(slots: Accessor<Slot[]>, generations: Accessor<readonly Generation[]>): Selection {
  const [search, setSearch] = useSearchParams<{ g?: string; o?: string }>();
  let lastPosition = 0;

  const current = createMemo((): SelectedSlot | undefined => {
    const list = slots();
    if (list.length === 0) return undefined;
    const id = search.g;
    if (id) {
      const wanted = Number(search.o ?? 0) || 0;
      let fallback = -1;
      for (let i = 0; i < list.length; i += 1) {
        const slot = list[i];
        if (slot?.generation.id !== id) continue;
        if (slot.index === wanted) {
          lastPosition = i;
          return { slot, position: i };
        }
        fallback = i; // A batch that ended with fewer images: its last one.
      }
      if (fallback >= 0) {
        const slot = list[fallback];
        if (slot) return { slot, position: fallback };
      }
      // Deleted (here or in another tab): its neighbour.
      const position = Math.min(lastPosition, list.length - 1);
      const slot = list[position];
      return slot ? { slot, position } : undefined;
    }
    // Nothing chosen yet: the newest generation's first image.
    const newest = generations().at(-1);
    const position = newest ? list.findIndex((s) => s.generation.id === newest.id) : list.length - 1;
    const slot = list[position];
    if (slot) lastPosition = position;
    return slot ? { slot, position } : undefined;
  });

  const select = (generationId: string, outputIndex: number) => {
    setSearch(
      { g: generationId, o: outputIndex > 0 ? String(outputIndex) : undefined },
      { replace: true, scroll: false },
    );
  };

  return {
    current,
    slot: () => current()?.slot,
    generation: () => current()?.slot.generation,
    key: () => {
      const slot = current()?.slot;
      return slot ? slotKey(slot.generation.id, slot.index) : undefined;
    },
    select,
    move: (step) => {
      const at = current();
      if (!at) return;
      const next = slots()[at.position + step];
      if (next) select(next.generation.id, next.index);
    },
  };
}
