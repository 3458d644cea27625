/**
 * The pixel work of the mask editor, on a canvas the size of the image: painted pixels (any colour,
 * opaque) mean "repaint", transparent ones "keep". Exported as the PNG models expect: white = repaint,
 * black = keep, at the image's natural size.
 */

/** The colour strokes are shown in while painting (the canvas is shown half transparent). */
export const MASK_TINT = "#ff4d7a";

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("This browser can't draw on a canvas.");
  return ctx;
}

function scratch(width: number, height: number): { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D } {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return { canvas, ctx: context(canvas) };
}

export type Point = { x: number; y: number };

export function strokeSegment(canvas: HTMLCanvasElement, from: Point, to: Point, size: number, erase: boolean): void {
  const ctx = context(canvas);
  ctx.save();
  ctx.globalCompositeOperation = erase ? "destination-out" : "source-over";
  ctx.strokeStyle = MASK_TINT;
  ctx.fillStyle = MASK_TINT;
  ctx.lineWidth = size;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  if (from.x === to.x && from.y === to.y) {
    ctx.beginPath();
    ctx.arc(to.x, to.y, size / 2, 0, Math.PI * 2);
    ctx.fill();
  } else {
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  }
  ctx.restore();
}

export function snapshot(canvas: HTMLCanvasElement): ImageData {
  return context(canvas).getImageData(0, 0, canvas.width, canvas.height);
}

export function restore(canvas: HTMLCanvasElement, data: ImageData): void {
  context(canvas).putImageData(data, 0, 0);
}

export function clearMask(canvas: HTMLCanvasElement): void {
  context(canvas).clearRect(0, 0, canvas.width, canvas.height);
}

/** Painted becomes kept and kept becomes painted. */
export function invertMask(canvas: HTMLCanvasElement): void {
  const { canvas: tmp, ctx: t } = scratch(canvas.width, canvas.height);
  t.fillStyle = MASK_TINT;
  t.fillRect(0, 0, tmp.width, tmp.height);
  t.globalCompositeOperation = "destination-out";
  t.drawImage(canvas, 0, 0);
  const ctx = context(canvas);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(tmp, 0, 0);
}

/** Share of pixels painted, 0..1 (sampled: fast enough for a 2048² mask). */
export function paintedShare(canvas: HTMLCanvasElement): number {
  const { data } = snapshot(canvas);
  let painted = 0;
  let samples = 0;
  for (let i = 3; i < data.length; i += 4 * 7) {
    samples += 1;
    if ((data[i] ?? 0) > 127) painted += 1;
  }
  return samples === 0 ? 0 : painted / samples;
}

/** The mask as a black-and-white PNG of the canvas's size. */
export async function exportMaskPng(canvas: HTMLCanvasElement): Promise<Blob> {
  const { canvas: white, ctx: w } = scratch(canvas.width, canvas.height);
  w.fillStyle = "#fff";
  w.fillRect(0, 0, white.width, white.height);
  w.globalCompositeOperation = "destination-in";
  w.drawImage(canvas, 0, 0);

  const { canvas: out, ctx: o } = scratch(canvas.width, canvas.height);
  o.fillStyle = "#000";
  o.fillRect(0, 0, out.width, out.height);
  o.drawImage(white, 0, 0);
  // Pure black and white: models may read grey as "half repaint".
  const image = o.getImageData(0, 0, out.width, out.height);
  const px = image.data;
  for (let i = 0; i < px.length; i += 4) {
    const v = (px[i] ?? 0) >= 128 ? 255 : 0;
    px[i] = v;
    px[i + 1] = v;
    px[i + 2] = v;
    px[i + 3] = 255;
  }
  o.putImageData(image, 0, 0);

  return new Promise((resolve, reject) =>
    out.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("The mask could not be exported."))), "image/png"),
  );
}
