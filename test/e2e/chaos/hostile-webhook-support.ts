/**
 * The attacker's tools of the hostile-webhook scenario: raw HTTP requests to the bot's webhook
 * port (node:http and node:net, no Telegram client), and slowloris connections that trickle a
 * request and never finish it.
 */
import { type ClientRequest, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Ledger } from './kit.js';

/** How one hostile request ended: the HTTP status, or a network error, or no answer in time. */
export interface Outcome {
  status?: number | undefined;
  /** `allow` header of the answer (405). */
  allow?: string | undefined;
  error?: string | undefined;
  timedOut?: boolean;
}

/** What the attacker sends: method, path, headers, and a body (string, or a stream of `streamBytes` bytes). */
export interface HostileRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Streams this many bytes of `x` in 64 KiB chunks (chunked unless `content-length` is given), stopping at the answer. */
  streamBytes?: number;
}

const CHUNK = Buffer.alloc(64 * 1024, 'x');

/**
 * Sends one request to 127.0.0.1:`port` on a fresh connection and resolves with the answer's
 * status as soon as it arrives (errors after that are ignored), a network error, or `timedOut`
 * after `timeoutMs`.
 */
export function send(port: number, spec: HostileRequest, timeoutMs = 10_000): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = request(
      { host: '127.0.0.1', port, method: spec.method, path: spec.path, headers: spec.headers ?? {}, agent: false },
      (res) => {
        const allow = res.headers.allow;
        res.on('error', () => {});
        res.resume();
        res.on('end', () => req.destroy());
        finish({ status: res.statusCode, allow });
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => finish({ error: error.code ?? error.message }));
    const timer = setTimeout(() => {
      finish({ timedOut: true });
      req.destroy();
    }, timeoutMs);
    if (spec.streamBytes === undefined) {
      req.end(spec.body);
      return;
    }
    void (async () => {
      for (let sent = 0; sent < spec.streamBytes! && !done && !req.destroyed; sent += CHUNK.length) {
        if (!req.write(CHUNK)) await writable(req);
      }
      if (!done && !req.destroyed) req.end();
    })();
  });
}

/** Resolves when `req` takes more data again or was closed (listeners removed either way). */
function writable(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.once('drain', done);
    req.once('close', done);
  });
}

/** A connection that sends part of a request, a byte at a time, and never completes it. */
export interface Slowloris {
  /** Bytes trickled so far. */
  readonly bytesSent: number;
  /** Whether the server sent anything back (it must not: the request is incomplete). */
  readonly answered: boolean;
  /** Whether the server closed the connection. */
  readonly closed: boolean;
  /** Resolves when the server closed the connection. */
  readonly closedPromise: Promise<void>;
  /** Stops trickling and closes the connection (cleanup). */
  stop(): void;
}

/**
 * Opens a slowloris connection to 127.0.0.1:`port`: writes `head` at once, then one byte of
 * `trickle` (repeated) every `everyMs`, forever. `head` ends inside the headers or inside a body
 * whose declared length is never reached.
 */
export function slowloris(port: number, head: string, trickle = 'x', everyMs = 200): Slowloris {
  let bytesSent = 0;
  let answered = false;
  let closed = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  const socket: Socket = connect(port, '127.0.0.1');
  const closedPromise = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      if (timer) clearInterval(timer);
      resolve();
    }),
  );
  socket.on('error', () => {});
  socket.on('data', () => {
    answered = true;
  });
  socket.once('connect', () => {
    socket.write(head);
    bytesSent += head.length;
    let i = 0;
    timer = setInterval(() => {
      if (socket.destroyed) return;
      socket.write(trickle[i++ % trickle.length]!);
      bytesSent += 1;
    }, everyMs);
  });
  return {
    get bytesSent() {
      return bytesSent;
    },
    get answered() {
      return answered;
    },
    get closed() {
      return closed;
    },
    closedPromise,
    stop() {
      if (timer) clearInterval(timer);
      socket.destroy();
    },
  };
}

/** A {@link Ledger} that also keeps each sent update's JSON (to replay it) and when it was sent. */
export class RecordingLedger extends Ledger {
  /** update_id -> the update exactly as the emulator queued it, as JSON. */
  readonly json = new Map<number, string>();
  /** update_id -> performance.now() when it was sent. */
  readonly sentAt = new Map<number, number>();
  /** update_id -> performance.now() when it was first handled. */
  readonly handledAt = new Map<number, number>();

  /** Sends like {@link Ledger.send} and records the update's JSON and send time. */
  override send(chatId: number, text: string): number {
    const id = super.send(chatId, text);
    const update = this.emulator.pendingUpdates.at(-1);
    this.json.set(id, JSON.stringify(update));
    this.sentAt.set(id, performance.now());
    return id;
  }

  /** Records the first handling time, then counts like {@link Ledger.onHandled}. */
  readonly onHandledTimed = (updateId: number): void => {
    if (!this.handledAt.has(updateId)) this.handledAt.set(updateId, performance.now());
    this.onHandled(updateId);
  };

  /** The `q` quantile (0..1) of send-to-handled latency in ms over handled updates. */
  latencyQuantile(q: number): number {
    const latencies = [...this.handledAt].map(([id, at]) => at - (this.sentAt.get(id) ?? at)).sort((a, b) => a - b);
    if (latencies.length === 0) return 0;
    return latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  }
}
