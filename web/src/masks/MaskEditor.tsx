import "./mask.css";
import type { Asset } from "@contract/api";
import { createSignal, type JSX, onCleanup, onMount, Show } from "solid-js";
import { uploadAsset } from "../api/assets";
import { errorMessage } from "../api/errors";
import { announce } from "../ui/announcer";
import { BrushIcon, CloseIcon, EraserIcon, InvertIcon, TrashIcon, UndoIcon } from "../ui/icons";
import {
  clearMask,
  exportMaskPng,
  invertMask,
  type Point,
  paintedShare,
  restore,
  snapshot,
  strokeSegment,
} from "./maskCanvas";

export type MaskResult = {
  asset: Asset;
  /** An object URL of the exported black-and-white PNG, for the form's thumbnail. */
  previewUrl: string;
  /** The painted strokes, to edit the mask again. */
  strokes: ImageData;
};

export type MaskEditorProps = {
  imageUrl: string;
  imageAlt: string;
  /** Strokes of a mask drawn earlier on the same image. */
  initial?: ImageData | undefined;
  onUse: (result: MaskResult) => void;
  onClose: () => void;
};

const UNDO_DEPTH = 20;

/**
 * "Draw a mask": paint over the image where it should change. Pointer events, so a finger, a pen and
 * a mouse all paint (`touch-action: none` on the canvas keeps the page from scrolling under the
 * brush). The canvas has the image's natural size, so the exported mask lines up pixel for pixel.
 */
export function MaskEditor(props: MaskEditorProps): JSX.Element {
  let dialog: HTMLDialogElement | undefined;
  let canvas: HTMLCanvasElement | undefined;
  const [natural, setNatural] = createSignal<{ width: number; height: number }>();
  const [loadError, setLoadError] = createSignal(false);
  const [tool, setTool] = createSignal<"brush" | "erase">("brush");
  const [size, setSize] = createSignal(48);
  const [undoCount, setUndoCount] = createSignal(0);
  const [cursor, setCursor] = createSignal<{ x: number; y: number; d: number } | null>(null);
  const [busy, setBusy] = createSignal<number | null>(null);
  const [error, setError] = createSignal<string>();
  const undo: ImageData[] = [];
  let drawing: { id: number; last: Point } | null = null;

  const maxSize = () => {
    const n = natural();
    return n ? Math.max(16, Math.round(Math.max(n.width, n.height) / 4)) : 256;
  };

  // Focus goes back where it came from ("Draw a mask") when the editor closes.
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  onMount(() => {
    dialog?.showModal();
  });

  onCleanup(() => {
    if (dialog?.open) dialog.close();
    if (opener?.isConnected) queueMicrotask(() => opener.focus());
  });

  const onImageLoad = (event: Event) => {
    const img = event.currentTarget;
    if (!(img instanceof HTMLImageElement) || !canvas) return;
    const width = img.naturalWidth;
    const height = img.naturalHeight;
    canvas.width = width;
    canvas.height = height;
    setNatural({ width, height });
    setSize(Math.max(8, Math.round(Math.max(width, height) / 16)));
    if (props.initial && props.initial.width === width && props.initial.height === height)
      restore(canvas, props.initial);
  };

  const pushUndo = () => {
    if (!canvas) return;
    undo.push(snapshot(canvas));
    if (undo.length > UNDO_DEPTH) undo.shift();
    setUndoCount(undo.length);
  };

  const doUndo = () => {
    const previous = undo.pop();
    setUndoCount(undo.length);
    if (previous && canvas) restore(canvas, previous);
  };

  const toCanvas = (event: PointerEvent): Point | null => {
    if (!canvas) return null;
    const rect = canvas.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return null;
    return {
      x: ((event.clientX - rect.left) * canvas.width) / rect.width,
      y: ((event.clientY - rect.top) * canvas.height) / rect.height,
    };
  };

  const moveCursor = (event: PointerEvent) => {
    if (!canvas) return;
    const rect = canvas.getBoundingClientRect();
    setCursor({ x: event.clientX - rect.left, y: event.clientY - rect.top, d: (size() * rect.width) / canvas.width });
  };

  const onPointerDown = (event: PointerEvent) => {
    if (!canvas || !natural() || drawing || (event.pointerType === "mouse" && event.button !== 0)) return;
    const point = toCanvas(event);
    if (!point) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    pushUndo();
    drawing = { id: event.pointerId, last: point };
    strokeSegment(canvas, point, point, size(), tool() === "erase");
    moveCursor(event);
  };

  const onPointerMove = (event: PointerEvent) => {
    moveCursor(event);
    if (!canvas || !drawing || drawing.id !== event.pointerId) return;
    const events = typeof event.getCoalescedEvents === "function" ? event.getCoalescedEvents() : [];
    for (const e of events.length > 0 ? events : [event]) {
      const point = toCanvas(e);
      if (!point) continue;
      strokeSegment(canvas, drawing.last, point, size(), tool() === "erase");
      drawing.last = point;
    }
  };

  const endStroke = (event: PointerEvent) => {
    if (drawing?.id === event.pointerId) drawing = null;
    if (event.pointerType !== "mouse") setCursor(null);
  };

  const clear = () => {
    if (!canvas) return;
    pushUndo();
    clearMask(canvas);
    announce("Mask cleared");
  };

  const invert = () => {
    if (!canvas) return;
    pushUndo();
    invertMask(canvas);
    announce("Mask inverted");
  };

  const use = async () => {
    if (!canvas || busy() !== null) return;
    setError(undefined);
    if (paintedShare(canvas) === 0) {
      setError("Paint over the part of the image that should change first.");
      return;
    }
    setBusy(0);
    try {
      const strokes = snapshot(canvas);
      const png = await exportMaskPng(canvas);
      const asset = await uploadAsset(png, "mask", { onProgress: (fraction) => setBusy(fraction) }, "mask.png");
      props.onUse({ asset, previewUrl: URL.createObjectURL(png), strokes });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const target = event.target;
    const typing = target instanceof HTMLInputElement && target.type !== "range";
    if (typing) return;
    if ((event.metaKey || event.ctrlKey) && event.key.toLowerCase() === "z") {
      event.preventDefault();
      doUndo();
    } else if (event.key === "[") {
      setSize((s) => Math.max(4, Math.round(s / 1.25)));
    } else if (event.key === "]") {
      setSize((s) => Math.min(maxSize(), Math.round(s * 1.25)));
    }
  };

  return (
    <dialog
      ref={dialog}
      class="maskdlg"
      aria-labelledby="mask-title"
      aria-describedby="mask-help"
      onCancel={(event) => {
        event.preventDefault();
        props.onClose();
      }}
      onKeyDown={onKeyDown}
    >
      <div class="maskdlg__inner">
        <header class="maskdlg__head">
          <h2 id="mask-title" class="maskdlg__title">
            Draw a mask
          </h2>
          <p id="mask-help" class="maskdlg__help">
            Paint where the image should change. Unpainted parts are kept.
          </p>
        </header>

        <div class="maskdlg__tools" role="toolbar" aria-label="Mask tools">
          <div class="segmented" role="group" aria-label="Tool">
            <button
              type="button"
              class="segmented__button"
              aria-pressed={tool() === "brush"}
              onClick={() => setTool("brush")}
            >
              <BrushIcon />
              Brush
            </button>
            <button
              type="button"
              class="segmented__button"
              aria-pressed={tool() === "erase"}
              onClick={() => setTool("erase")}
            >
              <EraserIcon />
              Erase
            </button>
          </div>
          <label class="maskdlg__size">
            <span class="maskdlg__size-label">Brush size</span>
            <input
              type="range"
              min={4}
              max={maxSize()}
              step={1}
              value={size()}
              aria-valuetext={`${size()} pixels`}
              onInput={(e) => setSize(Number(e.currentTarget.value))}
            />
            <span class="maskdlg__size-value" aria-hidden="true">
              {size()} px
            </span>
          </label>
          <div class="maskdlg__actions">
            <button
              type="button"
              class="button button--ghost button--small"
              disabled={undoCount() === 0}
              onClick={doUndo}
            >
              <UndoIcon />
              Undo
            </button>
            <button type="button" class="button button--ghost button--small" onClick={invert}>
              <InvertIcon />
              Invert
            </button>
            <button type="button" class="button button--ghost button--small" onClick={clear}>
              <TrashIcon />
              Clear
            </button>
          </div>
        </div>

        <div class="maskdlg__stage">
          <div class="maskdlg__frame">
            <img
              class="maskdlg__image"
              src={props.imageUrl}
              alt={props.imageAlt}
              onLoad={onImageLoad}
              onError={() => setLoadError(true)}
              draggable={false}
            />
            <canvas
              ref={canvas}
              class="maskdlg__canvas"
              classList={{ "is-erasing": tool() === "erase" }}
              data-testid="mask-canvas"
              aria-label="Mask canvas: drag to paint the area to repaint"
              onPointerDown={onPointerDown}
              onPointerMove={onPointerMove}
              onPointerUp={endStroke}
              onPointerCancel={endStroke}
              onPointerLeave={(e) => {
                if (!drawing) setCursor(null);
                if (e.pointerType !== "mouse") endStroke(e);
              }}
            />
            <Show when={cursor()}>
              {(c) => (
                <span
                  class="maskdlg__cursor"
                  aria-hidden="true"
                  style={{ left: `${c().x}px`, top: `${c().y}px`, width: `${c().d}px`, height: `${c().d}px` }}
                />
              )}
            </Show>
          </div>
          <Show when={loadError()}>
            <p class="field__error" role="alert">
              The image could not be loaded, so no mask can be drawn on it.
            </p>
          </Show>
        </div>

        <Show when={error()}>
          <p class="field__error maskdlg__error" role="alert">
            {error()}
          </p>
        </Show>

        <footer class="maskdlg__foot">
          <button type="button" class="button button--ghost" onClick={() => props.onClose()}>
            <CloseIcon />
            Discard
          </button>
          <button
            type="button"
            class="button button--primary"
            disabled={!natural()}
            aria-busy={busy() !== null}
            onClick={() => void use()}
          >
            <Show when={busy() !== null} fallback="Use mask">
              Uploading mask… {Math.round((busy() ?? 0) * 100)}%
            </Show>
          </button>
        </footer>
      </div>
    </dialog>
  );
}
