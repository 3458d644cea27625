/**
 * Where the next generation of a session starts from: the selected image ("Iterate from this
 * image"), an image the person uploads, or the prompt alone ("New from text").
 */

import type { CreateGenerationRequest, Generation } from "@contract/api";
import { type Accessor, createMemo, createSignal } from "solid-js";
import { createSourceUpload, type SourceUpload } from "../composer";
import { canIterateFrom, describeSlot, isVideo, type Slot } from "./slots";

export type SourceMode = "iterate" | "upload" | "text";

/** The image the next generation starts from: the key its mask is kept under, its URL when it has one. */
export type SourceImage = { key: string; url: string | undefined; alt: string };

export type SessionSource = {
  mode: Accessor<SourceMode>;
  /** The selected image, the one "Iterate" starts from (`undefined` in an empty session). */
  slot: () => Slot | undefined;
  upload: SourceUpload;
  image: Accessor<SourceImage | undefined>;
  /** Why the next generation can't start from this source, when it can't. */
  blocked: () => string | undefined;
  /** "Iterate from this image". */
  iterate: () => void;
  /** "New from text". */
  fromText: () => void;
  /** Starts from a picked or photographed file. */
  pick: (file: File) => void;
  removeUpload: () => void;
  /** "Use this batch": start the way `generation` did (from the selected image, or from text). */
  repeat: (generation: Generation) => void;
  /** Sets the request's source fields: the parent and its output, or the uploaded asset. */
  applyTo: (request: CreateGenerationRequest) => void;
  /** After a generation was created: an uploaded image was used once, so iterate from here on. */
  used: () => void;
};

/** Whether a generation started from an image (an earlier output or an upload) rather than from text. */
export const startedFromImage = (generation: Generation): boolean =>
  generation.parentGenerationId !== null || generation.inputs.some((a) => a.role === "input");

export type SessionSourceOptions = {
  initialMode: SourceMode;
  slot: () => Slot | undefined;
  /** The session has at least one image slot to iterate from. */
  hasImages: () => boolean;
  focusPrompt: () => void;
};

export function createSessionSource(options: SessionSourceOptions): SessionSource {
  const [mode, setMode] = createSignal<SourceMode>(options.initialMode);
  const upload = createSourceUpload();

  /** Leaving "upload" drops the uploaded image. */
  const switchTo = (next: SourceMode) => {
    if (mode() === "upload") upload.clear();
    setMode(next);
  };

  const image = createMemo((): SourceImage | undefined => {
    if (mode() === "upload") {
      const asset = upload.state.asset;
      return asset ? { key: `asset:${asset.id}`, url: asset.url, alt: "Your uploaded image" } : undefined;
    }
    if (mode() === "iterate") {
      const slot = options.slot();
      if (!slot) return undefined;
      const asset = slot.asset && !isVideo(slot.asset) ? slot.asset : undefined;
      return { key: `gen:${slot.generation.id}:${slot.index}`, url: asset?.url, alt: describeSlot(slot) };
    }
    return undefined;
  });

  const blocked = (): string | undefined => {
    if (mode() === "iterate") {
      const slot = options.slot();
      if (!slot) return "Select an image to iterate from, or switch to New from text.";
      if (slot.asset && isVideo(slot.asset))
        return "A video can't be the source of a new image. Pick an image, or switch to New from text.";
      if (!canIterateFrom(slot.generation)) {
        return "This generation has no image to start from. Pick another image, or switch to New from text.";
      }
    }
    if (mode() === "upload") {
      if (upload.state.status === "uploading") return "Wait for your image to finish uploading.";
      if (upload.state.status !== "ready")
        return "Your image wasn't uploaded. Pick it again, or switch to New from text.";
    }
    return undefined;
  };

  return {
    mode,
    slot: options.slot,
    upload,
    image,
    blocked,
    iterate: () => {
      switchTo("iterate");
      options.focusPrompt();
    },
    fromText: () => {
      switchTo("text");
      options.focusPrompt();
    },
    pick: (file) => {
      setMode("upload");
      upload.upload(file);
    },
    removeUpload: () => {
      upload.clear();
      setMode(options.hasImages() ? "iterate" : "text");
    },
    repeat: (generation) => {
      switchTo(startedFromImage(generation) && options.hasImages() ? "iterate" : "text");
      options.focusPrompt();
    },
    applyTo: (request) => {
      const slot = options.slot();
      if (mode() === "iterate" && slot) {
        request.parentGenerationId = slot.generation.id;
        request.sourceOutputIndex = slot.index;
      } else if (mode() === "upload" && upload.state.asset) {
        request.sourceAssetId = upload.state.asset.id;
      }
    },
    used: () => {
      if (mode() === "upload") switchTo("iterate");
    },
  };
}
