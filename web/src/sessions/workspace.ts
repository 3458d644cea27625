/**
 * One open session as state and actions, apart from its markup: the live generations, the selected
 * image, the source and mask of the next generation, the prompt form, and what can be done to a
 * generation. The session page lays it out.
 */

import {
  type CreateGenerationRequest,
  type Generation,
  isTerminalStatus,
  type Session,
  type SessionDetail,
} from "@contract/api";
import { useSearchParams } from "@solidjs/router";
import { type Accessor, createEffect, createMemo, createResource, on, onMount } from "solid-js";
import { cancelGeneration, deleteGeneration, fetchGeneration, retryGeneration } from "../api/generations";
import { favoriteIdsOf } from "../api/images";
import { startGeneration } from "../api/sessions";
import { restoreFromTrash } from "../api/trash";
import { type Composer, createComposer } from "../composer";
import { plural } from "../lib/format";
import { DEFAULT_VIDEO_MODEL_ID } from "../models";
import { announce } from "../ui/announcer";
import { showToast } from "../ui/toast";
import type { GenerationActions } from "./GenerationDetails";
import { createLiveSession, type LiveSession } from "./liveSession";
import { useAwaitedOutcomes } from "./outcomes";
import { createSelection, type Selection } from "./selection";
import { type Slot, slotsOf } from "./slots";
import { createSessionSource, type SessionSource, startedFromImage } from "./source";
import { createSourceMask, type SourceMask } from "./sourceMask";

/** The id prefix of the session's prompt form (`PromptComposer`'s `id`). */
export const SESSION_FORM_ID = "session";

export type SessionWorkspace = {
  live: LiveSession;
  session: () => Session;
  /** Oldest first. */
  generations: () => Generation[];
  slots: Accessor<Slot[]>;
  /** A generation of this session by id, while it exists. */
  generationById: (id: string | null) => Generation | undefined;
  selection: Selection;
  source: SessionSource;
  mask: SourceMask;
  composer: Composer;
  /** The selected generation is queued behind its parent, which is still making its source image. */
  waitingForSource: () => boolean;
  /** Sends the prompt form's request from the current source (and its mask). */
  create: (request: CreateGenerationRequest) => Promise<void>;
  actions: GenerationActions;
  /** Whether an output is a favourite, as the server said when the page opened. */
  isFavorite: (assetId: string) => boolean;
};

/** `initial` is read once: the caller is keyed on the loaded detail. */
export function createSessionWorkspace(initial: SessionDetail): SessionWorkspace {
  const live = createLiveSession(initial, useAwaitedOutcomes().claim(initial.id));
  const session = () => live.state.session;
  const generations = () => live.state.generations;
  const slots = createMemo(() => slotsOf(generations()));
  const byId = createMemo(() => new Map(generations().map((g) => [g.id, g] as const)));
  const generationById = (id: string | null) => (id ? byId().get(id) : undefined);

  const selection = createSelection(slots, generations);
  // The selected generation's ancestors may be older than the pages loaded: fetch them when missing.
  createEffect(
    on(
      () => selection.generation()?.id,
      (id) => {
        if (id) live.ensureAncestry(id).catch((error: unknown) => console.warn("Lineage not loaded", error));
      },
    ),
  );
  const [favorites] = createResource(
    () => initial.id,
    (id) => favoriteIdsOf(id).catch(() => new Set<string>()),
    { initialValue: new Set<string>() },
  );
  const focusPrompt = () => document.getElementById(`${SESSION_FORM_ID}-prompt`)?.focus();
  // The form starts the way the newest generation did: from its image when it iterated, else from
  // text, so a session made from a prompt with a text-only model does not open on a mode it refuses.
  const newest = initial.generations.at(-1);
  const source = createSessionSource({
    initialMode: newest && startedFromImage(newest) ? "iterate" : "text",
    slot: selection.slot,
    hasImages: () => slots().length > 0,
    focusPrompt,
  });
  const mask = createSourceMask(source.image, () => queueMicrotask(focusPrompt));
  // "Iterate from this" elsewhere (the gallery) opens the session with `?iterate=1`.
  const [search, setSearch] = useSearchParams<{ iterate?: string }>();
  onMount(() => {
    if (!search.iterate) return;
    setSearch({ iterate: undefined }, { replace: true, scroll: false });
    source.iterate();
    queueMicrotask(focusPrompt);
  });
  const composer = createComposer({
    preferredModel: () => generations().at(-1)?.model ?? session().model,
    needs: () => ({ source: source.mode() !== "text", mask: Boolean(mask.current()) }),
  });

  /** A generation this tab just created: shown, selected, and its outcome announced. */
  const adopt = (generation: Generation, message: string) => {
    live.insert(generation);
    selection.select(generation.id, 0);
    announce(message);
  };

  const create = async (base: CreateGenerationRequest) => {
    const request: CreateGenerationRequest = { ...base };
    const slot = selection.slot();
    source.applyTo(request);
    const attached = mask.current();
    if (attached && source.mode() !== "text") request.maskAssetId = attached.asset.id;

    const generation = await startGeneration(session().id, request);
    const waits = request.parentGenerationId && slot && !isTerminalStatus(slot.generation.status);
    adopt(generation, waits ? "Generation queued; it starts when its source image is ready" : "Generation queued");
    source.used();
  };

  const actions: GenerationActions = {
    cancel: async (generation) => {
      const updated = await cancelGeneration(generation.id);
      live.replace(updated);
    },
    retry: async (generation, newSeed) => {
      const created = await retryGeneration(generation.id, { newSeed });
      adopt(created, newSeed ? "Regenerating with a new seed" : "Retry queued");
    },
    animate: async (generation, outputIndex) => {
      // The person's chosen model when it makes videos from an image, else the default video model.
      const chosen = composer.selectedSummary();
      const model =
        chosen?.kind === "video" && chosen.capabilities.imageToImage
          ? chosen.id
          : (composer
              .models()
              .find((m) => m.kind === "video" && m.capabilities.imageToImage && m.id === DEFAULT_VIDEO_MODEL_ID)?.id ??
            DEFAULT_VIDEO_MODEL_ID);
      const created = await startGeneration(session().id, {
        model,
        prompt: generation.prompt,
        parentGenerationId: generation.id,
        sourceOutputIndex: outputIndex,
      });
      adopt(created, "Animating: a video is on its way");
    },
    useBatch: (generation) => {
      composer.loadFrom(generation);
      // Its source kind comes along: a text-only batch is repeated from text, an iteration iterates
      // (from the image selected now).
      source.repeat(generation);
      const refs = generation.references.length;
      announce(
        `Model, prompt and settings${refs > 0 ? ` and ${plural(refs, "reference image")}` : ""} loaded into the form`,
      );
    },
    remove: async (generation) => {
      await deleteGeneration(generation.id);
      live.remove(generation.id);
      document.querySelector<HTMLElement>(".viewer__stage")?.focus({ preventScroll: true });
      showToast({
        message: "Generation moved to the trash",
        action: {
          label: "Undo",
          run: async () => {
            await restoreFromTrash(generation.id);
            live.restore(await fetchGeneration(generation.id));
            selection.select(generation.id, 0);
          },
        },
      });
    },
  };

  return {
    live,
    session,
    generations,
    slots,
    generationById,
    selection,
    source,
    mask,
    composer,
    waitingForSource: () => {
      const g = selection.generation();
      const parent = generationById(g?.parentGenerationId ?? null);
      return Boolean(g && g.status === "queued" && parent && !isTerminalStatus(parent.status));
    },
    create,
    actions,
    isFavorite: (assetId) => favorites().has(assetId),
  };
}
