import "./lightbox.css";
import { A } from "@solidjs/router";
import { createEffect, createSignal, For, type JSX, on, onCleanup, onMount, Show } from "solid-js";
import { formatAbsolute, formatBytes, modelName, paramLabel } from "../lib/format";
import { ChevronLeftIcon, ChevronRightIcon, CloseIcon, SlidersIcon, ZoomInIcon } from "../ui/icons";
import { ImageActions } from "./ImageActions";
import { isVideoImage, sessionHref, type ViewerImage } from "./image";

export type LightboxProps = {
  image: ViewerImage;
  /** 0-based place in what is listed, and how many are listed so far (`more`: others follow). */
  position: number;
  total: number;
  more: boolean;
  onMove: (step: -1 | 1) => void;
  onClose: () => void;
  /** Moves the image to the trash; the caller shows "Undo" and what comes next. */
  onDelete: () => Promise<void>;
};

const SWIPE_MIN_PX = 48;
const MAX_ZOOM = 4;
const DOUBLE_TAP_ZOOM = 2.5;

type Pan = { x: number; y: number };
type Gesture =
  | { kind: "swipe"; id: number; x: number; y: number; horizontal: boolean | null }
  | { kind: "pan"; id: number; x: number; y: number; from: Pan }
  | { kind: "pinch"; distance: number; from: number };

/**
 * One image, full size, over everything: zoom (double tap or click, pinch, the wheel, + and -),
 * swipe or the arrow keys to move, Escape or Close to leave. Its parameters and actions are in a
 * sheet at the bottom, within thumb reach.
 */
export function Lightbox(props: LightboxProps): JSX.Element {
  const [zoom, setZoom] = createSignal(1);
  const [pan, setPan] = createSignal<Pan>({ x: 0, y: 0 });
  const [drag, setDrag] = createSignal(0);
  const [details, setDetails] = createSignal(window.matchMedia("(min-width: 900px)").matches);
  const [loaded, setLoaded] = createSignal(false);
  let dialog: HTMLDivElement | undefined;
  let stage: HTMLDivElement | undefined;
  const pointers = new Map<number, { x: number; y: number }>();
  let gesture: Gesture | null = null;
  /** When the last tap (a touch that didn't move) ended: a second one soon after zooms. */
  let lastTap = 0;
  const TAP_SLOP_PX = 10;

  const resetZoom = () => {
    setZoom(1);
    setPan({ x: 0, y: 0 });
  };
  createEffect(
    on(
      () => props.image.id,
      () => {
        resetZoom();
        setLoaded(false);
      },
    ),
  );

  const zoomTo = (next: number, around?: { x: number; y: number }) => {
    const scale = Math.min(MAX_ZOOM, Math.max(1, next));
    if (scale === 1) return resetZoom();
    const box = stage?.getBoundingClientRect();
    const previous = zoom();
    if (box && around) {
      // Keep the point under the finger (or pointer) where it is.
      const cx = around.x - box.left - box.width / 2;
      const cy = around.y - box.top - box.height / 2;
      const p = pan();
      setPan({ x: cx - ((cx - p.x) * scale) / previous, y: cy - ((cy - p.y) * scale) / previous });
    }
    setZoom(scale);
  };

  const move = (step: -1 | 1) => {
    if (step < 0 && props.position <= 0) return;
    if (step > 0 && props.position >= props.total - 1 && !props.more) return;
    props.onMove(step);
  };

  const onPointerDown = (event: PointerEvent) => {
    if (event.button !== 0) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    stage?.setPointerCapture(event.pointerId);
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()] as [{ x: number; y: number }, { x: number; y: number }];
      gesture = { kind: "pinch", distance: Math.hypot(a.x - b.x, a.y - b.y), from: zoom() };
      setDrag(0);
      return;
    }
    if (event.timeStamp - lastTap < 300) {
      lastTap = 0;
      zoomTo(zoom() > 1 ? 1 : DOUBLE_TAP_ZOOM, { x: event.clientX, y: event.clientY });
      gesture = null;
      return;
    }
    gesture =
      zoom() > 1
        ? { kind: "pan", id: event.pointerId, x: event.clientX, y: event.clientY, from: pan() }
        : { kind: "swipe", id: event.pointerId, x: event.clientX, y: event.clientY, horizontal: null };
  };

  const onPointerMove = (event: PointerEvent) => {
    if (!pointers.has(event.pointerId)) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (!gesture) return;
    if (gesture.kind === "pinch" && pointers.size >= 2) {
      const [a, b] = [...pointers.values()] as [{ x: number; y: number }, { x: number; y: number }];
      zoomTo((gesture.from * Math.hypot(a.x - b.x, a.y - b.y)) / Math.max(1, gesture.distance), {
        x: (a.x + b.x) / 2,
        y: (a.y + b.y) / 2,
      });
    } else if (gesture.kind === "pan" && gesture.id === event.pointerId) {
      setPan({ x: gesture.from.x + event.clientX - gesture.x, y: gesture.from.y + event.clientY - gesture.y });
    } else if (gesture.kind === "swipe" && gesture.id === event.pointerId) {
      const dx = event.clientX - gesture.x;
      const dy = event.clientY - gesture.y;
      if (gesture.horizontal === null && Math.hypot(dx, dy) > 10)
        gesture.horizontal = Math.abs(dx) > Math.abs(dy) * 1.2;
      if (gesture.horizontal) setDrag(dx);
    }
  };

  const onPointerEnd = (event: PointerEvent) => {
    pointers.delete(event.pointerId);
    const ended = gesture;
    if (ended?.kind === "pinch") {
      gesture = null;
      if (zoom() < 1.05) resetZoom();
      return;
    }
    if (!ended || ended.id !== event.pointerId) return;
    gesture = null;
    // Only a touch that stayed put is a tap: two quick swipes are not a double tap.
    const moved = Math.hypot(event.clientX - ended.x, event.clientY - ended.y) > TAP_SLOP_PX;
    lastTap = event.type === "pointerup" && !moved ? event.timeStamp : 0;
    if (ended.kind === "swipe") {
      const dx = event.clientX - ended.x;
      setDrag(0);
      // Swiping left shows the next image, like turning a page.
      if (event.type === "pointerup" && ended.horizontal && Math.abs(dx) >= SWIPE_MIN_PX) move(dx < 0 ? 1 : -1);
    }
  };

  const onWheel = (event: WheelEvent) => {
    event.preventDefault();
    zoomTo(zoom() * Math.exp(-event.deltaY / 300), { x: event.clientX, y: event.clientY });
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.defaultPrevented) return;
    const target = event.target as HTMLElement;
    const typing = target.closest("input, textarea, select");
    if (event.key === "Escape") {
      event.preventDefault();
      props.onClose();
    } else if (typing) {
      return;
    } else if (event.key === "ArrowLeft") {
      event.preventDefault();
      move(-1);
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      move(1);
    } else if (event.key === "+" || event.key === "=") {
      zoomTo(zoom() * 1.5);
    } else if (event.key === "-") {
      zoomTo(zoom() / 1.5);
    } else if (event.key === "Tab") {
      trapFocus(event);
    }
  };

  /** Tab stays inside the viewer while it is open. */
  const trapFocus = (event: KeyboardEvent) => {
    const focusable = [
      ...(dialog?.querySelectorAll<HTMLElement>("a[href], button:not([disabled]), [tabindex='0']") ?? []),
    ];
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  onMount(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    document.documentElement.classList.add("has-lightbox");
    stage?.focus({ preventScroll: true });
    // Non-passive, so the wheel zooms instead of scrolling the page behind.
    stage?.addEventListener("wheel", onWheel, { passive: false });
    onCleanup(() => {
      stage?.removeEventListener("wheel", onWheel);
      document.documentElement.classList.remove("has-lightbox");
      if (opener?.isConnected) opener.focus({ preventScroll: true });
    });
  });

  const transform = () => {
    if (zoom() > 1) return `translate(${pan().x}px, ${pan().y}px) scale(${zoom()})`;
    return drag() !== 0 ? `translateX(${drag()}px)` : undefined;
  };
  const largestThumbnail = () => props.image.thumbnails.reduce((a, b) => (b.width > a.width ? b : a)).url;
  // The size the image has is shown once, as Size: the width and height asked for would say it again.
  const sized = () => Boolean(props.image.width && props.image.height);
  const params = () =>
    Object.entries(props.image.params).filter(
      (entry): entry is [string, string | number | boolean] =>
        entry[1] !== null && entry[1] !== undefined && !(sized() && (entry[0] === "width" || entry[0] === "height")),
    );

  return (
    <div
      ref={dialog}
      class="lightbox"
      role="dialog"
      aria-modal="true"
      aria-label="Image viewer"
      data-testid="lightbox"
      onKeyDown={onKeyDown}
    >
      <div class="lightbox__top">
        <button type="button" class="lightbox__icon-button" aria-label="Close" onClick={() => props.onClose()}>
          <CloseIcon />
        </button>
        <span class="lightbox__position" data-testid="lightbox-position">
          {props.position + 1} of {props.total}
          {props.more ? "+" : ""}
        </span>
        <button
          type="button"
          class="lightbox__icon-button"
          aria-label={zoom() > 1 ? "Fit to screen" : "Zoom in"}
          aria-pressed={zoom() > 1}
          onClick={() => (zoom() > 1 ? resetZoom() : zoomTo(DOUBLE_TAP_ZOOM))}
        >
          <ZoomInIcon />
        </button>
        <button
          type="button"
          class="lightbox__icon-button"
          aria-label="Details"
          aria-expanded={details()}
          aria-controls="lightbox-details"
          onClick={() => setDetails(!details())}
        >
          <SlidersIcon />
        </button>
      </div>

      <div class="lightbox__body">
        <div
          ref={stage}
          class="lightbox__stage"
          classList={{ "is-zoomed": zoom() > 1, "is-dragging": drag() !== 0 }}
          tabindex="0"
          role="group"
          aria-label="Image, zoomable"
          aria-describedby="lightbox-help"
          data-testid="lightbox-stage"
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerEnd}
          onPointerCancel={onPointerEnd}
        >
          <Show
            when={!isVideoImage(props.image)}
            fallback={
              // biome-ignore lint/a11y/useMediaCaption: generated videos have no sound to caption.
              <video class="lightbox__media" src={props.image.url} controls playsinline loop preload="metadata" />
            }
          >
            <img
              class="lightbox__media"
              classList={{ "is-loaded": loaded() }}
              data-testid="lightbox-image"
              src={props.image.url}
              width={props.image.width ?? undefined}
              height={props.image.height ?? undefined}
              alt={props.image.prompt}
              draggable={false}
              decoding="async"
              onLoad={() => setLoaded(true)}
              style={{
                transform: transform(),
                "background-image": loaded() ? undefined : `url("${largestThumbnail()}")`,
              }}
            />
          </Show>
          <p id="lightbox-help" class="visually-hidden">
            Swipe or use the arrow keys to move between images; double tap, pinch, or + and - to zoom.
          </p>
        </div>
        <button
          type="button"
          class="lightbox__nav lightbox__nav--prev"
          aria-label="Previous image"
          disabled={props.position <= 0}
          onClick={() => move(-1)}
        >
          <ChevronLeftIcon />
        </button>
        <button
          type="button"
          class="lightbox__nav lightbox__nav--next"
          aria-label="Next image"
          disabled={props.position >= props.total - 1 && !props.more}
          onClick={() => move(1)}
        >
          <ChevronRightIcon />
        </button>
      </div>

      <section class="lightbox__sheet" aria-label="About this image">
        <ImageActions image={props.image} onDelete={props.onDelete} />
        <Show when={details()}>
          <div id="lightbox-details" class="lightbox__details">
            <p class="lightbox__prompt">{props.image.prompt}</p>
            <Show when={props.image.negativePrompt}>
              {(negative) => <p class="lightbox__negative">Not: {negative()}</p>}
            </Show>
            <dl class="lightbox__params">
              <div>
                <dt>Session</dt>
                <dd>
                  <A href={sessionHref(props.image)}>{props.image.sessionTitle || "Untitled session"}</A>
                </dd>
              </div>
              <div>
                <dt>Model</dt>
                <dd title={props.image.model}>{modelName(props.image.model)}</dd>
              </div>
              <Show when={props.image.width && props.image.height}>
                <div>
                  <dt>Size</dt>
                  <dd>
                    {props.image.width} × {props.image.height} · {formatBytes(props.image.sizeBytes)}
                  </dd>
                </div>
              </Show>
              <For each={params()}>
                {([name, value]) => (
                  <div>
                    <dt>{paramLabel(name)}</dt>
                    <dd>{String(value)}</dd>
                  </div>
                )}
              </For>
              <div>
                <dt>Made</dt>
                <dd>{formatAbsolute(props.image.createdAt)}</dd>
              </div>
            </dl>
          </div>
        </Show>
      </section>
    </div>
  );
}
