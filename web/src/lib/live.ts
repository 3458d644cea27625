/**
 * A resilient WebSocket for the live session channel.
 *
 * - The URL is the session's live channel (`wss:` on https, same host: cookies go along).
 * - Every message is parsed with the shared `liveServerMessageSchema`; anything else is dropped.
 * - A `ping` goes out every 25 s so idle proxies keep the socket open.
 * - When the socket closes for any reason other than `close()`, it reconnects with exponential
 *   backoff and jitter (0.5 s → 30 s). Before each retry `canReconnect` may veto it (the session was
 *   deleted, the person signed out). Coming back online or to the tab retries at once.
 */
import { type LiveClientMessage, type LiveServerMessage, liveServerMessageSchema } from "@contract/live";

export type LiveConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export type LiveSocketOptions = {
  /** The channel's `ws:`/`wss:` URL. */
  url: string;
  onMessage: (message: LiveServerMessage) => void;
  onStateChange?: (state: LiveConnectionState) => void;
  /** Asked before every reconnect attempt; resolve `false` to give up for good. */
  canReconnect?: () => Promise<boolean>;
  pingIntervalMs?: number;
};

export type LiveSocket = {
  send: (message: LiveClientMessage) => boolean;
  /** Reconnect now if the socket is down (resets the backoff). */
  retryNow: () => void;
  close: () => void;
};

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const DEFAULT_PING_MS = 25_000;

export function openLiveSocket(options: LiveSocketOptions): LiveSocket {
  let socket: WebSocket | null = null;
  let attempt = 0;
  let stopped = false;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let state: LiveConnectionState | null = null;

  const setState = (next: LiveConnectionState) => {
    if (next === state) return;
    state = next;
    options.onStateChange?.(next);
  };

  const clearTimers = () => {
    if (pingTimer !== undefined) clearInterval(pingTimer);
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    pingTimer = undefined;
    retryTimer = undefined;
  };

  const send = (message: LiveClientMessage): boolean => {
    if (socket?.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  };

  const connect = () => {
    if (stopped) return;
    setState(attempt === 0 ? "connecting" : "reconnecting");
    const ws = new WebSocket(options.url);
    socket = ws;

    ws.addEventListener("open", () => {
      if (socket !== ws) return;
      attempt = 0;
      setState("open");
      pingTimer = setInterval(() => send({ type: "ping" }), options.pingIntervalMs ?? DEFAULT_PING_MS);
    });

    ws.addEventListener("message", (event: MessageEvent<unknown>) => {
      if (socket !== ws || typeof event.data !== "string") return;
      let raw: unknown;
      try {
        raw = JSON.parse(event.data);
      } catch {
        console.warn("Live: dropped a message that isn't JSON");
        return;
      }
      const parsed = liveServerMessageSchema.safeParse(raw);
      if (!parsed.success) {
        console.warn("Live: dropped a message outside the contract", parsed.error.issues, raw);
        return;
      }
      options.onMessage(parsed.data);
    });

    // `error` is always followed by `close`; reconnecting is handled there.
    ws.addEventListener("close", () => {
      if (socket !== ws) return;
      socket = null;
      clearTimers();
      if (stopped) return;
      scheduleReconnect();
    });
  };

  const scheduleReconnect = () => {
    setState("reconnecting");
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    attempt += 1;
    retryTimer = setTimeout(() => void reconnect(), delay);
  };

  const reconnect = async () => {
    retryTimer = undefined;
    if (stopped || socket) return;
    if (options.canReconnect) {
      let allowed = true;
      try {
        allowed = await options.canReconnect();
      } catch {
        allowed = true; // Unsure (offline, 5xx): keep trying with backoff.
      }
      if (stopped || socket) return;
      if (!allowed) {
        close();
        return;
      }
    }
    connect();
  };

  const retryNow = () => {
    if (stopped || socket) return;
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    attempt = 0;
    void reconnect();
  };

  const onOnline = () => retryNow();
  const onVisible = () => {
    if (document.visibilityState === "visible") retryNow();
  };
  window.addEventListener("online", onOnline);
  document.addEventListener("visibilitychange", onVisible);

  const close = () => {
    if (stopped) return;
    stopped = true;
    clearTimers();
    window.removeEventListener("online", onOnline);
    document.removeEventListener("visibilitychange", onVisible);
    const ws = socket;
    socket = null;
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) ws.close(1000, "done");
    setState("closed");
  };

  connect();
  return { send, retryNow, close };
}
