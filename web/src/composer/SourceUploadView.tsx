import { type JSX, Match, Show, Switch } from "solid-js";
import { FileButton } from "../ui/FileButton";
import { CameraIcon, CloseIcon, ImageIcon, UploadIcon } from "../ui/icons";
import type { SourceUpload } from "./sourceUpload";

/** "Start from an image" and "Camera": one file, picked or photographed. */
export function SourcePickers(props: { class?: string; onFile: (file: File) => void }): JSX.Element {
  const pickOne = (files: File[]) => {
    const file = files[0];
    if (file) props.onFile(file);
  };
  return (
    <>
      <FileButton
        label="Start from an image"
        text="Start from an image"
        icon={<UploadIcon />}
        accept="image/*"
        class={props.class}
        onFiles={pickOne}
      />
      <FileButton
        label="Camera: start from a photo"
        text="Camera"
        icon={<CameraIcon />}
        accept="image/*"
        capture="environment"
        class={props.class}
        onFiles={pickOne}
      />
    </>
  );
}

/** The uploaded source image: its thumbnail, its progress or error, and a button to remove it. */
export function SourceUploadChip(props: { upload: SourceUpload; title: string; onRemove: () => void }): JSX.Element {
  const state = () => props.upload.state;
  return (
    <div class="source__chip" classList={{ "is-failed": state().status === "failed" }} data-testid="source-chip">
      <span class="source__thumb">
        <Show when={state().previewUrl ?? state().asset?.thumbnailUrl} fallback={<ImageIcon class="icon" />}>
          {(url) => <img src={url()} alt="" width={40} height={40} />}
        </Show>
      </span>
      <span class="source__text">
        <span class="source__title">{props.title}</span>
        <span class="source__sub" classList={{ "source__sub--error": state().status === "failed" }}>
          <Switch fallback={state().name}>
            <Match when={state().status === "uploading"}>Uploading {Math.round(state().progress * 100)}%</Match>
            <Match when={state().status === "failed"}>{state().error}</Match>
          </Switch>
        </span>
      </span>
      <button type="button" class="icon-button" aria-label="Remove the uploaded image" onClick={() => props.onRemove()}>
        <CloseIcon />
      </button>
    </div>
  );
}
