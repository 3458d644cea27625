import { A } from "@solidjs/router";
import { createSignal, For, type JSX } from "solid-js";
import { errorMessage } from "../api/errors";
import { BranchIcon, DownloadIcon, ExternalIcon, TrashIcon } from "../ui/icons";
import { showToast } from "../ui/toast";
import { FavoriteButton } from "./FavoriteButton";
import { iterateHref, sessionHref, type ViewerImage } from "./image";

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
