/**
 * Real image bytes made inside the Workers runtime for upload tests: PNGs encoded here (zlib via
 * CompressionStream), JPEGs through the Images binding, and hostile variations of both.
 */
import { env } from "cloudflare:test";
import { crc32 } from "../storage/png";

export function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};

function ihdr(width: number, height: number): Uint8Array {
  const data = new Uint8Array(13);
  const view = new DataView(data.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  data.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return chunk("IHDR", data);
}

const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** An RGB PNG whose pixels come from `color(x, y)`. */
export async function makePng(
  width: number,
  height: number,
  color: (x: number, y: number) => [number, number, number],
  extraChunks: Uint8Array[] = [],
): Promise<Uint8Array> {
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * 3)] = 0;
    for (let x = 0; x < width; x++) raw.set(color(x, y), y * (1 + width * 3) + 1 + x * 3);
  }
  return concat(
    SIGNATURE,
    ihdr(width, height),
    ...extraChunks,
    chunk("IDAT", await deflate(raw)),
    chunk("IEND", new Uint8Array()),
  );
}

/** A PNG header claiming a huge canvas, with almost no data behind it (a decompression bomb's shape). */
export const hugePngHeader = (width: number, height: number): Uint8Array =>
  concat(SIGNATURE, ihdr(width, height), chunk("IEND", new Uint8Array()));

/** A JPEG (through the Images binding) with an EXIF segment carrying GPS coordinates. */
export async function jpegWithGps(): Promise<Uint8Array> {
  const png = await makePng(48, 32, (x, y) => [x * 5, y * 7, 120]);
  const result = await env.IMAGES.input(new Blob([png]).stream()).output({ format: "image/jpeg", quality: 90 });
  const jpeg = new Uint8Array(await result.response().arrayBuffer());
  const payload = new TextEncoder().encode("Exif\0\0MM\0*GPSLatitude=51.5007N;GPSLongitude=0.1246W;secret-location");
  const app1 = new Uint8Array(4 + payload.length);
  app1.set([0xff, 0xe1, ((payload.length + 2) >> 8) & 0xff, (payload.length + 2) & 0xff]);
  app1.set(payload, 4);
  return concat(jpeg.subarray(0, 2), app1, jpeg.subarray(2));
}

export const contains = (haystack: Uint8Array, needle: string): boolean => {
  const text = new TextDecoder("latin1").decode(haystack);
  return text.includes(needle);
};
