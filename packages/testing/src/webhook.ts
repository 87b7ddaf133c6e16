import http from 'node:http';
import https from 'node:https';
import type { Clock, ClockTimer } from '@botkit/core';
import type { StoredUpdate, UpdateQueue } from './update-queue.js';

/** The webhook as set by `setWebhook`. */
export interface WebhookConfig {
  readonly url: string;
  readonly secretToken: string | undefined;
  readonly maxConnections: number;
  readonly hasCustomCertificate: boolean;
  readonly ipAddress: string | undefined;
  /** The self-signed certificate uploaded with setWebhook: trusted for https deliveries. */
  readonly ca: Buffer | undefined;
}

/**
 * One attempt to deliver an update to the webhook, as recorded in
 * {@link BotApiEmulator.webhookDeliveries}.
 *
 * @example
 * ```ts
 * const failures = emulator.webhookDeliveries.filter((d) => !d.ok);
 * console.log(failures.map((d) => `${d.updateId}#${d.attempt}: ${d.error}`));
 * ```
 */
export interface WebhookDelivery {
  /** The delivered update's `update_id`. */
  readonly updateId: number;
  /** 1 for the first attempt, 2 for the first retry... */
  readonly attempt: number;
  /** Clock time (epoch ms) the request started. */
  readonly startedAt: number;
  /** Clock time (epoch ms) the outcome was known. */
  readonly finishedAt: number;
  /** Whether the webhook answered 2xx (the update is then confirmed). */
  readonly ok: boolean;
  /** The HTTP status, when the webhook answered. */
  readonly statusCode?: number | undefined;
  /** The error as `getWebhookInfo.last_error_message` reports it, when it failed. */
  readonly error?: string | undefined;
  /** `Retry-After` header of the failed response, in seconds. */
  readonly retryAfterSeconds?: number | undefined;
  /** Clock time (epoch ms) of the next attempt, or undefined (delivered, or dropped because expired). */
  readonly nextAttemptAt?: number | undefined;
  /** True when the update was dropped because its lifetime would end before the next attempt. */
  readonly dropped?: boolean | undefined;
}

export interface WebhookDelivererDeps {
  clock: Clock;
  queue: UpdateQueue;
  timeoutMs: number;
  /** Upper bound of the backoff, picked per failure in [maxRetryDelayMs, 2 * maxRetryDelayMs]. */
  maxRetryDelayMs: number;
  random: () => number;
  /** When it returns a message, deliveries fail with it without connecting. */
  unreachable: () => string | undefined;
  /** A method the webhook answered with (webhook reply). */
  onReply: (method: string, params: Record<string, unknown>) => void;
  record: (delivery: WebhookDelivery) => void;
  /** The webhook answered 410 Gone for longer than 23 h: the server deletes the webhook. */
  onGone: () => void;
}

interface PostResult {
  statusCode?: number;
  statusMessage?: string;
  retryAfter?: number;
  body?: string;
  contentType?: string;
  error?: string;
}

const SUCCESS_WINDOW_MS = 10_000;
const GONE_CLOSES_AFTER_MS = 23 * 3600_000;
const MAX_RETRY_AFTER_SECONDS = 3600;
const READ_TIMEOUT = 'Read timeout expired';
const FORBIDDEN_REPLY_METHODS = new Set(['deletewebhook', 'setwebhook', 'close', 'logout']);

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'Connection refused';
    case 'ECONNRESET':
      return 'Connection reset by peer';
    case 'EPIPE':
      return 'Broken pipe';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'Failed to resolve host: Name or service not known';
    case 'ETIMEDOUT':
    case 'ECONNABORTED':
      return 'Connection timed out';
    case 'EHOSTUNREACH':
      return 'No route to host';
    default:
      if (typeof code === 'string' && /CERT|SELF_SIGNED|TLS|SSL/.test(code)) {
        return 'SSL error {error:0A000086:SSL routines::certificate verify failed}';
      }
      return 'Webhook connection closed';
  }
}

/**
 * Delivers pending updates to the webhook with the official server's rules: one update at a
 * time per ordering key, up to `max_connections` at once (one while no delivery succeeded in
 * the last 10 s), retry immediately, then after 2, 4, 8... s capped at 60-120 s, `Retry-After`
 * honoured, updates dropped when they would expire before the next attempt.
 */
export class WebhookDeliverer {
  readonly #deps: WebhookDelivererDeps;
  #config: WebhookConfig | undefined;
  #generation = 0;
  #timer: ClockTimer | undefined;
  #immediate: NodeJS.Immediate | undefined;
  readonly #inFlight = new Map<number, { abort: () => void }>();
  #lastSuccessAt = Number.NEGATIVE_INFINITY;
  #first410At: number | undefined;
  lastErrorDate: number | undefined;
  lastErrorMessage: string | undefined;

  constructor(deps: WebhookDelivererDeps) {
    this.#deps = deps;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** Starts delivering to a (new) webhook; aborts deliveries to the previous one. */
  start(config: WebhookConfig): void {
    this.stop();
    this.#config = config;
    this.#lastSuccessAt = Number.NEGATIVE_INFINITY;
    this.#first410At = undefined;
    this.pump();
  }

  /** Stops delivering: aborts requests in flight (their updates stay pending), clears timers. */
  stop(): void {
    this.#generation++;
    this.#config = undefined;
    for (const request of this.#inFlight.values()) request.abort();
    this.#inFlight.clear();
    for (const update of this.#deps.queue.pending(Number.NEGATIVE_INFINITY)) update.inFlight = false;
    if (this.#timer) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = undefined;
  }

  /** Forgets the last error (a new webhook starts clean). */
  resetErrors(): void {
    this.lastErrorDate = undefined;
    this.lastErrorMessage = undefined;
  }

  /** Schedules a pump on the next turn of the event loop. */
  wake(): void {
    if (!this.#config || this.#immediate) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      this.pump();
    });
    this.#immediate.unref();
  }

  /** Sends every update that is due, up to the connection limit, and arms a timer for the rest. */
  pump(): void {
    const config = this.#config;
    if (!config) return;
    const { clock, queue } = this.#deps;
    if (this.#timer) clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = clock.now();
    const heads = new Map<string, StoredUpdate>();
    for (const update of queue.pending(now)) if (!heads.has(update.key)) heads.set(update.key, update);
    const candidates = [...heads.values()]
      .filter((u) => !u.inFlight)
      .sort((a, b) => a.wakeupAt - b.wakeupAt || a.id - b.id);
    const limit = now - this.#lastSuccessAt <= SUCCESS_WINDOW_MS ? config.maxConnections : 1;
    let nextWake = Number.POSITIVE_INFINITY;
    for (const update of candidates) {
      if (update.wakeupAt > now) {
        nextWake = Math.min(nextWake, update.wakeupAt);
        continue;
      }
      if (this.#inFlight.size >= limit) break;
      this.#deliver(config, update);
    }
    if (nextWake < Number.POSITIVE_INFINITY) {
      this.#timer = clock.setTimeout(() => {
        this.#timer = undefined;
        this.pump();
      }, nextWake - now);
      this.#timer.unref();
    }
  }

  #deliver(config: WebhookConfig, update: StoredUpdate): void {
    const { clock } = this.#deps;
    const generation = this.#generation;
    const attempt = update.failCount + 1;
    const startedAt = clock.now();
    update.inFlight = true;
    let abort: () => void = () => {};
    const aborted = new Promise<PostResult>((resolve) => {
      abort = () => resolve({ error: 'aborted' });
    });
    this.#inFlight.set(update.id, { abort: () => abort() });
    const unreachable = this.#deps.unreachable();
    const outcome: Promise<PostResult> =
      unreachable !== undefined
        ? Promise.resolve({ error: unreachable })
        : Promise.race([this.#post(config, update, aborted), aborted]);
    void outcome.then((result) => {
      if (generation !== this.#generation) return;
      this.#inFlight.delete(update.id);
      update.inFlight = false;
      this.#finish(update, attempt, startedAt, result);
      this.wake();
    });
  }

  #finish(update: StoredUpdate, attempt: number, startedAt: number, r: PostResult): void {
    const { clock, queue } = this.#deps;
    const now = clock.now();
    const ok = r.statusCode !== undefined && r.statusCode >= 200 && r.statusCode <= 299;
    if (!queue.has(update.id)) return; // dropped meanwhile (drop_pending_updates)
    if (ok) {
      this.#lastSuccessAt = now;
      queue.forget(update.id);
      this.#deps.record({ updateId: update.id, attempt, startedAt, finishedAt: now, ok, statusCode: r.statusCode });
      this.#first410At = undefined;
      this.#reply(r);
      return;
    }
    const error = r.error ?? `Wrong response from the webhook: ${r.statusCode} ${r.statusMessage ?? ''}`.trimEnd();
    this.lastErrorDate = Math.floor(now / 1000);
    this.lastErrorMessage = error;
    // The official server's schedule: the first failure is retried at once, then the delay
    // doubles from 2 s up to a random cap in [60, 120] s; Retry-After replaces the delay.
    const retryAfter = Math.min(Math.max(r.retryAfter ?? 0, 0), MAX_RETRY_AFTER_SECONDS);
    let nextDelay = update.delaySeconds;
    let effective = retryAfter;
    if (retryAfter === 0 && update.failCount > 0) {
      const capMs = this.#deps.maxRetryDelayMs * (1 + this.#deps.random());
      nextDelay = Math.min(capMs / 1000, nextDelay * 2);
      effective = nextDelay;
    }
    const base = {
      updateId: update.id,
      attempt,
      startedAt,
      finishedAt: now,
      ok: false,
      statusCode: r.statusCode,
      error,
      retryAfterSeconds: r.retryAfter,
    };
    if (now + effective * 1000 > update.expiresAt) {
      queue.forget(update.id);
      this.#deps.record({ ...base, dropped: true });
    } else {
      update.delaySeconds = nextDelay;
      update.failCount++;
      update.wakeupAt = now + effective * 1000;
      this.#deps.record({ ...base, nextAttemptAt: update.wakeupAt });
    }
    // 410 Gone answered for longer than 23 h makes the server delete the webhook.
    if (r.statusCode === 410) {
      this.#first410At ??= now;
      if (now > this.#first410At + GONE_CLOSES_AFTER_MS) this.#deps.onGone();
    } else if (r.statusCode !== undefined) {
      this.#first410At = undefined;
    }
  }

  #reply(r: PostResult): void {
    if (!r.body) return;
    let params: Record<string, unknown> | undefined;
    const type = (r.contentType ?? '').toLowerCase();
    try {
      if (type.includes('application/x-www-form-urlencoded')) {
        params = Object.fromEntries(new URLSearchParams(r.body));
      } else {
        const parsed = JSON.parse(r.body) as unknown;
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          params = parsed as Record<string, unknown>;
        }
      }
    } catch {
      return;
    }
    const method = params?.method;
    if (typeof method !== 'string' || method === '') return;
    const lower = method.toLowerCase();
    if (FORBIDDEN_REPLY_METHODS.has(lower) || lower.startsWith('get')) return;
    const { method: _, ...rest } = params as Record<string, unknown>;
    this.#deps.onReply(method, rest);
  }

  #post(config: WebhookConfig, update: StoredUpdate, aborted: Promise<PostResult>): Promise<PostResult> {
    const { clock, timeoutMs } = this.#deps;
    return new Promise<PostResult>((resolve) => {
      let url: URL;
      try {
        url = new URL(config.url);
      } catch {
        resolve({ error: 'Failed to resolve host: Name or service not known' });
        return;
      }
      const body = JSON.stringify(update.update);
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'accept-encoding': 'identity',
      };
      if (config.secretToken) headers['x-telegram-bot-api-secret-token'] = config.secretToken;
      if (url.username || url.password) {
        headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      }
      const transport = url.protocol === 'https:' ? https : http;
      let settled = false;
      const finish = (result: PostResult) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        resolve(result);
      };
      const request = transport.request(
        url,
        { method: 'POST', headers, agent: false, ...(config.ca ? { ca: config.ca } : {}) },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => finish({ error: describeNetworkError(error) }));
          response.on('end', () => {
            const retryHeader = response.headers['retry-after'];
            const retryAfter = retryHeader !== undefined ? Number.parseInt(String(retryHeader), 10) : undefined;
            finish({
              statusCode: response.statusCode ?? 0,
              statusMessage: response.statusMessage ?? http.STATUS_CODES[response.statusCode ?? 0] ?? '',
              ...(retryAfter !== undefined && Number.isFinite(retryAfter) ? { retryAfter } : {}),
              body: Buffer.concat(chunks).toString('utf8'),
              contentType: String(response.headers['content-type'] ?? ''),
            });
          });
        },
      );
      const timer = clock.setTimeout(() => {
        finish({ error: READ_TIMEOUT });
        request.destroy();
      }, timeoutMs);
      timer.unref();
      request.on('error', (error) => finish({ error: describeNetworkError(error) }));
      void aborted.then(() => {
        finish({ error: 'aborted' });
        request.destroy();
      });
      request.end(body);
    });
  }
}
