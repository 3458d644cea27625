/**
 * R2 objects: where each kind of file lives, and serving them with validators, ranges and long
 * cache lifetimes. Keys are deterministic so a repeated write (a redelivered completion) lands on
 * the same object instead of creating a new one.
 */
import { ProblemError, problemResponse } from "../lib/problem";

export const outputKey = (userId: string, generationId: string, index: number): string =>
  `outputs/${userId}/${generationId}/${index}`;

/** Where a thumbnail of `r2Key` of the given width lives. */
export const thumbnailKey = (r2Key: string, width: number): string => `thumbnails/${width}/${r2Key}`;

/** Every thumbnail key an original may have: each width, and the single 384 px one of earlier versions. */
export const thumbnailKeysOf = (r2Key: string, widths: readonly number[]): string[] => [
  ...widths.map((width) => thumbnailKey(r2Key, width)),
  `thumbnails/${r2Key}`,
];

/** The original a thumbnail belongs to (`thumbnails/<width>/<key>` or `thumbnails/<key>`). */
export const thumbnailOwnerKey = (key: string): string =>
  key.startsWith("thumbnails/") ? key.slice("thumbnails/".length).replace(/^\d+\//, "") : key;

/** A video output's poster frame. */
export const posterKey = (userId: string, generationId: string, index: number): string =>
  `posters/${userId}/${generationId}/${index}`;

export async function putObject(
  bucket: R2Bucket,
  key: string,
  bytes: Uint8Array,
  meta: { mimeType: string; sha256: string },
): Promise<void> {
  await bucket.put(key, bytes, {
    httpMetadata: { contentType: meta.mimeType },
    customMetadata: { sha256: meta.sha256 },
    sha256: meta.sha256,
  });
}

const ONE_YEAR_SECONDS = 31_536_000;

type ServeOptions = { etag: string; mimeType: string; fileName?: string; attachment?: boolean };

/** `Content-Disposition` with an ASCII fallback name and the exact one (RFC 6266, RFC 8187). */
function contentDisposition(fileName: string, attachment: boolean): string {
  const ascii =
    fileName
      .normalize("NFKD")
      .replace(/[^\x20-\x7e]/g, "")
      .replace(/["\\]/g, "_") || "download";
  return `${attachment ? "attachment" : "inline"}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

function parseRange(header: string | null, size: number): { offset: number; length: number } | "invalid" | null {
  if (!header) return null;
  const match = header.match(/^bytes=(\d*)-(\d*)$/);
  if (!match || (!match[1] && !match[2])) return "invalid";
  if (!match[1]) {
    const suffix = Number(match[2]);
    if (suffix === 0) return "invalid";
    const length = Math.min(suffix, size);
    return { offset: size - length, length };
  }
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  if (start >= size || end < start) return "invalid";
  return { offset: start, length: end - start + 1 };
}

/** What is served: its size, and its bytes (or a range of them) once the request is known to want them. */
type Servable = { size: number; body: (range: { offset: number; length: number } | null) => Promise<BodyInit | null> };

/**
 * Our URLs never change what they point at, so responses are cacheable for a year (privately: they
 * are per-user). User content is served with nosniff and a sandboxing CSP so it can never run as a page.
 * Null when the object is missing, for the caller to answer with its own 404.
 */
export function serveObject(
  bucket: R2Bucket,
  key: string,
  request: Request,
  options: ServeOptions,
): Promise<Response | null> {
  return serve(request, options, async () => {
    const head = await bucket.head(key);
    if (!head) return null;
    return {
      size: head.size,
      body: async (range) => (await bucket.get(key, range ? { range } : {}))?.body ?? null,
    };
  });
}

/** Bytes in hand (an output whose write to R2 is still under way), served exactly as `serveObject` serves its copy. */
export function serveBytes(bytes: Uint8Array, request: Request, options: ServeOptions): Promise<Response | null> {
  return serve(request, options, async () => ({
    size: bytes.length,
    body: async (range) => (range ? bytes.slice(range.offset, range.offset + range.length) : bytes),
  }));
}

async function serve(
  request: Request,
  options: ServeOptions,
  open: () => Promise<Servable | null>,
): Promise<Response | null> {
  const etag = `"${options.etag}"`;
  const headers = new Headers({
    "Content-Type": options.mimeType,
    ETag: etag,
    "Cache-Control": `private, max-age=${ONE_YEAR_SECONDS}, immutable`,
    "Accept-Ranges": "bytes",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
  });
  if (options.fileName) headers.set("Content-Disposition", contentDisposition(options.fileName, !!options.attachment));

  const ifNoneMatch = request.headers.get("If-None-Match");
  if (ifNoneMatch?.split(",").some((tag) => tag.trim() === etag || tag.trim() === "*")) {
    return new Response(null, { status: 304, headers });
  }

  const source = await open();
  if (!source) return null;
  // A range is only for the version the client already holds part of (If-Range with our ETag; we
  // send no Last-Modified, so an If-Range date never matches): otherwise the whole object.
  const ifRange = request.headers.get("If-Range");
  const range = ifRange === null || ifRange === etag ? parseRange(request.headers.get("Range"), source.size) : null;
  if (range === "invalid") {
    // Like every refusal, problem+json; Content-Range tells the client the real size.
    const refusal = problemResponse(
      new ProblemError(416, `The requested range is not within the ${source.size} bytes of this file.`),
    );
    refusal.headers.set("Content-Range", `bytes */${source.size}`);
    return refusal;
  }
  const body = await source.body(range);
  if (body === null) return null;
  if (range) {
    headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${source.size}`);
    headers.set("Content-Length", String(range.length));
    return new Response(body, { status: 206, headers });
  }
  headers.set("Content-Length", String(source.size));
  return new Response(request.method === "HEAD" ? null : body, { status: 200, headers });
}
