import "./session.css";
import { type CreateGenerationRequest, type Generation, isTerminalStatus, type SessionDetail } from "@contract/api";
import { A, type RoutePreloadFuncArgs, useParams, useSearchParams } from "@solidjs/router";
import { createMemo, createResource, createSignal, type JSX, Match, onCleanup, Show, Switch } from "solid-js";
import { errorMessage, isApiError } from "../api/errors";
import { cancelGeneration, deleteGeneration, retryGeneration } from "../api/generations";
import { sessionDetailQuery, startGeneration } from "../api/sessions";
import { createComposer, createSourceUpload, PromptComposer } from "../composer";
import { formatRelative, modelName, plural } from "../lib/format";
import { MaskEditor, type MaskResult } from "../masks";
import { announce } from "../ui/announcer";
import { ChevronLeftIcon } from "../ui/icons";
import { usePageTitle } from "../ui/title";
import { type GenerationActions, GenerationDetails } from "./GenerationDetails";
import { HistoryRail } from "./HistoryRail";
import { LineageView } from "./LineageView";
import { createLiveSession } from "./liveSession";
import { useAwaitedOutcomes } from "./outcomes";
import { type MaskEntry, SourceControls, type SourceMode } from "./SourceControls";
import { canIterateFrom, isVideo, type Slot, slotKey, slotsOf } from "./slots";
import { describeSlot, Viewer } from "./Viewer";

/** The route's preload: the session, fetched while the page is on its way. */
export const preloadSession = (args: RoutePreloadFuncArgs) => {
  if (args.params.id) sessionDetailQuery.preload(args.params.id);
};

/** `/sessions/:id`. Keyed on the id, so moving to another session starts from a clean slate. */
export function SessionPage(): JSX.Element {
  const params = useParams<{ id: string }>();
  return (
    <Show when={params.id} keyed>
      {(id) => <SessionLoader id={id} />}
    </Show>
  );
}

function SessionLoader(props: { id: string }): JSX.Element {
  const [detail, { refetch }] = createResource(
    () => props.id,
    (id) => sessionDetailQuery.load(id),
  );
  const notFound = () => detail.state === "errored" && isApiError(detail.error) && detail.error.status === 404;
  usePageTitle(() =>
    detail.state === "ready" ? detail().title || "Untitled session" : notFound() ? "Not found" : "Session",
  );

  return (
    <Switch fallback={<SessionSkeleton />}>
      <Match when={notFound()}>
        <SessionMissing />
      </Match>
      <Match when={detail.state === "errored"}>
        <main id="main" class="page page--narrow" tabindex="-1">
          <div class="notice notice--error" role="alert">
            <p>{errorMessage(detail.error)}</p>
            <button type="button" class="button" onClick={() => void refetch()}>
              Try again
            </button>
          </div>
        </main>
      </Match>
      <Match when={detail.state === "ready" && detail()} keyed>
        {(initial) => <LiveSessionView initial={initial} />}
      </Match>
    </Switch>
  );
}

function SessionMissing(): JSX.Element {
  return (
    <main id="main" class="page page--narrow" tabindex="-1">
      <div class="empty">
        <h1 class="empty__title">Session not found</h1>
        <p class="empty__text">It may have been deleted, or it belongs to another account.</p>
        <A class="button button--primary" href="/sessions">
          Back to sessions
        </A>
      </div>
    </main>
  );
}

function SessionSkeleton(): JSX.Element {
  return (
    <main id="main" class="page session" tabindex="-1" aria-busy="true">
      <span class="visually-hidden">Loading session…</span>
      <div class="session-head" aria-hidden="true">
        <span class="skeleton skeleton--title" />
        <span class="skeleton skeleton--line skeleton--short" />
      </div>
      <div class="workspace" aria-hidden="true">
        <div class="workspace__main">
          <span class="skeleton viewer__skeleton" />
        </div>
      </div>
    </main>
  );
}

const CONNECTION_LABEL = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  closed: "Offline",
} as const;

function LiveSessionView(props: { initial: SessionDetail }): JSX.Element {
  // `props.initial` is read once: this component is keyed on the loaded detail.
  const live = createLiveSession(props.initial, useAwaitedOutcomes().claim(props.initial.id));
  const session = () => live.state.session;
  const generations = () => live.state.generations;
  const slots = createMemo(() => slotsOf(generations()));
  const byId = createMemo(() => new Map(generations().map((g) => [g.id, g] as const)));

  // ---- Selection: which image the viewer shows (kept in the URL, so a reload keeps it) ----------
  const [search, setSearch] = useSearchParams<{ g?: string; o?: string }>();
  let lastPosition = 0;
  const current = createMemo((): { slot: Slot; position: number } | undefined => {
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
  const selectedSlot = () => current()?.slot;
  const selectedGeneration = () => current()?.slot.generation;
  const selectedKey = () => {
    const slot = selectedSlot();
    return slot ? slotKey(slot.generation.id, slot.index) : undefined;
  };

  const select = (generationId: string, outputIndex: number) => {
    setSearch(
      { g: generationId, o: outputIndex > 0 ? String(outputIndex) : undefined },
      { replace: true, scroll: false },
    );
  };
  const move = (step: -1 | 1) => {
    const at = current();
    if (!at) return;
    const next = slots()[at.position + step];
    if (next) select(next.generation.id, next.index);
  };

  let viewerBox: HTMLDivElement | undefined;
  const revealViewer = () => {
    const box = viewerBox?.getBoundingClientRect();
    if (!box || (box.top >= 0 && box.top < window.innerHeight * 0.5)) return;
    const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    viewerBox?.scrollIntoView({ behavior: reduced ? "auto" : "smooth", block: "start" });
  };

  // ---- The source of the next generation -----------------------------------------------------
  const [mode, setMode] = createSignal<SourceMode>(props.initial.generations.length > 0 ? "iterate" : "text");
  const upload = createSourceUpload();
  const [masks, setMasks] = createSignal<ReadonlyMap<string, MaskEntry>>(new Map());
  const [maskOpen, setMaskOpen] = createSignal(false);

  /** The image the next generation starts from, as a mask key and (when it exists) its URL. */
  const source = createMemo((): { key: string; url: string | undefined; alt: string } | undefined => {
    if (mode() === "upload") {
      const asset = upload.state.asset;
      return asset ? { key: `asset:${asset.id}`, url: asset.url, alt: "Your uploaded image" } : undefined;
    }
    if (mode() === "iterate") {
      const slot = selectedSlot();
      if (!slot) return undefined;
      const asset = slot.asset && !isVideo(slot.asset) ? slot.asset : undefined;
      return { key: `gen:${slot.generation.id}:${slot.index}`, url: asset?.url, alt: describeSlot(slot) };
    }
    return undefined;
  });
  const mask = () => {
    const key = source()?.key;
    return key ? masks().get(key) : undefined;
  };

  const lastModel = () => generations().at(-1)?.model ?? session().model;
  const composer = createComposer({
    preferredModel: lastModel,
    needs: () => ({ source: mode() !== "text", mask: Boolean(mask()) }),
  });
  const maskSupported = () => composer.selectedSummary()?.capabilities.mask ?? false;

  const blocked = (): string | undefined => {
    if (mode() === "iterate") {
      const slot = selectedSlot();
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

  const focusPrompt = () => document.getElementById("session-prompt")?.focus();

  const onIterate = () => {
    if (mode() === "upload") upload.clear();
    setMode("iterate");
    focusPrompt();
  };
  const onText = () => {
    if (mode() === "upload") upload.clear();
    setMode("text");
    focusPrompt();
  };
  const onUpload = (file: File) => {
    setMode("upload");
    upload.upload(file);
  };
  const onRemoveUpload = () => {
    upload.clear();
    setMode(slots().length > 0 ? "iterate" : "text");
  };

  const onMaskUsed = (result: MaskResult) => {
    const key = source()?.key;
    if (!key) return;
    setMasks((previous) => {
      const next = new Map(previous);
      const old = next.get(key);
      if (old) URL.revokeObjectURL(old.previewUrl);
      next.set(key, result);
      return next;
    });
    setMaskOpen(false);
    announce("Mask attached. The next generation repaints the white area.");
    queueMicrotask(focusPrompt);
  };
  const removeMask = () => {
    const key = source()?.key;
    if (!key) return;
    setMasks((previous) => {
      const next = new Map(previous);
      const old = next.get(key);
      if (old) URL.revokeObjectURL(old.previewUrl);
      next.delete(key);
      return next;
    });
    announce("Mask removed");
  };
  onCleanup(() => {
    for (const entry of masks().values()) URL.revokeObjectURL(entry.previewUrl);
  });

  // ---- Creating, and the actions on a generation ---------------------------------------------
  const adopt = (generation: Generation, message: string) => {
    live.insert(generation);
    select(generation.id, 0);
    announce(message);
  };

  const create = async (base: CreateGenerationRequest) => {
    const request: CreateGenerationRequest = { ...base };
    const slot = selectedSlot();
    if (mode() === "iterate" && slot) {
      request.parentGenerationId = slot.generation.id;
      request.sourceOutputIndex = slot.index;
    } else if (mode() === "upload" && upload.state.asset) {
      request.sourceAssetId = upload.state.asset.id;
    }
    const attached = mask();
    if (attached && mode() !== "text") request.maskAssetId = attached.asset.id;

    const generation = await startGeneration(session().id, request);
    const waits = request.parentGenerationId && slot && !isTerminalStatus(slot.generation.status);
    adopt(generation, waits ? "Generation queued; it starts when its source image is ready" : "Generation queued");
    if (mode() === "upload") {
      upload.clear();
      setMode("iterate");
    }
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
    useBatch: (generation) => {
      composer.loadFrom(generation);
      // Its source kind comes along: a text-only batch is repeated from text, an iteration iterates
      // (from the image selected now).
      const startedFromImage =
        generation.parentGenerationId !== null || generation.inputs.some((a) => a.role === "input");
      if (mode() === "upload") upload.clear();
      setMode(startedFromImage && slots().length > 0 ? "iterate" : "text");
      focusPrompt();
      const refs = generation.references.length;
      announce(
        `Model, prompt and settings${refs > 0 ? ` and ${plural(refs, "reference image")}` : ""} loaded into the form`,
      );
    },
    remove: async (generation) => {
      await deleteGeneration(generation.id);
      if (live.remove(generation.id)) announce("Generation deleted");
      document.querySelector<HTMLElement>(".viewer__stage")?.focus({ preventScroll: true });
    },
  };

  const maskModel = () => composer.firstModelWith({ mask: true, source: true });
  /** The selected generation is queued behind its parent, which is still making its source image. */
  const waitingForSource = () => {
    const g = selectedGeneration();
    const parent = g?.parentGenerationId ? byId().get(g.parentGenerationId) : undefined;
    return Boolean(g && g.status === "queued" && parent && !isTerminalStatus(parent.status));
  };

  return (
    <Show when={!live.state.gone} fallback={<SessionMissing />}>
      <main id="main" class="page session" tabindex="-1">
        <header class="session-head">
          <A class="back-link" href="/sessions">
            <ChevronLeftIcon />
            Sessions
          </A>
          <div class="session-head__row">
            <h1 class="session-head__title">{session().title || "Untitled session"}</h1>
            <span
              class={`connection connection--${live.state.connection}`}
              title={live.state.connection === "open" ? "Updates arrive live" : undefined}
            >
              <span class="connection__dot" aria-hidden="true" />
              {CONNECTION_LABEL[live.state.connection]}
            </span>
          </div>
          <p class="session-head__meta">
            {plural(generations().length, "generation")}
            <Show when={session().model}>
              {(model) => (
                <>
                  <span aria-hidden="true"> · </span>
                  {modelName(model())}
                </>
              )}
            </Show>
            <span aria-hidden="true"> · </span>
            updated {formatRelative(session().lastActivityAt)}
          </p>
          <Show when={live.state.connection === "reconnecting"}>
            <p class="session-head__notice">
              Connection lost. New results will appear when it's back.{" "}
              <button type="button" class="button button--link" onClick={() => live.retryConnection()}>
                Reconnect now
              </button>
            </p>
          </Show>
          <Show when={live.state.serverError}>{(detail) => <p class="field__error">{detail()}</p>}</Show>
        </header>

        <div class="workspace">
          <div class="workspace__main">
            <div ref={viewerBox} class="workspace__viewer">
              <Viewer
                slot={selectedSlot()}
                position={current()?.position ?? 0}
                total={slots().length}
                waitingForSource={waitingForSource()}
                onMove={move}
              />
            </div>
            <Show when={generations().length > 0}>
              <HistoryRail generations={generations()} selectedKey={selectedKey()} onSelect={select} />
            </Show>
            <div class="iterate">
              <PromptComposer
                composer={composer}
                variant="dock"
                id="session"
                placeholder={mode() === "text" ? "Describe a new image…" : "Describe the change…"}
                blocked={blocked()}
                header={
                  <SourceControls
                    mode={mode()}
                    onIterate={onIterate}
                    onText={onText}
                    slot={selectedSlot()}
                    upload={upload}
                    onUpload={onUpload}
                    onRemoveUpload={onRemoveUpload}
                    maskable={Boolean(source()?.url)}
                    mask={mask()}
                    maskSupported={maskSupported()}
                    maskModel={maskModel()}
                    maskModelWithoutReferences={composer.firstModelWith({
                      mask: true,
                      source: true,
                      references: false,
                    })}
                    currentModel={composer.selectedModel()}
                    onSwitchModel={(id) => composer.set("model", id)}
                    onDrawMask={() => setMaskOpen(true)}
                    onRemoveMask={removeMask}
                  />
                }
                onSubmit={create}
              />
            </div>
          </div>

          <aside class="workspace__side" aria-label="Selected generation and lineage">
            <Show when={selectedGeneration()} keyed>
              {(generation) => (
                <GenerationDetails
                  generation={generation}
                  outputIndex={selectedSlot()?.generation.id === generation.id ? (selectedSlot()?.index ?? 0) : 0}
                  parent={generation.parentGenerationId ? byId().get(generation.parentGenerationId) : undefined}
                  onSelect={select}
                  actions={actions}
                />
              )}
            </Show>
            <LineageView
              generations={generations()}
              selectedId={selectedGeneration()?.id}
              onSelect={(id) => {
                const slot = selectedSlot();
                if (slot?.generation.id !== id) select(id, 0);
                revealViewer();
              }}
            />
          </aside>
        </div>

        <Show when={maskOpen() && source()?.url ? source() : undefined}>
          {(target) => (
            <MaskEditor
              imageUrl={target().url ?? ""}
              imageAlt={target().alt}
              initial={mask()?.strokes}
              onUse={onMaskUsed}
              onClose={() => setMaskOpen(false)}
            />
          )}
        </Show>
      </main>
    </Show>
  );
}
