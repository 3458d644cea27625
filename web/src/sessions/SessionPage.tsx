import { A, useParams } from "@solidjs/router";
import { createResource, For, Match, onMount, Show, Switch, type JSX } from "solid-js";
import {
  generationSchema,
  sessionDetailSchema,
  type CreateGenerationRequest,
  type Generation,
  type SessionDetail,
} from "../../../worker/contract/api";
import { announce } from "../app/announcer";
import { usePageTitle } from "../app/title";
import { api, errorMessage, isApiError } from "../lib/api";
import { formatRelative, modelName, plural } from "../lib/format";
import { createComposer } from "../studio/composer";
import { PromptComposer } from "../studio/PromptComposer";
import { ChevronLeftIcon, SparkleIcon } from "../ui/icons";
import { GenerationCard } from "./GenerationCard";
import { createLiveSession, watchGeneration } from "./liveSession";

const sessionPath = (id: string) => `/api/sessions/${encodeURIComponent(id)}`;

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
    (id) => api.get(sessionPath(id), sessionDetailSchema),
  );
  const notFound = () => detail.state === "errored" && isApiError(detail.error) && detail.error.status === 404;
  usePageTitle(() => (detail.state === "ready" ? detail().title || "Untitled session" : notFound() ? "Not found" : "Session"));

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
      <div class="generations" aria-hidden="true">
        <div class="gen gen--skeleton">
          <span class="skeleton skeleton--line skeleton--short" />
          <span class="skeleton skeleton--line" />
          <span class="skeleton gen__placeholder" style={{ "aspect-ratio": "1 / 1" }} />
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
  const live = createLiveSession(props.initial);
  const composer = createComposer();
  const session = () => live.state.session;
  const generations = () => live.state.generations;
  const lastModel = () => generations().at(-1)?.model ?? session().model;

  let list: HTMLOListElement | undefined;
  const reducedMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const revealGeneration = (id: string) => {
    requestAnimationFrame(() => {
      const card = list?.querySelector<HTMLElement>(`[data-generation-id="${CSS.escape(id)}"]`);
      card?.scrollIntoView({ behavior: reducedMotion() ? "auto" : "smooth", block: "nearest" });
    });
  };

  onMount(() => {
    const last = generations().at(-1);
    if (generations().length > 1 && last) {
      requestAnimationFrame(() =>
        list?.querySelector<HTMLElement>(`[data-generation-id="${CSS.escape(last.id)}"]`)?.scrollIntoView({ block: "end" }),
      );
    }
  });

  const create = async (request: CreateGenerationRequest) => {
    const generation = await api.post(`${sessionPath(session().id)}/generations`, request, generationSchema);
    watchGeneration(generation.id);
    live.insert(generation);
    announce("Generation queued");
    revealGeneration(generation.id);
  };

  const reuse = (generation: Generation) => {
    composer.loadFrom(generation);
    const prompt = document.getElementById("session-prompt");
    prompt?.focus();
    announce("Prompt and settings loaded into the prompt box");
  };

  const cancel = async (generation: Generation) => {
    const updated = await api.post(`/api/generations/${encodeURIComponent(generation.id)}/cancel`, undefined, generationSchema);
    live.replace(updated);
  };

  const retry = async (generation: Generation) => {
    const created = await api.post(`/api/generations/${encodeURIComponent(generation.id)}/retry`, undefined, generationSchema);
    watchGeneration(created.id);
    live.insert(created);
    announce("Generation queued");
    revealGeneration(created.id);
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

        <Show
          when={generations().length > 0}
          fallback={
            <div class="empty empty--inline">
              <SparkleIcon class="icon empty__icon" />
              <p class="empty__text">No generations yet. Describe an image below to start.</p>
            </div>
          }
        >
          <ol ref={list} class="generations" aria-label="Generations, oldest first">
            <For each={generations()}>
              {(generation) => (
                <li>
                  <GenerationCard generation={generation} onReuse={reuse} onCancel={cancel} onRetry={retry} />
                </li>
              )}
            </For>
          </ol>
        </Show>

        <div class="dock">
          <PromptComposer
            composer={composer}
            variant="dock"
            id="session"
            preferredModel={lastModel()}
            placeholder="Describe the next image…"
            onSubmit={create}
          />
        </div>
      </main>
    </Show>
  );
}
