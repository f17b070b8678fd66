// One stream subscription with the contract's reconnect schedule and resume without loss.
import type {
  AgentStreamMessage,
  ClientMessage,
  LiveUpdatesMessage,
  RealtimeMetricsMessage,
} from "./generated/ws.js";
import type { TokenSource } from "./rest.js";

export type AgentId = "pricing_agent" | "inventory_agent" | "promotion_agent";
export type StreamName = "live-updates" | "metrics/real-time" | `agents/${string}/status`;
export type MessageFor<S extends StreamName> = S extends "live-updates"
  ? LiveUpdatesMessage
  : S extends "metrics/real-time"
    ? RealtimeMetricsMessage
    : AgentStreamMessage;

export type StreamState = "connecting" | "open" | "reconnecting" | "closed";
export interface StateChange {
  state: StreamState;
  /** the close code and reason that caused the change, when one did */
  code?: number;
  reason?: string;
  /** failed attempts in a row; the next try waits `delayMs` */
  attempt: number;
  delayMs?: number;
}
/** What the client could not see: reload the state by REST (alerts, interventions, history). */
export interface Gap {
  epoch: number;
  /** the last offset received before the gap, when there was one */
  lastOffset?: number;
  reason: "not-recovered" | "offset-skipped";
}
export interface Cursor {
  epoch: number;
  offset: number;
}

export interface StreamOptions<S extends StreamName> {
  /** http(s):// or ws(s):// origin of the API, e.g. http://localhost:8000 */
  baseUrl: string;
  onMessage: (message: MessageFor<S>) => void;
  onState?: (change: StateChange) => void;
  onGap?: (gap: Gap) => void;
  /** asked before every connection: the JWT goes as the subprotocol pair ["bearer", token] */
  getToken?: TokenSource;
  /** defaults: 1000 ms, doubling to 30000 ms, +-20% jitter */
  initialDelayMs?: number;
  maxDelayMs?: number;
  jitter?: number;
  random?: () => number;
  /** a WebSocket constructor (the global one by default) */
  WebSocket?: typeof WebSocket;
}

export interface StreamHandle {
  readonly state: StreamState;
  /** the last live-updates event position received (resume point) */
  readonly cursor: Cursor | null;
  ping(): void;
  close(): void;
}

/** Close codes after which trying again cannot help: unknown agent, a frame too big, a normal end. */
const TERMINAL = new Set([1000, 4004, 1009]);

export function openStream<S extends StreamName>(stream: S, options: StreamOptions<S>): StreamHandle {
  const initial = options.initialDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30000;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const Socket = options.WebSocket ?? globalThis.WebSocket;
  const root = options.baseUrl.replace(/^http/, "ws").replace(/\/$/, "");
  let state: StreamState = "connecting";
  let attempt = 0;
  let cursor: Cursor | null = null;
  let socket: WebSocket | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const change = (next: StreamState, extra: Partial<StateChange> = {}) => {
    state = next;
    options.onState?.({ state: next, attempt, ...extra });
  };

  const delayFor = (n: number, atMax: boolean) => {
    const base = atMax ? max : Math.min(max, initial * 2 ** n);
    return Math.round(base * (1 + jitter * (2 * random() - 1)));
  };

  const receive = (message: MessageFor<S> & { type: string }) => {
    if (message.type === "connection_established") {
      const hello = message as Extract<LiveUpdatesMessage, { type: "connection_established" }>;
      if (cursor && hello.recovered === false) {
        options.onGap?.({ epoch: hello.epoch, lastOffset: cursor.offset, reason: "not-recovered" });
      }
      if (!cursor || hello.recovered !== true) cursor = { epoch: hello.epoch, offset: hello.offset };
    } else if ("offset" in message && typeof message.offset === "number" && cursor) {
      const { epoch, offset } = message as { epoch: number; offset: number };
      if (epoch === cursor.epoch && offset <= cursor.offset) return; // seen already
      if (epoch === cursor.epoch && offset > cursor.offset + 1) {
        options.onGap?.({ epoch, lastOffset: cursor.offset, reason: "offset-skipped" });
      }
      cursor = { epoch, offset };
    }
    options.onMessage(message);
  };

  const connect = async () => {
    timer = null;
    if (stopped) return;
    const token = await options.getToken?.();
    if (stopped) return;
    const since = stream === "live-updates" && cursor ? `?since=${cursor.epoch}:${cursor.offset}` : "";
    const ws = token
      ? new Socket(`${root}/api/dashboard/ws/${stream}${since}`, ["bearer", token])
      : new Socket(`${root}/api/dashboard/ws/${stream}${since}`);
    socket = ws;
    let greeted = false;
    ws.onmessage = (event) => {
      if (socket !== ws) return;
      if (!greeted) {
        greeted = true;
        attempt = 0; // a successful connection: the schedule starts again at 1 s
        change("open");
      }
      receive(JSON.parse(String(event.data)));
    };
    const lost = (code: number, reason: string) => {
      if (socket !== ws) return; // this socket's end was handled already
      socket = null;
      if (stopped) return;
      const auth = code === 1008 && /token/i.test(reason);
      const origin = code === 1008 && /origin/i.test(reason);
      if (TERMINAL.has(code) || origin || (auth && !options.getToken)) {
        change("closed", { code, reason });
        return;
      }
      // a policy close other than the token (too many connections or messages): wait the longest
      const delayMs = delayFor(attempt, code === 1008 && !auth);
      attempt += 1;
      change("reconnecting", { code, reason, delayMs });
      timer = setTimeout(connect, delayMs);
    };
    ws.onclose = (event) => lost(event.code, event.reason);
    // a connection that fails (refused, reset) may report only an error (Node 20's WebSocket)
    ws.onerror = () => {
      lost(1006, "");
      try {
        ws.close();
      } catch {
        // already closing
      }
    };
  };

  change("connecting");
  void connect();

  return {
    get state() {
      return state;
    },
    get cursor() {
      return cursor;
    },
    ping() {
      const ping: ClientMessage = { type: "ping" };
      if (socket?.readyState === 1) socket.send(JSON.stringify(ping));
    },
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.close(1000);
      socket = null;
      change("closed");
    },
  };
}
