/**
 * Webhook signing (Standard Webhooks / Svix scheme, `replicate-api.md` §3.2) and delivery.
 *
 * Every message is recorded (the control API lists them so tests can replay them against a Worker
 * that this process can't reach). With delivery on, messages are POSTed; the terminal (`completed`)
 * one is retried with exponential backoff on network errors and non-2xx answers, keeping its
 * `webhook-id`; other events are never retried. Retries are scheduled on the emulator clock.
 */
import { createHmac } from "node:crypto";
import type { WebhookEvent } from "./faults";

/** Default signing secret: `whsec_` + base64 of 24 fixed bytes (stable across runs). */
export const DEFAULT_WEBHOOK_SECRET = "whsec_RB/y5SrsLx+fTrSGsmqGhp/w9UWBaWOV";

/** Delays after failed attempts 1..5 of a terminal webhook: 6 tries, the last ≈ 60 s after the first. */
export const TERMINAL_RETRY_DELAYS_MS: readonly number[] = [2_000, 4_000, 8_000, 16_000, 30_000];

const SEND_TIMEOUT_MS = 5_000;

/** `v1,<base64 HMAC-SHA256("${id}.${timestamp}.${body}")>` with key = base64-decode(secret after `whsec_`). */
export function signWebhook(secret: string, webhookId: string, timestamp: number | string, body: string): string {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
  const mac = createHmac("sha256", key).update(`${webhookId}.${timestamp}.${body}`).digest("base64");
  return `v1,${mac}`;
}

export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
  "content-type": string;
}

/** One signed message, before any delivery decision. */
export interface WebhookMessage {
  predictionId: string;
  event: WebhookEvent;
  url: string;
  webhookId: string;
  /** Emulator time (ms) of the event; the body is the prediction as of this moment. */
  eventAt: number;
  headers: WebhookHeaders;
  body: string;
  /** `status` of the prediction in the body. */
  status: string;
  terminal: boolean;
}

export interface DeliveryAttempt {
  at: number;
  status?: number;
  error?: string;
}

/** A recorded delivery, as listed by `GET /__control/webhooks`. */
export interface WebhookDelivery extends Omit<WebhookMessage, "terminal"> {
  seq: number;
  attempts: DeliveryAttempt[];
  delivered: boolean;
  dropped: boolean;
}

export function signMessage(
  secret: string,
  fields: {
    predictionId: string;
    event: WebhookEvent;
    url: string;
    webhookId: string;
    eventAt: number;
    body: string;
    status: string;
    terminal: boolean;
  },
): WebhookMessage {
  const timestamp = String(Math.floor(fields.eventAt / 1000));
  return {
    ...fields,
    headers: {
      "webhook-id": fields.webhookId,
      "webhook-timestamp": timestamp,
      "webhook-signature": signWebhook(secret, fields.webhookId, timestamp, fields.body),
      "content-type": "application/json",
    },
  };
}

interface Pending {
  message: WebhookMessage;
  dueAt: number;
  order: number;
  record: WebhookDelivery | undefined;
}

export class WebhookDispatcher {
  private readonly records: WebhookDelivery[] = [];
  private pending: Pending[] = [];
  /** Sends in flight (a stepped tick waits for them). */
  private readonly sending = new Set<Promise<void>>();
  private nextSeq = 1;
  private nextOrder = 1;
  /** Bumped by clear(), so sends still in flight during a reset don't schedule retries. */
  private epoch = 0;
  /** Where messages are sent instead of their URL's own origin (path and query kept); null: as addressed. */
  private origin: string | null = null;

  constructor(private readonly deliver: boolean) {}

  /** Schedules a send at emulator time `dueAt`. */
  enqueue(message: WebhookMessage, dueAt: number): void {
    this.pending.push({ message, dueAt, order: this.nextOrder++, record: undefined });
  }

  /** Records a message that a fault swallowed. */
  recordDropped(message: WebhookMessage): void {
    this.records.push(this.newRecord(message, true));
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Starts sending everything due at or before `now`, and returns when those sends are done (null
   * when nothing was due). `independent`: every message on its own, as Replicate sends them (no
   * order is promised, replicate-api.md §3.1), so a receiver slow to answer one webhook holds up no
   * other, not even the next one of the same prediction. `inOrder`: each prediction's messages one
   * after another, what a test stepping the clock wants.
   */
  dispatchDue(now: number, mode: "independent" | "inOrder"): Promise<void> | null {
    const due = this.pending.filter((item) => item.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt || a.order - b.order);
    if (due.length === 0) return null;
    this.pending = this.pending.filter((item) => item.dueAt > now);
    // Sequence numbers follow send order, so they're assigned before any await.
    for (const item of due) {
      if (!item.record) {
        item.record = this.newRecord(item.message, false);
        this.records.push(item.record);
      }
    }
    const groups: Pending[][] = [];
    if (mode === "independent") {
      for (const item of due) groups.push([item]);
    } else {
      const byPrediction = new Map<string, Pending[]>();
      for (const item of due) {
        const list = byPrediction.get(item.message.predictionId) ?? [];
        list.push(item);
        byPrediction.set(item.message.predictionId, list);
      }
      groups.push(...byPrediction.values());
    }
    return Promise.all(
      groups.map(async (items) => {
        const sent = (async () => {
          for (const item of items) await this.attempt(item);
        })();
        this.sending.add(sent);
        try {
          await sent;
        } finally {
          this.sending.delete(sent);
        }
      }),
    ).then(() => undefined);
  }

  /**
   * Sends everything due at or before `now`, each prediction's messages in order, and waits for
   * those sends. Returns whether anything was processed; call again until false, since retries may
   * fall due.
   */
  async flushDue(now: number): Promise<boolean> {
    const sending = this.dispatchDue(now, "inOrder");
    if (!sending) return false;
    await sending;
    return true;
  }

  /** Resolves once no send started earlier is still in flight. */
  async idle(): Promise<void> {
    while (this.sending.size > 0) await Promise.all(this.sending);
  }

  list(filter: { predictionId?: string | undefined; event?: string | undefined } = {}): WebhookDelivery[] {
    return this.records
      .filter((record) => (filter.predictionId ? record.predictionId === filter.predictionId : true))
      .filter((record) => (filter.event ? record.event === filter.event : true))
      .sort((a, b) => a.seq - b.seq);
  }

  clear(): void {
    this.records.length = 0;
    this.pending = [];
    this.epoch += 1;
    this.origin = null;
  }

  /**
   * Sends every message to `origin` (path and query kept) instead of the one its webhook URL names;
   * null sends them as addressed again. For a receiver reached on an address other than the public
   * one it asked for (a local Worker's own socket behind wrangler's dev proxy, as Cloudflare's edge
   * would call it). Deliveries are still listed with the URL they were addressed to.
   */
  deliverTo(origin: string | null): void {
    this.origin = origin;
  }

  private newRecord(message: WebhookMessage, dropped: boolean): WebhookDelivery {
    return {
      seq: this.nextSeq++,
      predictionId: message.predictionId,
      event: message.event,
      url: message.url,
      webhookId: message.webhookId,
      eventAt: message.eventAt,
      headers: { ...message.headers },
      body: message.body,
      status: message.status,
      attempts: [],
      delivered: false,
      dropped,
    };
  }

  private async attempt(item: Pending): Promise<void> {
    const record = item.record;
    if (!record || !this.deliver) return;
    const epoch = this.epoch;
    const attempt: DeliveryAttempt = { at: item.dueAt };
    try {
      const url = new URL(item.message.url);
      if (this.origin) {
        const target = new URL(this.origin);
        url.protocol = target.protocol;
        url.host = target.host;
      }
      const response = await fetch(url, {
        method: "POST",
        headers: { ...item.message.headers, "user-agent": "Replicate-Emulator-Webhooks/1.0" },
        body: item.message.body,
        redirect: "manual",
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      // Read the (small) answer to the end: cancelling it mid-way resets the connection under the sender.
      await response.arrayBuffer();
      attempt.status = response.status;
      if (response.status >= 200 && response.status < 300) record.delivered = true;
    } catch (error) {
      attempt.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    record.attempts.push(attempt);
    if (epoch !== this.epoch) return;
    const retryDelay = TERMINAL_RETRY_DELAYS_MS[record.attempts.length - 1];
    if (!record.delivered && item.message.terminal && retryDelay !== undefined) {
      this.pending.push({ ...item, dueAt: item.dueAt + retryDelay, order: this.nextOrder++ });
    }
  }
}
