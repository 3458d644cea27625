import type { ModelSummary } from "@contract/api";
import { type JSX, Match, Show, Switch } from "solid-js";
import type { SourceUpload } from "../composer";
import { modelName } from "../lib/format";
import { FileButton } from "../ui/FileButton";
import { CameraIcon, CloseIcon, ImageIcon, MaskIcon, UploadIcon } from "../ui/icons";
import { STATUS_LABEL } from "./StatusBadge";
import { isVideo, type Slot } from "./slots";

export type SourceMode = "iterate" | "upload" | "text";

export type MaskEntry = { asset: { id: string }; previewUrl: string; strokes: ImageData };

export type SourceControlsProps = {
  mode: SourceMode;
  /** "Iterate from this image": also focuses the prompt. */
  onIterate: () => void;
  onText: () => void;
  /** The selected image (`undefined` in an empty session). */
  slot: Slot | undefined;
  upload: SourceUpload;
  onUpload: (file: File) => void;
  onRemoveUpload: () => void;
  /** An image the next generation starts from and a mask can be drawn on, when there is one. */
  maskable: boolean;
  mask: MaskEntry | undefined;
  /** The model that will run (after the needs are applied) takes masks. */
  maskSupported: boolean;
  /** A model that would take the mask, to offer a switch. */
  maskModel: ModelSummary | undefined;
  /** A model that would take the mask if the reference images were removed. */
  maskModelWithoutReferences: ModelSummary | undefined;
  currentModel: string;
  onSwitchModel: (id: string) => void;
  onDrawMask: () => void;
  onRemoveMask: () => void;
};

/** Above the prompt: where the next image starts from, and its mask. */
export function SourceControls(props: SourceControlsProps): JSX.Element {
  const slotLabel = (slot: Slot) => (slot.count > 1 ? `Image ${slot.index + 1} of ${slot.count}` : "This image");
  const upload = () => props.upload.state;
  const slotNote = (slot: Slot): string => {
    if (slot.asset) return isVideo(slot.asset) ? "A video can't be a source" : slot.generation.prompt;
    const status = slot.generation.status;
    if (status === "queued" || status === "starting" || status === "running") {
      return `${STATUS_LABEL[status]}: the next one waits for it`;
    }
    return "Has no image to start from";
  };
  const pickOne = (files: File[]) => {
    const file = files[0];
    if (file) props.onUpload(file);
  };

  return (
    <div class="source">
      <div class="segmented source__modes" role="group" aria-label="Start from">
        <Show when={props.slot}>
          <button
            type="button"
            class="segmented__button"
            aria-pressed={props.mode === "iterate"}
            onClick={() => props.onIterate()}
          >
            Iterate from this image
          </button>
        </Show>
        <button
          type="button"
          class="segmented__button"
          aria-pressed={props.mode === "text"}
          onClick={() => props.onText()}
        >
          New from text
        </button>
      </div>

      <div class="source__row">
        <Switch fallback={<p class="source__hint">A new image from the prompt alone.</p>}>
          <Match when={props.mode === "iterate" && props.slot}>
            {(slot) => (
              <div class="source__chip" data-testid="source-chip">
                <span class="source__thumb">
                  <Show when={slot().asset} fallback={<ImageIcon class="icon" />}>
                    {(asset) => <img src={asset().thumbnailUrl} alt="" width={40} height={40} />}
                  </Show>
                </span>
                <span class="source__text">
                  <span class="source__title">{slotLabel(slot())}</span>
                  <span class="source__sub">{slotNote(slot())}</span>
                </span>
              </div>
            )}
          </Match>
          <Match when={props.mode === "upload"}>
            <div
              class="source__chip"
              classList={{ "is-failed": upload().status === "failed" }}
              data-testid="source-chip"
            >
              <span class="source__thumb">
                <Show when={upload().previewUrl ?? upload().asset?.thumbnailUrl} fallback={<ImageIcon class="icon" />}>
                  {(url) => <img src={url()} alt="" width={40} height={40} />}
                </Show>
              </span>
              <span class="source__text">
                <span class="source__title">Your image</span>
                <span class="source__sub" classList={{ "source__sub--error": upload().status === "failed" }}>
                  <Switch fallback={upload().name}>
                    <Match when={upload().status === "uploading"}>
                      Uploading {Math.round(upload().progress * 100)}%
                    </Match>
                    <Match when={upload().status === "failed"}>{upload().error}</Match>
                  </Switch>
                </span>
              </span>
              <button
                type="button"
                class="icon-button"
                aria-label="Remove the uploaded image"
                onClick={() => props.onRemoveUpload()}
              >
                <CloseIcon />
              </button>
            </div>
          </Match>
        </Switch>
        <span class="source__uploads">
          <FileButton
            label="Start from an image"
            text="Start from an image"
            icon={<UploadIcon />}
            accept="image/*"
            class="button--ghost button--small source__file"
            onFiles={(files) => pickOne(files)}
          />
          <FileButton
            label="Camera: start from a photo"
            text="Camera"
            icon={<CameraIcon />}
            accept="image/*"
            capture="environment"
            class="button--ghost button--small source__file"
            onFiles={(files) => pickOne(files)}
          />
        </span>
      </div>

      <Show when={props.mode !== "text" && props.maskable}>
        <div class="source__mask">
          <Show
            when={props.maskSupported}
            fallback={
              <p class="source__note">
                {modelName(props.currentModel)} takes no mask.{" "}
                <Switch fallback="No model in the catalog can take this mask.">
                  <Match when={props.maskModel}>
                    {(model) => (
                      <>
                        {modelName(model().id)} does.{" "}
                        <button
                          type="button"
                          class="button button--small source__switch"
                          onClick={() => props.onSwitchModel(model().id)}
                        >
                          Switch to {modelName(model().id)}
                        </button>
                      </>
                    )}
                  </Match>
                  <Match when={props.maskModelWithoutReferences}>
                    {(model) =>
                      `Masks need ${modelName(model().id)}, which takes no reference images: remove them to draw one.`
                    }
                  </Match>
                </Switch>
              </p>
            }
          >
            <Show
              when={props.mask}
              fallback={
                <button type="button" class="button button--small" onClick={() => props.onDrawMask()}>
                  <MaskIcon />
                  Draw a mask
                </button>
              }
            >
              {(mask) => (
                <span class="source__masked" data-testid="mask-chip">
                  <img src={mask().previewUrl} alt="" width={40} height={40} class="source__mask-thumb" />
                  <span class="source__mask-text">Mask attached</span>
                  <button type="button" class="button button--ghost button--small" onClick={() => props.onDrawMask()}>
                    Edit mask
                  </button>
                  <button
                    type="button"
                    class="icon-button"
                    aria-label="Remove the mask"
                    onClick={() => props.onRemoveMask()}
                  >
                    <CloseIcon />
                  </button>
                </span>
              )}
            </Show>
          </Show>
        </div>
      </Show>
    </div>
  );
}
