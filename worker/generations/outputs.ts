/**
 * Keeping a prediction's outputs: each is downloaded from an allowed Replicate host (never through a
 * redirect) before its URL expires, checked, written to R2 under a deterministic key and recorded as
 * an asset. Safe to repeat: an output already recorded is skipped, a rewrite lands on the same key.
 */
import { and, eq, inArray } from "drizzle-orm";
import { D1_MAX_BOUND_PARAMETERS, type Database } from "../db/client";
import { assets, type GenerationRow, type NewAssetRow } from "../db/schema";
import { chunks } from "../lib/chunks";
import { newId, sha256Hex } from "../lib/ids";
import { log } from "../lib/logger";
import { PipelineError } from "../lib/retryable";
import { withinTime } from "../lib/time-limit";
import { isAllowedOutputUrl } from "../replicate/output-hosts";
import { sniffMedia } from "../storage/media-type";
import { outputKey, posterKey, putObject } from "../storage/objects";

export const MAX_OUTPUT_BYTES = 200 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 60_000;

/** A download that failed; retryable when it may work later (5xx, timeouts, truncated bodies). */
export class OutputDownloadError extends PipelineError {
  constructor(message: string, options: { retryable: boolean }) {
    super(message, options);
    this.name = "OutputDownloadError";
  }
}

const PERMANENT = { retryable: false };
const TRANSIENT = { retryable: true };

/** An output's bytes, checked. The time limit covers the whole download, body included. */
export async function downloadOutput(
  url: string,
  allowedHosts: readonly string[],
  timeoutMs = DOWNLOAD_TIMEOUT_MS,
): Promise<Uint8Array> {
  if (!isAllowedOutputUrl(url, allowedHosts)) {
    throw new OutputDownloadError(
      `Refused to download an output from a host that is not allowed: ${new URL(url).host}`,
      PERMANENT,
    );
  }
  return withinTime(timeoutMs, (signal) => readOutput(url, signal));
}

async function readOutput(url: string, signal: AbortSignal): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: "manual", signal });
  } catch (error) {
    throw new OutputDownloadError(
      `Downloading an output failed: ${error instanceof Error ? error.message : String(error)}`,
      TRANSIENT,
    );
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    throw new OutputDownloadError(
      `The output URL redirected (${response.status}); redirects are not followed`,
      PERMANENT,
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    // Replicate deletes outputs after an hour: a 404 or 410 will not get better.
    const gone = response.status === 404 || response.status === 410;
    throw new OutputDownloadError(`Downloading an output failed with HTTP ${response.status}`, {
      retryable: !gone,
    });
  }
  const declared = Number(response.headers.get("Content-Length") ?? NaN);
  if (declared > MAX_OUTPUT_BYTES)
    throw new OutputDownloadError(`The output is too large (${declared} bytes)`, PERMANENT);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new OutputDownloadError(
      `The output download broke off: ${error instanceof Error ? error.message : String(error)}`,
      TRANSIENT,
    );
  }
  if (Number.isFinite(declared) && bytes.length !== declared) {
    throw new OutputDownloadError(
      `The output download was truncated (${bytes.length} of ${declared} bytes)`,
      TRANSIENT,
    );
  }
  if (bytes.length === 0) throw new OutputDownloadError("The output was empty", TRANSIENT);
  return bytes;
}

/** Output index → R2 key of each output already recorded, per generation. */
export type RecordedOutputs = Map<string, Map<number, string>>;

/** The outputs already recorded for these generations, in one query per 90 generations. */
export async function findRecordedOutputs(db: Database, generationIds: readonly string[]): Promise<RecordedOutputs> {
  const recorded: RecordedOutputs = new Map();
  for (const ids of chunks(generationIds, D1_MAX_BOUND_PARAMETERS - 10)) {
    for (const row of await recordedOutputsQuery(db, ids)) {
      if (row.generationId === null || row.outputIndex === null) continue;
      const byIndex = recorded.get(row.generationId) ?? new Map<number, string>();
      byIndex.set(row.outputIndex, row.r2Key);
      recorded.set(row.generationId, byIndex);
    }
  }
  return recorded;
}

/** The read behind `findRecordedOutputs`, for a few generations (to go in a batch with other reads). */
export const recordedOutputsQuery = (db: Database, generationIds: readonly string[]) =>
  db
    .select({ generationId: assets.generationId, outputIndex: assets.outputIndex, r2Key: assets.r2Key })
    .from(assets)
    .where(and(inArray(assets.generationId, [...generationIds]), eq(assets.role, "output")));

/** Output index → R2 key, from the rows of one generation's `recordedOutputsQuery`. */
export const recordedByIndex = (rows: readonly { outputIndex: number | null; r2Key: string }[]) =>
  new Map(rows.flatMap((row) => (row.outputIndex === null ? [] : [[row.outputIndex, row.r2Key] as const])));

/** Records outputs `keepOutputs` stored (each once: a repeat changes nothing). */
export async function recordOutputs(db: Database, kept: readonly NewAssetRow[]): Promise<void> {
  if (kept.length > 0)
    await db
      .insert(assets)
      .values([...kept])
      .onConflictDoNothing();
}

/** An output downloaded and checked, with the asset row that records it; not yet in R2. */
export type FetchedOutput = { row: NewAssetRow; bytes: Uint8Array };

/**
 * Downloads every output not yet stored and builds the asset rows that record them (keys are
 * deterministic), without writing the outputs to R2: the caller stores them (`storeOutputs`). A
 * video's poster is made and stored here, from the source image already in R2. The outputs of a
 * batch are fetched side by side, so four take about as long as one. A recorded output whose object
 * is present is skipped; one whose object is missing is fetched again.
 */
export async function fetchOutputs(
  db: Database,
  bucket: R2Bucket,
  generation: GenerationRow,
  urls: readonly string[],
  allowedHosts: readonly string[],
  recorded: ReadonlyMap<number, string>,
  // Required, so that no path that stores outputs can forget the videos' posters.
  images: ImagesBinding,
  /** Downloads of `urls` the caller already started (by index), e.g. while it read the generation. */
  started: readonly Promise<Uint8Array>[] = [],
): Promise<FetchedOutput[]> {
  const fetchOne = async (url: string, index: number): Promise<FetchedOutput | null> => {
    const recordedKey = recorded.get(index);
    // Recorded and present: done. Recorded but the object is missing: fetch it again.
    if (recordedKey && (await bucket.head(recordedKey))) return null;
    const bytes = await (started[index] ?? downloadOutput(url, allowedHosts));
    const media = sniffMedia(bytes);
    if (!media) throw new OutputDownloadError("The output is not an image or video we recognise", PERMANENT);
    const sha256 = await sha256Hex(bytes);
    const poster = media.mimeType.startsWith("video/")
      ? await makePoster(db, bucket, images, generation, index, media)
      : null;
    const row: NewAssetRow = {
      id: newId("ast"),
      userId: generation.userId,
      generationId: generation.id,
      role: "output",
      outputIndex: index,
      r2Key: outputKey(generation.userId, generation.id, index),
      mimeType: media.mimeType,
      sizeBytes: bytes.length,
      width: media.width,
      height: media.height,
      sha256,
      posterKey: poster,
    };
    return { row, bytes };
  };
  return settleAll(urls.map(fetchOne)).then((fetched) => fetched.filter((output) => output !== null));
}

/** Writes fetched outputs to R2 under their keys, side by side. */
export async function storeOutputs(bucket: R2Bucket, fetched: readonly FetchedOutput[]): Promise<void> {
  await settleAll(
    fetched.map(({ row, bytes }) =>
      putObject(bucket, row.r2Key, bytes, { mimeType: row.mimeType, sha256: row.sha256 }),
    ),
  );
}

/**
 * Downloads every output not yet stored into R2 and returns the asset rows that record them, for
 * the caller to write (alone, or with the generation's success in one batch). Repeating it is safe:
 * each output lands on the same key, and a recorded one whose object is present is skipped.
 */
export async function keepOutputs(
  db: Database,
  bucket: R2Bucket,
  generation: GenerationRow,
  urls: readonly string[],
  allowedHosts: readonly string[],
  recorded: ReadonlyMap<number, string>,
  images: ImagesBinding,
): Promise<NewAssetRow[]> {
  const fetched = await fetchOutputs(db, bucket, generation, urls, allowedHosts, recorded, images);
  await storeOutputs(bucket, fetched);
  return fetched.map((output) => output.row);
}

/**
 * Every one settles before a failure is reported, so no download or write is still under way when
 * the caller (or the queue's retry) moves on.
 */
async function settleAll<T>(work: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  return settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
}

/**
 * A video's poster frame, made once when the video is stored: its first frame, which for an
 * image-to-video run is the source image (Workers cannot decode video), at the video's size. Null when
 * the video started from text or the poster cannot be made; the player then shows the video's own
 * first frame.
 */
async function makePoster(
  db: Database,
  bucket: R2Bucket,
  images: ImagesBinding,
  generation: GenerationRow,
  index: number,
  media: { width: number | null; height: number | null },
): Promise<string | null> {
  if (!generation.sourceAssetId) return null;
  const source = await db.query.assets.findFirst({ where: eq(assets.id, generation.sourceAssetId) });
  const original = source ? await bucket.get(source.r2Key) : null;
  if (!original) return null;
  try {
    const transformer = images.input(original.body);
    const result = await (media.width && media.height
      ? transformer.transform({ width: media.width, height: media.height, fit: "cover" })
      : transformer
    ).output({ format: "image/webp", quality: 85 });
    const bytes = new Uint8Array(await result.response().arrayBuffer());
    const key = posterKey(generation.userId, generation.id, index);
    await putObject(bucket, key, bytes, { mimeType: result.contentType(), sha256: await sha256Hex(bytes) });
    return key;
  } catch (error) {
    log.warn("poster.failed", { generationId: generation.id, error });
    return null;
  }
}
