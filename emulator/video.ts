/**
 * Real MP4 files (H.264 Constrained Baseline, 4:2:0) from raw RGB frames, in plain TypeScript: no
 * encoder program is needed. Every macroblock that changes is stored losslessly as I_PCM (raw
 * samples) and every other one is skipped (copied from the previous frame), so a clip whose motion
 * covers a small part of the picture stays small, and any H.264 decoder (a browser's included)
 * plays it. The MP4 has its index (`moov`) before the samples, so playback starts at once.
 */

/** The frames can't be encoded (odd sides, no frames, a frame of the wrong size). */
export class VideoEncodeError extends Error {
  override name = "VideoEncodeError";
}

export interface VideoFrames {
  width: number;
  height: number;
  fps: number;
  /** Raw RGB (3 bytes a pixel), width × height each. */
  frames: readonly Uint8Array[];
}

/** Writes an RBSP bit by bit (Exp-Golomb codes included) and, when aligned, byte by byte. */
class BitWriter {
  private bytes = new Uint8Array(1024);
  private length = 0;
  private current = 0;
  private bitCount = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  bit(value: number): void {
    this.current = (this.current << 1) | (value & 1);
    this.bitCount++;
    if (this.bitCount === 8) {
      this.ensure(1);
      this.bytes[this.length++] = this.current;
      this.current = 0;
      this.bitCount = 0;
    }
  }

  bits(count: number, value: number): void {
    for (let i = count - 1; i >= 0; i--) this.bit(Math.floor(value / 2 ** i) % 2);
  }

  /** ue(v): unsigned Exp-Golomb. */
  ue(value: number): void {
    const coded = value + 1;
    const size = Math.floor(Math.log2(coded));
    this.bits(size, 0);
    this.bits(size + 1, coded);
  }

  /** se(v): signed Exp-Golomb. */
  se(value: number): void {
    this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  get aligned(): boolean {
    return this.bitCount === 0;
  }

  alignWithZeros(): void {
    while (this.bitCount !== 0) this.bit(0);
  }

  /** Whole bytes; only when aligned. */
  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  /** rbsp_trailing_bits: a stop bit, then zeros to the byte boundary. */
  finish(): Uint8Array {
    this.bit(1);
    this.alignWithZeros();
    return this.bytes.slice(0, this.length);
  }
}

/** A NAL unit: its header byte, then the RBSP with emulation prevention bytes inserted. */
function nalUnit(refIdc: number, type: number, rbsp: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + rbsp.length + Math.ceil(rbsp.length / 2) + 1);
  out[0] = (refIdc << 5) | type;
  let length = 1;
  let zeros = 0;
  for (const byte of rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out[length++] = 3;
      zeros = 0;
    }
    out[length++] = byte;
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, length);
}

const LOG2_MAX_FRAME_NUM = 16;

/** The macroblock grid of a picture, padded to whole 16×16 blocks. */
type Geometry = { width: number; height: number; mbWidth: number; mbHeight: number };

function sequenceParameterSet(geometry: Geometry, level: number): Uint8Array {
  const w = new BitWriter();
  w.bits(8, 66); // profile_idc: Baseline
  w.bits(8, 0b11000000); // constraint_set0 and set1: Constrained Baseline
  w.bits(8, level);
  w.ue(0); // seq_parameter_set_id
  w.ue(LOG2_MAX_FRAME_NUM - 4);
  w.ue(2); // pic_order_cnt_type 2: output order is decoding order
  w.ue(1); // max_num_ref_frames
  w.bit(0); // gaps_in_frame_num_value_allowed_flag
  w.ue(geometry.mbWidth - 1);
  w.ue(geometry.mbHeight - 1);
  w.bit(1); // frame_mbs_only_flag
  w.bit(1); // direct_8x8_inference_flag
  const cropRight = (geometry.mbWidth * 16 - geometry.width) / 2;
  const cropBottom = (geometry.mbHeight * 16 - geometry.height) / 2;
  const cropped = cropRight > 0 || cropBottom > 0;
  w.bit(cropped ? 1 : 0);
  if (cropped) {
    w.ue(0);
    w.ue(cropRight);
    w.ue(0);
    w.ue(cropBottom);
  }
  w.bit(0); // vui_parameters_present_flag
  return nalUnit(3, 7, w.finish());
}

function pictureParameterSet(): Uint8Array {
  const w = new BitWriter();
  w.ue(0); // pic_parameter_set_id
  w.ue(0); // seq_parameter_set_id
  w.bit(0); // entropy_coding_mode_flag: CAVLC
  w.bit(0); // bottom_field_pic_order_in_frame_present_flag
  w.ue(0); // num_slice_groups_minus1
  w.ue(0); // num_ref_idx_l0_default_active_minus1
  w.ue(0); // num_ref_idx_l1_default_active_minus1
  w.bit(0); // weighted_pred_flag
  w.bits(2, 0); // weighted_bipred_idc
  w.se(0); // pic_init_qp_minus26
  w.se(0); // pic_init_qs_minus26
  w.se(0); // chroma_qp_index_offset
  w.bit(1); // deblocking_filter_control_present_flag: slices turn the filter off
  w.bit(0); // constrained_intra_pred_flag
  w.bit(0); // redundant_pic_cnt_present_flag
  return nalUnit(3, 8, w.finish());
}

/** One picture as Y, Cb and Cr planes (BT.601, limited range), padded to the macroblock grid. */
type Picture = { y: Uint8Array; cb: Uint8Array; cr: Uint8Array };

function toPicture(rgb: Uint8Array, geometry: Geometry): Picture {
  const { width, height, mbWidth, mbHeight } = geometry;
  const lumaWidth = mbWidth * 16;
  const lumaHeight = mbHeight * 16;
  const y = new Uint8Array(lumaWidth * lumaHeight);
  const cb = new Uint8Array((lumaWidth / 2) * (lumaHeight / 2));
  const cr = new Uint8Array(cb.length);
  // Padding repeats the last column and row, so the cropped-off area never shows through.
  const pixel = (px: number, py: number) => (Math.min(py, height - 1) * width + Math.min(px, width - 1)) * 3;
  for (let py = 0; py < lumaHeight; py++) {
    for (let px = 0; px < lumaWidth; px++) {
      const i = pixel(px, py);
      const r = rgb[i] ?? 0;
      const g = rgb[i + 1] ?? 0;
      const b = rgb[i + 2] ?? 0;
      y[py * lumaWidth + px] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
    }
  }
  for (let cy = 0; cy < lumaHeight / 2; cy++) {
    for (let cx = 0; cx < lumaWidth / 2; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ] as const) {
        const i = pixel(cx * 2 + dx, cy * 2 + dy);
        r += rgb[i] ?? 0;
        g += rgb[i + 1] ?? 0;
        b += rgb[i + 2] ?? 0;
      }
      r /= 4;
      g /= 4;
      b /= 4;
      const at = cy * (lumaWidth / 2) + cx;
      cb[at] = Math.round((-38 * r - 74 * g + 112 * b) / 256) + 128;
      cr[at] = Math.round((112 * r - 94 * g - 18 * b) / 256) + 128;
    }
  }
  return { y, cb, cr };
}

/** The 384 raw samples of macroblock (mx, my): 256 luma, then 64 Cb and 64 Cr, row by row. */
function macroblockSamples(picture: Picture, geometry: Geometry, mx: number, my: number): Uint8Array {
  const samples = new Uint8Array(384);
  const lumaWidth = geometry.mbWidth * 16;
  for (let row = 0; row < 16; row++) {
    const start = (my * 16 + row) * lumaWidth + mx * 16;
    samples.set(picture.y.subarray(start, start + 16), row * 16);
  }
  const chromaWidth = lumaWidth / 2;
  for (let row = 0; row < 8; row++) {
    const start = (my * 8 + row) * chromaWidth + mx * 8;
    samples.set(picture.cb.subarray(start, start + 8), 256 + row * 8);
    samples.set(picture.cr.subarray(start, start + 8), 320 + row * 8);
  }
  return samples;
}

function sameSamples(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * One picture as a slice: the first an IDR picture of I_PCM macroblocks, the others P pictures that
 * skip what did not change (a skipped macroblock copies the previous picture: every motion vector is
 * zero) and store the rest as I_PCM.
 */
function slice(picture: Picture, previous: Picture | undefined, geometry: Geometry, frameNum: number): Uint8Array {
  const w = new BitWriter();
  const idr = previous === undefined;
  w.ue(0); // first_mb_in_slice
  w.ue(idr ? 7 : 5); // slice_type: I or P, the same for the whole picture
  w.ue(0); // pic_parameter_set_id
  w.bits(LOG2_MAX_FRAME_NUM, frameNum % 2 ** LOG2_MAX_FRAME_NUM);
  if (idr) w.ue(0); // idr_pic_id
  if (!idr) {
    w.bit(0); // num_ref_idx_active_override_flag
    w.bit(0); // ref_pic_list_modification_flag_l0
  }
  if (idr) {
    w.bit(0); // no_output_of_prior_pics_flag
    w.bit(0); // long_term_reference_flag
  } else {
    w.bit(0); // adaptive_ref_pic_marking_mode_flag
  }
  w.se(0); // slice_qp_delta
  w.ue(1); // disable_deblocking_filter_idc: lossless blocks need no filtering
  let skipped = 0;
  for (let my = 0; my < geometry.mbHeight; my++) {
    for (let mx = 0; mx < geometry.mbWidth; mx++) {
      const samples = macroblockSamples(picture, geometry, mx, my);
      if (previous && sameSamples(samples, macroblockSamples(previous, geometry, mx, my))) {
        skipped++;
        continue;
      }
      if (!idr) {
        w.ue(skipped); // mb_skip_run
        skipped = 0;
      }
      w.ue(idr ? 25 : 30); // mb_type: I_PCM
      w.alignWithZeros(); // pcm_alignment_zero_bit
      w.raw(samples);
    }
  }
  if (skipped > 0) w.ue(skipped);
  return nalUnit(idr ? 3 : 2, idr ? 5 : 1, w.finish());
}

/** The smallest level whose frame size limit (in macroblocks) holds the picture. */
function levelFor(geometry: Geometry): number {
  const macroblocks = geometry.mbWidth * geometry.mbHeight;
  if (macroblocks <= 1620) return 30;
  if (macroblocks <= 8192) return 40;
  return 51;
}

// --- MP4 ---------------------------------------------------------------------------------------

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function u16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function box(type: string, ...content: Uint8Array[]): Uint8Array {
  const body = concat(content);
  return concat([u32(8 + body.length), new TextEncoder().encode(type), body]);
}

/** A "full box": version and flags before the content. */
function fullBox(type: string, version: number, flags: number, ...content: Uint8Array[]): Uint8Array {
  return box(type, u32((version << 24) | flags), ...content);
}

const zeros = (count: number) => new Uint8Array(count);
const UNITY_MATRIX = concat([0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000].map(u32));

function movie(options: {
  geometry: Geometry;
  timescale: number;
  sampleDelta: number;
  sps: Uint8Array;
  pps: Uint8Array;
  sampleSizes: readonly number[];
  chunkOffset: number;
}): Uint8Array {
  const { geometry, timescale, sampleDelta, sps, pps, sampleSizes, chunkOffset } = options;
  const duration = sampleSizes.length * sampleDelta;
  const movieDuration = Math.round((duration * 1000) / timescale);
  const avcC = box(
    "avcC",
    new Uint8Array([1, sps[1] ?? 66, sps[2] ?? 0, sps[3] ?? 30, 0xff, 0xe1]),
    u16(sps.length),
    sps,
    new Uint8Array([1]),
    u16(pps.length),
    pps,
  );
  const avc1 = box(
    "avc1",
    zeros(6),
    u16(1), // data_reference_index
    zeros(16),
    u16(geometry.width),
    u16(geometry.height),
    u32(0x00480000), // 72 dpi
    u32(0x00480000),
    zeros(4),
    u16(1), // frame_count
    zeros(32), // compressorname
    u16(0x0018), // depth
    u16(0xffff),
    avcC,
  );
  const stbl = box(
    "stbl",
    fullBox("stsd", 0, 0, u32(1), avc1),
    fullBox("stts", 0, 0, u32(1), u32(sampleSizes.length), u32(sampleDelta)),
    fullBox("stss", 0, 0, u32(1), u32(1)),
    fullBox("stsc", 0, 0, u32(1), u32(1), u32(sampleSizes.length), u32(1)),
    fullBox("stsz", 0, 0, u32(0), u32(sampleSizes.length), ...sampleSizes.map(u32)),
    fullBox("stco", 0, 0, u32(1), u32(chunkOffset)),
  );
  const minf = box(
    "minf",
    fullBox("vmhd", 0, 1, zeros(8)),
    box("dinf", fullBox("dref", 0, 0, u32(1), fullBox("url ", 0, 1))),
    stbl,
  );
  const mdia = box(
    "mdia",
    fullBox("mdhd", 0, 0, u32(0), u32(0), u32(timescale), u32(duration), u16(0x55c4), u16(0)),
    fullBox("hdlr", 0, 0, u32(0), new TextEncoder().encode("vide"), zeros(12), new TextEncoder().encode("Video\0")),
    minf,
  );
  const tkhd = fullBox(
    "tkhd",
    0,
    3, // enabled, in the movie
    u32(0),
    u32(0),
    u32(1), // track_ID
    zeros(4),
    u32(movieDuration),
    zeros(8),
    u16(0), // layer
    u16(0), // alternate_group
    u16(0), // volume
    zeros(2),
    UNITY_MATRIX,
    u32(geometry.width * 0x10000),
    u32(geometry.height * 0x10000),
  );
  const mvhd = fullBox(
    "mvhd",
    0,
    0,
    u32(0),
    u32(0),
    u32(1000),
    u32(movieDuration),
    u32(0x00010000), // rate 1.0
    u16(0x0100), // volume 1.0
    zeros(10),
    UNITY_MATRIX,
    zeros(24),
    u32(2), // next_track_ID
  );
  return box("moov", mvhd, box("trak", tkhd, mdia));
}

/** Encodes the frames as an MP4 of `fps` frames a second. */
export function encodeMp4(video: VideoFrames): Buffer {
  const { width, height, fps, frames } = video;
  if (width <= 0 || height <= 0 || width % 2 !== 0 || height % 2 !== 0) {
    throw new VideoEncodeError(`H.264 needs even sides, got ${width}×${height}`);
  }
  if (frames.length === 0) throw new VideoEncodeError("A video needs at least one frame");
  if (!Number.isInteger(fps) || fps <= 0)
    throw new VideoEncodeError(`Frames a second must be a whole number, got ${fps}`);
  const geometry: Geometry = { width, height, mbWidth: Math.ceil(width / 16), mbHeight: Math.ceil(height / 16) };
  const sps = sequenceParameterSet(geometry, levelFor(geometry));
  const pps = pictureParameterSet();

  // Each sample is one NAL unit behind its 4-byte length.
  const samples: Uint8Array[] = [];
  let previous: Picture | undefined;
  frames.forEach((rgb, index) => {
    if (rgb.length !== width * height * 3) {
      throw new VideoEncodeError(`Frame ${index} has ${rgb.length} bytes, not ${width * height * 3}`);
    }
    const picture = toPicture(rgb, geometry);
    const nal = slice(picture, previous, geometry, index);
    samples.push(concat([u32(nal.length), nal]));
    previous = picture;
  });

  const ftyp = box("ftyp", new TextEncoder().encode("isom"), u32(0x200), new TextEncoder().encode("isomiso2avc1mp41"));
  const timescale = fps * 1000;
  const layout = { geometry, timescale, sampleDelta: 1000, sps, pps, sampleSizes: samples.map((s) => s.length) };
  // The index comes first; its size does not depend on the offset it records.
  const moovSize = movie({ ...layout, chunkOffset: 0 }).length;
  const moov = movie({ ...layout, chunkOffset: ftyp.length + moovSize + 8 });
  const mdatSize = 8 + samples.reduce((sum, sample) => sum + sample.length, 0);
  return Buffer.from(concat([ftyp, moov, u32(mdatSize), new TextEncoder().encode("mdat"), ...samples]));
}
