/**
 * Reads a file input of a prediction (`format: "uri"`): this emulator's own Files API and delivery
 * URLs are read from memory; other http(s) URLs are fetched; `data:` URLs are decoded.
 */
import type { FileStore } from "./files";
import { MAX_FILE_BYTES } from "./files";

export class InputError extends Error {
  override name = "InputError";
}

export interface InputSources {
  baseUrl: string;
  files: FileStore;
  /** Bytes of an output this emulator serves at `/delivery/xezq/{token}/out-{index}.{ext}`, if still there. */
  readOutput(token: string, index: number): Promise<Uint8Array | undefined>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
const FETCH_TIMEOUT_MS = 10_000;

function isOwnUrl(url: URL, base: URL): boolean {
  if (url.origin === base.origin) return true;
  const port = (u: URL): string => u.port || (u.protocol === "https:" ? "443" : "80");
  return LOOPBACK.has(url.hostname) && LOOPBACK.has(base.hostname) && port(url) === port(base);
}

function decodeDataUrl(value: string): Uint8Array {
  const match = /^data:([^,]*?),(.*)$/s.exec(value);
  if (!match) throw new InputError("malformed data URL");
  const meta = match[1] ?? "";
  const payload = match[2] ?? "";
  if (meta.split(";").includes("base64")) return new Uint8Array(Buffer.from(payload, "base64"));
  return new Uint8Array(Buffer.from(decodeURIComponent(payload), "utf8"));
}

async function readOwn(url: URL, sources: InputSources): Promise<Uint8Array> {
  const file = /^\/v1\/files\/([^/]+)(?:\/download)?\/?$/.exec(url.pathname);
  if (file?.[1]) {
    const stored = sources.files.get(file[1]);
    if (!stored) throw new InputError(`file ${file[1]} not found (deleted or expired)`);
    return stored.bytes;
  }
  const output = /^\/delivery\/xezq\/([^/]+)\/out-(\d+)\.[a-z0-9]+$/.exec(url.pathname);
  if (output?.[1] && output[2]) {
    const bytes = await sources.readOutput(output[1], Number(output[2]));
    if (!bytes) throw new InputError("HTTP 404 Not Found");
    return bytes;
  }
  throw new InputError("HTTP 404 Not Found");
}

async function fetchRemote(url: URL): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (error) {
    throw new InputError(error instanceof Error ? error.message : String(error));
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new InputError(`HTTP ${response.status} ${response.statusText}`.trim());
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > MAX_FILE_BYTES) throw new InputError("file larger than 100MB");
  return bytes;
}

/** Bytes behind a file input; throws InputError with a human-readable reason. */
export async function readInputFile(value: string, sources: InputSources): Promise<Uint8Array> {
  if (value.startsWith("data:")) return decodeDataUrl(value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError("not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InputError(`unsupported URL scheme ${url.protocol}`);
  if (isOwnUrl(url, new URL(sources.baseUrl))) return readOwn(url, sources);
  return fetchRemote(url);
}
