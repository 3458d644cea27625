/**
 * Thumbnails: made once per width (256 and 768 px wide, WebP) with the Images binding, on first
 * request, and kept in R2 next to the original, so the gallery never pays for a resize twice and
 * never downloads an original.
 */
import { DEFAULT_THUMBNAIL_WIDTH, THUMBNAIL_WIDTHS } from "@contract/api";
import { sha256Hex } from "../lib/ids";
import { log } from "../lib/logger";
import { putObject, thumbnailKey, thumbnailKeysOf } from "./objects";

export type Thumbnail = { key: string; mimeType: string; etag: string };

/** Every thumbnail key an original may have, for deleting them with it. */
export const allThumbnailKeys = (r2Key: string): string[] => thumbnailKeysOf(r2Key, THUMBNAIL_WIDTHS);

export async function ensureThumbnail(
  bucket: R2Bucket,
  images: ImagesBinding,
  source: { r2Key: string; mimeType: string; width: number | null; height: number | null },
  width: number = DEFAULT_THUMBNAIL_WIDTH,
  /** The original's bytes when R2 does not have it yet (an output whose write is under way). */
  heldOriginal?: () => Promise<Uint8Array | null>,
): Promise<Thumbnail | null> {
  if (!source.mimeType.startsWith("image/")) return null;
  const key = thumbnailKey(source.r2Key, width);
  const existing = await bucket.head(key);
  if (existing) {
    return {
      key,
      mimeType: existing.httpMetadata?.contentType ?? "image/webp",
      etag: existing.customMetadata?.sha256 ?? existing.etag,
    };
  }
  const original =
    (await bucket.get(source.r2Key))?.body ??
    (heldOriginal ? await readHeld(bucket, source.r2Key, heldOriginal) : null);
  if (!original) return null;
  try {
    // Never enlarged: a small original is only re-encoded.
    const fitsAlready = (source.width ?? Infinity) <= width;
    const transformer = images.input(original);
    const result = await (fitsAlready ? transformer : transformer.transform({ width, fit: "scale-down" })).output({
      format: "image/webp",
      quality: 80,
    });
    const bytes = new Uint8Array(await result.response().arrayBuffer());
    const sha256 = await sha256Hex(bytes);
    await putObject(bucket, key, bytes, { mimeType: result.contentType(), sha256 });
    return { key, mimeType: result.contentType(), etag: sha256 };
  } catch (error) {
    log.warn("thumbnail.failed", { r2Key: source.r2Key, width, error });
    return null;
  }
}

/** The held bytes of an original not in R2; if they were let go meanwhile, its write has ended: R2 again. */
async function readHeld(
  bucket: R2Bucket,
  r2Key: string,
  heldOriginal: () => Promise<Uint8Array | null>,
): Promise<ReadableStream<Uint8Array> | null> {
  const held = await heldOriginal();
  if (held) return new Blob([held]).stream();
  return (await bucket.get(r2Key))?.body ?? null;
}
