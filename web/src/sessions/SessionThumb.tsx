import { type JSX, Show } from "solid-js";
import { ImageIcon } from "../ui/icons";

/** A session's square thumbnail, or a quiet placeholder before its first image. */
export function SessionThumb(props: { url: string | null; size: number; class?: string }): JSX.Element {
  return (
    <span class={`thumb ${props.class ?? ""}`} style={{ "--thumb-size": `${props.size}px` }}>
      <Show when={props.url} fallback={<ImageIcon class="icon thumb__placeholder" />}>
        {(url) => <img src={url()} alt="" width={props.size} height={props.size} loading="lazy" decoding="async" />}
      </Show>
    </span>
  );
}
