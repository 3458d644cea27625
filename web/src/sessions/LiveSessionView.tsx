import type { SessionDetail } from "@contract/api";
import { useNavigate } from "@solidjs/router";
import { type JSX, Show } from "solid-js";
import { errorMessage } from "../api/errors";
import { PromptComposer } from "../composer";
import { MaskEditor } from "../masks";
import { showToast } from "../ui/toast";
import { GenerationDetails } from "./GenerationDetails";
import { HistoryRail } from "./HistoryRail";
import { LineageView } from "./LineageView";
import { cloneAndAnnounce, trashSession } from "./manage";
import { SessionHeader } from "./SessionHeader";
import { SessionMissing } from "./SessionPlaceholders";
import { SourceControls } from "./SourceControls";
import { Viewer } from "./Viewer";
import { createSessionWorkspace, SESSION_FORM_ID, type SessionWorkspace } from "./workspace";

/** A loaded session, kept live: the viewer and the prompt form, the selected generation and its lineage. */
export function LiveSessionView(props: { initial: SessionDetail }): JSX.Element {
  const navigate = useNavigate();
  // `props.initial` is read once: this component is keyed on the loaded detail.
  const workspace = createSessionWorkspace(props.initial);
  const selection = workspace.selection;

  let viewerBox: HTMLDivElement | undefined;
  /** Brings the viewer into view when it's scrolled away (the lineage sits below it on phones). */
  const revealViewer = () => {
    const box = viewerBox?.getBoundingClientRect();
    if (!box || (box.top >= 0 && box.top < window.innerHeight * 0.5)) return;
    const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    viewerBox?.scrollIntoView({ behavior: reduced ? "auto" : "smooth", block: "start" });
  };

  return (
    <Show when={!workspace.live.state.gone} fallback={<SessionMissing />}>
      <main id="main" class="page session" tabindex="-1">
        <SessionHeader
          live={workspace.live}
          onRenamed={(session) => workspace.live.updateSession(session)}
          onClone={async () => {
            const copy = await cloneAndAnnounce(workspace.session());
            navigate(`/sessions/${encodeURIComponent(copy.id)}`);
          }}
          onDelete={async () => {
            const session = workspace.session();
            await trashSession(session, {
              removed: () => navigate("/sessions"),
              restored: () => navigate(`/sessions/${encodeURIComponent(session.id)}`),
            });
          }}
        />

        <div class="workspace">
          <div class="workspace__main">
            <div ref={viewerBox} class="workspace__viewer">
              <Viewer
                slot={selection.slot()}
                position={selection.current()?.position ?? 0}
                total={workspace.slots().length}
                waitingForSource={workspace.waitingForSource()}
                isFavorite={workspace.isFavorite}
                onMove={selection.move}
              />
            </div>
            <Show when={workspace.generations().length > 0}>
              <HistoryRail
                generations={workspace.generations()}
                selectedKey={selection.key()}
                onSelect={selection.select}
                older={workspace.live.state.olderCursor !== null}
                loadingOlder={workspace.live.state.loadingOlder}
                onLoadOlder={() =>
                  void workspace.live
                    .loadOlder()
                    .catch((error: unknown) =>
                      showToast({ message: `Older images not loaded: ${errorMessage(error)}` }),
                    )
                }
              />
            </Show>
            <SessionComposer workspace={workspace} />
          </div>

          <aside class="workspace__side" aria-label="Selected generation and lineage">
            <Show when={selection.generation()} keyed>
              {(generation) => (
                <GenerationDetails
                  generation={generation}
                  outputIndex={selection.slot()?.generation.id === generation.id ? (selection.slot()?.index ?? 0) : 0}
                  parent={workspace.generationById(generation.parentGenerationId)}
                  onSelect={selection.select}
                  actions={workspace.actions}
                />
              )}
            </Show>
            <LineageView
              generations={workspace.generations()}
              complete={workspace.live.state.olderCursor === null}
              selectedId={selection.generation()?.id}
              onSelect={(id) => {
                if (selection.slot()?.generation.id !== id) selection.select(id, 0);
                revealViewer();
              }}
            />
          </aside>
        </div>

        <Show when={workspace.mask.editing() && workspace.source.image()?.url ? workspace.source.image() : undefined}>
          {(target) => (
            <MaskEditor
              imageUrl={target().url ?? ""}
              imageAlt={target().alt}
              initial={workspace.mask.current()?.strokes}
              onUse={workspace.mask.use}
              onClose={workspace.mask.closeEditor}
            />
          )}
        </Show>
      </main>
    </Show>
  );
}

/** The prompt form under the viewer, with where the next image starts from above the prompt. */
function SessionComposer(props: { workspace: SessionWorkspace }): JSX.Element {
  const source = () => props.workspace.source;
  return (
    <div class="iterate">
      <PromptComposer
        composer={props.workspace.composer}
        variant="dock"
        id={SESSION_FORM_ID}
        placeholder={source().mode() === "text" ? "Describe a new image…" : "Describe the change…"}
        blocked={source().blocked()}
        sourceLabel={source().mode() === "upload" ? "your uploaded image" : "the selected image"}
        header={<SourceControls source={source()} mask={props.workspace.mask} composer={props.workspace.composer} />}
        onSubmit={props.workspace.create}
      />
    </div>
  );
}
