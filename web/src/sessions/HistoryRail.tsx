import { type Generation, isTerminalStatus } from "@contract/api";
import { createEffect, For, Index, type JSX, on, Show } from "solid-js";
import { ImageIcon } from "../ui/icons";
import { STATUS_LABEL } from "./StatusBadge";
import { outputsOf, slotCount, slotKey } from "./slots";

export type HistoryRailProps = {
  generations: readonly Generation[];
  selectedKey: string | undefined;
  onSelect: (generationId: string, outputIndex: number) => void;
  /** Older generations exist that aren't loaded; `onLoadOlder` fetches the next page of them. */
  older: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
};

/**
 * Every image of the session as a filmstrip, oldest first, grouped by generation (a batch's images
 * sit together). Scrolls sideways; the selected image is kept in view.
 */
export function HistoryRail(props: HistoryRailProps): JSX.Element {
  let rail: HTMLOListElement | undefined;

  createEffect(
    on(
      () => props.selectedKey,
      (key) => {
        if (!key || !rail) return;
        const item = rail.querySelector<HTMLElement>(`[data-slot="${CSS.escape(key)}"]`);
        if (!item) return;
        const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
        const left = item.offsetLeft - rail.clientWidth / 2 + item.offsetWidth / 2;
        rail.scrollTo({ left: Math.max(0, left), behavior: reduced ? "auto" : "smooth" });
      },
    ),
  );

  return (
    <nav class="rail-wrap" aria-label="History">
      <ol ref={rail} class="rail">
        <Show when={props.older}>
          <li class="rail__group rail__older">
            <button
              type="button"
              class="rail__older-button"
              aria-busy={props.loadingOlder}
              data-testid="load-older"
              onClick={() => props.onLoadOlder()}
            >
              {props.loadingOlder ? "Loading…" : "Older"}
            </button>
          </li>
        </Show>
        <For each={props.generations}>
          {(generation) => (
            <li
              class="rail__group"
              data-testid="generation"
              data-status={generation.status}
              data-generation-id={generation.id}
            >
              <ol class="rail__items" aria-label={`Generation: ${generation.prompt}`}>
                <Index each={Array.from({ length: slotCount(generation) })}>
                  {(_, index) => (
                    <RailItem
                      generation={generation}
                      index={index}
                      selected={props.selectedKey === slotKey(generation.id, index)}
                      onSelect={() => props.onSelect(generation.id, index)}
                    />
                  )}
                </Index>
              </ol>
            </li>
          )}
        </For>
      </ol>
    </nav>
  );
}

function RailItem(props: {
  generation: Generation;
  index: number;
  selected: boolean;
  onSelect: () => void;
}): JSX.Element {
  const asset = () => outputsOf(props.generation)[props.index];
  const count = () => slotCount(props.generation);
  const active = () => !isTerminalStatus(props.generation.status);
  const label = () => {
    const which = count() > 1 ? `Image ${props.index + 1} of ${count()}` : "Image";
    const status = asset() ? "" : `, ${STATUS_LABEL[props.generation.status].toLowerCase()}`;
    return `${which}${status}: ${props.generation.prompt}`;
  };
  return (
    <li>
      <button
        type="button"
        class="rail__item"
        classList={{ "is-selected": props.selected, "is-active": active(), "is-failed": !asset() && !active() }}
        data-testid="history-item"
        data-slot={slotKey(props.generation.id, props.index)}
        aria-current={props.selected ? "true" : undefined}
        aria-label={label()}
        onClick={() => props.onSelect()}
      >
        <Show
          when={asset()}
          fallback={
            <span class="rail__placeholder" classList={{ skeleton: active() }}>
              <Show when={!active()}>
                <ImageIcon class="icon" />
              </Show>
              <Show when={active() && props.generation.status === "running" && props.generation.progress > 0}>
                <span class="rail__percent">{Math.round(props.generation.progress * 100)}%</span>
              </Show>
            </span>
          }
        >
          {(current) => (
            <img
              class="rail__thumb"
              data-testid="output-image"
              src={current().thumbnailUrl}
              alt=""
              width={72}
              height={72}
              loading="lazy"
              decoding="async"
            />
          )}
        </Show>
      </button>
    </li>
  );
}
