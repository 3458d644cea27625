/**
 * SessionRoom: one Durable Object per image session. It owns the session's generation queue (kept in
 * its SQLite storage, so it survives eviction and restarts), submits predictions to Replicate in
 * order within a concurrency limit, polls when webhooks are late, applies every state change to D1
 * exactly once, and fans changes out to every open browser over hibernating WebSockets.
 *
 * RPC only; `fetch` exists just to accept the WebSocket upgrade.
 */
import { DurableObject } from "cloudflare:workers";
import { type Generation, type GenerationStatus, isTerminalStatus } from "@contract/api";
import { type LiveServerMessage, liveClientMessageSchema } from "@contract/live";
import { and, asc, eq, lte } from "drizzle-orm";
import type { CompletionMessage } from "../completions/messages";
import { createDb, type Database } from "../db/client";
import { type GenerationRow, generations, imageSessions, type NewAssetRow } from "../db/schema";
import { resolveInputFiles } from "../generations/inputs";
import {
  advanceRunning,
  completeAndView,
  loadGeneration,
  type RunningUpdate,
  recordSubmission,
  type TerminalUpdate,
} from "../generations/lifecycle";
import {
  downloadOutput,
  type FetchedOutput,
  fetchOutputs,
  recordedByIndex,
  recordedOutputsQuery,
  storeOutputs,
} from "../generations/outputs";
import {
  advances,
  generationStatusOf,
  isTerminal,
  isTerminalPrediction,
  type RunningStatus,
  type TerminalStatus,
} from "../generations/status";
import { generationView, generationViewInOneCall, sessionView } from "../generations/views";
import { type AppConfig, readConfig } from "../lib/config";
import { errorMessage, log } from "../lib/logger";
import { failureReason, isRetryable, retryAfterOf, retryDelayMs } from "../lib/retryable";
import { inputWithFiles, type ModelCall, prepareModelCall } from "../models/params";
import { actualCost } from "../models/prices";
import { findModelDefinition } from "../models/registry";
import { ReplicateGateway } from "../replicate/gateway";
import {
  errorMessageOf,
  outputUrls,
  type Prediction,
  parseTime,
  predictSeconds,
  progressOf,
  queuedPrediction,
} from "../replicate/prediction";
import { newestGenerationsPage } from "../sessions/generations";
import { setGenerationTrashed } from "../trash/trash";

const MAX_SUBMIT_ATTEMPTS = 5;
const MAX_SUBMIT_DELAY_MS = 60_000;
/** With webhooks, poll only as a safety net; without them, polling is how results arrive. */
const POLL_AFTER_WEBHOOK_MS = 20_000;
const POLL_WITHOUT_WEBHOOK_MS = 1_500;
/**
 * Webhooks that reach the room late (the Worker is busy) push the safety-net poll back by twice
 * their lag, up to this: the poll is for webhooks that are lost, not for ones that are slow.
 */
const MAX_POLL_ALLOWANCE_MS = 60_000;
/** A lag observed longer ago than this says nothing about now. */
const LAG_MEMORY_MS = 5 * 60_000;
/**
 * How long the room remembers the terminal status it applied for a prediction, so that the queue's
 * copy of that webhook and Replicate's retries of it are recognised without D1 (Replicate's last
 * retry comes about a minute after completion; the queue redelivers for a few minutes more).
 */
const REMEMBER_FINISHED_MS = 60 * 60_000;
/**
 * How long the room remembers a generation it settled (finished, canceled, trashed), so that a
 * hand-over arriving after it (sent once the creating request had answered) does not queue it
 * again, nor show it queued to open tabs. Such a hand-over comes within seconds.
 */
const REMEMBER_SETTLED_MS = 60 * 60_000;
/** How often the room writes an output it holds before leaving the repair to the queue's copy. */
const OUTPUT_WRITE_ATTEMPTS = 3;
const OUTPUT_WRITE_RETRY_MS = 250;
/** How soon a child whose parent's outputs could not be written looks again (the queue's copy stores them). */
const UNWRITTEN_RECHECK_MS = 2_000;
/** Replicate stops a prediction after 30 minutes of running; past this we give up on it. */
const RUN_DEADLINE_MS = 35 * 60_000;
/**
 * Progress alone (the status unchanged) is written to D1 at most this often; open tabs are shown
 * every update at once over their sockets, and a read in between sees progress this much older.
 */
const PROGRESS_WRITE_INTERVAL_MS = 2_000;
/** How often the room prunes expired entries from its memories of finished and settled work. */
const PRUNE_INTERVAL_MS = 60_000;
const MAX_CLIENT_MESSAGE_BYTES = 4_096;
/** How many generations a socket's snapshot carries (the newest). */
const SNAPSHOT_GENERATIONS = 50;
const MESSAGE_WINDOW_MS = 10_000;
const MAX_MESSAGES_PER_WINDOW = 20;
/** How many earlier generations still queued in D1 one submission may take over (the rest, at the next). */
const TAKE_OVER_LIMIT = 500;
/** Waiting jobs whose parent (if any) is no longer in this queue. */
const READY_TO_SUBMIT = "state = 'waiting' AND (wait_for IS NULL OR wait_for NOT IN (SELECT generation_id FROM jobs))";

type JobState = "waiting" | "active";
type JobRow = {
  generation_id: string;
  seq: number;
  /** When the generation was stored (ms): the queue runs in this order, whatever order hand-overs came in. */
  created_at: number | null;
  state: JobState;
  wait_for: string | null;
  prediction_id: string | null;
  attempts: number;
  due_at: number;
  submitted_at: number | null;
  /**
   * The generation's status and progress in D1 as this room last wrote or read them (null: not
   * known). The room makes every running transition of its session, so an update that would change
   * nothing is dropped without reading D1; a write from this state is conditional on it anyway.
   */
  known_status: GenerationStatus | null;
  known_progress: number | null;
  /** The progress open tabs were last shown, when it is ahead of `known_progress` (not written yet). */
  pushed_progress: number | null;
  /** When the room last wrote (or read) the generation's state in D1 (ms). */
  written_at: number | null;
};

/**
 * A generation to queue, the parent whose output it starts from (it waits for it), and when it was
 * stored (ms since the epoch; without it, when it reaches the room).
 */
export type QueuedJob = { generationId: string; waitFor: string | null; createdAt?: number };

/** Where a submission failed: before or while asking Replicate to create the prediction. */
type SubmitStage = "preparing" | "creating";

type SocketAttachment = { userId: string; sessionId: string; windowStart: number; messages: number };

/** An output announced before its write to R2 ended: its bytes, served from here meanwhile. */
export type HeldOutput = { bytes: Uint8Array; mimeType: string };

export class SessionRoom extends DurableObject<Env> {
  private readonly db: Database;
  private readonly config: AppConfig;
  /**
   * Terminal states this room is applying right now, by prediction: Replicate's retries of a slow
   * answer and the queue's copy wait for this work instead of downloading and storing it again.
   */
  private readonly settling = new Map<string, Promise<void>>();
  /**
   * The last write of each generation's submission or running state that is under way (see
   * `inTurn`): the next one starts from the state it leaves.
   */
  private readonly turns = new Map<string, Promise<void>>();
  /**
   * Outputs announced while their write to R2 is under way, by R2 key: the asset routes ask for
   * them (`heldOutput`) when R2 does not have the object yet. Each is dropped once its write settles.
   */
  private readonly held = new Map<string, HeldOutput>();
  /** The writes under way, by generation: what a child's submission and an export wait for. */
  private readonly storing = new Map<string, Promise<void>>();
  /**
   * Outputs whose writes failed after every retry, by generation: a child of one waits until the
   * queue's copy of the state has stored them (it finds them missing), rather than failing for want
   * of its source.
   */
  private readonly unwritten = new Map<string, string[]>();
  /** How late the last webhook reached this room, and when (in memory: a fresh object polls as ever). */
  private webhookLag = { ms: 0, seenAt: 0 };
  /**
   * The session this room serves, once read from storage (undefined: not read since this object
   * started or its storage was emptied). It never changes once stored, so it is read once.
   */
  private knownSessionId: string | null | undefined;
  /**
   * When the `finished` and `settled` memories were last pruned (in memory: a fresh object prunes at
   * once). Pruning at every settle cost a statement each; entries expire after an hour, so once a
   * minute keeps them as short.
   */
  private prunedAt = { finished: 0, settled: 0 };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = createDb(env.DB);
    this.config = readConfig(env);
    this.createTables();
    // Pings are answered by the runtime itself, without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  private createTables(): void {
    this.ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        generation_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        wait_for TEXT,
        prediction_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at INTEGER NOT NULL,
        submitted_at INTEGER,
        known_status TEXT,
        known_progress REAL,
        created_at INTEGER,
        pushed_progress REAL,
        written_at INTEGER
      );
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS finished (
        prediction_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        finished_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS settled (generation_id TEXT PRIMARY KEY, settled_at INTEGER NOT NULL);
    `);
    // Rooms made before the generation's state was kept here gain the columns (empty: read from D1).
    const columns = new Set(
      this.ctx.storage.sql
        .exec<{ name: string }>("PRAGMA table_info(jobs)")
        .toArray()
        .map((column) => column.name),
    );
    if (!columns.has("known_status")) this.ctx.storage.sql.exec("ALTER TABLE jobs ADD COLUMN known_status TEXT");
    if (!columns.has("known_progress")) this.ctx.storage.sql.exec("ALTER TABLE jobs ADD COLUMN known_progress REAL");
    if (!columns.has("created_at")) this.ctx.storage.sql.exec("ALTER TABLE jobs ADD COLUMN created_at INTEGER");
    if (!columns.has("pushed_progress")) this.ctx.storage.sql.exec("ALTER TABLE jobs ADD COLUMN pushed_progress REAL");
    if (!columns.has("written_at")) this.ctx.storage.sql.exec("ALTER TABLE jobs ADD COLUMN written_at INTEGER");
  }

  private get concurrency(): number {
    return this.config.sessionConcurrency;
  }

  private gateway(): ReplicateGateway {
    return new ReplicateGateway(this.config);
  }

  private jobs(where = "1 = 1", ...bindings: (string | number | null)[]): JobRow[] {
    return this.ctx.storage.sql
      .exec<JobRow>(`SELECT * FROM jobs WHERE ${where} ORDER BY created_at, seq`, ...bindings)
      .toArray();
  }

  private job(generationId: string): JobRow | undefined {
    return this.jobs("generation_id = ?", generationId)[0];
  }

  /** Removes a generation's job; returns its prediction, if the room held the job and had one. */
  private removeJob(generationId: string): string | null {
    return (
      this.ctx.storage.sql
        .exec<{ prediction_id: string | null }>(
          "DELETE FROM jobs WHERE generation_id = ? RETURNING prediction_id",
          generationId,
        )
        .toArray()[0]?.prediction_id ?? null
    );
  }

  /** Whether the memory named `table` is due a pruning of its old entries (see `prunedAt`). */
  private pruneDue(table: keyof SessionRoom["prunedAt"], now: number): boolean {
    if (now - this.prunedAt[table] < PRUNE_INTERVAL_MS) return false;
    this.prunedAt[table] = now;
    return true;
  }

  /** The state D1 now holds, as this room just wrote or read it. */
  private rememberState(generationId: string, status: GenerationStatus, progress: number): void {
    this.ctx.storage.sql.exec(
      `UPDATE jobs SET known_status = ?, known_progress = ?, written_at = ?,
         pushed_progress = max(coalesce(pushed_progress, 0), ?) WHERE generation_id = ?`,
      status,
      progress,
      Date.now(),
      progress,
      generationId,
    );
  }

  /** The terminal status now in D1 for a prediction of this room (see `appliedTerminal`). */
  private rememberFinished(predictionId: string, status: GenerationStatus): void {
    const now = Date.now();
    if (this.pruneDue("finished", now))
      this.ctx.storage.sql.exec("DELETE FROM finished WHERE finished_at < ?", now - REMEMBER_FINISHED_MS);
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO finished (prediction_id, status, finished_at) VALUES (?, ?, ?)",
      predictionId,
      status,
      now,
    );
  }

  /** A generation this room is done with: a hand-over of it that comes later is ignored (see `enqueue`). */
  private rememberSettled(generationId: string): void {
    const now = Date.now();
    if (this.pruneDue("settled", now))
      this.ctx.storage.sql.exec("DELETE FROM settled WHERE settled_at < ?", now - REMEMBER_SETTLED_MS);
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO settled (generation_id, settled_at) VALUES (?, ?)",
      generationId,
      now,
    );
  }

  /**
   * Adds a generation to the queue, in the order it was stored, unless it is there already or this
   * room settled it. Returns whether it was added.
   */
  private addJob({ generationId, waitFor, createdAt }: QueuedJob): boolean {
    const seq = this.ctx.storage.sql.exec<{ n: number }>("SELECT coalesce(max(seq), 0) + 1 AS n FROM jobs").one().n;
    const now = Date.now();
    return (
      this.ctx.storage.sql
        .exec(
          `INSERT OR IGNORE INTO jobs (generation_id, seq, state, wait_for, attempts, due_at, known_status, known_progress, created_at)
           SELECT ?, ?, 'waiting', ?, 0, ?, 'queued', 0, ?
           WHERE NOT EXISTS (SELECT 1 FROM settled WHERE generation_id = ?)
           RETURNING generation_id`,
          generationId,
          seq,
          waitFor,
          now,
          createdAt ?? now,
          generationId,
        )
        .toArray().length > 0
    );
  }

  private rememberSession(sessionId: string): void {
    if (this.knownSessionId === sessionId) return;
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('sessionId', ?)", sessionId);
    // The first one stored stays: read it back when next asked.
    this.knownSessionId = undefined;
  }

  private sessionId(): string | null {
    if (this.knownSessionId === undefined) {
      this.knownSessionId =
        this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'sessionId'").toArray()[0]
          ?.value ?? null;
    }
    return this.knownSessionId;
  }

  // ---------------------------------------------------------------------------------------------
  // RPC
  // ---------------------------------------------------------------------------------------------

  /**
   * Adds stored, queued generations to this session's queue, which runs them in the order they were
   * stored; each waits for the generation it starts from (if any). A hand-over may come after a later
   * one, or never: `submitReady` takes over any earlier generation still queued in D1 first.
   * Idempotent: returns the ids it did not have yet. A generation this room already settled
   * (canceled or trashed before its hand-over came) is not added. `views` are the generations as
   * just stored, pushed to open tabs as they are.
   */
  async enqueue(sessionId: string, jobs: readonly QueuedJob[], views: readonly Generation[] = []): Promise<string[]> {
    this.rememberSession(sessionId);
    const added = jobs.filter((job) => this.addJob(job)).map((job) => job.generationId);
    // The caller's view of a generation it just stored spares reading it back.
    const known = new Map(views.map((view) => [view.id, view]));
    for (const generationId of added) {
      const view = known.get(generationId);
      if (view) this.broadcast({ type: "generation.updated", generation: view });
      else await this.broadcastGeneration(generationId);
    }
    await this.scheduleAlarm(Date.now());
    return added;
  }

  /**
   * A verified webhook, handed over by the webhook route as soon as it arrives so that open tabs
   * hear of it at once: outputs are stored and the change pushed here, without waiting for the
   * queue. A terminal state is also on the completions queue, the durable path, which asks this
   * room first (`appliedTerminal`) and finds the work done. Returns whether the room took care of
   * the state: false for a prediction it is not running (finished, or not ours) or when applying it
   * failed, so that the route queues a running update it would otherwise lose.
   */
  async receiveWebhook(
    prediction: Prediction,
    /** When Replicate sent it (its `webhook-timestamp`), to tell a busy Worker from a lost webhook. */
    sentAt?: number,
  ): Promise<boolean> {
    if (sentAt !== undefined) {
      const now = Date.now();
      this.webhookLag = { ms: Math.min(MAX_POLL_ALLOWANCE_MS, Math.max(0, now - sentAt)), seenAt: now };
    }
    const job = this.jobs("prediction_id = ? AND state = 'active'", prediction.id)[0];
    if (!job) return false;
    await this.turns.get(job.generation_id);
    if (!isTerminalPrediction(prediction)) {
      try {
        await this.applyPrediction(job.generation_id, prediction);
        return true;
      } catch (error) {
        log.warn("generation.fast_path_failed", {
          generationId: job.generation_id,
          predictionId: prediction.id,
          error: failureReason(error),
        });
        return false;
      }
    }
    // A repeat of a terminal state already being applied (Replicate retrying an answer that was
    // slow, or a second copy) adds nothing: the first one stores the outputs once.
    if (this.settling.has(prediction.id)) return true;
    const work = this.settleTerminal(job, prediction);
    this.settling.set(prediction.id, work);
    try {
      await work;
    } finally {
      this.settling.delete(prediction.id);
    }
    return true;
  }

  /**
   * The terminal state of a prediction this room runs. Its outputs are downloaded and checked, then
   * announced at once (recorded with the success in D1 and pushed) and written to R2 after: the local
   * R2 write takes longer than the download itself, and open tabs need not wait for it, since this
   * room serves the bytes until the write is done (`heldOutput`). The prediction counts as applied
   * (`appliedTerminal`) only once every write succeeded; if one keeps failing, the queue's copy of
   * the state finds the object missing and stores it again.
   */
  private async settleTerminal(job: JobRow, prediction: Prediction): Promise<void> {
    try {
      // The outputs are downloaded while the row is read: in production each call to D1 is a
      // round trip, and this room runs the prediction, so the row is all but certain to want them.
      const urls = prediction.status === "succeeded" ? outputUrls(prediction) : [];
      const downloads = urls.map((url) => downloadOutput(url, this.config.outputHosts));
      // One not used (the generation finished otherwise) is dropped; one used reports its failure there.
      for (const download of downloads) download.catch(() => undefined);
      // The row and what is already recorded of its outputs, in one call.
      const [[generation], recordedRows] = await this.db.batch([
        this.db.select().from(generations).where(eq(generations.id, job.generation_id)).limit(1),
        recordedOutputsQuery(this.db, [job.generation_id]),
      ]);
      if (!generation || isTerminalStatus(generation.status)) return;
      const status = generationStatusOf(prediction);
      if (!isTerminal(status)) return;
      const fetched =
        prediction.status === "succeeded"
          ? await fetchOutputs(
              this.db,
              this.env.BUCKET,
              generation,
              urls,
              this.config.outputHosts,
              recordedByIndex(recordedRows),
              this.env.IMAGES,
              downloads,
            )
          : [];
      // Held before the announcement, so that a tab fetching an output as soon as it hears of it is
      // served; written once it is made (even if that failed: the queue's copy then finds them in
      // place), since locally a write holds up the Worker and D1 while it streams.
      this.hold(fetched);
      const announced = this.finish(
        generation.id,
        { ...this.terminalUpdate(prediction, status, generation), completedVia: "webhook" },
        generation,
        fetched.map((output) => output.row),
        { rememberApplied: false },
      );
      const written = this.trackWrites(
        generation.id,
        announced.then(
          () => this.storeHeld(generation.id, fetched),
          () => this.storeHeld(generation.id, fetched),
        ),
      );
      const [applied, stored] = await Promise.allSettled([announced, written]);
      if (applied.status === "rejected") throw applied.reason;
      if (stored.status === "rejected") throw stored.reason;
      if (applied.value) this.rememberFinished(prediction.id, applied.value);
    } catch (error) {
      // The queue has the same state and retries it with backoff; nothing is lost here.
      log.warn("generation.fast_path_failed", {
        generationId: job.generation_id,
        predictionId: prediction.id,
        error: failureReason(error),
      });
    }
  }

  /** Keeps fetched outputs' bytes for the asset routes until their writes settle (see `storeHeld`). */
  private hold(fetched: readonly FetchedOutput[]): void {
    for (const { row, bytes } of fetched) this.held.set(row.r2Key, { bytes, mimeType: row.mimeType });
  }

  /**
   * Writes held outputs to R2, dropping each one's bytes once its write settles. A failed write is
   * tried again from the held bytes a few times; the promise rejects if it still fails (the queue's
   * copy then repairs it).
   */
  private async storeHeld(generationId: string, fetched: readonly FetchedOutput[]): Promise<void> {
    const writeOne = async (output: FetchedOutput): Promise<void> => {
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            await storeOutputs(this.env.BUCKET, [output]);
            return;
          } catch (error) {
            if (attempt >= OUTPUT_WRITE_ATTEMPTS) throw error;
            log.warn("output.write_retried", {
              generationId,
              r2Key: output.row.r2Key,
              attempt,
              error: failureReason(error),
            });
            await scheduler.wait(OUTPUT_WRITE_RETRY_MS * attempt);
          }
        }
      } finally {
        this.held.delete(output.row.r2Key);
      }
    };
    const results = await Promise.allSettled(fetched.map(writeOne));
    const failed = results.find((result) => result.status === "rejected");
    if (failed) {
      this.unwritten.set(
        generationId,
        fetched.map((output) => output.row.r2Key),
      );
      throw failed.reason;
    }
  }

  /** Makes a generation's writes under way known to submissions and exports (`outputsStored`), until they settle. */
  private trackWrites(generationId: string, writes: Promise<void>): Promise<void> {
    // Waiters only need to know they settled; the caller reports a failure.
    const settled: Promise<void> = writes
      .catch(() => undefined)
      .then(() => {
        if (this.storing.get(generationId) === settled) this.storing.delete(generationId);
      });
    this.storing.set(generationId, settled);
    return writes;
  }

  /**
   * The bytes of an output announced while its write to R2 is still under way, or null when this
   * room does not hold it (the write is done: R2 has it).
   */
  async heldOutput(r2Key: string): Promise<HeldOutput | null> {
    return this.held.get(r2Key) ?? null;
  }

  /** Resolves once every output write under way in this room has settled (e.g. before an export). */
  async outputsStored(): Promise<void> {
    await Promise.all(this.storing.values());
  }

  /**
   * For the completions consumer: the terminal status this room applied for each of these
   * predictions (waiting for one it is applying right now), so that a state already applied costs
   * the queue neither D1 nor R2. A prediction missing from the answer is decided from D1 as ever.
   */
  async appliedTerminal(predictionIds: readonly string[]): Promise<Record<string, GenerationStatus>> {
    await Promise.all(predictionIds.map((id) => this.settling.get(id)));
    const applied: Record<string, GenerationStatus> = {};
    for (const id of predictionIds) {
      const row = this.ctx.storage.sql
        .exec<{ status: GenerationStatus }>("SELECT status FROM finished WHERE prediction_id = ?", id)
        .toArray()[0];
      if (row) applied[id] = row.status;
    }
    return applied;
  }

  /** A prediction update, from the completion consumer (webhooks and polls both end up here). */
  async applyPrediction(
    generationId: string,
    prediction: Prediction,
    known: { via?: "webhook" | "poll"; generation?: GenerationRow } = {},
  ): Promise<void> {
    const status = generationStatusOf(prediction);
    if (isTerminal(status)) {
      // After the submission or running state being written, if any (a terminal move is conditional anyway).
      await this.turns.get(generationId);
      const generation = known.generation ?? (await loadGeneration(this.db, generationId));
      await this.finish(
        generationId,
        {
          ...this.terminalUpdate(prediction, status, generation),
          ...(known.via ? { completedVia: known.via } : {}),
        },
        generation,
      );
      return;
    }
    // One running update of a generation at a time, each from the state the one before left: two
    // webhooks that come together would otherwise both write from the same state, and one would be
    // stale, costing a read and a write more.
    await this.inTurn(generationId, () => this.applyRunning(generationId, status, prediction, known.generation));
  }

  private async applyRunning(
    generationId: string,
    status: RunningStatus,
    prediction: Prediction,
    known: GenerationRow | undefined,
  ): Promise<void> {
    // Events are flowing: push the safety-net poll back, reading the job as it then is in the same
    // statement (a job not active, or not held, is read as it is).
    const job =
      this.ctx.storage.sql
        .exec<JobRow>(
          "UPDATE jobs SET due_at = ? WHERE generation_id = ? AND state = 'active' RETURNING *",
          Date.now() + this.pollDelay(),
          generationId,
        )
        .toArray()[0] ?? this.job(generationId);
    const progress = progressOf(prediction);
    if (job?.known_status && !isTerminal(job.known_status) && !advances(job.known_status, status)) {
      // Progress alone: open tabs are shown it at once, and D1 hears of it at most every
      // PROGRESS_WRITE_INTERVAL_MS (a status move or the end writes it anyway): each call to D1 is
      // the work a busy Worker cannot spare, and the socket, not a read, is where progress is seen.
      const shown = Math.max(job.known_progress ?? 0, job.pushed_progress ?? 0);
      const pushedNow = progress !== null && progress > shown;
      if (pushedNow) {
        this.broadcast({ type: "generation.progress", generationId, progress });
        this.ctx.storage.sql.exec(
          "UPDATE jobs SET pushed_progress = ? WHERE generation_id = ?",
          progress,
          generationId,
        );
        job.pushed_progress = progress;
      }
      const writeAt = (job.written_at ?? 0) + PROGRESS_WRITE_INTERVAL_MS;
      if (Date.now() < writeAt) {
        // Written by the alarm then, unless something writes it first. Progress pushed before this
        // update had its alarm set then (and every alarm sets the next from what is still due).
        if (pushedNow) await this.scheduleAlarm(writeAt);
        return;
      }
    }
    // A status move is written at once, carrying whatever progress tabs were already shown.
    const pushed = job?.pushed_progress ?? null;
    await this.writeRunning(
      generationId,
      {
        status,
        progress: progress === null ? pushed : Math.max(progress, pushed ?? 0),
        startedAt: parseTime(prediction.started_at),
      },
      known,
      // Read in this turn, and kept up to date above: no need to read it again.
      job ?? null,
    );
  }

  /** Runs `work` once the generation's write under way, if any, is done (see `turns`). */
  private async inTurn<T>(generationId: string, work: () => Promise<T>): Promise<T> {
    const result = (this.turns.get(generationId) ?? Promise.resolve()).then(work);
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    this.turns.set(generationId, done);
    try {
      return await result;
    } finally {
      if (this.turns.get(generationId) === done) this.turns.delete(generationId);
    }
  }

  /**
   * Writes a running state to D1 from the state this room knows, without reading D1 (read only when
   * that state is not known or turns out to be stale), and pushes what changed that open tabs have
   * not been shown yet.
   */
  private async writeRunning(
    generationId: string,
    update: RunningUpdate,
    known?: GenerationRow,
    /** The job as the caller read it in this turn (null: the room holds none); read here when not given. */
    held?: JobRow | null,
  ): Promise<void> {
    const job = held === undefined ? this.job(generationId) : (held ?? undefined);
    let from = job?.known_status ? { status: job.known_status, progress: job.known_progress ?? 0 } : null;
    // A move of the status is pushed whole: its view is read in the same call as the move.
    const view = { view: this.ctx.getWebSockets().length > 0 };
    let moved = from ? await advanceRunning(this.db, generationId, from, update, view) : null;
    if (!moved || moved.outcome === "stale") {
      const current = known ?? (await loadGeneration(this.db, generationId));
      if (!current) return;
      from = { status: current.status, progress: current.progress };
      moved = await advanceRunning(this.db, generationId, from, update, view);
    }
    if (!from || moved.outcome !== "applied") {
      if (from && job) this.rememberState(generationId, from.status, from.progress);
      return;
    }
    const statusAdvances = advances(from.status, update.status);
    const progress = update.progress !== null && update.progress > from.progress ? update.progress : from.progress;
    this.rememberState(generationId, statusAdvances ? update.status : from.status, progress);
    if (statusAdvances) {
      if (moved.view) this.broadcast({ type: "generation.updated", generation: moved.view });
    } else if (progress > (job?.pushed_progress ?? from.progress)) {
      this.broadcast({ type: "generation.progress", generationId, progress });
    }
  }

  /** Progress shown to open tabs and not written yet, once its interval has passed (see `applyPrediction`). */
  private async writeShownProgress(now: number): Promise<void> {
    const due = this.jobs(
      "state = 'active' AND pushed_progress > coalesce(known_progress, 0) AND coalesce(written_at, 0) <= ?",
      now - PROGRESS_WRITE_INTERVAL_MS,
    );
    for (const job of due) {
      const status = job.known_status;
      if (status !== "starting" && status !== "running") continue;
      await this.inTurn(job.generation_id, () =>
        this.writeRunning(job.generation_id, { status, progress: job.pushed_progress, startedAt: null }),
      );
    }
  }

  /** The outputs could not be stored, after every retry: the generation fails with the reason. */
  async failGeneration(generationId: string, message: string): Promise<void> {
    await this.finish(generationId, {
      status: "failed",
      error: message,
      startedAt: null,
      completedAt: new Date(),
      cost: null,
      predictSeconds: null,
    });
  }

  /** Cancels a queued generation (never submitted) or a running one (canceled at Replicate). */
  async cancel(generationId: string): Promise<Generation | null> {
    const job = this.job(generationId);
    if (job?.prediction_id) {
      try {
        await this.gateway().cancelPrediction(job.prediction_id);
      } catch (error) {
        // Already finished at Replicate, or unreachable: our record still stops here.
        log.warn("replicate.cancel_failed", {
          generationId,
          predictionId: job.prediction_id,
          error: errorMessage(error),
        });
      }
    }
    const generation = await loadGeneration(this.db, generationId);
    if (generation && !isTerminalStatus(generation.status)) {
      await this.finish(generationId, {
        status: "canceled",
        error: null,
        startedAt: null,
        completedAt: new Date(),
        cost: null,
        predictSeconds: null,
      });
    }
    return generationView(this.db, generationId);
  }

  /**
   * Moves a generation to the trash. One still queued or running is canceled first (at Replicate
   * too): deleting it means it is not wanted, so nothing more is spent on it; restored, it comes
   * back canceled, ready to retry. Children waiting on it then fail with the reason, as for any
   * canceled source. Outputs that arrive after all are stored hidden with it (a trigger sees to it).
   */
  async trashGeneration(generationId: string): Promise<void> {
    const generation = await loadGeneration(this.db, generationId);
    if (!generation) return;
    if (!isTerminalStatus(generation.status)) await this.cancel(generationId);
    this.removeJob(generationId);
    await setGenerationTrashed(this.db, generation, new Date());
    this.broadcast({ type: "generation.deleted", generationId });
    await this.broadcastSession();
    await this.scheduleAlarm(Date.now());
  }

  /** Brings a generation back from the trash. */
  async restoreGeneration(generationId: string): Promise<void> {
    const generation = await loadGeneration(this.db, generationId);
    if (!generation) return;
    await setGenerationTrashed(this.db, generation, null);
    await this.broadcastGeneration(generationId);
    await this.broadcastSession();
  }

  /** Tells open tabs that these generations changed (e.g. one of their outputs went to the trash). */
  async publishGenerations(generationIds: readonly string[]): Promise<void> {
    for (const generationId of generationIds) await this.broadcastGeneration(generationId);
    await this.broadcastSession();
  }

  /**
   * The session went to the trash: whatever is still queued or running is canceled (never
   * submitted, or stopped at Replicate), open tabs are closed, and the queue is forgotten. That
   * includes generations stored but not yet handed to this room: their hand-over, should it still
   * come, finds them settled.
   */
  async trashSession(sessionId: string): Promise<void> {
    const notHandedOver = await this.db
      .select({ id: generations.id })
      .from(generations)
      .where(and(eq(generations.sessionId, sessionId), eq(generations.status, "queued")));
    const unfinished = new Set([...this.jobs().map((job) => job.generation_id), ...notHandedOver.map((g) => g.id)]);
    for (const generationId of unfinished) await this.cancel(generationId);
    await this.destroy();
    for (const generationId of unfinished) this.rememberSettled(generationId);
  }

  /** Polls every in-flight prediction now (the cron sweep's nudge for stuck generations). */
  async sweep(): Promise<void> {
    this.ctx.storage.sql.exec("UPDATE jobs SET due_at = ? WHERE state = 'active'", Date.now());
    await this.scheduleAlarm(Date.now());
  }

  /** Forgets this session's queue (the session was deleted). */
  async destroy(): Promise<void> {
    for (const socket of this.ctx.getWebSockets()) socket.close(1000, "Session deleted");
    // An output announced a moment ago may still be on its way to R2: once it lands, whoever deletes
    // the session's objects next (an account's deletion lists them right after this) finds it.
    await this.outputsStored();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.knownSessionId = undefined;
    // A late event (a completion, a restore) may still reach this object: it finds an empty queue.
    this.createTables();
  }

  /** Generations this room is still responsible for (for tests and diagnostics). */
  async pendingJobs(): Promise<{ generationId: string; state: JobState; predictionId: string | null }[]> {
    return this.jobs().map((job) => ({
      generationId: job.generation_id,
      state: job.state,
      predictionId: job.prediction_id,
    }));
  }

  // ---------------------------------------------------------------------------------------------
  // WebSockets
  // ---------------------------------------------------------------------------------------------

  override async fetch(request: Request): Promise<Response> {
    const userId = request.headers.get("X-Studio-User");
    const sessionId = request.headers.get("X-Studio-Session");
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !userId || !sessionId) {
      return new Response("Expected a WebSocket upgrade", { status: 426 });
    }
    this.rememberSession(sessionId);
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [userId]);
    server.serializeAttachment({ userId, sessionId, windowStart: Date.now(), messages: 0 } satisfies SocketAttachment);
    // A bounded snapshot: the newest page, as `GET /api/sessions/:id` gives it; older ones are paged.
    const [session, page] = await Promise.all([
      sessionView(this.db, sessionId),
      newestGenerationsPage(this.db, sessionId, SNAPSHOT_GENERATIONS),
    ]);
    if (session)
      server.send(
        JSON.stringify({
          type: "snapshot",
          session,
          generations: page.generations,
          generationsCursor: page.generationsCursor,
        } satisfies LiveServerMessage),
      );
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const size = typeof message === "string" ? message.length : message.byteLength;
    if (size > MAX_CLIENT_MESSAGE_BYTES) {
      socket.close(1009, "Message too large");
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message));
    } catch {
      parsed = null;
    }
    if (!this.withinMessageRate(socket)) {
      socket.close(1008, "Too many messages");
      return;
    }
    const result = liveClientMessageSchema.safeParse(parsed);
    if (!result.success) {
      socket.send(JSON.stringify({ type: "error", detail: "Unknown message" } satisfies LiveServerMessage));
      return;
    }
    if (result.data.type === "ping") socket.send(JSON.stringify({ type: "pong" } satisfies LiveServerMessage));
  }

  /** Per-connection message budget (pings answered by the runtime do not count). */
  private withinMessageRate(socket: WebSocket): boolean {
    const attachment = socket.deserializeAttachment() as SocketAttachment;
    const now = Date.now();
    const fresh = now - attachment.windowStart >= MESSAGE_WINDOW_MS;
    const next = {
      ...attachment,
      windowStart: fresh ? now : attachment.windowStart,
      messages: fresh ? 1 : attachment.messages + 1,
    };
    socket.serializeAttachment(next);
    return next.messages <= MAX_MESSAGES_PER_WINDOW;
  }

  override async webSocketClose(socket: WebSocket, code: number): Promise<void> {
    try {
      socket.close(code === 1005 ? 1000 : code, "Closing");
    } catch {
      // Already closed.
    }
  }

  private broadcast(message: LiveServerMessage): void {
    const payload = JSON.stringify(message);
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(payload);
      } catch {
        // A socket that is closing misses this message; it gets a fresh snapshot when it reconnects.
      }
    }
  }

  private async broadcastGeneration(generationId: string): Promise<void> {
    if (this.ctx.getWebSockets().length === 0) return;
    const generation = await generationViewInOneCall(this.db, generationId, eq(generations.id, generationId));
    if (generation) this.broadcast({ type: "generation.updated", generation });
  }

  private async broadcastSession(): Promise<void> {
    const sessionId = this.sessionId();
    if (!sessionId || this.ctx.getWebSockets().length === 0) return;
    const session = await sessionView(this.db, sessionId);
    if (session) this.broadcast({ type: "session.updated", session });
  }

  // ---------------------------------------------------------------------------------------------
  // The queue
  // ---------------------------------------------------------------------------------------------

  private pollInterval(): number {
    return this.config.publicUrl ? POLL_AFTER_WEBHOOK_MS : POLL_WITHOUT_WEBHOOK_MS;
  }

  /**
   * How long after an event the safety-net poll is due: the interval, plus twice the lag with which
   * webhooks have lately been reaching this room. When the Worker is busy, its webhooks are late and
   * so would be the next one; polling then only adds work to the load that made them late.
   */
  private pollDelay(): number {
    const { ms, seenAt } = this.webhookLag;
    const recent = this.config.publicUrl && Date.now() - seenAt < LAG_MEMORY_MS;
    return this.pollInterval() + (recent ? Math.min(MAX_POLL_ALLOWANCE_MS, 2 * ms) : 0);
  }

  private terminalUpdate(
    prediction: Prediction,
    terminal: TerminalStatus,
    generation: GenerationRow | undefined,
  ): TerminalUpdate {
    const error =
      terminal === "failed"
        ? (errorMessageOf(prediction) ?? "The model failed without saying why.")
        : terminal === "timed_out"
          ? "Replicate stopped the prediction before it started (deadline reached)."
          : null;
    // Failed runs of public models are not billed; canceled ones are, up to the cancel.
    const seconds = predictSeconds(prediction);
    const cost =
      terminal === "succeeded" || terminal === "canceled"
        ? actualCost(generation?.modelCall?.pricing ?? null, outputUrls(prediction).length, seconds)
        : null;
    return {
      status: terminal,
      error,
      startedAt: parseTime(prediction.started_at),
      completedAt: parseTime(prediction.completed_at) ?? new Date(),
      cost,
      predictSeconds: seconds,
    };
  }

  /**
   * Moves a generation to its terminal status (with the outputs it brings, recorded in the same call)
   * and pushes it and its session as they now are, read back in that same call. Returns the terminal
   * status it now has in D1. Unless told not to (its outputs are still being written), the room
   * records it as applied for the prediction at once (see `appliedTerminal`).
   */
  private async finish(
    generationId: string,
    update: TerminalUpdate,
    known?: GenerationRow,
    outputs: readonly NewAssetRow[] = [],
    options: { rememberApplied: boolean } = { rememberApplied: true },
  ): Promise<GenerationStatus | null> {
    const current = known ?? (await loadGeneration(this.db, generationId));
    const finished =
      current && !isTerminalStatus(current.status)
        ? await completeAndView(this.db, current, update, outputs, { view: this.ctx.getWebSockets().length > 0 })
        : null;
    const predictionId = this.removeJob(generationId) ?? current?.predictionId;
    const finalStatus = finished?.changed ? update.status : current?.status;
    const terminal = finalStatus && isTerminalStatus(finalStatus) ? finalStatus : null;
    if (predictionId && terminal && options.rememberApplied) this.rememberFinished(predictionId, terminal);
    this.rememberSettled(generationId);
    if (finished?.changed) {
      log.info("generation.completed", {
        generationId,
        sessionId: this.sessionId() ?? undefined,
        predictionId: predictionId ?? undefined,
        status: update.status,
      });
      if (finished.generation) this.broadcast({ type: "generation.updated", generation: finished.generation });
      if (finished.session) this.broadcast({ type: "session.updated", session: finished.session });
    }
    // A slot is free, and children waiting on this generation can now start or fail.
    await this.scheduleAlarm(Date.now());
    return terminal;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    await this.writeShownProgress(now);
    for (const job of this.jobs("state = 'active' AND due_at <= ?", now)) await this.poll(job);
    await this.submitReady();
    await this.scheduleAlarm();
  }

  /**
   * Submits waiting generations in the order they were stored while there are free slots. Each is
   * loaded from D1 together with the earlier generations of its session still queued there: one this
   * room does not hold (its hand-over has not come yet, or was lost) is taken over and goes first, so
   * the order does not depend on which hand-over arrived first.
   */
  private async submitReady(): Promise<void> {
    // A submission may start from an output announced a moment ago (a child reads its parent's
    // output from R2 to send it to Replicate): the writes under way end first.
    if (this.storing.size > 0) await this.outputsStored();
    // Known once the room holds a job: every hand-over names the session.
    const sessionId = this.sessionId() ?? "";
    for (const job of this.jobs(`${READY_TO_SUBMIT} AND due_at <= ?`, Date.now())) {
      const active = this.ctx.storage.sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM jobs WHERE state = 'active'")
        .one().n;
      if (active >= this.concurrency) return;
      const [[generation], [session], earlier] = await this.db.batch([
        this.db.select().from(generations).where(eq(generations.id, job.generation_id)).limit(1),
        this.db
          .select({ trashedAt: imageSessions.trashedAt })
          .from(imageSessions)
          .where(eq(imageSessions.id, sessionId))
          .limit(1),
        this.db
          .select({
            generationId: generations.id,
            waitFor: generations.parentGenerationId,
            createdAt: generations.createdAt,
          })
          .from(generations)
          .where(
            and(
              eq(generations.sessionId, sessionId),
              lte(generations.createdAt, new Date(job.created_at ?? Date.now())),
              eq(generations.status, "queued"),
            ),
          )
          .orderBy(asc(generations.createdAt))
          .limit(TAKE_OVER_LIMIT),
      ]);
      if (generation?.status !== "queued") {
        this.removeJob(job.generation_id);
        continue;
      }
      if (session?.trashedAt) {
        // Stored while its session went to the trash (after the trash canceled what was queued):
        // canceled like the rest, never submitted.
        await this.cancel(job.generation_id);
        continue;
      }
      const takenOver = earlier.filter((row) => this.addJob({ ...row, createdAt: row.createdAt.getTime() }));
      if (takenOver.length > 0) {
        log.info("generation.taken_over", {
          sessionId,
          generationIds: takenOver.map((row) => row.generationId),
        });
        for (const row of takenOver) await this.broadcastGeneration(row.generationId);
        // They come before this one: the alarm set after this run takes the queue again, in order.
        return;
      }
      if (job.wait_for && !(await this.outputsInR2(job.wait_for))) {
        // Its parent's outputs could not be written here: the queue's copy of the parent's state is
        // storing them. Look again shortly.
        this.ctx.storage.sql.exec(
          "UPDATE jobs SET due_at = ? WHERE generation_id = ?",
          Date.now() + UNWRITTEN_RECHECK_MS,
          job.generation_id,
        );
        continue;
      }
      if (job.wait_for) {
        const parent = await loadGeneration(this.db, job.wait_for);
        if (parent && !isTerminalStatus(parent.status)) {
          // Not in this queue (an earlier queued one would have been taken over above), yet running:
          // it cannot be submitted again, so look again later rather than at once.
          this.ctx.storage.sql.exec(
            "UPDATE jobs SET due_at = ? WHERE generation_id = ?",
            Date.now() + this.pollInterval(),
            job.generation_id,
          );
          continue;
        }
        if (parent && parent.status !== "succeeded") {
          await this.failGeneration(
            job.generation_id,
            `Its source generation ${parent.status === "canceled" ? "was canceled" : "failed"}, so there is no image to start from.`,
          );
          continue;
        }
      }
      await this.submit(job, generation);
    }
  }

  /** Whether the outputs of `generationId` are in R2, as far as this room knows (only a failed write is checked). */
  private async outputsInR2(generationId: string): Promise<boolean> {
    const keys = this.unwritten.get(generationId);
    if (!keys) return true;
    const present = await Promise.all(keys.map((key) => this.env.BUCKET.head(key)));
    if (present.some((object) => object === null)) return false;
    this.unwritten.delete(generationId);
    return true;
  }

  /** The call stored when the generation was created (or, for older rows, made now from its params). */
  private async modelCallOf(generation: GenerationRow, gateway: ReplicateGateway): Promise<ModelCall> {
    if (generation.modelCall) return generation.modelCall;
    const model = await findModelDefinition(this.db, gateway, generation.userId, generation.model);
    if (!model) throw new Error(`The model ${generation.model} is not available.`);
    return prepareModelCall(
      model,
      { prompt: generation.prompt, negativePrompt: generation.negativePrompt ?? undefined, params: generation.params },
      {
        hasSource: !!(generation.sourceAssetId || generation.parentGenerationId),
        hasMask: !!generation.maskAssetId,
        references: 0,
      },
    ).call;
  }

  private async submit(job: JobRow, generation: GenerationRow): Promise<void> {
    // The session rides along so the webhook route can hand the state straight to this room; the
    // room only acts on predictions it is running, so the (unsigned) parameter cannot steer anything.
    const webhook = this.config.publicUrl
      ? `${this.config.publicUrl}/api/webhooks/replicate?session=${encodeURIComponent(generation.sessionId)}`
      : undefined;
    const gateway = this.gateway();
    let stage: SubmitStage = "preparing";
    let prediction: Prediction;
    try {
      const call = await this.modelCallOf(generation, gateway);
      const input = inputWithFiles(call, await resolveInputFiles(this.db, this.env.BUCKET, gateway, generation, call));
      stage = "creating";
      prediction = await gateway.createPrediction({
        model: generation.model,
        ...(call.version ? { version: call.version } : {}),
        input,
        ...(webhook ? { webhook } : {}),
      });
    } catch (error) {
      await this.submissionFailed(job, generation.id, stage, error);
      return;
    }
    // A prediction now runs at Replicate: from here on nothing may send this job back to waiting,
    // or it would run twice. The room's own storage records it first; D1 follows.
    const now = Date.now();
    this.ctx.storage.sql.exec(
      "UPDATE jobs SET state = 'active', prediction_id = ?, submitted_at = ?, due_at = ?, attempts = attempts + 1 WHERE generation_id = ?",
      prediction.id,
      now,
      now + this.pollDelay(),
      generation.id,
    );
    // At debug: a generation's life is told at info by two lines, `generation.created` and
    // `generation.completed` (which names the prediction too); under a burst each line costs.
    log.debug("generation.submitted", {
      generationId: generation.id,
      predictionId: prediction.id,
      model: generation.model,
    });
    try {
      // Recorded and read back for open tabs in one call to D1.
      const { view } = await this.recordSubmitted(generation.id, prediction.id, {
        view: this.ctx.getWebSockets().length > 0,
      });
      if (view) this.broadcast({ type: "generation.updated", generation: view });
    } catch (error) {
      // The next poll records it (see `poll`).
      log.warn("generation.record_submission_failed", {
        generationId: generation.id,
        predictionId: prediction.id,
        error: failureReason(error),
      });
    }
  }

  /**
   * Records in D1 that the prediction runs. The room's own storage knows it first, so the
   * prediction's webhooks can arrive while this write is on its way; they wait for it (see
   * `inTurn`): applied before it, the start would be written from
   * `queued`, costing a stale write and a read, or leaving the submission, which is conditional on
   * `queued`, unrecorded.
   */
  private async recordSubmitted(
    generationId: string,
    predictionId: string,
    options: { view?: boolean } = {},
  ): Promise<{ recorded: boolean; view: Generation | null }> {
    return this.inTurn(generationId, async () => {
      const result = await recordSubmission(this.db, generationId, predictionId, options);
      if (result.recorded) this.rememberState(generationId, "starting", 0);
      return result;
    });
  }

  /**
   * Preparing the inputs or creating the prediction failed: a transient failure is tried again with
   * backoff until the attempts run out; a permanent one fails the generation at once. Either way
   * the generation's error is the last reason.
   */
  private async submissionFailed(job: JobRow, generationId: string, stage: SubmitStage, error: unknown) {
    const attempts = job.attempts + 1;
    const reason = failureReason(error);
    const retryable = isRetryable(error);
    log.warn("generation.submit_failed", { generationId, attempts, retryable, stage, error: reason });
    if (retryable && attempts < MAX_SUBMIT_ATTEMPTS) {
      const delay = Math.max(retryAfterOf(error) ?? 0, retryDelayMs(attempts, MAX_SUBMIT_DELAY_MS));
      this.ctx.storage.sql.exec(
        "UPDATE jobs SET attempts = ?, due_at = ? WHERE generation_id = ?",
        attempts,
        Date.now() + delay,
        generationId,
      );
      return;
    }
    const gaveUp =
      stage === "creating"
        ? `Replicate did not accept the prediction after ${attempts} attempts.`
        : `Its inputs could not be prepared after ${attempts} attempts.`;
    await this.failGeneration(generationId, retryable ? `${gaveUp} ${reason}` : reason);
  }

  /** The safety net for lost webhooks: ask Replicate directly. */
  private async poll(job: JobRow): Promise<void> {
    const generation = await loadGeneration(this.db, job.generation_id);
    if (!job.prediction_id || !generation || isTerminalStatus(generation.status)) {
      // Finished (or gone) by another path: nothing left to watch.
      this.removeJob(job.generation_id);
      return;
    }
    if (generation.status === "queued") {
      // The prediction was created but D1 did not hear of it (see `submit`): record it now.
      await this.recordSubmitted(generation.id, job.prediction_id);
    }
    let prediction: Prediction;
    try {
      prediction = await this.gateway().getPrediction(job.prediction_id);
    } catch (error) {
      log.warn("generation.poll_failed", {
        generationId: job.generation_id,
        predictionId: job.prediction_id,
        error: errorMessage(error),
      });
      this.ctx.storage.sql.exec(
        "UPDATE jobs SET due_at = ? WHERE generation_id = ?",
        Date.now() + this.pollInterval() * 2,
        job.generation_id,
      );
      return;
    }
    if (isTerminalPrediction(prediction)) {
      // Outputs are stored by the consumer, the same path a webhook takes. Look again later in
      // case that message is lost too; repeating it is harmless.
      await this.env.COMPLETIONS.send({
        type: "prediction",
        source: "poll",
        prediction: queuedPrediction(prediction),
        receivedAt: Date.now(),
      } satisfies CompletionMessage);
      this.ctx.storage.sql.exec(
        "UPDATE jobs SET due_at = ? WHERE generation_id = ?",
        Date.now() + 60_000,
        job.generation_id,
      );
      return;
    }
    if (job.submitted_at && Date.now() - job.submitted_at > RUN_DEADLINE_MS) {
      await this.gateway()
        .cancelPrediction(job.prediction_id)
        .catch(() => undefined);
      await this.finish(job.generation_id, {
        status: "timed_out",
        error: "The prediction ran for more than 35 minutes and was stopped.",
        startedAt: parseTime(prediction.started_at),
        completedAt: new Date(),
        cost: null,
        predictSeconds: null,
      });
      return;
    }
    await this.applyPrediction(job.generation_id, prediction, { generation });
    this.ctx.storage.sql.exec(
      "UPDATE jobs SET due_at = ? WHERE generation_id = ?",
      Date.now() + this.pollInterval(),
      job.generation_id,
    );
  }

  /**
   * Sets the alarm for the earliest work: a poll that is due, progress to write to D1, or a waiting
   * generation that could be submitted now (only counted while a slot is free, so a full queue does not spin).
   */
  private async scheduleAlarm(at?: number): Promise<void> {
    // One statement: the room runs this after nearly every change, so each one more is felt.
    const { nextPoll, nextSubmit, nextWrite } = this.ctx.storage.sql
      .exec<{ nextPoll: number | null; nextSubmit: number | null; nextWrite: number | null }>(
        `SELECT
           (SELECT min(due_at) FROM jobs WHERE state = 'active') AS nextPoll,
           CASE WHEN (SELECT count(*) FROM jobs WHERE state = 'active') < ?
             THEN (SELECT min(due_at) FROM jobs WHERE ${READY_TO_SUBMIT}) END AS nextSubmit,
           (SELECT min(coalesce(written_at, 0)) + ? FROM jobs
             WHERE state = 'active' AND pushed_progress > coalesce(known_progress, 0)) AS nextWrite`,
        this.concurrency,
        PROGRESS_WRITE_INTERVAL_MS,
      )
      .one();
    const candidates = [at, nextPoll, nextSubmit, nextWrite].filter(
      (value): value is number => typeof value === "number",
    );
    const next = candidates.length ? Math.min(...candidates) : null;
    if (next === null) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const current = await this.ctx.storage.getAlarm();
    if (current === null || next < current || at === undefined)
      await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }
}
