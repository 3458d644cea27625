/**
 * Reads back what the emulator's MP4 writer makes, for tests: the track's size, length and frame
 * rate from the MP4 boxes, and the first picture (an IDR picture of I_PCM macroblocks) as RGB. A
 * browser test plays the same files in Chromium, whose decoder is the real judge.
 */

type Box = { type: string; body: Buffer };

function boxes(data: Buffer): Box[] {
  const found: Box[] = [];
  let offset = 0;
  while (offset + 8 <= data.length) {
    const size = data.readUInt32BE(offset);
    if (size < 8 || offset + size > data.length) throw new Error(`bad box at ${offset}`);
    found.push({
      type: data.toString("latin1", offset + 4, offset + 8),
      body: data.subarray(offset + 8, offset + size),
    });
    offset += size;
  }
  return found;
}

function child(parent: Buffer, path: readonly string[]): Buffer {
  let current = parent;
  for (const type of path) {
    const next = boxes(current).find((b) => b.type === type);
    if (!next) throw new Error(`no ${type} box`);
    current = next.body;
  }
  return current;
}

/** Exp-Golomb and fixed-width reads over an RBSP. */
class BitReader {
  private position = 0;
  constructor(private readonly bytes: Buffer) {}
  bit(): number {
    const byte = this.bytes[this.position >> 3] ?? 0;
    const value = (byte >> (7 - (this.position & 7))) & 1;
    this.position++;
    return value;
  }
  bits(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) value = value * 2 + this.bit();
    return value;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) zeros++;
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const code = this.ue();
    return code % 2 === 1 ? (code + 1) / 2 : -code / 2;
  }
  align(): void {
    this.position = Math.ceil(this.position / 8) * 8;
  }
  take(count: number): Buffer {
    const start = this.position >> 3;
    this.position += count * 8;
    return this.bytes.subarray(start, start + count);
  }
}

function withoutEmulationPrevention(nal: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of nal) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

export type Mp4Summary = {
  brand: string;
  width: number;
  height: number;
  seconds: number;
  fps: number;
  frames: number;
  sampleSizes: number[];
  /** "avc1", and the H.264 profile and level from its configuration. */
  codec: string;
  profile: number;
  /** The first picture, RGB, `width` × `height`. */
  firstFrame: Buffer;
};

export function readMp4(file: Buffer): Mp4Summary {
  const top = boxes(file);
  const brand = top[0]?.type === "ftyp" ? top[0].body.toString("latin1", 0, 4) : "";
  const moovIndex = top.findIndex((b) => b.type === "moov");
  const mdatIndex = top.findIndex((b) => b.type === "mdat");
  if (moovIndex < 0 || mdatIndex < moovIndex) throw new Error("the index (moov) must come before the samples");
  const moov = top[moovIndex]!.body;
  const mdhd = child(moov, ["trak", "mdia", "mdhd"]);
  const timescale = mdhd.readUInt32BE(12);
  const duration = mdhd.readUInt32BE(16);
  const stbl = child(moov, ["trak", "mdia", "minf", "stbl"]);
  const stsd = child(stbl, ["stsd"]);
  const entry = boxes(stsd.subarray(8))[0]!;
  const width = entry.body.readUInt16BE(24);
  const height = entry.body.readUInt16BE(26);
  const avcC = boxes(entry.body.subarray(78)).find((b) => b.type === "avcC")!.body;
  const stts = child(stbl, ["stts"]);
  const sampleDelta = stts.readUInt32BE(12);
  const stsz = child(stbl, ["stsz"]);
  const sampleSizes = Array.from({ length: stsz.readUInt32BE(8) }, (_, i) => stsz.readUInt32BE(12 + i * 4));
  const chunkOffset = child(stbl, ["stco"]).readUInt32BE(8);

  // The first sample: one NAL unit (4-byte length), an IDR slice of I_PCM macroblocks.
  const nalLength = file.readUInt32BE(chunkOffset);
  const nal = file.subarray(chunkOffset + 4, chunkOffset + 4 + nalLength);
  if ((nal[0]! & 0x1f) !== 5) throw new Error(`first sample is NAL type ${nal[0]! & 0x1f}, not IDR`);
  const reader = new BitReader(withoutEmulationPrevention(nal.subarray(1)));
  reader.ue(); // first_mb_in_slice
  reader.ue(); // slice_type
  reader.ue(); // pic_parameter_set_id
  reader.bits(16); // frame_num
  reader.ue(); // idr_pic_id
  reader.bits(2); // dec_ref_pic_marking
  reader.se(); // slice_qp_delta
  reader.ue(); // disable_deblocking_filter_idc
  const mbWidth = Math.ceil(width / 16);
  const mbHeight = Math.ceil(height / 16);
  const firstFrame = Buffer.alloc(width * height * 3);
  for (let my = 0; my < mbHeight; my++) {
    for (let mx = 0; mx < mbWidth; mx++) {
      const mbType = reader.ue();
      if (mbType !== 25) throw new Error(`macroblock ${mx},${my} is type ${mbType}, not I_PCM`);
      reader.align();
      const samples = reader.take(384);
      for (let row = 0; row < 16; row++) {
        for (let col = 0; col < 16; col++) {
          const x = mx * 16 + col;
          const y = my * 16 + row;
          if (x >= width || y >= height) continue;
          const luma = (samples[row * 16 + col]! - 16) * 1.164;
          const cb = samples[256 + (row >> 1) * 8 + (col >> 1)]! - 128;
          const cr = samples[320 + (row >> 1) * 8 + (col >> 1)]! - 128;
          const at = (y * width + x) * 3;
          firstFrame[at] = Math.max(0, Math.min(255, Math.round(luma + 1.596 * cr)));
          firstFrame[at + 1] = Math.max(0, Math.min(255, Math.round(luma - 0.392 * cb - 0.813 * cr)));
          firstFrame[at + 2] = Math.max(0, Math.min(255, Math.round(luma + 2.017 * cb)));
        }
      }
    }
  }
  return {
    brand,
    width,
    height,
    seconds: duration / timescale,
    fps: timescale / sampleDelta,
    frames: sampleSizes.length,
    sampleSizes,
    codec: entry.type,
    profile: avcC[1]!,
    firstFrame,
  };
}
