/**
 * The masks drawn on source images, one per image: switching to another image and back keeps each
 * one's mask. Only the current source image's mask goes with the next generation.
 */
import { type Accessor, createSignal, onCleanup } from "solid-js";
import type { MaskResult } from "../masks";
import { announce } from "../ui/announcer";
import type { SourceImage } from "./source";

export type MaskEntry = { asset: { id: string }; previewUrl: string; strokes: ImageData };

export type SourceMask = {
  /** The mask of the current source image, if one was drawn. */
  current: () => MaskEntry | undefined;
  /** The mask editor is open. */
  editing: Accessor<boolean>;
  edit: () => void;
  closeEditor: () => void;
  /** Attaches the editor's result to the current source image and closes the editor. */
  use: (result: MaskResult) => void;
  remove: () => void;
};

export function createSourceMask(image: Accessor<SourceImage | undefined>, onAttached: () => void): SourceMask {
  const [masks, setMasks] = createSignal<ReadonlyMap<string, MaskEntry>>(new Map());
  const [editing, setEditing] = createSignal(false);

  /** Sets (or, with `undefined`, removes) the mask under `key`, releasing the preview it replaces. */
  const put = (key: string, entry: MaskEntry | undefined) => {
    setMasks((previous) => {
      const next = new Map(previous);
      const old = next.get(key);
      if (old) URL.revokeObjectURL(old.previewUrl);
      if (entry) next.set(key, entry);
      else next.delete(key);
      return next;
    });
  };
  onCleanup(() => {
    for (const entry of masks().values()) URL.revokeObjectURL(entry.previewUrl);
  });

  return {
    current: () => {
      const key = image()?.key;
      return key ? masks().get(key) : undefined;
    },
    editing,
    edit: () => setEditing(true),
    closeEditor: () => setEditing(false),
    use: (result) => {
      const key = image()?.key;
      if (!key) return;
      put(key, result);
      setEditing(false);
      announce("Mask attached. The next generation repaints the white area.");
      onAttached();
    },
    remove: () => {
      const key = image()?.key;
      if (!key) return;
      put(key, undefined);
      announce("Mask removed");
    },
  };
}
