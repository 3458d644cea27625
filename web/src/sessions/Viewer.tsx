import { type Generation, isTerminalStatus } from "@contract/api";
import { createSignal, type JSX, Match, onCleanup, onMount, Show, Switch } from "solid-js";
import { FavoriteButton } from "../images";
import { ChevronLeftIcon, ChevronRightIcon, DownloadIcon, ImageIcon, SparkleIcon } from "../ui/icons";
import { ProgressBar, STATUS_LABEL, StatusBadge } from "./StatusBadge";
import { describeSlot, isVideo, type Slot } from "./slots";

export type ViewerProps = {
  slot: Slot | undefined;
  /** Position of the slot in the whole session, 0-based, and how many there are. */
  position: number;
  total: number;
  /** Whether the generation's parent is still making the image this one starts from. */
  waitingForSource: boolean;
  /** Whether the shown image is a favourite (as the server said). */
  isFavorite: (assetId: string) => boolean;
  onMove: (step: -1 | 1) => void;
};

const SWIPE_MIN_PX = 48;

/**
 * The selected image, large. Swipe left or right (touch or pen), or use the arrow keys once it has
 * focus, or the two buttons, to move between images.
 */
export function Viewer(props: ViewerProps): JSX.Element {
  const [drag, setDrag] = createSignal(0);
  let swipe: { id: number; x: number; y: number; horizontal: boolean | null } | null = null;

  const generation = (): Generation | undefined => props.slot?.generation;
  const asset = () => props.slot?.asset;
  const active = () => {
    const g = generation();
    return g ? !isTerminalStatus(g.status) : false;
  };
  const onPointerDown = (event: PointerEvent) => {
    if (event.pointerType === "mouse" || swipe) return;
    if (event.target instanceof HTMLVideoElement) return;
    swipe = { id: event.pointerId, x: event.clientX, y: event.clientY, horizontal: null };
  };
  const onPointerMove = (event: PointerEvent) => {
    if (!swipe || swipe.id !== event.pointerId) return;
    const dx = event.clientX - swipe.x;
    const dy = event.clientY - swipe.y;
    if (swipe.horizontal === null && Math.hypot(dx, dy) > 10) swipe.horizontal = Math.abs(dx) > Math.abs(dy) * 1.2;
    if (swipe.horizontal) setDrag(dx);
  };
  const onPointerEnd = (event: PointerEvent) => {
    if (!swipe || swipe.id !== event.pointerId) return;
    const dx = event.clientX - swipe.x;
    const horizontal = swipe.horizontal;
    swipe = null;
    setDrag(0);
    if (event.type !== "pointerup" || !horizontal || Math.abs(dx) < SWIPE_MIN_PX) return;
    // Swiping left shows the next image, like turning a page.
    props.onMove(dx < 0 ? 1 : -1);
  };

  // A horizontal swipe is ours: keep the browser from turning it into "back" or "forward"
  // (overscroll history navigation). Needs a non-passive listener, so it's added by hand.
  let stage: HTMLDivElement | undefined;
  onMount(() => {
    const onTouchMove = (event: TouchEvent) => {
      if (swipe?.horizontal && event.cancelable) event.preventDefault();
    };
    stage?.addEventListener("touchmove", onTouchMove, { passive: false });
    onCleanup(() => stage?.removeEventListener("touchmove", onTouchMove));
  });

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "ArrowLeft") {
      event.preventDefault();
      props.onMove(-1);
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      props.onMove(1);
    }
  };

  return (
    <section class="viewer" data-testid="viewer" aria-label="Selected image" aria-roledescription="image viewer">
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the pointer handlers are the swipe gesture; arrow keys and the Previous/Next buttons do the same. */}
      <div
        ref={stage}
        class="viewer__stage"
        classList={{ "is-dragging": drag() !== 0 }}
        tabindex="0"
        aria-describedby="viewer-help"
        onKeyDown={onKeyDown}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerEnd}
        onPointerCancel={onPointerEnd}
      >
        <div class="viewer__slide" style={{ transform: drag() !== 0 ? `translateX(${drag()}px)` : undefined }}>
          <Switch>
            <Match when={!props.slot}>
              <div class="viewer__empty">
                <SparkleIcon class="icon viewer__empty-icon" />
                <p>No images yet. Describe one below to start.</p>
              </div>
            </Match>
            <Match when={asset()}>
              {(current) => (
                <Show
                  when={!isVideo(current())}
                  fallback={
                    // biome-ignore lint/a11y/useMediaCaption: generated videos have no sound to caption.
                    <video
                      class="viewer__media"
                      data-testid="viewer-video"
                      src={current().url}
                      poster={current().posterUrl ?? undefined}
                      width={current().width ?? undefined}
                      height={current().height ?? undefined}
                      controls
                      playsinline
                      loop
                      preload="metadata"
                      title={props.slot ? describeSlot(props.slot) : undefined}
                    />
                  }
                >
                  <img
                    class="viewer__media"
                    data-testid="viewer-image"
                    src={current().url}
                    width={current().width ?? undefined}
                    height={current().height ?? undefined}
                    alt={props.slot ? describeSlot(props.slot) : ""}
                    decoding="async"
                    draggable={false}
                    style={{ "background-image": `url("${current().thumbnailUrl}")` }}
                  />
                </Show>
              )}
            </Match>
            <Match when={active() && generation()}>
              {(g) => (
                <div class="viewer__pending">
                  <span class="skeleton viewer__pending-shimmer" aria-hidden="true" />
                  <div class="viewer__pending-info">
                    <StatusBadge status={g().status} />
                    <p class="viewer__pending-text">
                      {props.waitingForSource
                        ? "Waiting for the image it starts from…"
                        : g().status === "running" && g().progress > 0
                          ? `${Math.round(g().progress * 100)}% done`
                          : `${STATUS_LABEL[g().status]}…`}
                    </p>
                    <ProgressBar status={g().status} progress={g().progress} class="viewer__progress" />
                  </div>
                </div>
              )}
            </Match>
            <Match when={generation()}>
              {(g) => (
                <div class="viewer__failed">
                  <ImageIcon class="icon viewer__empty-icon" />
                  <p class="viewer__failed-title">
                    {g().status === "canceled"
                      ? "Canceled before an image was made."
                      : g().status === "succeeded"
                        ? "The model returned no image."
                        : `${STATUS_LABEL[g().status]}.`}
                  </p>
                  <Show when={g().error}>{(error) => <p class="viewer__failed-error">{error()}</p>}</Show>
                </div>
              )}
            </Match>
          </Switch>
        </div>
      </div>
      <p id="viewer-help" class="visually-hidden">
        Swipe, or use the left and right arrow keys, to move between images.
      </p>

      <Show when={props.total > 1}>
        <button
          type="button"
          class="viewer__nav viewer__nav--prev"
          aria-label="Previous image"
          disabled={props.position <= 0}
          onClick={() => props.onMove(-1)}
        >
          <ChevronLeftIcon />
        </button>
        <button
          type="button"
          class="viewer__nav viewer__nav--next"
          aria-label="Next image"
          disabled={props.position >= props.total - 1}
          onClick={() => props.onMove(1)}
        >
          <ChevronRightIcon />
        </button>
      </Show>

      <Show when={props.slot}>
        {(slot) => (
          <div class="viewer__bar">
            <span class="viewer__position">
              <span class="visually-hidden">Image </span>
              {props.position + 1} / {props.total}
              <Show when={slot().count > 1}>
                <span class="viewer__batch">
                  {" "}
                  · batch image {slot().index + 1} of {slot().count}
                </span>
              </Show>
            </span>
            <Show when={slot().asset}>
              {(current) => (
                <span class="viewer__actions">
                  <FavoriteButton assetId={current().id} favorite={props.isFavorite(current().id)} variant="bar" />
                  {/* The server names the file after the session's title and the image's number. */}
                  <a
                    class="button button--ghost button--small"
                    href={`${current().url}?download=1`}
                    download=""
                    data-testid="download"
                  >
                    <DownloadIcon />
                    Download
                  </a>
                </span>
              )}
            </Show>
          </div>
        )}
      </Show>
    </section>
  );
}
