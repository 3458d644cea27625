/**
 * Real, deterministic images with sharp — no model, no fonts.
 *
 * Text-to-image: a diagonal gradient plus a handful of shapes. The palette comes from a hash of the
 * prompt; angles, positions and sizes from a PRNG seeded by (seed, output index, other params), so the
 * same prompt + seed gives byte-identical files and a different seed gives a different picture.
 * Image-to-image: the source resized to the output size, tinted towards the prompt's colour by an
 * amount that grows with `prompt_strength`, with a few translucent shapes on top — recognisably
 * the input. With a mask (white = repaint, black = keep) only the white area changes.
 * Video: an H.264 MP4 whose first frame is the source (or the text-to-image scene), then a ball
 * crossing it.
 */
import { createHash } from "node:crypto";
import sharp, { type Sharp } from "sharp";
import { seededRandom } from "./seeded-random";
import { encodeMp4, VideoEncodeError } from "./video";

export type OutputFormat = "webp" | "png" | "jpg" | "mp4";

export const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  webp: "image/webp",
  png: "image/png",
  jpg: "image/jpeg",
  mp4: "video/mp4",
};

export interface RenderRequest {
  width: number;
  height: number;
  format: OutputFormat;
  /** 1–100, for webp/jpg. */
  quality: number;
  prompt: string;
  seed: number;
  index: number;
  /** Other parameters that should change the picture (negative prompt, steps, guidance…). */
  variation: string;
  /** Decoded-able bytes of the source image (image-to-image). */
  source?: Uint8Array;
  /** 0..1: how far the output departs from the source. */
  strength: number;
  /** Mask bytes: white = repaint, black = keep. Only used with `source`. */
  mask?: Uint8Array;
  /** Bytes of an image that only lends its average colour (e.g. FLUX Redux `image_prompt`). */
  guide?: Uint8Array;
  /** Render a video (MP4) of this many frames, at `fps`. */
  frames?: number;
  fps?: number;
}

type Rgb = readonly [number, number, number];

/** Thrown when input bytes are not an image sharp can read. */
export class ImageDecodeError extends Error {
  override name = "ImageDecodeError";
}

function hashBytes(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function hslToRgb(hue: number, saturation: number, lightness: number): Rgb {
  const h = (((hue % 360) + 360) % 360) / 360;
  const s = saturation;
  const l = lightness;
  if (s === 0) {
    const grey = Math.round(l * 255);
    return [grey, grey, grey];
  }
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t0: number): number => {
    let t = t0;
    if (t < 0) t += 1;
    if (t > 1) t -= 1;
    if (t < 1 / 6) return p + (q - p) * 6 * t;
    if (t < 1 / 2) return q;
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6;
    return p;
  };
  return [Math.round(channel(h + 1 / 3) * 255), Math.round(channel(h) * 255), Math.round(channel(h - 1 / 3) * 255)];
}

function hex([r, g, b]: Rgb): string {
  return `#${[r, g, b]
    .map((v) =>
      Math.max(0, Math.min(255, Math.round(v)))
        .toString(16)
        .padStart(2, "0"),
    )
    .join("")}`;
}

interface Palette {
  baseHue: number;
  accentHue: number;
  tint: Rgb;
}

/** Colours depend on the prompt only, so one prompt keeps its look across seeds. */
function paletteOf(prompt: string): Palette {
  const digest = hashBytes(`palette:${prompt}`);
  const [first = 0, second = 0, third = 0] = digest;
  const baseHue = ((first << 8) | second) % 360;
  const accentHue = baseHue + 90 + (third % 120);
  return { baseHue, accentHue, tint: hslToRgb(baseHue, 0.75, 0.5) };
}

function rngFor(request: RenderRequest, salt: string): () => number {
  const digest = hashBytes(`${salt}:${request.prompt}:${request.seed}:${request.index}:${request.variation}`);
  return seededRandom(digest.readUInt32BE(0));
}

const f2 = (n: number): string => n.toFixed(2);

function shapesSvg(
  request: RenderRequest,
  palette: Palette,
  rng: () => number,
  count: number,
  opacityScale: number,
): string {
  const { width: w, height: h } = request;
  const unit = Math.min(w, h);
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const hue = (i % 2 === 0 ? palette.accentHue : palette.baseHue) + (rng() - 0.5) * 60;
    const fill = hex(hslToRgb(hue, 0.55 + rng() * 0.35, 0.35 + rng() * 0.35));
    const opacity = f2((0.45 + rng() * 0.45) * opacityScale);
    const cx = rng() * w;
    const cy = rng() * h;
    const size = unit * (0.08 + rng() * 0.27);
    const kind = Math.floor(rng() * 4);
    const style = `fill="${fill}" fill-opacity="${opacity}"`;
    if (kind === 0) parts.push(`<circle cx="${f2(cx)}" cy="${f2(cy)}" r="${f2(size)}" ${style}/>`);
    else if (kind === 1) {
      parts.push(
        `<rect x="${f2(cx - size)}" y="${f2(cy - size * 0.6)}" width="${f2(size * 2)}" height="${f2(size * 1.2)}" rx="${f2(size * 0.15)}" ${style}/>`,
      );
    } else if (kind === 2)
      parts.push(`<ellipse cx="${f2(cx)}" cy="${f2(cy)}" rx="${f2(size * 1.4)}" ry="${f2(size * 0.6)}" ${style}/>`);
    else {
      const points = [0, 1, 2]
        .map((k) => {
          const angle = rng() * 0.6 + (k * 2 * Math.PI) / 3;
          return `${f2(cx + Math.cos(angle) * size)},${f2(cy + Math.sin(angle) * size)}`;
        })
        .join(" ");
      parts.push(`<polygon points="${points}" ${style}/>`);
    }
  }
  return parts.join("");
}

function sceneSvg(request: RenderRequest, guide: Rgb | undefined): string {
  const palette = paletteOf(request.prompt);
  const rng = rngFor(request, "scene");
  const angle = rng() * 2 * Math.PI;
  const [x1, y1, x2, y2] = [
    0.5 - Math.cos(angle) / 2,
    0.5 - Math.sin(angle) / 2,
    0.5 + Math.cos(angle) / 2,
    0.5 + Math.sin(angle) / 2,
  ];
  const from = guide ?? hslToRgb(palette.baseHue + (rng() - 0.5) * 30, 0.6, 0.25 + rng() * 0.2);
  const to = hslToRgb(palette.accentHue + (rng() - 0.5) * 30, 0.65, 0.55 + rng() * 0.2);
  const shapes = shapesSvg(request, palette, rng, 4 + Math.floor(rng() * 5), 1);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${request.width}" height="${request.height}">` +
    `<defs><linearGradient id="bg" x1="${f2(x1)}" y1="${f2(y1)}" x2="${f2(x2)}" y2="${f2(y2)}">` +
    `<stop offset="0" stop-color="${hex(from)}"/><stop offset="1" stop-color="${hex(to)}"/></linearGradient></defs>` +
    `<rect width="100%" height="100%" fill="url(#bg)"/>${shapes}</svg>`
  );
}

function overlaySvg(request: RenderRequest): string {
  const palette = paletteOf(request.prompt);
  const rng = rngFor(request, "overlay");
  const shapes = shapesSvg(request, palette, rng, 2 + Math.floor(rng() * 3), 0.25 + request.strength * 0.35);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${request.width}" height="${request.height}">${shapes}</svg>`;
}

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

async function toRgb(image: Sharp): Promise<Raw> {
  const { data, info } = await image
    .flatten({ background: "#ffffff" })
    .toColourspace("srgb")
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new ImageDecodeError(`unexpected channel count ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

/** Width and height as displayed (EXIF orientation applied); throws ImageDecodeError. */
export async function probeImage(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  try {
    const metadata = await sharp(bytes).metadata();
    const { width, height } = metadata.autoOrient;
    if (!width || !height) throw new Error("no dimensions");
    return { width, height };
  } catch (error) {
    throw new ImageDecodeError(`cannot identify image file: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The source at the output size; skipped resize when sizes already match keeps pixels exact. */
async function sourceAt(bytes: Uint8Array, width: number, height: number): Promise<Raw> {
  const { width: sw, height: sh } = await probeImage(bytes);
  let image = sharp(bytes).autoOrient();
  if (sw !== width || sh !== height) image = image.resize(width, height, { fit: "cover" });
  return toRgb(image);
}

async function averageColour(bytes: Uint8Array): Promise<Rgb> {
  const stats = await sharp(bytes).flatten({ background: "#ffffff" }).toColourspace("srgb").stats();
  const [r, g, b] = stats.channels;
  return [Math.round(r?.mean ?? 128), Math.round(g?.mean ?? 128), Math.round(b?.mean ?? 128)];
}

function tint(raw: Raw, colour: Rgb, amount: number): Raw {
  const out = Buffer.alloc(raw.data.length);
  for (let i = 0; i < raw.data.length; i++) {
    out[i] = Math.round((raw.data[i] ?? 0) * (1 - amount) + (colour[i % 3] ?? 0) * amount);
  }
  return { ...raw, data: out };
}

async function composite(raw: Raw, svg: string): Promise<Raw> {
  const image = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } }).composite([
    { input: Buffer.from(svg) },
  ]);
  return toRgb(sharp(await image.png({ compressionLevel: 0 }).toBuffer()));
}

async function maskAt(bytes: Uint8Array, width: number, height: number): Promise<Buffer> {
  const { data, info } = await sharp(bytes)
    .autoOrient()
    .resize(width, height, { fit: "fill" })
    .flatten({ background: "#000000" })
    .toColourspace("b-w")
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new ImageDecodeError(`unexpected mask channel count ${info.channels}`);
  return data;
}

/** out = keep + (paint - keep) × mask/255: black (0) keeps the source pixel exactly. */
function applyMask(keep: Raw, paint: Raw, mask: Buffer): Raw {
  const out = Buffer.alloc(keep.data.length);
  for (let pixel = 0; pixel < mask.length; pixel++) {
    const weight = (mask[pixel] ?? 0) / 255;
    for (let c = 0; c < 3; c++) {
      const i = pixel * 3 + c;
      const kept = keep.data[i] ?? 0;
      out[i] = Math.round(kept + ((paint.data[i] ?? 0) - kept) * weight);
    }
  }
  return { ...keep, data: out };
}

async function encode(raw: Raw, format: OutputFormat, quality: number): Promise<Buffer> {
  const image = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } });
  const q = Math.max(1, Math.min(100, Math.round(quality)));
  if (format === "png") return image.png().toBuffer();
  if (format === "jpg") return image.jpeg({ quality: q }).toBuffer();
  return image.webp({ quality: q }).toBuffer();
}

async function renderStill(request: RenderRequest): Promise<Raw> {
  const guide = request.guide ? await averageColour(request.guide) : undefined;
  if (!request.source) {
    return toRgb(sharp(Buffer.from(sceneSvg(request, guide))));
  }
  const base = await sourceAt(request.source, request.width, request.height);
  const palette = paletteOf(request.prompt);
  const amount = 0.1 + 0.3 * request.strength;
  const painted = await composite(tint(base, guide ?? palette.tint, amount), overlaySvg(request));
  if (!request.mask) return painted;
  return applyMask(base, painted, await maskAt(request.mask, request.width, request.height));
}

/** Paints a filled disc into raw RGB pixels. */
function paintDisc(raw: Raw, cx: number, cy: number, radius: number, colour: Rgb, alpha: number): void {
  const { width, height, data } = raw;
  const r2 = radius * radius;
  for (let y = Math.max(0, Math.floor(cy - radius)); y < Math.min(height, Math.ceil(cy + radius)); y++) {
    for (let x = Math.max(0, Math.floor(cx - radius)); x < Math.min(width, Math.ceil(cx + radius)); x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 > r2) continue;
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) data[i + c] = Math.round((data[i + c] ?? 0) * (1 - alpha) + (colour[c] ?? 0) * alpha);
    }
  }
}

async function renderVideo(request: RenderRequest, frameCount: number): Promise<Buffer> {
  const { width, height } = request;
  const first = request.source
    ? await sourceAt(request.source, width, height)
    : await toRgb(
        sharp(Buffer.from(sceneSvg(request, request.guide ? await averageColour(request.guide) : undefined))),
      );
  const palette = paletteOf(request.prompt);
  const colour = hslToRgb(palette.accentHue, 0.8, 0.55);
  const rng = rngFor(request, "motion");
  const startY = height * (0.25 + rng() * 0.5);
  const radius = Math.min(width, height) * (0.1 + rng() * 0.1);
  const frames: Uint8Array[] = [first.data];
  for (let f = 1; f < frameCount; f++) {
    const t = f / (frameCount - 1);
    // A ball crossing the still first frame, fading in: visible motion that leaves the rest of the
    // picture alone, so the encoder stores only the blocks it passes over.
    const frame = { width, height, data: Buffer.from(first.data) };
    paintDisc(frame, t * width, startY, radius, colour, 0.8 * t);
    frames.push(frame.data);
  }
  return encodeMp4({ width, height, fps: request.fps ?? 8, frames });
}

/** Renders one output file. Throws ImageDecodeError when a source, mask or guide can't be read. */
export async function renderImage(request: RenderRequest): Promise<Buffer> {
  try {
    if (request.format === "mp4") return await renderVideo(request, Math.max(2, request.frames ?? 2));
    return await encode(await renderStill(request), request.format, request.quality);
  } catch (error) {
    if (error instanceof ImageDecodeError || error instanceof VideoEncodeError) throw error;
    // sharp reports unreadable inputs as plain Errors ("Input buffer contains unsupported image format").
    throw new ImageDecodeError(`cannot identify image file: ${error instanceof Error ? error.message : String(error)}`);
  }
}
