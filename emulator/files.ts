/**
 * Files API store (`replicate-api.md` §4): uploads live 24 hours of emulator time, then read as
 * absent (404 "File not found") exactly like deleted ones.
 */
import { createHash } from "node:crypto";
import type { EmulatorClock } from "./clock";
import { isoTime, newId } from "./util";

export const FILE_TTL_MS = 24 * 60 * 60 * 1000;
export const MAX_FILE_BYTES = 100 * 1024 * 1024;

export interface StoredFile {
  id: string;
  name: string;
  contentType: string;
  bytes: Uint8Array;
  md5: string;
  sha256: string;
  metadata: Record<string, unknown>;
  createdAt: number;
  expiresAt: number;
}

export interface NewFile {
  bytes: Uint8Array;
  name: string;
  contentType: string;
  metadata: Record<string, unknown>;
}

export class FileStore {
  private readonly files = new Map<string, StoredFile>();

  constructor(
    private readonly clock: EmulatorClock,
    private readonly baseUrl: string,
  ) {}

  create(file: NewFile): StoredFile {
    const createdAt = this.clock.now();
    const stored: StoredFile = {
      id: newId(),
      name: file.name,
      contentType: file.contentType,
      bytes: file.bytes,
      md5: createHash("md5").update(file.bytes).digest("hex"),
      sha256: createHash("sha256").update(file.bytes).digest("hex"),
      metadata: file.metadata,
      createdAt,
      expiresAt: createdAt + FILE_TTL_MS,
    };
    this.files.set(stored.id, stored);
    return stored;
  }

  /** A live (not deleted, not expired) file. */
  get(id: string): StoredFile | undefined {
    const file = this.files.get(id);
    if (!file) return undefined;
    if (this.clock.now() >= file.expiresAt) {
      this.files.delete(id);
      return undefined;
    }
    return file;
  }

  /** Live files, newest first. */
  list(): StoredFile[] {
    return [...this.files.keys()]
      .map((id) => this.get(id))
      .filter((file): file is StoredFile => file !== undefined)
      .reverse();
  }

  delete(id: string): boolean {
    const live = this.get(id);
    if (!live) return false;
    this.files.delete(id);
    return true;
  }

  clear(): void {
    this.files.clear();
  }

  urlOf(id: string): string {
    return `${this.baseUrl}/v1/files/${id}`;
  }

  /** The file object of §4.2. */
  toJson(file: StoredFile): Record<string, unknown> {
    return {
      id: file.id,
      name: file.name,
      content_type: file.contentType,
      size: file.bytes.byteLength,
      etag: file.md5,
      checksums: { sha256: file.sha256, md5: file.md5 },
      metadata: file.metadata,
      created_at: isoTime(file.createdAt),
      expires_at: isoTime(file.expiresAt),
      urls: { get: this.urlOf(file.id) },
    };
  }
}
