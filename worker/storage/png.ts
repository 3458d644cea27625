/**
 * A PNG cleaned without decoding it to pixels: the chunks needed to show the image are kept as they
 * are, everything else (text, EXIF, timestamps, unknown and private chunks, anything after IEND)
 * is dropped. The image data is still checked the way a decoder would meet it: every chunk's CRC,
 * and the compressed pixels inflating to exactly the size the header promises (so a decompression
 * bomb is stopped at that size), each row starting with a valid filter. Re-encoding a 10 MB PNG
 * through the Images binding cost many times the upload's storing; this costs a pass over the bytes.
 */

/** Chunks that change how the pixels look; all others carry nothing an image needs. */
const KEPT = new Set(["IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "sBIT"]);

/** Bits per sample allowed for each colour type, and samples per pixel. */
const COLOUR_TYPES: Record<number, { depths: number[]; samples: number }> = {
  0: { depths: [1, 2, 4, 8, 16], samples: 1 },
  2: { depths: [8, 16], samples: 3 },
  3: { depths: [1, 2, 4, 8], samples: 1 },
  4: { depths: [8, 16], samples: 2 },
  6: { depths: [8, 16], samples: 4 },
};

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG chunks carry it (ISO 3309, over the chunk's type and data). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export type CleanPng = { bytes: Uint8Array; width: number; height: number };

/**
 * The cleaned PNG; "damaged" when the file is not a whole, consistent PNG; "interlaced" for an
 * Adam7 PNG, which this does not check (the caller re-encodes those).
 */
export async function cleanPng(bytes: Uint8Array): Promise<CleanPng | "damaged" | "interlaced"> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  const kept: [start: number, end: number][] = [];
  const idat: Uint8Array[] = [];
  let header: { width: number; height: number; depth: number; colour: number; interlace: number } | null = null;
  let offset = 8;
  let ended = false;
  let afterIdat = false;
  while (!ended) {
    if (offset + 12 > bytes.length) return "damaged";
    const length = view.getUint32(offset);
    const end = offset + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) return "damaged";
    const name = type(offset + 4);
    if (view.getUint32(end - 4) !== crc32(bytes.subarray(offset + 4, end - 4))) return "damaged";
    const data = bytes.subarray(offset + 8, end - 4);
    if (!header) {
      if (name !== "IHDR" || length !== 13) return "damaged";
      header = {
        width: view.getUint32(offset + 8),
        height: view.getUint32(offset + 12),
        depth: view.getUint8(offset + 16),
        colour: view.getUint8(offset + 17),
        interlace: view.getUint8(offset + 20),
      };
      if (data[10] !== 0 || data[11] !== 0 || header.interlace > 1) return "damaged";
      if (!COLOUR_TYPES[header.colour]?.depths.includes(header.depth)) return "damaged";
    } else if (name === "IHDR") {
      return "damaged";
    }
    if (name === "IDAT") {
      // The image data is one run of IDAT chunks.
      if (afterIdat) return "damaged";
      idat.push(data);
    } else if (idat.length > 0) {
      afterIdat = true;
    }
    if (name === "IEND") ended = true;
    if (KEPT.has(name)) kept.push([offset, end]);
    offset = end;
  }
  if (!header || idat.length === 0 || header.width === 0 || header.height === 0) return "damaged";
  if (header.interlace === 1) return "interlaced";
  if (header.colour === 3 && !kept.some(([start]) => type(start + 4) === "PLTE")) return "damaged";

  const bitsPerPixel = header.depth * (COLOUR_TYPES[header.colour]?.samples ?? 0);
  const rowBytes = 1 + Math.ceil((header.width * bitsPerPixel) / 8);
  if (!(await inflatesToRows(idat, rowBytes, header.height))) return "damaged";

  // Nothing to drop (the usual case): the upload's own bytes, not a copy.
  const whole = kept.every(([start], i) => start === (kept[i - 1]?.[1] ?? 8));
  let out: Uint8Array;
  if (whole) {
    out = bytes.subarray(0, offset);
  } else {
    out = new Uint8Array(8 + kept.reduce((sum, [start, end]) => sum + end - start, 0));
    out.set(bytes.subarray(0, 8));
    let at = 8;
    for (const [start, end] of kept) {
      out.set(bytes.subarray(start, end), at);
      at += end - start;
    }
  }
  return { bytes: out, width: header.width, height: header.height };
}

/**
 * Whether the zlib stream of the IDAT chunks inflates to exactly `rows` rows of `rowBytes`, each
 * starting with a filter type (0–4). Stops reading as soon as it would pass that size.
 */
async function inflatesToRows(parts: Uint8Array[], rowBytes: number, rows: number): Promise<boolean> {
  const expected = rowBytes * rows;
  const inflate = new DecompressionStream("deflate");
  // The chunks' own bytes are written in (no copy of the image data); errors show on the reading side.
  const writer = inflate.writable.getWriter();
  const written = (async () => {
    for (const part of parts) await writer.write(part);
    await writer.close();
  })().catch(() => undefined);
  const reader = inflate.readable.getReader();
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // A filter byte starts every row: the first row start inside this piece, then every rowBytes.
      for (let at = (rowBytes - (seen % rowBytes)) % rowBytes; at < value.length; at += rowBytes)
        if ((value[at] ?? 0) > 4) return false;
      seen += value.length;
      if (seen > expected) return false;
    }
  } catch {
    // Not a zlib stream, cut short, a bad checksum, or bytes after its end.
    return false;
  } finally {
    reader.cancel().catch(() => undefined);
    writer.abort().catch(() => undefined);
  }
  await written;
  return seen === expected;
}
