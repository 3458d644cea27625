import { A, useNavigate } from "@solidjs/router";
import { createSignal, For, type JSX, Show } from "solid-js";
import { errorMessage } from "../api/errors";
import { startGeneration } from "../api/sessions";
import { DEFAULT_VIDEO_MODEL_ID } from "../models";
import { BranchIcon, DownloadIcon, ExternalIcon, FilmIcon, TrashIcon } from "../ui/icons";
import { showToast } from "../ui/toast";
import { FavoriteButton } from "./FavoriteButton";
import { isVideoImage, iterateHref, sessionHref, type ViewerImage } from "./image";

/**
 * An action on one image beyond the built-in ones (favourite, download, iterate, open, delete):
 * a link or a handler. Add one to `IMAGE_ACTIONS` and it appears wherever the viewer shows an image.
 */
export type ImageAction = {
  id: string;
  label: string;
  icon: () => JSX.Element;
  /** Offered for this image (e.g. only for still images). */
  when?: (image: ViewerImage) => boolean;
} & ({ href: (image: ViewerImage) => string } | { run: (image: ViewerImage) => void | Promise<void> });

export const IMAGE_ACTIONS: ImageAction[] = [];

export type ImageActionsProps = {
  image: ViewerImage;
  /** Moves the image to the trash (the caller shows "Undo"). */
  onDelete: () => Promise<void>;
};

/** What can be done with the image in the viewer, within thumb reach. */
export function ImageActions(props: ImageActionsProps): JSX.Element {
  return (
    <div class="image-actions" role="group" aria-label="Image actions">
      <FavoriteButton assetId={props.image.id} favorite={props.image.favorite} variant="bar" />
      <a
        class="button button--ghost button--small"
        href={props.image.downloadUrl}
        download={props.image.downloadName}
        data-testid="download"
      >
        <DownloadIcon />
        <span>Download</span>
      </a>
      <A class="button button--ghost button--small" href={iterateHref(props.image)}>
        <BranchIcon />
        <span>Iterate from this</span>
      </A>
      <Show when={!isVideoImage(props.image)}>
        <AnimateButton image={props.image} />
      </Show>
      <A class="button button--ghost button--small" href={sessionHref(props.image)}>
        <ExternalIcon />
        <span>Open session</span>
      </A>
      <For each={IMAGE_ACTIONS.filter((action) => action.when?.(props.image) ?? true)}>
        {(action) =>
          "href" in action ? (
            <A class="button button--ghost button--small" href={action.href(props.image)}>
              {action.icon()}
              <span>{action.label}</span>
            </A>
          ) : (
            <button
              type="button"
              class="button button--ghost button--small"
              onClick={() => void action.run(props.image)}
            >
              {action.icon()}
              <span>{action.label}</span>
            </button>
          )
        }
      </For>
      <DeleteButton onDelete={props.onDelete} />
    </div>
  );
}

/**
 * Starts a video from this image (as its first frame) in the image's own session, with the default
 * video model, and opens the session on it, where it arrives live like any generation.
 */
function AnimateButton(props: { image: ViewerImage }): JSX.Element {
  const navigate = useNavigate();
  const [busy, setBusy] = createSignal(false);
  const animate = async () => {
    if (busy()) return;
    setBusy(true);
    try {
      const created = await startGeneration(props.image.sessionId, {
        model: DEFAULT_VIDEO_MODEL_ID,
        prompt: props.image.prompt,
        parentGenerationId: props.image.generationId,
        sourceOutputIndex: props.image.outputIndex,
      });
      showToast({ message: "Animating: a video is on its way" });
      navigate(`/sessions/${encodeURIComponent(props.image.sessionId)}?g=${encodeURIComponent(created.id)}`);
    } catch (e) {
      showToast({ message: `Not animated: ${errorMessage(e)}` });
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      type="button"
      class="button button--ghost button--small"
      aria-busy={busy()}
      onClick={() => void animate()}
      data-testid="animate"
    >
      <FilmIcon />
      <span>Animate</span>
    </button>
  );
}

/** Deleting asks nothing: the image goes to the trash and the toast's "Undo" brings it back. */
function DeleteButton(props: { onDelete: () => Promise<void> }): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const remove = async () => {
    if (busy()) return;
    setBusy(true);
    try {
      await props.onDelete();
    } catch (error) {
      showToast({ message: `Not deleted: ${errorMessage(error)}` });
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      type="button"
      class="button button--ghost button--small button--danger"
      aria-busy={busy()}
      onClick={() => void remove()}
    >
      <TrashIcon />
      <span>Delete</span>
    </button>
  );
}
