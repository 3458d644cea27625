/** Log of every `/v1` API request and output download, in arrival order (for ordering assertions). */

export interface RequestLogEntry {
  seq: number;
  /** Emulator time (ms) the request arrived. */
  at: number;
  method: string;
  path: string;
  /** `null` while the request is still being answered. */
  status: number | null;
  /**
   * When the last byte of the answer was handed over, on the same count as `seq` (so one request can
   * be told to have ended before or after another arrived); `null` until then.
   */
  endSeq: number | null;
  predictionId?: string;
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private nextSeq = 1;

  start(method: string, path: string, at: number): RequestLogEntry {
    const entry: RequestLogEntry = { seq: this.nextSeq++, at, method, path, status: null, endSeq: null };
    this.entries.push(entry);
    return entry;
  }

  /** Marks the answer to `entry` as fully handed over. */
  end(entry: RequestLogEntry): void {
    entry.endSeq = this.nextSeq++;
  }

  /** `path` is a regular expression (falls back to a substring match if it isn't a valid one). */
  list(filter: { predictionId?: string | undefined; path?: string | undefined } = {}): RequestLogEntry[] {
    let pathTest: (path: string) => boolean = () => true;
    if (filter.path) {
      const wanted = filter.path;
      try {
        const pattern = new RegExp(wanted);
        pathTest = (path) => pattern.test(path);
      } catch {
        pathTest = (path) => path.includes(wanted);
      }
    }
    return this.entries.filter(
      (entry) => (filter.predictionId ? entry.predictionId === filter.predictionId : true) && pathTest(entry.path),
    );
  }

  clear(): void {
    this.entries = [];
  }
}
