/**
 * Predictions: creation, the state a prediction shows at any emulator time, cancellation, output
 * files and webhook emission.
 *
 * A prediction's state is a pure function of its plan (timeline from plan.ts, planned failure,
 * outcome of reading its inputs), its cancel/deadline times and the time asked about. Images are
 * rendered in the background right after creation ("prep"); reads at or after the start time wait for
 * that work, so a prediction whose input can't be read fails consistently for every reader.
 */
import { createHash, randomInt } from "node:crypto";
import type { CatalogModel } from "./catalog";
import type { EmulatorClock } from "./clock";
import { type FaultStore, WEBHOOK_EVENTS, type WebhookEvent } from "./faults";
import type { FileStore } from "./files";
import { ImageDecodeError, probeImage, renderImage } from "./images";
import { InputError, readInputFile } from "./inputs";
import {
  DATA_RETENTION_MS,
  INPUT_FAILURE_MS,
  inputOrDefault,
  outputSizeOf,
  PlanError,
  type PlannedOutput,
  planTimeline,
  type Timeline,
  VIDEO_FPS,
  videoSecondsOf,
} from "./plan";
import { isoTime, newDeliveryToken, newId, newWebhookId, sleep } from "./util";
import { signMessage, type WebhookDispatcher, type WebhookMessage } from "./webhooks";

export type PredictionStatus = "starting" | "processing" | "succeeded" | "failed" | "canceled" | "aborted";
const TERMINAL: ReadonlySet<PredictionStatus> = new Set(["succeeded", "failed", "canceled", "aborted"]);

/** Minimum gap between `output`/`logs` webhooks (§3.1). */
export const WEBHOOK_THROTTLE_MS = 500;

export interface RenderedOutput {
  bytes: Buffer;
  etag: string;
  width: number;
  height: number;
}

export type PrepOutcome = { ok: true; outputs: RenderedOutput[] } | { ok: false; error: string };

export interface PredictionRecord {
  id: string;
  model: CatalogModel;
  /** `"hidden"` for official models, else the 64-hex version id. */
  version: string;
  input: Record<string, unknown>;
  webhook: string | undefined;
  webhookEventsFilter: WebhookEvent[] | undefined;
  createdAt: number;
  timeline: Timeline;
  seed: number;
  token: string;
  plannedFailure: { at: number; error: string } | undefined;
  deadlineAt: number | undefined;
  canceledAt: number | undefined;
  prep: Promise<PrepOutcome>;
  prepOutcome: PrepOutcome | undefined;
  /** Webhook emission state: non-terminal events at or before `webhookCursor` were emitted. */
  webhookCursor: number;
  terminalWebhookEmitted: boolean;
  heldWebhooks: WebhookMessage[];
  scheduleCache: { key: string; events: ScheduledEvent[] } | undefined;
}

interface Ending {
  at: number;
  status: "succeeded" | "failed" | "canceled" | "aborted";
  error: string | null;
  logLines: string[];
}

export interface ScheduledEvent {
  at: number;
  event: WebhookEvent;
}

export type PredictionJson = Record<string, unknown> & { id: string; status: PredictionStatus };

function promptOf(record: PredictionRecord): string | undefined {
  const prompt = record.input.prompt;
  return typeof prompt === "string" ? prompt : undefined;
}

function tracebackLines(error: string): string[] {
  return [
    "Traceback (most recent call last):",
    '  File "/src/predict.py", line 212, in predict',
    "    output = self.pipe(**kwargs)",
    `RuntimeError: ${error}`,
  ];
}

/** How (and when) the prediction ends, given what is known now. */
function endingOf(record: PredictionRecord): Ending {
  const { timeline } = record;
  let ending: Ending = record.plannedFailure
    ? {
        at: record.plannedFailure.at,
        status: "failed",
        error: record.plannedFailure.error,
        logLines: tracebackLines(record.plannedFailure.error),
      }
    : { at: timeline.completeAt, status: "succeeded", error: null, logLines: [] };
  const prep = record.prepOutcome;
  if (prep && !prep.ok && timeline.startAt + INPUT_FAILURE_MS < ending.at) {
    ending = { at: timeline.startAt + INPUT_FAILURE_MS, status: "failed", error: prep.error, logLines: [prep.error] };
  }
  if (record.canceledAt !== undefined && record.canceledAt < ending.at) {
    ending = { at: record.canceledAt, status: "canceled", error: null, logLines: [] };
  }
  if (record.deadlineAt !== undefined && record.deadlineAt < ending.at) {
    // A deadline hit while queued aborts; while running it cancels (§1.6).
    ending = {
      at: record.deadlineAt,
      status: record.deadlineAt <= timeline.startAt ? "aborted" : "canceled",
      error: null,
      logLines: [],
    };
  }
  return ending;
}

function countAtOrBefore<T extends { at: number }>(items: readonly T[], time: number): number {
  let count = 0;
  for (const item of items) if (item.at <= time) count++;
  return count;
}

function readyOutputs(outputs: readonly PlannedOutput[], time: number): PlannedOutput[] {
  return outputs.filter((output) => output.readyAt <= time);
}

const round3 = (seconds: number): number => Math.round(seconds * 1000) / 1000;

export function outputUrl(baseUrl: string, record: PredictionRecord, output: PlannedOutput): string {
  return `${baseUrl}/delivery/xezq/${record.token}/out-${output.index}.${output.format}`;
}

/** The prediction as `GET /v1/predictions/{id}` shows it at emulator time `time` (§1.6). */
export function predictionJsonAt(record: PredictionRecord, time: number, baseUrl: string): PredictionJson {
  const ending = endingOf(record);
  const { startAt } = record.timeline;
  const ended = time >= ending.at;
  const everStarted = startAt < ending.at;
  const started = everStarted && time >= startAt;
  const status: PredictionStatus = ended ? ending.status : started ? "processing" : "starting";
  const visibleUntil = Math.min(time, ending.at);
  const dataRemoved = ended && time >= ending.at + DATA_RETENTION_MS;

  const logLines = record.timeline.logLines.filter((line) => line.at <= visibleUntil).map((line) => line.text);
  if (ended) logLines.push(...ending.logLines);
  const logs = dataRemoved ? "" : logLines.map((line) => `${line}\n`).join("");

  let output: unknown = null;
  if (!dataRemoved && (status === "succeeded" || status === "processing")) {
    const urls = readyOutputs(record.timeline.outputs, visibleUntil).map((planned) =>
      outputUrl(baseUrl, record, planned),
    );
    if (urls.length > 0) output = record.model.output === "array" ? urls : urls[0];
  }

  let metrics: Record<string, number> = {};
  if (ended) {
    metrics = everStarted ? { predict_time: round3((ending.at - startAt) / 1000) } : {};
    metrics.total_time = round3((ending.at - record.createdAt) / 1000);
    if (status === "succeeded" && record.model.official && record.model.kind === "image")
      metrics.image_count = record.timeline.outputs.length;
  }

  const getUrl = `${baseUrl}/v1/predictions/${record.id}`;
  const json: PredictionJson = {
    id: record.id,
    model: record.model.id,
    version: record.version,
    input: dataRemoved ? {} : record.input,
    logs,
    output,
    data_removed: dataRemoved,
    error: ended ? ending.error : null,
    status,
    created_at: isoTime(record.createdAt),
    ...(started ? { started_at: isoTime(startAt) } : {}),
    ...(ended ? { completed_at: isoTime(ending.at) } : {}),
    urls: { get: getUrl, cancel: `${getUrl}/cancel`, web: `https://replicate.com/p/${record.id}` },
    metrics,
    source: "api",
    ...(record.webhook !== undefined
      ? { webhook: record.webhook, webhook_events_filter: record.webhookEventsFilter ?? [...WEBHOOK_EVENTS] }
      : {}),
    ...(record.deadlineAt !== undefined ? { deadline: isoTime(record.deadlineAt) } : {}),
  };
  return json;
}

/**
 * Every webhook event of the prediction's life: `start`, throttled `output`/`logs` (at least 500 ms
 * apart; output wins when both changed; filtered events don't use up the throttle), `completed`.
 */
export function webhookScheduleOf(record: PredictionRecord): ScheduledEvent[] {
  const ending = endingOf(record);
  const key = `${ending.at}:${ending.status}`;
  if (record.scheduleCache?.key === key) return record.scheduleCache.events;
  const filter = new Set<WebhookEvent>(record.webhookEventsFilter ?? WEBHOOK_EVENTS);
  const { startAt, logLines, outputs } = record.timeline;
  const events: ScheduledEvent[] = [];
  if (startAt < ending.at) {
    if (filter.has("start")) events.push({ at: startAt, event: "start" });
    const changeTimes = [...new Set([...logLines.map((line) => line.at), ...outputs.map((output) => output.readyAt)])]
      .filter((at) => at > startAt && at < ending.at)
      .sort((a, b) => a - b);
    let lastSent = startAt;
    let seenUntil = startAt;
    let sentLogs = countAtOrBefore(logLines, startAt);
    let sentOutputs = 0;
    for (;;) {
      const change = changeTimes.find((at) => at > seenUntil);
      if (change === undefined) break;
      const due = Math.max(change, lastSent + WEBHOOK_THROTTLE_MS);
      if (due >= ending.at) break;
      const logCount = countAtOrBefore(logLines, due);
      const outputCount = readyOutputs(outputs, due).length;
      const event: WebhookEvent | undefined =
        outputCount > sentOutputs && filter.has("output")
          ? "output"
          : logCount > sentLogs && filter.has("logs")
            ? "logs"
            : undefined;
      if (event) {
        events.push({ at: due, event });
        lastSent = due;
      }
      sentLogs = logCount;
      sentOutputs = outputCount;
      seenUntil = due;
    }
  }
  if (filter.has("completed")) events.push({ at: ending.at, event: "completed" });
  record.scheduleCache = { key, events };
  return events;
}

export interface CreatePredictionParams {
  model: CatalogModel;
  version: string;
  input: Record<string, unknown>;
  webhook: string | undefined;
  webhookEventsFilter: WebhookEvent[] | undefined;
  /** Cancel-After, in ms from creation. */
  cancelAfterMs: number | undefined;
  /** Path of the create request (for fault matching). */
  createPath: string;
}

export interface PredictionServiceOptions {
  clock: EmulatorClock;
  baseUrl: string;
  files: FileStore;
  faults: FaultStore;
  dispatcher: WebhookDispatcher;
  webhookSecret: string;
  imageScale: number;
}

export class PredictionService {
  private readonly byId = new Map<string, PredictionRecord>();
  private readonly byToken = new Map<string, PredictionRecord>();

  constructor(private readonly options: PredictionServiceOptions) {}

  create(params: CreatePredictionParams): PredictionRecord {
    const { clock, faults } = this.options;
    const createdAt = clock.now();
    const { model, input } = params;
    const seed = typeof input.seed === "number" && Number.isInteger(input.seed) ? input.seed : randomInt(0, 65536);
    const timeline = planTimeline(model, input, seed, createdAt);
    const fail = faults.take("fail", {
      prompt: typeof input.prompt === "string" ? input.prompt : undefined,
      model: model.id,
      path: params.createPath,
    });
    const record: PredictionRecord = {
      id: newId(),
      model,
      version: params.version,
      input,
      webhook: params.webhook,
      webhookEventsFilter: params.webhookEventsFilter,
      createdAt,
      timeline,
      seed,
      token: newDeliveryToken(),
      // A planned failure strikes halfway through the run.
      plannedFailure: fail
        ? { at: timeline.startAt + Math.round((timeline.completeAt - timeline.startAt) / 2), error: fail.error }
        : undefined,
      deadlineAt: params.cancelAfterMs !== undefined ? createdAt + params.cancelAfterMs : undefined,
      canceledAt: undefined,
      // Placeholder: replaced just below, since prepare() needs the record itself.
      prep: Promise.resolve({ ok: false, error: "not prepared" }),
      prepOutcome: undefined,
      webhookCursor: createdAt,
      terminalWebhookEmitted: false,
      heldWebhooks: [],
      scheduleCache: undefined,
    };
    record.prep = this.prepare(record).then((outcome) => {
      record.prepOutcome = outcome;
      return outcome;
    });
    this.byId.set(record.id, record);
    this.byToken.set(record.token, record);
    return record;
  }

  get(id: string): PredictionRecord | undefined {
    return this.byId.get(id);
  }

  byDeliveryToken(token: string): PredictionRecord | undefined {
    return this.byToken.get(token);
  }

  /** Newest first. */
  list(): PredictionRecord[] {
    return [...this.byId.values()].reverse();
  }

  clear(): void {
    this.byId.clear();
    this.byToken.clear();
  }

  /** Waits for the background work when `time` is at or after the start (when its outcome matters). */
  async settle(record: PredictionRecord, time: number): Promise<void> {
    if (time >= record.timeline.startAt && !record.prepOutcome) await record.prep;
  }

  async jsonAt(record: PredictionRecord, time = this.options.clock.now()): Promise<PredictionJson> {
    await this.settle(record, time);
    return predictionJsonAt(record, time, this.options.baseUrl);
  }

  /** Cancels unless already terminal; returns the prediction as of now. */
  async cancel(record: PredictionRecord): Promise<PredictionJson> {
    const now = this.options.clock.now();
    const current = await this.jsonAt(record, now);
    if (!TERMINAL.has(current.status)) {
      record.canceledAt = now;
      return this.jsonAt(record, now);
    }
    return current;
  }

  /**
   * `Prefer: wait=N`: resolves when the prediction is terminal or all its files exist, or once N
   * seconds have passed on the emulator clock (or in real time, so a frozen clock can't hang a request).
   */
  async waitForResult(record: PredictionRecord, seconds: number): Promise<PredictionJson> {
    const { clock } = this.options;
    const emulatorDeadline = record.createdAt + seconds * 1000;
    const realDeadline = Date.now() + seconds * 1000;
    for (;;) {
      const now = clock.now();
      const json = await this.jsonAt(record, now);
      const outputsReady =
        json.status === "processing" &&
        readyOutputs(record.timeline.outputs, now).length === record.timeline.outputs.length;
      if (TERMINAL.has(json.status) || outputsReady) return json;
      if (clock.now() >= emulatorDeadline || Date.now() >= realDeadline) return json;
      await sleep(10);
    }
  }

  /**
   * An output file that is currently downloadable (exists, prediction not failed/canceled, data not
   * removed), with the record it belongs to.
   */
  async outputFile(
    token: string,
    index: number,
  ): Promise<{ record: PredictionRecord; planned: PlannedOutput; file: RenderedOutput } | undefined> {
    const record = this.byToken.get(token);
    if (!record) return undefined;
    const now = this.options.clock.now();
    const json = await this.jsonAt(record, now);
    const planned = record.timeline.outputs[index];
    if (!planned || json.output === null || json.data_removed === true || planned.readyAt > now) return undefined;
    const outcome = record.prepOutcome;
    const file = outcome?.ok ? outcome.outputs[index] : undefined;
    return file ? { record, planned, file } : undefined;
  }

  /** Emits every webhook event that became due; deliveries go to the dispatcher. */
  async emitDueWebhooks(): Promise<void> {
    const now = this.options.clock.now();
    for (const record of this.byId.values()) {
      if (record.webhook === undefined || record.terminalWebhookEmitted) continue;
      if (now < record.timeline.startAt && record.canceledAt === undefined && record.deadlineAt === undefined) continue;
      await this.settle(record, now);
      const events = webhookScheduleOf(record);
      for (const scheduled of events) {
        const terminal = scheduled.event === "completed";
        if (scheduled.at > now) break;
        if (terminal ? record.terminalWebhookEmitted : scheduled.at <= record.webhookCursor) continue;
        this.emit(record, scheduled, terminal);
      }
      record.webhookCursor = now;
      const endAt = endingOf(record).at;
      if (!events.some((event) => event.event === "completed") && endAt <= now) {
        // `completed` filtered out: nothing more will come; release anything a reorder fault held.
        record.terminalWebhookEmitted = true;
        for (const held of record.heldWebhooks) this.options.dispatcher.enqueue(held, endAt);
        record.heldWebhooks = [];
      }
    }
  }

  private emit(record: PredictionRecord, scheduled: ScheduledEvent, terminal: boolean): void {
    const { dispatcher, faults, webhookSecret, baseUrl } = this.options;
    const url = record.webhook;
    if (url === undefined) return;
    const json = predictionJsonAt(record, scheduled.at, baseUrl);
    const message = signMessage(webhookSecret, {
      predictionId: record.id,
      event: scheduled.event,
      url,
      webhookId: newWebhookId(),
      eventAt: scheduled.at,
      body: JSON.stringify(json),
      status: json.status,
      terminal,
    });
    if (terminal) record.terminalWebhookEmitted = true;
    let path: string | undefined;
    try {
      const parsed = new URL(url);
      path = parsed.pathname + parsed.search;
    } catch {
      path = undefined;
    }
    const fault = faults.take("webhook", { prompt: promptOf(record), model: record.model.id, path }, (effect) =>
      effect.events ? effect.events.includes(scheduled.event) : true,
    );
    const releaseHeld = (): void => {
      for (const held of record.heldWebhooks) dispatcher.enqueue(held, scheduled.at);
      record.heldWebhooks = [];
    };
    switch (fault?.mode) {
      case "drop":
        dispatcher.recordDropped(message);
        if (terminal) releaseHeld();
        return;
      case "duplicate":
        for (let copy = 0; copy < (fault.copies ?? 2); copy++) dispatcher.enqueue(message, scheduled.at);
        break;
      case "delay":
        dispatcher.enqueue(message, scheduled.at + (fault.delayMs ?? 3000));
        break;
      case "reorder":
        if (!terminal) {
          record.heldWebhooks.push(message);
          return;
        }
        dispatcher.enqueue(message, scheduled.at);
        break;
      case undefined:
        dispatcher.enqueue(message, scheduled.at);
        break;
    }
    if (terminal) releaseHeld();
  }

  /** Reads the inputs and renders every output file. */
  private async prepare(record: PredictionRecord): Promise<PrepOutcome> {
    const { model, input } = record;
    const { behaviour } = model;
    const sources = {
      baseUrl: this.options.baseUrl,
      files: this.options.files,
      readOutput: async (token: string, index: number) => (await this.outputFile(token, index))?.file.bytes,
    };
    const read = async (field: string | undefined): Promise<Uint8Array | undefined> => {
      const value = field ? input[field] : undefined;
      if (typeof value !== "string" || value === "") return undefined;
      try {
        return await readInputFile(value, sources);
      } catch (error) {
        const reason = error instanceof InputError ? error.message : String(error);
        throw new InputError(
          `Failed to download input ${field}: ${value.startsWith("data:") ? "data URL" : value}: ${reason}`,
        );
      }
    };
    try {
      const source = await read(behaviour.imageInput);
      const mask = source ? await read(behaviour.maskInput) : undefined;
      const guide = await read(behaviour.guideImageInput);
      const sourceSize = source ? await probeImage(source) : undefined;
      if (mask) await probeImage(mask);
      if (guide) await probeImage(guide);
      const { width, height } = outputSizeOf(model, input, sourceSize, this.options.imageScale);
      const strengthValue = inputOrDefault(model, input, "prompt_strength");
      // Kontext edits and video first frames keep more of the source than a 0.8-strength img2img.
      const strength = typeof strengthValue === "number" ? strengthValue : model.kind === "video" ? 0.3 : 0.5;
      const variation = JSON.stringify([
        model.id,
        input.negative_prompt ?? null,
        model.behaviour.stepsInput ? inputOrDefault(model, input, model.behaviour.stepsInput) : null,
        inputOrDefault(model, input, "guidance") ?? inputOrDefault(model, input, "guidance_scale") ?? null,
        inputOrDefault(model, input, "scheduler") ?? null,
        inputOrDefault(model, input, "refine") ?? null,
      ]);
      const quality = inputOrDefault(model, input, "output_quality");
      const outputs: RenderedOutput[] = [];
      for (const planned of record.timeline.outputs) {
        const bytes = await renderImage({
          width,
          height,
          format: planned.format,
          quality: typeof quality === "number" ? quality : 80,
          prompt: promptOf(record) ?? String(inputOrDefault(model, input, "prompt") ?? ""),
          seed: record.seed,
          index: planned.index,
          variation,
          ...(source ? { source } : {}),
          ...(mask ? { mask } : {}),
          ...(guide ? { guide } : {}),
          strength,
          ...(model.kind === "video"
            ? { frames: Math.round(videoSecondsOf(model, input) * VIDEO_FPS), fps: VIDEO_FPS }
            : {}),
        });
        outputs.push({ bytes, etag: `"${createHash("md5").update(bytes).digest("hex")}"`, width, height });
      }
      return { ok: true, outputs };
    } catch (error) {
      if (error instanceof InputError || error instanceof ImageDecodeError || error instanceof PlanError)
        return { ok: false, error: error.message };
      return { ok: false, error: `Internal error: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
}
