/** Output images: real, sized as asked, deterministic, and derived from their inputs. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { download, type Harness, outputUrls, type PredictionBody, SDXL, startHarness } from "./helpers";
import { readMp4 } from "./mp4";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

const official = (model: string): string => `/v1/models/${model}/predictions`;

/** Creates, lets it run to the end, returns the finished prediction and its output files. */
async function runToEnd(path: string, body: unknown): Promise<{ prediction: PredictionBody; files: Buffer[] }> {
  const created = await harness.create(path, body);
  await harness.advance(60_000);
  const prediction = await harness.get(created.id);
  const files = prediction.status === "succeeded" ? await Promise.all(outputUrls(prediction).map(download)) : [];
  return { prediction, files };
}

async function only(path: string, body: unknown): Promise<Buffer> {
  const { prediction, files } = await runToEnd(path, body);
  expect(prediction.status, JSON.stringify(prediction.error)).toBe("succeeded");
  const first = files[0];
  if (!first) throw new Error("no output");
  return first;
}

async function meanColour(bytes: Buffer): Promise<[number, number, number]> {
  const { channels } = await sharp(bytes).stats();
  return [channels[0]?.mean ?? 0, channels[1]?.mean ?? 0, channels[2]?.mean ?? 0];
}

const distance = (a: readonly number[], b: readonly number[]): number =>
  Math.hypot(...a.map((value, i) => value - (b[i] ?? 0)));

function dataUrl(bytes: Buffer, type = "image/png"): string {
  return `data:${type};base64,${bytes.toString("base64")}`;
}

/** A recognisable picture: a solid background with a contrasting block. */
async function testPicture(
  width: number,
  height: number,
  background: { r: number; g: number; b: number },
): Promise<Buffer> {
  const block = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect x="${width / 8}" y="${height / 8}" width="${width / 3}" height="${height / 3}" fill="#f0f0f0"/></svg>`;
  return sharp({ create: { width, height, channels: 3, background } })
    .composite([{ input: Buffer.from(block) }])
    .png()
    .toBuffer();
}

describe("text-to-image", () => {
  it("renders the requested size and format (sizes scaled by 1/4, ratios exact)", async () => {
    const cases: Array<[string, Record<string, unknown>, string, number, number]> = [
      ["black-forest-labs/flux-schnell", { aspect_ratio: "16:9" }, "webp", 336, 192],
      ["black-forest-labs/flux-schnell", { aspect_ratio: "9:21", output_format: "jpg" }, "jpeg", 160, 384],
      ["black-forest-labs/flux-schnell", { megapixels: "0.25", output_format: "png" }, "png", 128, 128],
      ["black-forest-labs/flux-dev", { aspect_ratio: "3:2" }, "webp", 304, 208],
      ["black-forest-labs/flux-1.1-pro", { aspect_ratio: "custom", width: 1000, height: 600 }, "webp", 248, 152],
      ["black-forest-labs/flux-kontext-pro", { aspect_ratio: "4:3" }, "png", 288, 224],
    ];
    for (const [model, extra, format, width, height] of cases) {
      const bytes = await only(official(model), { input: { prompt: "a lighthouse", seed: 1, ...extra } });
      const meta = await sharp(bytes).metadata();
      expect([model, meta.format, meta.width, meta.height]).toEqual([model, format, width, height]);
    }
    const sdxl = await only("/v1/predictions", {
      version: SDXL,
      input: { prompt: "a lighthouse", width: 768, height: 512 },
    });
    const meta = await sharp(sdxl).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", 192, 128]);
  });

  it("same prompt and seed give identical bytes; a different seed or prompt gives a different image", async () => {
    const input = { prompt: "a red fox in snow", seed: 42, output_format: "png" };
    const a = await only(official("black-forest-labs/flux-schnell"), { input });
    const b = await only(official("black-forest-labs/flux-schnell"), { input });
    const otherSeed = await only(official("black-forest-labs/flux-schnell"), { input: { ...input, seed: 43 } });
    const otherPrompt = await only(official("black-forest-labs/flux-schnell"), {
      input: { ...input, prompt: "a blue whale" },
    });
    expect(a.equals(b)).toBe(true);
    expect(a.equals(otherSeed)).toBe(false);
    expect(a.equals(otherPrompt)).toBe(false);
    // Multiple outputs of one prediction differ from each other.
    const { files } = await runToEnd(official("black-forest-labs/flux-schnell"), {
      input: { ...input, num_outputs: 2 },
    });
    expect(files).toHaveLength(2);
    expect(files[0]?.equals(a)).toBe(true);
    expect(files[0]?.equals(files[1] ?? Buffer.alloc(0))).toBe(false);
  });

  it("picks and logs a seed when none is given", async () => {
    const { prediction } = await runToEnd(official("black-forest-labs/flux-schnell"), { input: { prompt: "x" } });
    expect(prediction.logs).toMatch(/^Using seed: \d+\n/);
  });
});

describe("image-to-image", () => {
  it("derives the output from the input: differs from text-to-image, keeps the input's colours and aspect", async () => {
    const red = await testPicture(320, 240, { r: 210, g: 40, b: 30 });
    const blue = await testPicture(320, 240, { r: 30, g: 50, b: 210 });
    const input = { prompt: "a castle on a hill", seed: 7, output_format: "png" };
    const textOnly = await only(official("black-forest-labs/flux-dev"), { input });
    const fromRed = await only(official("black-forest-labs/flux-dev"), { input: { ...input, image: dataUrl(red) } });
    const fromBlue = await only(official("black-forest-labs/flux-dev"), { input: { ...input, image: dataUrl(blue) } });
    expect(fromRed.equals(textOnly)).toBe(false);

    const meta = await sharp(fromRed).metadata();
    expect(Math.abs((meta.width ?? 0) / (meta.height ?? 1) - 4 / 3)).toBeLessThan(0.03);

    const [redMean, blueMean, textMean, redOut, blueOut] = await Promise.all(
      [red, blue, textOnly, fromRed, fromBlue].map(meanColour),
    );
    expect(distance(redOut!, redMean!)).toBeLessThan(distance(textMean!, redMean!));
    expect(distance(redOut!, redMean!)).toBeLessThan(distance(redOut!, blueMean!));
    expect(distance(blueOut!, blueMean!)).toBeLessThan(distance(blueOut!, redMean!));
    expect(redOut![0]).toBeGreaterThan(redOut![2]);
    expect(blueOut![2]).toBeGreaterThan(blueOut![0]);
  });

  it("with a mask, leaves the black area's pixels unchanged and repaints the white area", async () => {
    const width = 160;
    const height = 120;
    const source = await testPicture(width, height, { r: 40, g: 160, b: 60 });
    const half = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect x="${width / 2}" y="0" width="${width / 2}" height="${height}" fill="#fff"/></svg>`;
    const mask = await sharp({ create: { width, height, channels: 3, background: "#000000" } })
      .composite([{ input: Buffer.from(half) }])
      .png()
      .toBuffer();
    const output = await only("/v1/predictions", {
      version: SDXL,
      input: { prompt: "purple flowers", seed: 3, image: dataUrl(source), mask: dataUrl(mask), prompt_strength: 0.9 },
    });
    const raw = (bytes: Buffer) => sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const [out, src] = await Promise.all([raw(output), raw(source)]);
    expect([out.info.width, out.info.height]).toEqual([width, height]);
    let keptDiffers = 0;
    let paintedDiffers = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        const same =
          out.data[i] === src.data[i] && out.data[i + 1] === src.data[i + 1] && out.data[i + 2] === src.data[i + 2];
        if (x < width / 2 && !same) keptDiffers++;
        if (x >= width / 2 && !same) paintedDiffers++;
      }
    }
    expect(keptDiffers).toBe(0);
    expect(paintedDiffers).toBeGreaterThan((width / 2) * height * 0.9);
  });

  it("fetches http(s) inputs and reads this emulator's Files API and output URLs", async () => {
    const picture = await testPicture(200, 100, { r: 200, g: 200, b: 20 });
    const server: Server = createServer((request, response) => {
      if (request.url === "/picture.png") {
        response.writeHead(200, { "content-type": "image/png" });
        response.end(picture);
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const fromHttp = await only(official("black-forest-labs/flux-kontext-pro"), {
        input: { prompt: "edit", input_image: `http://127.0.0.1:${port}/picture.png` },
      });
      const meta = await sharp(fromHttp).metadata();
      expect(Math.abs((meta.width ?? 0) / (meta.height ?? 1) - 2)).toBeLessThan(0.05);

      // An earlier output used directly as the next input (iteration).
      const first = await runToEnd(official("black-forest-labs/flux-kontext-pro"), {
        input: { prompt: "edit", input_image: `http://127.0.0.1:${port}/picture.png` },
      });
      const next = await only(official("black-forest-labs/flux-kontext-pro"), {
        input: { prompt: "edit again", input_image: outputUrls(first.prediction)[0] },
      });
      expect((await sharp(next).metadata()).width).toBe(meta.width);

      const missing = await runToEnd(official("black-forest-labs/flux-kontext-pro"), {
        input: { prompt: "edit", input_image: `http://127.0.0.1:${port}/missing.png` },
      });
      expect(missing.prediction.status).toBe("failed");
      expect(missing.prediction.error).toMatch(/input_image.*404/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("fails the prediction when the input is not an image", async () => {
    const { prediction } = await runToEnd(official("black-forest-labs/flux-dev"), {
      input: { prompt: "x", image: dataUrl(Buffer.from("not an image"), "text/plain") },
    });
    expect(prediction.status).toBe("failed");
    expect(prediction.error).toMatch(/cannot identify image file/);
    expect(prediction.output).toBeNull();
  });
});

describe("image-to-video", () => {
  it("produces an H.264 MP4 whose first frame is the first_frame_image", async () => {
    const first = await testPicture(256, 144, { r: 20, g: 120, b: 200 });
    const created = await harness.create(official("minimax/video-01"), {
      input: { prompt: "a slow zoom", first_frame_image: dataUrl(first) },
    });
    await harness.advance(60_000);
    const prediction = await harness.get(created.id);
    expect(prediction.status, JSON.stringify(prediction.error)).toBe("succeeded");
    const url = outputUrls(prediction)[0] ?? "";
    expect(url).toMatch(/\/out-0\.mp4$/);
    const response = await fetch(url);
    expect(response.headers.get("content-type")).toBe("video/mp4");
    const video = Buffer.from(await response.arrayBuffer());
    expect(video.subarray(4, 8).toString("latin1")).toBe("ftyp");

    const mp4 = readMp4(video);
    // 6 seconds of H.264, 16:9 like its first frame, at 8 frames a second.
    expect(mp4).toMatchObject({
      brand: "isom",
      codec: "avc1",
      profile: 66,
      width: 320,
      height: 180,
      fps: 8,
      frames: 48,
    });
    expect(mp4.seconds).toBe(6);
    const firstFrame = await sharp(mp4.firstFrame, { raw: { width: 320, height: 180, channels: 3 } })
      .png()
      .toBuffer();
    const resized = await sharp(first).resize(320, 180, { fit: "cover" }).png().toBuffer();
    expect(distance(await meanColour(firstFrame), await meanColour(resized))).toBeLessThan(8);
    // Only what moves is stored again: every later frame is far smaller than the first.
    const [firstSize = 0, ...rest] = mp4.sampleSizes;
    expect(Math.max(...rest)).toBeLessThan(firstSize / 2);
  });

  it("makes a video as long as its duration input asks", async () => {
    const video = await only(official("kwaivgi/kling-v2.0"), { input: { prompt: "waves", duration: 10 } });
    expect(readMp4(video)).toMatchObject({ seconds: 10, frames: 80 });
  });
});
