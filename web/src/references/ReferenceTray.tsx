import "./references.css";
import type { Reference } from "@contract/api";
import { For, type JSX, Match, Show, Switch } from "solid-js";
import { CloseIcon, ImageIcon } from "../ui/icons";
import { ReferencePickers } from "./ReferencePickers";
import type { ReferenceTray, TrayItem } from "./tray";

export const REPLICATE_STATUS_LABEL: Record<Reference["replicateStatus"], string> = {
  fresh: "fresh",
  will_refresh: "will refresh on use",
};

/**
 * The reference images of the next generation, inside the prompt form: one chip per image (with its
 * upload progress, its error, or its Replicate status) and the buttons that add more.
 */
export function ReferenceTrayView(props: { tray: ReferenceTray; id: string; hint?: string | undefined }): JSX.Element {
  const full = () => props.tray.items.length >= props.tray.limit();
  /** The chosen model's real limit, said before anything is uploaded. */
  const allowance = () => {
    const limit = props.tray.limit();
    const model = props.tray.limitedBy();
    if (limit === 0) return model ? `${model} takes none` : "None taken";
    return `${props.tray.items.length} of ${limit}${model ? ` for ${model}` : ""}`;
  };
  return (
    <div class="reftray" data-testid="reference-tray" role="group" aria-labelledby={`${props.id}-refs-label`}>
      <div class="reftray__head">
        <span class="reftray__label" id={`${props.id}-refs-label`}>
          References
        </span>
        <span class="reftray__count" data-testid="reference-limit">
          {allowance()}
        </span>
        <span class="reftray__add">
          <ReferencePickers disabled={full()} onFiles={(files) => props.tray.add(files)} />
        </span>
        <Show when={props.hint}>{(hint) => <span class="reftray__hint">{hint()}</span>}</Show>
      </div>
      <Show when={props.tray.items.length > 0}>
        <ul class="reftray__list">
          <For each={props.tray.items}>{(item) => <ReferenceChip item={item} tray={props.tray} />}</For>
        </ul>
      </Show>
    </div>
  );
}

function ReferenceChip(props: { item: TrayItem; tray: ReferenceTray }): JSX.Element {
  const percent = () => Math.round(props.item.progress * 100);
  return (
    <li
      class="refchip"
      classList={{
        "refchip--failed": props.item.status === "failed",
        "refchip--uploading": props.item.status === "uploading",
      }}
      data-testid="reference-chip"
      data-status={props.item.status}
      data-reference-id={props.item.reference?.id}
      title={props.item.error ?? props.item.name}
    >
      <span class="refchip__thumb">
        <Show
          when={props.item.status !== "failed"}
          fallback={
            <span class="refchip__broken">
              <ImageIcon class="icon" />
            </span>
          }
        >
          <img src={props.item.previewUrl} alt="" width={64} height={64} decoding="async" />
        </Show>
        <Show when={props.item.status === "uploading"}>
          <span
            class="refchip__progress"
            role="progressbar"
            aria-label={`Uploading ${props.item.name}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent()}
          >
            <span class="refchip__progress-fill" style={{ width: `${Math.max(4, percent())}%` }} />
          </span>
        </Show>
      </span>
      <span class="refchip__name">{props.item.name}</span>
      <Switch>
        <Match when={props.item.status === "uploading"}>
          <span class="refchip__status">Uploading {percent()}%</span>
        </Match>
        <Match when={props.item.status === "failed"}>
          <span class="refchip__status refchip__status--error">{props.item.error}</span>
          <Show when={props.item.retryable}>
            <button
              type="button"
              class="button button--link refchip__again"
              aria-label={`Try uploading ${props.item.name} again`}
              onClick={() => props.tray.retry(props.item.key)}
            >
              Try again
            </button>
          </Show>
        </Match>
        <Match when={props.item.reference}>
          {(reference) => (
            <span class={`refchip__status refchip__status--${reference().replicateStatus}`}>
              <span class="refchip__dot" aria-hidden="true" />
              {REPLICATE_STATUS_LABEL[reference().replicateStatus]}
              <Show when={props.item.deduplicated}>
                <span class="refchip__reused"> · reused</span>
              </Show>
            </span>
          )}
        </Match>
      </Switch>
      <button
        type="button"
        class="refchip__remove"
        aria-label={`Remove ${props.item.name}`}
        onClick={() => props.tray.remove(props.item.key)}
      >
        <CloseIcon />
      </button>
    </li>
  );
}
