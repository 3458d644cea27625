import { type JSX, Match, Show, Switch } from "solid-js";
import { type Composer, SourcePickers, SourceUploadChip } from "../composer";
import { modelName } from "../lib/format";
import { CloseIcon, ImageIcon, MaskIcon } from "../ui/icons";
import { STATUS_LABEL } from "./StatusBadge";
import { isVideo, type Slot } from "./slots";
import type { SessionSource } from "./source";
import type { SourceMask } from "./sourceMask";

export type SourceControlsProps = {
  source: SessionSource;
  mask: SourceMask;
  /** The prompt form: which model will run, and a switch to one that takes the mask. */
  composer: Composer;
};

/** Above the prompt: where the next image starts from, and its mask. */
export function SourceControls(props: SourceControlsProps): JSX.Element {
  const slotLabel = (slot: Slot) => (slot.count > 1 ? `Image ${slot.index + 1} of ${slot.count}` : "This image");
  const slotNote = (slot: Slot): string => {
    if (slot.asset) return isVideo(slot.asset) ? "A video can't be a source" : slot.generation.prompt;
    const status = slot.generation.status;
    if (status === "queued" || status === "starting" || status === "running") {
      return `${STATUS_LABEL[status]}: the next one waits for it`;
    }
    return "Has no image to start from";
  };
  /** The model that will run (after the needs are applied) takes masks. */
  const maskSupported = () => props.composer.selectedSummary()?.capabilities.mask ?? false;
  /** A model that would take the mask, to offer a switch. */
  const maskModel = () => props.composer.firstModelWith({ mask: true, source: true });
  /** A model that would take the mask if the reference images were removed. */
  const maskModelWithoutReferences = () =>
    props.composer.firstModelWith({ mask: true, source: true, references: false });

  return (
    <div class="source">
      <div class="segmented source__modes" role="group" aria-label="Start from">
        <Show when={props.source.slot()}>
          <button
            type="button"
            class="segmented__button"
            aria-pressed={props.source.mode() === "iterate"}
            onClick={() => props.source.iterate()}
          >
            Iterate from this image
          </button>
        </Show>
        <button
          type="button"
          class="segmented__button"
          aria-pressed={props.source.mode() === "text"}
          onClick={() => props.source.fromText()}
        >
          New from text
        </button>
      </div>

      <div class="source__row">
        <Switch fallback={<p class="source__hint">A new image from the prompt alone.</p>}>
          <Match when={props.source.mode() === "iterate" && props.source.slot()}>
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
          <Match when={props.source.mode() === "upload"}>
            <SourceUploadChip
              upload={props.source.upload}
              title="Your image"
              onRemove={() => props.source.removeUpload()}
            />
          </Match>
        </Switch>
        <span class="source__uploads">
          <SourcePickers class="button--ghost button--small source__file" onFile={(file) => props.source.pick(file)} />
        </span>
      </div>

      <Show when={props.source.mode() !== "text" && props.source.image()?.url}>
        <div class="source__mask">
          <Show
            when={maskSupported()}
            fallback={
              <p class="source__note">
                {modelName(props.composer.selectedModel())} takes no mask.{" "}
                <Switch fallback="No model in the catalog can take this mask.">
                  <Match when={maskModel()}>
                    {(model) => (
                      <>
                        {modelName(model().id)} does.{" "}
                        <button
                          type="button"
                          class="button button--small source__switch"
                          onClick={() => props.composer.set("model", model().id)}
                        >
                          Switch to {modelName(model().id)}
                        </button>
                      </>
                    )}
                  </Match>
                  <Match when={maskModelWithoutReferences()}>
                    {(model) =>
                      `Masks need ${modelName(model().id)}, which takes no reference images: remove them to draw one.`
                    }
                  </Match>
                </Switch>
              </p>
            }
          >
            <Show
              when={props.mask.current()}
              fallback={
                <button type="button" class="button button--small" onClick={() => props.mask.edit()}>
                  <MaskIcon />
                  Draw a mask
                </button>
              }
            >
              {(mask) => (
                <span class="source__masked" data-testid="mask-chip">
                  <img src={mask().previewUrl} alt="" width={40} height={40} class="source__mask-thumb" />
                  <span class="source__mask-text">Mask attached</span>
                  <button type="button" class="button button--ghost button--small" onClick={() => props.mask.edit()}>
                    Edit mask
                  </button>
                  <button
                    type="button"
                    class="icon-button"
                    aria-label="Remove the mask"
                    onClick={() => props.mask.remove()}
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
