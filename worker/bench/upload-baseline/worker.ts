/**
 * Benchmark only, never deployed: the baseline the upload of a reference is compared with, run by
 * `wrangler dev` on the same persisted local R2 as the app (worker/bench/upload.ts starts it).
 *
 * `POST /?steps=put` is the raw R2 put of the request's bytes, nothing else. The other steps add
 * the upload route's own work one piece at a time, so the difference between two is one step's cost:
 * `parse` reads the multipart form and puts its file; `hash` also buffers, sniffs and hashes the
 * file's bytes; `clean` runs the route's whole cleaning and puts the clean bytes; `reencode` instead
 * re-encodes the file through the Images binding (how every PNG was cleaned before) and puts that.
 *
 * `POST /?steps=fetchput&url=…` downloads a URL and puts its bytes: the least any design that stores
 * an output before announcing it can take (the completion benchmark's floor). `POST /?steps=fetch&url=…`
 * only downloads it: the least a design that announces once the bytes are in hand can take. With
 * `&read=…` it downloads it in one of the ways the output download could (worker/bench/download.ts
 * compares them): `reader` chunk by chunk, `digest` chunk by chunk into a SHA-256 digest stream
 * as the chunks arrive, `tee` the body split between a digest stream and a buffer, `hashafter` whole,
 * then hashed, `ranges` four `Range` requests side by side (`&size=` names the whole length).
 */
import { readMultipart } from "../../http/multipart";
import { sha256Hex } from "../../lib/ids";
import { sniffMedia } from "../../storage/media-type";
import { putObject } from "../../storage/objects";
import { cleanUploadedImage, MAX_UPLOAD_BYTES } from "../../storage/uploads";

type BaselineEnv = { BUCKET: R2Bucket; IMAGES: ImagesBinding; BENCH_RUN: string };

async function formFile(request: Request): Promise<File> {
  const file = (await readMultipart(request, MAX_UPLOAD_BYTES)).get("file");
  if (!(file instanceof File)) throw new Error("no file field");
  return file;
}

export default {
  async fetch(request: Request, env: BaselineEnv): Promise<Response> {
    // The benchmark finds this Worker's own socket by the run it names.
    if (request.method === "GET") return Response.json({ benchRun: env.BENCH_RUN });
    const steps = new URL(request.url).searchParams.get("steps") ?? "put";
    const key = `bench-baseline/${crypto.randomUUID()}`;
    if (steps === "put") {
      await env.BUCKET.put(key, request.body);
    } else if (steps === "fetch") {
      const params = new URL(request.url).searchParams;
      const size = await downloadBy(
        params.get("read") ?? "buffer",
        params.get("url") ?? "",
        Number(params.get("size")),
      );
      return Response.json({ key: null, size }, { status: 201 });
    } else if (steps === "fetchput") {
      const download = await fetch(new URL(request.url).searchParams.get("url") ?? "");
      await env.BUCKET.put(key, await download.arrayBuffer());
    } else if (steps === "parse") {
      await env.BUCKET.put(key, await formFile(request));
    } else if (steps === "hash") {
      const bytes = new Uint8Array(await (await formFile(request)).arrayBuffer());
      const media = sniffMedia(bytes);
      await putObject(env.BUCKET, key, bytes, {
        mimeType: media?.mimeType ?? "application/octet-stream",
        sha256: await sha256Hex(bytes),
      });
    } else if (steps === "clean") {
      const image = await cleanUploadedImage(env.IMAGES, await formFile(request));
      await putObject(env.BUCKET, key, image.bytes, image);
    } else if (steps === "reencode") {
      const file = await formFile(request);
      const output = await env.IMAGES.input(file.stream()).output({ format: "image/png" });
      const bytes = new Uint8Array(await output.response().arrayBuffer());
      await putObject(env.BUCKET, key, bytes, { mimeType: "image/png", sha256: await sha256Hex(bytes) });
    } else {
      return new Response(`unknown steps ${steps}`, { status: 400 });
    }
    return Response.json({ key }, { status: 201 });
  },
};

/** Downloads `url` the way `read` names and returns how many bytes it got. */
async function downloadBy(read: string, url: string, size: number): Promise<number> {
  if (read === "ranges") {
    const part = Math.ceil(size / 4);
    const parts = await Promise.all(
      [0, 1, 2, 3].map(async (index) => {
        const end = Math.min(size, (index + 1) * part) - 1;
        const response = await fetch(url, { headers: { Range: `bytes=${index * part}-${end}` } });
        if (response.status !== 206) throw new Error(`a range was answered with ${response.status}`);
        return (await response.arrayBuffer()).byteLength;
      }),
    );
    return parts.reduce((sum, length) => sum + length, 0);
  }
  const response = await fetch(url);
  const body = response.body;
  if (!body) throw new Error("no body");
  if (read === "buffer") return (await response.arrayBuffer()).byteLength;
  if (read === "hashafter") {
    const bytes = await response.arrayBuffer();
    await sha256Hex(bytes);
    return bytes.byteLength;
  }
  if (read === "tee") {
    const [toHash, toKeep] = body.tee();
    const digest = new crypto.DigestStream("SHA-256");
    const [, kept] = await Promise.all([toHash.pipeTo(digest), new Response(toKeep).arrayBuffer()]);
    await digest.digest;
    return kept.byteLength;
  }
  if (read !== "reader" && read !== "digest") throw new Error(`unknown read ${read}`);
  const digest = read === "digest" ? new crypto.DigestStream("SHA-256") : null;
  const hashing = digest?.getWriter();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.byteLength;
    await hashing?.write(value);
  }
  await hashing?.close();
  if (digest) await digest.digest;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes.byteLength;
}
