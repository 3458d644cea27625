/**
 * Reading multipart bodies with a size bound checked before the body is buffered, so an oversize
 * upload is refused with 413 instead of filling memory.
 */
import { ProblemError } from "../lib/problem";

const MULTIPART_OVERHEAD = 64 * 1024;

export async function readMultipart(request: Request, maxPayloadBytes: number, files = 1): Promise<FormData> {
  const limit = maxPayloadBytes * files + MULTIPART_OVERHEAD;
  const type = request.headers.get("Content-Type") ?? "";
  if (!type.toLowerCase().startsWith("multipart/form-data")) {
    throw new ProblemError(415, "Send the file as multipart/form-data.");
  }
  const declared = Number(request.headers.get("Content-Length") ?? NaN);
  if (declared > limit)
    throw new ProblemError(413, `The upload is larger than ${Math.round(limit / 1024 / 1024)} MB.`, {
      errors: [{ path: "file", message: "Too large" }],
    });
  try {
    // A declared length is the body's length (the runtime holds the request to it): parse it as it
    // comes. Without one (chunked), count the bytes as they arrive first.
    if (Number.isFinite(declared)) return await request.formData();
    const body = await readBounded(request, limit);
    return await new Response(body, { headers: { "Content-Type": type } }).formData();
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    throw new ProblemError(400, "The multipart body could not be read.");
  }
}

/** The whole body, refused with 413 (naming `path`) as soon as it passes `limit` bytes. */
export async function readBounded(request: Request, limit: number, path = "file"): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new ProblemError(413, `The upload is larger than ${Math.round(limit / 1024 / 1024)} MB.`, {
        errors: [{ path, message: "Too large" }],
      });
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
