/**
 * Images people upload (sources, masks, references): the type is taken from the bytes, size and
 * pixel count are bounded before anything is decoded, and only a clean image is kept: a PNG keeps
 * just the chunks that draw it (worker/storage/png.ts, checked down to its compressed pixels); a
 * JPEG or WebP is re-encoded through the Images binding. Either way EXIF (GPS included), text and
 * any bytes trailing the image are dropped — a polyglot never survives.
 */
import { sha256Hex } from "../lib/ids";
import { ProblemError } from "../lib/problem";
import { IMAGE_MIME_TYPES, sniffMedia } from "./media-type";
import { cleanPng } from "./png";

export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
export const MAX_UPLOAD_PIXELS = 40_000_000;
export const MAX_UPLOAD_SIDE = 12_000;

export type CleanImage = { bytes: Uint8Array; mimeType: string; width: number; height: number; sha256: string };

type AcceptedType = (typeof IMAGE_MIME_TYPES)[number];
const isAccepted = (mimeType: string): mimeType is AcceptedType =>
  (IMAGE_MIME_TYPES as readonly string[]).includes(mimeType);

export async function cleanUploadedImage(images: ImagesBinding, file: File, field = "file"): Promise<CleanImage> {
  if (file.size === 0)
    throw new ProblemError(400, "The file is empty.", { errors: [{ path: field, message: "Empty file" }] });
  if (file.size > MAX_UPLOAD_BYTES) {
    throw new ProblemError(413, `The file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB.`, {
      errors: [{ path: field, message: "Too large" }],
    });
  }
  const original = new Uint8Array(await file.arrayBuffer());
  const media = sniffMedia(original);
  if (!media || !isAccepted(media.mimeType)) {
    throw new ProblemError(415, "Only JPEG, PNG and WebP images are accepted.", {
      errors: [{ path: field, message: "Unsupported image type" }],
    });
  }
  if (!media.width || !media.height) {
    throw new ProblemError(400, "The image header is damaged.", {
      errors: [{ path: field, message: "Unreadable image" }],
    });
  }
  if (
    media.width > MAX_UPLOAD_SIDE ||
    media.height > MAX_UPLOAD_SIDE ||
    media.width * media.height > MAX_UPLOAD_PIXELS
  ) {
    throw new ProblemError(
      413,
      `The image has too many pixels (${media.width}×${media.height}; at most ${MAX_UPLOAD_PIXELS / 1_000_000} megapixels).`,
      {
        errors: [{ path: field, message: "Too many pixels" }],
      },
    );
  }
  const undecodable = () =>
    new ProblemError(400, "The image could not be decoded; it may be truncated or damaged.", {
      errors: [{ path: field, message: "Undecodable image" }],
    });
  if (media.mimeType === "image/png") {
    const png = await cleanPng(original);
    if (png === "damaged") throw undecodable();
    // Re-encoding costs many times the upload itself: only interlaced PNGs, rare, still take it.
    if (png !== "interlaced") {
      return {
        bytes: png.bytes,
        mimeType: media.mimeType,
        width: png.width,
        height: png.height,
        sha256: await sha256Hex(png.bytes),
      };
    }
  }
  let bytes: Uint8Array;
  try {
    const result = await images
      .input(new Blob([original]).stream())
      .output({ format: media.mimeType, ...(media.mimeType === "image/png" ? {} : { quality: 92 }) });
    bytes = new Uint8Array(await result.response().arrayBuffer());
  } catch {
    throw undecodable();
  }
  const cleaned = sniffMedia(bytes);
  if (!cleaned || cleaned.mimeType !== media.mimeType || !cleaned.width || !cleaned.height) throw undecodable();
  return {
    bytes,
    mimeType: cleaned.mimeType,
    width: cleaned.width,
    height: cleaned.height,
    sha256: await sha256Hex(bytes),
  };
}

/** Content-addressed: the same bytes of one user are stored once. */
export const blobKey = (userId: string, sha256: string): string => `blobs/${userId}/${sha256}`;
