/**
 * Output files at `/delivery/xezq/{token}/out-{i}.{ext}`, public like replicate.delivery (§2):
 * Content-Type, `Cache-Control: public,max-age=3600`, ETag, Last-Modified; 404 before the file exists,
 * after the prediction failed or was canceled, and once its data was removed (1 h after completion).
 * Download faults: error status, a body cut short of its Content-Length, slow, or chunked.
 */
import type { ServerResponse } from "node:http";
import type { Hono } from "hono";
import type { AppEnv, EmulatorContext } from "./context";
import { renderImage } from "./images";
import { httpDate, sleep } from "./util";

const NOT_FOUND_BODY = "Not Found";

function chunksOf(bytes: Uint8Array, count: number): Uint8Array[] {
  const size = Math.max(1, Math.ceil(bytes.byteLength / count));
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += size) chunks.push(bytes.subarray(offset, offset + size));
  return chunks;
}

/**
 * A body that yields `chunks`, pausing `pauseMs` (real time) before each. With `cutAfter`, the
 * connection is then cut: through Node's response when available (closing the socket once the data
 * is flushed), else by erroring the stream. `onEnd` runs once the last chunk is handed over.
 */
function streamOf(
  chunks: readonly Uint8Array[],
  pauseMs: number,
  cutAfter?: { outgoing: ServerResponse | undefined },
  onEnd?: () => void,
): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index < chunks.length) {
        if (pauseMs > 0) await sleep(pauseMs);
        const chunk = chunks[index++];
        if (chunk) controller.enqueue(chunk);
        return;
      }
      onEnd?.();
      if (!cutAfter) {
        controller.close();
        return;
      }
      const socket = cutAfter.outgoing?.socket;
      if (!socket) {
        controller.error(new Error("emulated truncated download"));
        return;
      }
      for (let spins = 0; spins < 100 && socket.writableLength > 0; spins++)
        await new Promise((resolve) => setImmediate(resolve));
      socket.destroy();
    },
  });
}

export function registerDeliveryRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const { state, clock } = ctx;
  const covers = new Map<string, Promise<Buffer>>();

  // A model's cover image (`cover_image_url`, on a delivery host like Replicate's): a picture drawn
  // from its name, the same every time.
  app.get("/delivery/covers/:owner/:file", async (c) => {
    const name = /^(.+)\.webp$/.exec(c.req.param("file"))?.[1];
    const model = name ? state.models.find(c.req.param("owner"), name) : undefined;
    if (!model) return new Response(NOT_FOUND_BODY, { status: 404, headers: { "content-type": "text/plain" } });
    let cover = covers.get(model.id);
    if (!cover) {
      cover = renderImage({
        width: 320,
        height: 240,
        format: "webp",
        quality: 80,
        prompt: model.id,
        seed: 0,
        index: 0,
        variation: "cover",
        strength: 0,
      });
      covers.set(model.id, cover);
    }
    return new Response(new Uint8Array(await cover), {
      headers: { "content-type": "image/webp", "cache-control": "public,max-age=3600" },
    });
  });

  app.get("/delivery/xezq/:token/:file", async (c) => {
    const entry = state.requests.start(c.req.method, c.req.path, clock.now());
    const ended = () => state.requests.end(entry);
    /** `streamed`: the answer's body trickles out, and `ended` marks when it has all gone. */
    const finish = (response: Response, streamed = false): Response => {
      entry.status = response.status;
      if (!streamed) ended();
      return response;
    };
    const token = c.req.param("token");
    const record = state.predictions.byDeliveryToken(token);
    if (record) entry.predictionId = record.id;
    const name = /^out-(\d+)\.([a-z0-9]+)$/.exec(c.req.param("file"));
    const found = name && record ? await state.predictions.outputFile(token, Number(name[1])) : undefined;
    if (!found || !name || found.planned.format !== name[2])
      return finish(new Response(NOT_FOUND_BODY, { status: 404, headers: { "content-type": "text/plain" } }));

    const prompt = found.record.input.prompt;
    const fault = state.faults.take("download", {
      prompt: typeof prompt === "string" ? prompt : undefined,
      model: found.record.model.id,
      path: c.req.path,
    });
    if (fault?.mode === "error") {
      return finish(
        new Response("Internal Server Error", {
          status: fault.status ?? 500,
          headers: { "content-type": "text/plain" },
        }),
      );
    }

    const { bytes, etag } = found.file;
    const headers: Record<string, string> = {
      "content-type": found.planned.contentType,
      "cache-control": "public,max-age=3600",
      etag,
      "last-modified": httpDate(found.planned.readyAt),
    };
    if (c.req.header("if-none-match") === etag) return finish(new Response(null, { status: 304, headers }));

    const body = new Uint8Array(bytes);
    switch (fault?.mode) {
      case "truncate": {
        // Advertise the full length, send half, then abort the connection.
        const half = body.subarray(0, Math.floor(body.byteLength / 2));
        return finish(
          new Response(streamOf([half], 0, { outgoing: c.env?.outgoing }, ended), {
            status: 200,
            headers: { ...headers, "content-length": String(body.byteLength) },
          }),
          true,
        );
      }
      case "slow": {
        const chunks = chunksOf(body, 8);
        const pauseMs = (fault.delayMs ?? 2000) / chunks.length;
        return finish(
          new Response(streamOf(chunks, pauseMs, undefined, ended), {
            status: 200,
            headers: { ...headers, "content-length": String(body.byteLength) },
          }),
          true,
        );
      }
      case "chunked":
        // No Content-Length: the server falls back to Transfer-Encoding: chunked.
        return finish(
          new Response(streamOf(chunksOf(body, 4), fault.delayMs ? fault.delayMs / 4 : 0, undefined, ended), {
            status: 200,
            headers,
          }),
          true,
        );
      default:
        return finish(
          new Response(body, { status: 200, headers: { ...headers, "content-length": String(body.byteLength) } }),
        );
    }
  });
}
