/**
 * Real MP4 files (H.264, yuv420p, `+faststart`) from raw RGB frames, encoded by ffmpeg. The binary
 * comes from `@ffmpeg-installer/ffmpeg`, which ships it inside the npm package (no download at install
 * time); an `ffmpeg` on the PATH is used where that package has no build.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

function ffmpegPath(): string {
  try {
    const installer = createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg") as { path: string };
    return installer.path;
  } catch {
    return "ffmpeg";
  }
}

let binary: string | undefined;

/** ffmpeg is missing or refused the frames. */
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

/** Encodes the frames as an MP4; rejects with ffmpeg's last words when it fails. */
export async function encodeMp4(video: VideoFrames): Promise<Buffer> {
  const { width, height, fps, frames } = video;
  if (width % 2 !== 0 || height % 2 !== 0) throw new VideoEncodeError(`H.264 needs even sides, got ${width}×${height}`);
  binary ??= ffmpegPath();
  // The MP4 muxer seeks back to write its index (and to move it to the front), so not to a pipe.
  const dir = await mkdtemp(join(tmpdir(), "emulator-video-"));
  const out = join(dir, "out.mp4");
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        binary ?? "ffmpeg",
        [
          "-hide_banner",
          "-loglevel",
          "error",
          "-f",
          "rawvideo",
          "-pix_fmt",
          "rgb24",
          "-s",
          `${width}x${height}`,
          "-r",
          String(fps),
          "-i",
          "pipe:0",
          "-c:v",
          "libx264",
          "-preset",
          "ultrafast",
          "-pix_fmt",
          "yuv420p",
          "-movflags",
          "+faststart",
          "-y",
          out,
        ],
        { stdio: ["pipe", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      child.on("error", (error) => reject(new VideoEncodeError(`ffmpeg could not start: ${error.message}`)));
      child.on("close", (code) =>
        code === 0 ? resolve() : reject(new VideoEncodeError(`ffmpeg exited with ${code}: ${stderr.trim()}`)),
      );
      child.stdin.on("error", () => {
        // ffmpeg quit early; its exit code and stderr say why.
      });
      for (const frame of frames) child.stdin.write(frame);
      child.stdin.end();
    });
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
