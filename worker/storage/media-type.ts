/**
 * Media type and pixel size read from a file's own bytes (magic numbers and headers), never from
 * its name or declared Content-Type.
 */
export type MediaInfo = { mimeType: string; width: number | null; height: number | null };

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(start, start + length));

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u16be = (b: Uint8Array, i: number) => view(b).getUint16(i);
const u32be = (b: Uint8Array, i: number) => view(b).getUint32(i);
const u16le = (b: Uint8Array, i: number) => view(b).getUint16(i, true);
const u32le = (b: Uint8Array, i: number) => view(b).getUint32(i, true);
const u24le = (b: Uint8Array, i: number) => u16le(b, i) + (view(b).getUint8(i + 2) << 16);

function png(bytes: Uint8Array): MediaInfo | null {
  if (bytes.length < 24 || u32be(bytes, 0) !== 0x89504e47 || u32be(bytes, 4) !== 0x0d0a1a0a) return null;
  if (ascii(bytes, 12, 4) !== "IHDR") return null;
  return { mimeType: "image/png", width: u32be(bytes, 16), height: u32be(bytes, 20) };
}

function jpeg(bytes: Uint8Array): MediaInfo | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return null;
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return { mimeType: "image/jpeg", width: null, height: null };
    const marker = view(bytes).getUint8(offset + 1);
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    const length = u16be(bytes, offset + 2);
    // Start-of-frame markers (baseline, progressive, …) carry the size; C4, C8 and CC do not.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { mimeType: "image/jpeg", width: u16be(bytes, offset + 7), height: u16be(bytes, offset + 5) };
    }
    offset += 2 + length;
  }
  return { mimeType: "image/jpeg", width: null, height: null };
}

function webp(bytes: Uint8Array): MediaInfo | null {
  if (bytes.length < 30 || ascii(bytes, 0, 4) !== "RIFF" || ascii(bytes, 8, 4) !== "WEBP") return null;
  const chunk = ascii(bytes, 12, 4);
  if (chunk === "VP8 " && bytes[23] === 0x9d && bytes[24] === 0x01 && bytes[25] === 0x2a) {
    return { mimeType: "image/webp", width: u16le(bytes, 26) & 0x3fff, height: u16le(bytes, 28) & 0x3fff };
  }
  if (chunk === "VP8L" && bytes[20] === 0x2f) {
    const bits = u32le(bytes, 21);
    return { mimeType: "image/webp", width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8X") {
    return { mimeType: "image/webp", width: u24le(bytes, 24) + 1, height: u24le(bytes, 27) + 1 };
  }
  return { mimeType: "image/webp", width: null, height: null };
}

function gif(bytes: Uint8Array): MediaInfo | null {
  if (bytes.length < 10 || !["GIF87a", "GIF89a"].includes(ascii(bytes, 0, 6))) return null;
  return { mimeType: "image/gif", width: u16le(bytes, 6), height: u16le(bytes, 8) };
}

/** The display size of an MP4's first visual track: the 16.16 width and height ending its `tkhd` box. */
function mp4Size(bytes: Uint8Array): { width: number; height: number } | null {
  for (let i = 4; i + 4 <= bytes.length; i++) {
    // "tkhd"
    if (bytes[i] !== 0x74 || bytes[i + 1] !== 0x6b || bytes[i + 2] !== 0x68 || bytes[i + 3] !== 0x64) continue;
    const start = i - 4;
    const size = u32be(bytes, start);
    if (size < 92 || start + size > bytes.length) continue;
    const width = u32be(bytes, start + size - 8) >>> 16;
    const height = u32be(bytes, start + size - 4) >>> 16;
    if (width > 0 && height > 0) return { width, height };
  }
  return null;
}

function video(bytes: Uint8Array): MediaInfo | null {
  if (bytes.length >= 12 && ascii(bytes, 4, 4) === "ftyp") {
    const size = mp4Size(bytes);
    return {
      mimeType: ascii(bytes, 8, 2) === "qt" ? "video/quicktime" : "video/mp4",
      width: size?.width ?? null,
      height: size?.height ?? null,
    };
  }
  if (bytes.length >= 4 && u32be(bytes, 0) === 0x1a45dfa3) return { mimeType: "video/webm", width: null, height: null };
  return null;
}

export const IMAGE_MIME_TYPES = ["image/png", "image/jpeg", "image/webp"] as const;

/** What the bytes are, or null when they are none of the formats we keep. */
export function sniffMedia(bytes: Uint8Array): MediaInfo | null {
  return png(bytes) ?? jpeg(bytes) ?? webp(bytes) ?? gif(bytes) ?? video(bytes);
}

export const extensionFor = (mimeType: string): string =>
  ({
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
  })[mimeType] ?? "bin";
