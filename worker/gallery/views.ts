/**
 * How a gallery row is presented: the asset with what the grid and the viewer show about it, and a
 * file name a person can read.
 */
import type { GenerationParams, GenerationStatus } from "@contract/api";
import type { GalleryItem } from "@contract/gallery";
import { assetUrl, thumbnailsOf, thumbnailUrl } from "../generations/views";
import { extensionFor } from "../storage/media-type";

/** A gallery row as the listing query selects it (snake_case, times in ms). */
export type GalleryRow = {
  id: string;
  gallery_key: number;
  generation_id: string;
  session_id: string;
  output_index: number | null;
  mime_type: string;
  size_bytes: number;
  width: number | null;
  height: number | null;
  sha256: string;
  poster_key: string | null;
  created_at: number;
  model: string;
  generation_status: GenerationStatus;
  favorite: number;
  prompt: string;
  negative_prompt: string | null;
  params: string;
  session_title: string;
};

const MAX_NAME_WORDS = 8;
const MAX_NAME_LENGTH = 60;

/** The first words of a text as a file name stem (`red-fox-in-the-snow`), or `fallback`. */
export function fileStem(text: string, fallback = "image"): string {
  const words = (
    text
      .normalize("NFKC")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  ).slice(0, MAX_NAME_WORDS);
  let stem = "";
  for (const word of words) {
    const next = stem ? `${stem}-${word}` : word;
    if (next.length > MAX_NAME_LENGTH) break;
    stem = next;
  }
  return stem || fallback;
}

/** `red-fox-in-the-snow-2.webp`: the first words of the prompt (or title) and the output's number. */
export const downloadName = (text: string, outputIndex: number, mimeType: string): string =>
  `${fileStem(text)}-${outputIndex + 1}.${extensionFor(mimeType)}`;

export function toGalleryItem(row: GalleryRow): GalleryItem {
  const outputIndex = row.output_index ?? 0;
  return {
    id: row.id,
    role: "output",
    url: assetUrl(row.id),
    thumbnailUrl: thumbnailUrl(row.id),
    thumbnails: thumbnailsOf(row.id),
    mimeType: row.mime_type,
    sizeBytes: row.size_bytes,
    width: row.width,
    height: row.height,
    sha256: row.sha256,
    createdAt: new Date(row.created_at).toISOString(),
    posterUrl: row.poster_key ? thumbnailUrl(row.id, 768) : null,
    generationId: row.generation_id,
    sessionId: row.session_id,
    sessionTitle: row.session_title,
    prompt: row.prompt,
    negativePrompt: row.negative_prompt,
    model: row.model,
    params: JSON.parse(row.params) as GenerationParams,
    status: row.generation_status,
    outputIndex,
    favorite: row.favorite === 1,
    downloadName: downloadName(row.prompt || row.session_title, outputIndex, row.mime_type),
    downloadUrl: `${assetUrl(row.id)}?download=1`,
  };
}
