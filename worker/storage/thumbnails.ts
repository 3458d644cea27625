/**
 * Thumbnails: made once with the Images binding (fit inside 384 px, WebP) and kept in R2 next to the
 * original, so the gallery never pays for a resize twice.
 */
import { sha256Hex } from "../lib/ids";
import { log } from "../lib/logger";
import { putObject, thumbnailKey } from "./objects";

export const THUMBNAIL_SIZE = 384;

export type Thumbnail = { key: string; mimeType: string; etag: string };

export async function ensureThumbnail(
  bucket: R2Bucket,
  images: ImagesBinding,
  source: { r2Key: string; mimeType: string; width: number | null; height: number | null },
): Promise<Thumbnail | null> {
  if (!source.mimeType.startsWith("image/")) return null;
  const key = thumbnailKey(source.r2Key);
  const existing = await bucket.head(key);
  if (existing) {
    return {
      key,
      mimeType: existing.httpMetadata?.contentType ?? "image/webp",
      etag: existing.customMetadata?.sha256 ?? existing.etag,
    };
  }
  const original = await bucket.get(source.r2Key);
  if (!original) return null;
  try {
    const fitsAlready = (source.width ?? Infinity) <= THUMBNAIL_SIZE && (source.height ?? Infinity) <= THUMBNAIL_SIZE;
    const transformer = images.input(original.body);
    const result = await (fitsAlready
      ? transformer
      : transformer.transform({ width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE, fit: "scale-down" })
    ).output({ format: "image/webp", quality: 80 });
    const bytes = new Uint8Array(await result.response().arrayBuffer());
    const sha256 = await sha256Hex(bytes);
    await putObject(bucket, key, bytes, { mimeType: result.contentType(), sha256 });
    return { key, mimeType: result.contentType(), etag: sha256 };
  } catch (error) {
    log.warn("thumbnail.failed", { r2Key: source.r2Key, error });
    return null;
  }
}
