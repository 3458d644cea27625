import type { CreateGenerationRequest } from "@contract/api";
import { A, useNavigate } from "@solidjs/router";
import { createResource, For, type JSX, Show } from "solid-js";
import {
  createSession,
  renameSession,
  type SessionListQuery,
  sessionListQuery,
  startGeneration,
} from "../api/sessions";
import {
  createComposer,
  createSourceUpload,
  PromptComposer,
  SourcePickers,
  type SourceUpload,
  SourceUploadChip,
  SUBMIT_SHORTCUT,
} from "../composer";
import { formatRelative, plural, titleFromPrompt } from "../lib/format";
import { SessionThumb, useAwaitedOutcomes } from "../sessions";
import { announce } from "../ui/announcer";
import { usePageTitle } from "../ui/title";

const SUGGESTIONS = [
  "A lighthouse on a basalt cliff at dusk, volumetric fog, 35mm film",
  "Isometric cutaway of a cosy bookshop, soft morning light",
  "Macro photo of a dew-covered fern unfurling, shallow depth of field",
];

const RECENT: SessionListQuery = { limit: 4, sort: "updated", order: "desc" };

/** The route's preload: the most recent sessions, shown under the prompt. */
export const preloadRecentSessions = () => sessionListQuery.preload(RECENT);

/** The landing page: one prompt box. Submitting starts a session and its first generation. */
export function StudioPage(): JSX.Element {
  usePageTitle(() => "Studio");
  const navigate = useNavigate();
  const outcomes = useAwaitedOutcomes();
  const upload = createSourceUpload();
  const composer = createComposer({ needs: () => ({ source: upload.state.status !== "idle", mask: false }) });
  const blocked = () => {
    if (upload.state.status === "uploading") return "Wait for your image to finish uploading.";
    if (upload.state.status === "failed") return "Your image wasn't uploaded. Pick it again, or remove it.";
    return undefined;
  };
  const [recent] = createResource(() => sessionListQuery.load(RECENT).then((page) => page.items));

  // If the session was created but its first generation was refused (a field error), the next
  // attempt reuses that session instead of leaving an empty one behind for every try.
  let pendingSession: { id: string; title: string } | undefined;

  const start = async (request: CreateGenerationRequest) => {
    const title = titleFromPrompt(request.prompt);
    if (!pendingSession) {
      const session = await createSession({ title, model: request.model });
      pendingSession = { id: session.id, title };
    } else if (pendingSession.title !== title) {
      await renameSession(pendingSession.id, title).catch(() => undefined);
      pendingSession.title = title;
    }
    const sessionId = pendingSession.id;
    const source = upload.state.asset;
    const body: CreateGenerationRequest = source ? { ...request, sourceAssetId: source.id } : request;
    const generation = await startGeneration(sessionId, body);
    outcomes.expect(sessionId, generation.id);
    pendingSession = undefined;
    announce("Generation queued");
    navigate(`/sessions/${encodeURIComponent(sessionId)}`);
  };

  return (
    <main id="main" class="page studio" tabindex="-1">
      <section class="studio__hero" aria-labelledby="studio-heading">
        <h1 id="studio-heading" class="studio__heading">
          What will you make?
        </h1>
        <p class="studio__lead">
          Describe an image
          <span class="keyboard-only">
            {" "}
            and press <kbd>{SUBMIT_SHORTCUT}</kbd>
          </span>
          . Every result is kept in a session you can come back to.
        </p>
        <PromptComposer
          composer={composer}
          variant="hero"
          id="studio"
          autofocus
          placeholder="A quiet harbour at first light, pastel sky, long exposure…"
          blocked={blocked()}
          header={<StartFromImage upload={upload} />}
          onSubmit={start}
        />
        <Show when={!composer.fields.prompt}>
          <div class="suggestions">
            <span class="suggestions__label" id="suggestions-label">
              Try
            </span>
            <ul class="suggestions__list" aria-labelledby="suggestions-label">
              <For each={SUGGESTIONS}>
                {(text) => (
                  <li>
                    <button type="button" class="chip" onClick={() => composer.set("prompt", text)}>
                      {text}
                    </button>
                  </li>
                )}
              </For>
            </ul>
          </div>
        </Show>
      </section>

      <Show when={(recent.state === "ready" || recent.state === "refreshing") && recent.latest.length > 0}>
        <section class="recent" aria-labelledby="recent-heading">
          <div class="section-head">
            <h2 id="recent-heading" class="section-head__title">
              Recent sessions
            </h2>
            <A class="link-quiet" href="/sessions">
              See all
            </A>
          </div>
          <ul class="recent__list">
            <For each={recent.latest}>
              {(session) => (
                <li>
                  <A class="recent__item" href={`/sessions/${encodeURIComponent(session.id)}`}>
                    <SessionThumb url={session.thumbnailUrl} size={56} />
                    <span class="recent__text">
                      <span class="recent__title">{session.title || "Untitled session"}</span>
                      <span class="recent__meta">
                        {plural(session.generationCount, "generation")} · {formatRelative(session.lastActivityAt)}
                      </span>
                    </span>
                  </A>
                </li>
              )}
            </For>
          </ul>
        </section>
      </Show>
    </main>
  );
}

/** "Start from an image" on the landing page: the first generation of the session starts from it. */
function StartFromImage(props: { upload: SourceUpload }): JSX.Element {
  return (
    <div class="studio-source">
      <Show
        when={props.upload.state.status !== "idle"}
        fallback={
          <span class="studio-source__buttons">
            <SourcePickers onFile={(file) => props.upload.upload(file)} />
          </span>
        }
      >
        <SourceUploadChip
          upload={props.upload}
          title="Starting from your image"
          onRemove={() => props.upload.clear()}
        />
      </Show>
    </div>
  );
}
