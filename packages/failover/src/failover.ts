import { createServer, type Server, type ServerResponse } from 'node:http';
import {
  type BotApi,
  type Clock,
  type ClockTimer,
  createBotApi,
  isBotkitError,
  type Logger,
  type Probe,
  type ProbeResult,
  redact,
  sleep,
  TelegramErrorCode,
} from '@botkit/core';
import { EventEmitter } from 'eventemitter3';
import type { Failover, FailoverEvents, FailoverMode } from './types.js';
import { toAdapter, type UpdateAdapter } from './adapters.js';
import { createWebhookDetector, type WebhookDetector } from './detection.js';
import { FailoverError, FailoverErrorCode, type FailoverErrorCodeValue } from './errors.js';
import { selfProbe } from './self-probe.js';
import { createSwitchPolicy, type SwitchPolicy } from './policy.js';
import { Poller } from './poller.js';
import { UpdateProcessor } from './processor.js';
import { createWebhookHandler, type HandlerTimeoutAction, type WebhookRequestHandler } from './webhook-handler.js';
import { type FailoverLease, type FailoverOptions, validateOptions, type ValidatedOptions } from './options.js';

class FailoverImpl extends EventEmitter<FailoverEvents> implements Failover {
  readonly #o: ValidatedOptions;
  readonly #api: BotApi;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #adapter: UpdateAdapter;
  readonly #processor: UpdateProcessor;
  readonly #poller: Poller;
  readonly #detector: WebhookDetector;
  readonly #policy: SwitchPolicy;
  readonly #lease: FailoverLease | undefined;
  readonly handler: WebhookRequestHandler;
  #mode: FailoverMode = 'stopped';
  #leader = false;
  #started: Promise<void> | undefined;
  readonly #startAbort = new AbortController();
  #stopping: Promise<void> | undefined;
  #server: Server | undefined;
  /** Answers of the webhook server not finished yet (their requests may still be arriving). */
  readonly #responses = new Set<ServerResponse>();
  #control: AbortController | undefined;
  #timer: ClockTimer | undefined;
  #queue: Promise<void> = Promise.resolve();
  #lastSwitchAt = 0;
  #lastRequestAt: number | undefined;
  #lastRedeliveryAt = Number.NEGATIVE_INFINITY;
  #webhookSetOnce = false;
  #lastPending: number | undefined;
  #foreignUrlReported: string | undefined;
  #leaseListeners: { acquired: () => void; lost: () => void } | undefined;

  constructor(options: FailoverOptions) {
    super();
    this.#o = validateOptions(options);
    this.#clock = this.#o.clock;
    this.#logger = this.#o.logger;
    this.#lease = this.#o.lease;
    this.#adapter = toAdapter(options.adapter);
    this.#api = createBotApi({ token: this.#o.token, apiRoot: this.#o.apiRoot, clock: this.#clock });
    this.#processor = new UpdateProcessor(
      this.#adapter,
      this.#o.dedupe,
      {
        received: (info) => {
          // A new update through the webhook proves Telegram reaches us...
          if (info.source === 'webhook') this.#lastRequestAt = this.#clock.now();
          this.emit('updateReceived', info);
        },
        duplicate: (info) => {
          // ...but a redelivery through the webhook proves Telegram did not get our answer.
          if (info.source === 'webhook') this.#lastRedeliveryAt = this.#clock.now();
          this.emit('duplicateSkipped', info);
        },
        error: (error) => this.#report(error),
      },
      this.#logger,
      this.#clock,
    );
    this.#detector = createWebhookDetector({ failuresToSwitch: this.#o.failuresToSwitch });
    this.#policy = createSwitchPolicy(this.#o.switching);
    this.#poller = new Poller({
      api: this.#api,
      processor: this.#processor,
      clock: this.#clock,
      logger: this.#logger,
      timeoutSeconds: this.#o.pollTimeoutSeconds,
      limit: this.#o.pollLimit,
      allowedUpdates: this.#o.allowedUpdates,
      onError: (error) => this.#report(this.#wrap(error, 'getUpdates failed')),
      onUnauthorized: (error) => this.#fatal(error),
      // isHeld turns false locally once ttlMs passed without renewal (and emits 'lost').
      mayPoll: () => !this.#lease || this.#lease.isHeld,
      onConflict: async (error) => {
        this.#report(
          new FailoverError(FailoverErrorCode.Conflict, 'getUpdates conflict: another poller or a webhook is active', {
            cause: error,
          }),
        );
        if (!this.#lease) return true;
        const held = await this.#lease.renew().catch(() => false);
        if (!held) this.#enqueue(() => this.#resign('lease lost after a getUpdates conflict'));
        return held;
      },
    });
    this.handler = createWebhookHandler({
      secretToken: this.#o.secretToken,
      path: this.#o.path,
      maxBodyBytes: this.#o.maxBodyBytes,
      handlerTimeoutMs: this.#o.handlerTimeoutMs,
      onHandlerTimeout: this.#o.onHandlerTimeout as HandlerTimeoutAction,
      clock: this.#clock,
      onUpdate: (update) => this.#processor.process(update, 'webhook'),
      onTimeout: (updateId) =>
        this.#report(
          new FailoverError(
            FailoverErrorCode.HandlerTimeout,
            `The bot's handler is still running on update ${updateId} after ${this.#o.handlerTimeoutMs} ms`,
            { updateId },
          ),
        ),
    });
  }

  get mode(): FailoverMode {
    return this.#mode;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  start(): Promise<void> {
    if (this.#stopping) return Promise.reject(new TypeError('Cannot start a failover that was stopped'));
    if (!this.#started) {
      const attempt = this.#start();
      this.#started = attempt.catch(() => {});
      return attempt.catch(async (error: unknown) => {
        await this.stop();
        throw this.#wrap(error, 'start failed');
      });
    }
    return this.#started;
  }

  async #start(): Promise<void> {
    // stop() aborts this: grammY's bot.init() retries network errors forever, so an unreachable
    // Telegram would otherwise keep start() (and a stop() waiting for it) pending for good.
    await this.#processor.init(this.#startAbort.signal);
    this.#startAbort.signal.throwIfAborted();
    if (this.#o.port !== undefined) {
      const server = createServer((req, res) => {
        this.#responses.add(res);
        res.once('close', () => this.#responses.delete(res));
        this.handler(req, res);
      });
      this.#server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.#o.port, this.#o.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    }
    if (this.#lease) {
      const lease = this.#lease;
      this.#leaseListeners = {
        acquired: () => this.#enqueue(() => this.#lead()),
        lost: () => this.#enqueue(() => this.#resign('lease lost')),
      };
      lease.on('acquired', this.#leaseListeners.acquired);
      lease.on('lost', this.#leaseListeners.lost);
      lease.start();
      if (lease.isHeld) this.#enqueue(() => this.#lead());
      this.#setMode('webhook', 'started as a follower: serving the webhook endpoint');
    } else {
      await this.#lead();
    }
  }

  // ---- leadership -------------------------------------------------------------------------

  async #lead(): Promise<void> {
    if (this.#leader || this.#stopping) return;
    this.#leader = true;
    this.#control = new AbortController();
    try {
      await this.#takeControl(this.#control.signal);
    } catch (error) {
      this.#leader = false;
      this.#control.abort(error);
      // Without a lease, start() rejects with the error. With one, report and try again later.
      if (!this.#lease || this.#stopping || isBotkitError(error, TelegramErrorCode.Unauthorized)) throw error;
      this.#report(this.#wrap(error, 'taking control failed; retrying', FailoverErrorCode.SwitchFailed));
      const retry = this.#clock.setTimeout(() => {
        if (this.#lease?.isHeld) this.#enqueue(() => this.#lead());
      }, this.#o.intervalMs);
      retry.unref();
    }
  }

  async #takeControl(signal: AbortSignal): Promise<void> {
    if (this.#lease && (this.#lease.fencingToken ?? 0) > 1) {
      // A takeover: if the previous leader had fallen back to polling, carry on polling.
      const info = await this.#api.call('getWebhookInfo', undefined, { signal });
      if (signal.aborted) return;
      if ((info.url ?? '') === '') {
        const now = this.#clock.now();
        this.#policy.recordFallback(now);
        this.#lastSwitchAt = now;
        this.#poller.start();
        this.#setMode('polling', 'lease acquired: the previous leader was polling');
        this.#schedule(this.#policy.nextReturnAt() - now, () => this.#toWebhook());
        return;
      }
    }
    const drop = this.#o.dropPendingUpdatesOnStart && !this.#webhookSetOnce;
    await this.#setWebhook(drop, signal);
    this.#detector.reset();
    this.#lastSwitchAt = this.#clock.now();
    this.#setMode('webhook', this.#lease ? 'lease acquired: webhook set' : 'started: webhook set');
    this.#schedule(this.#checkIntervalMs(), () => this.#check());
  }

  async #resign(reason: string): Promise<void> {
    if (!this.#leader) return;
    this.#leader = false;
    this.#control?.abort(new Error(reason));
    this.#clearTimer();
    // Without the lease another replica may poll now: no confirming call (dedupe covers redelivery).
    await this.#poller.stop({ confirm: false });
    this.#setMode('webhook', `${reason}: now a follower serving the webhook endpoint`);
  }

  // ---- control loop -----------------------------------------------------------------------

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((error: unknown) => {
      if (isBotkitError(error, TelegramErrorCode.Unauthorized)) this.#fatal(error);
      else if (!this.#control?.signal.aborted) this.#report(this.#wrap(error, 'failover step failed'));
    });
  }

  #schedule(ms: number, task: () => Promise<void>): void {
    this.#clearTimer();
    if (this.#stopping || !this.#leader) return;
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#enqueue(task);
      },
      Math.max(0, ms),
    );
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #check(): Promise<void> {
    if (!this.#leader || this.#stopping || this.#mode !== 'webhook') return;
    const signal = this.#control?.signal;
    try {
      const info = await this.#api.call('getWebhookInfo', undefined, signal ? { signal } : {});
      this.#lastPending = info.pending_update_count;
      const currentUrl = info.url ?? '';
      if (currentUrl !== this.#o.url) {
        // Someone else changed or deleted the webhook (a developer polling locally, another deploy).
        if (this.#foreignUrlReported !== currentUrl) {
          this.#foreignUrlReported = currentUrl;
          this.#report(
            new FailoverError(
              FailoverErrorCode.Conflict,
              `The webhook was changed outside this failover (now ${currentUrl === '' ? 'none' : redact(currentUrl, [this.#o.token, this.#o.secretToken])}); not touching it`,
            ),
          );
        }
      } else {
        this.#foreignUrlReported = undefined;
      }
      const verdict = this.#detector.observe({
        info,
        lastSwitchAt: this.#lastSwitchAt,
        lastWebhookRequestAt: this.#reachedRecently() ? this.#lastRequestAt : undefined,
      });
      if (verdict.status === 'appError') {
        this.#report(
          new FailoverError(
            FailoverErrorCode.WebhookAppError,
            `Telegram reports a webhook error caused by the app (no failover): ${redact(verdict.message, [this.#o.token, this.#o.secretToken])}`,
          ),
        );
      } else if (verdict.status === 'unhealthy') {
        const now = this.#clock.now();
        if (this.#o.selfProbe && (await this.#reachableFromHere())) {
          this.#detector.reset();
          this.#report(
            new FailoverError(
              FailoverErrorCode.WebhookAppError,
              `Telegram reports the webhook unreachable but the self-probe reached it: ${redact(verdict.reason, [this.#o.token, this.#o.secretToken])}`,
            ),
          );
        } else if (verdict.shouldSwitch || this.#policy.inProbation(now)) {
          await this.#toPolling(redact(verdict.reason, [this.#o.token, this.#o.secretToken]));
          return;
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (isBotkitError(error, TelegramErrorCode.Unauthorized)) throw error;
      this.#report(this.#wrap(error, 'getWebhookInfo failed'));
      this.#schedule(Math.max(this.#checkIntervalMs(), retryAfter(error)), () => this.#check());
      return;
    }
    this.#schedule(this.#checkIntervalMs(), () => this.#check());
  }

  /**
   * Whether requests reaching the endpoint count as proof that Telegram reaches us: not when
   * Telegram redelivered an update through the webhook lately (our answers get lost on the way,
   * e.g. a broken proxy that forwards requests but answers 502).
   */
  #reachedRecently(): boolean {
    const at = this.#lastRedeliveryAt;
    return !(at > this.#lastSwitchAt && this.#clock.now() - at <= 2 * this.#o.intervalMs);
  }

  #reachableFromHere(): Promise<boolean> {
    return selfProbe(this.#o.url, this.#o.secretToken, this.#o.selfProbeTimeoutMs, this.#clock);
  }

  #checkIntervalMs(): number {
    return this.#policy.inProbation(this.#clock.now()) ? this.#o.probationCheckMs : this.#o.intervalMs;
  }

  async #toPolling(reason: string): Promise<void> {
    const signal = this.#control?.signal;
    try {
      await this.#api.call('deleteWebhook', { drop_pending_updates: false }, signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) return;
      if (isBotkitError(error, TelegramErrorCode.Unauthorized)) throw error;
      this.#report(this.#wrap(error, 'deleteWebhook failed; will retry', FailoverErrorCode.SwitchFailed));
      this.#schedule(Math.max(this.#checkIntervalMs(), retryAfter(error)), () => this.#check());
      return;
    }
    const now = this.#clock.now();
    this.#policy.recordFallback(now);
    this.#detector.reset();
    this.#lastSwitchAt = now;
    // Let webhook handlers in flight finish first, so per-chat order holds across the switch.
    await this.#drainFor(this.#o.handlerTimeoutMs);
    if (!this.#leader || this.#stopping) return;
    this.#poller.start();
    this.#setMode('polling', reason);
    this.#schedule(this.#policy.nextReturnAt() - this.#clock.now(), () => this.#toWebhook());
  }

  async #toWebhook(): Promise<void> {
    if (!this.#leader || this.#stopping || this.#mode !== 'polling') return;
    const signal = this.#control?.signal;
    await this.#poller.stop(signal ? { signal } : {});
    if (signal?.aborted) return;
    try {
      await this.#setWebhook(false, signal);
    } catch (error) {
      if (signal?.aborted) return;
      if (isBotkitError(error, TelegramErrorCode.Unauthorized)) throw error;
      this.#report(this.#wrap(error, 'setWebhook failed; staying on polling', FailoverErrorCode.SwitchFailed));
      this.#poller.start();
      this.#schedule(Math.max(this.#o.intervalMs, retryAfter(error)), () => this.#toWebhook());
      return;
    }
    const now = this.#clock.now();
    this.#policy.recordReturn(now);
    this.#detector.reset();
    this.#lastSwitchAt = now;
    this.#setMode('webhook', 'polling dwell elapsed: webhook set again (probation)');
    this.#schedule(this.#o.probationCheckMs, () => this.#check());
  }

  async #setWebhook(dropPending: boolean, signal: AbortSignal | undefined): Promise<void> {
    const params = {
      url: this.#o.url,
      secret_token: this.#o.secretToken,
      ...(this.#o.allowedUpdates ? { allowed_updates: [...this.#o.allowedUpdates] as never } : {}),
      ...(this.#o.maxConnections !== undefined ? { max_connections: this.#o.maxConnections } : {}),
      ...(dropPending ? { drop_pending_updates: true } : {}),
    };
    // Telegram answers a setWebhook repeated within a second with 429 (and has 5xx hiccups): wait
    // retry_after (or back off) and try again a few times instead of failing the start or the return.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#api.call('setWebhook', params, signal ? { signal } : {});
        break;
      } catch (error) {
        const wait = setWebhookRetryDelay(error, attempt);
        if (signal?.aborted || wait === undefined) throw error;
        await sleep(wait, { clock: this.#clock, unref: true, ...(signal ? { signal } : {}) });
      }
    }
    this.#webhookSetOnce = true;
  }

  async #drainFor(ms: number): Promise<void> {
    let timer: ClockTimer | undefined;
    await Promise.race([
      this.#processor.drain(),
      new Promise<void>((resolve) => {
        timer = this.#clock.setTimeout(resolve, ms);
      }),
    ]);
    if (timer) this.#clock.clearTimeout(timer);
  }

  #setMode(to: FailoverMode, reason: string): void {
    const from = this.#mode;
    if (from === to) return;
    this.#mode = to;
    this.#logger.info({ from, to, reason }, `failover: ${from} -> ${to}`);
    this.emit('modeChange', from, to, reason);
  }

  #wrap(error: unknown, what: string, code: FailoverErrorCodeValue = FailoverErrorCode.TelegramFailed): FailoverError {
    if (isBotkitError(error) && error instanceof FailoverError) return error;
    if (isBotkitError(error, TelegramErrorCode.Unauthorized)) {
      return new FailoverError(
        FailoverErrorCode.Unauthorized,
        'Telegram answered 401: the bot token is wrong or revoked',
        {
          cause: error,
        },
      );
    }
    const detail =
      error instanceof Error ? redact(error.message, [this.#o.token, this.#o.secretToken]) : 'unknown error';
    return new FailoverError(code, `${what}: ${detail}`, { cause: error });
  }

  #report(error: FailoverError): void {
    this.#logger.warn({ err: error.toJSON() }, error.message);
    this.emit('error', error);
  }

  #fatal(error: unknown): void {
    const wrapped = this.#wrap(error, 'fatal');
    this.#logger.error({ err: wrapped.toJSON() }, wrapped.message);
    this.emit('error', wrapped);
    void this.stop();
  }

  // ---- stop / probe -----------------------------------------------------------------------

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    // Abort a start still in progress (init retries, setWebhook) before waiting for it.
    this.#startAbort.abort(new Error('failover stopped'));
    this.#control?.abort(new Error('failover stopped'));
    await this.#started;
    this.#clearTimer();
    this.#control?.abort(new Error('failover stopped'));
    await this.#queue;
    // Polling: finish the update being handled and confirm the offset, so a restart gets no duplicates.
    if (this.#leader) await this.#poller.stop();
    this.#leader = false;
    this.#processor.close();
    await this.#processor.drain();
    if (this.#server) await this.#closeServer(this.#server);
    if (this.#lease) {
      if (this.#leaseListeners) {
        this.#lease.off('acquired', this.#leaseListeners.acquired);
        this.#lease.off('lost', this.#leaseListeners.lost);
      }
      await this.#lease.stop().catch((error: unknown) => this.#report(this.#wrap(error, 'lease release failed')));
    }
    this.#setMode('stopped', 'stop() called');
  }

  /**
   * Closes the webhook server once the handlers drained. A request received in full is being
   * answered (200, or 503 now that the processor is closed): that answer goes out, so Telegram does
   * not deliver the update again. Any other connection never sent a whole request (a client
   * trickling bytes, a delivery cut short, which Telegram retries): it is closed at once instead of
   * keeping stop() waiting for Node's request timeout (5 minutes).
   */
  async #closeServer(server: Server): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const answering = [...this.#responses]
      .filter((res) => res.req.complete)
      .map((res) => new Promise<void>((resolve) => (res.closed ? resolve() : res.once('close', () => resolve()))));
    if (answering.length > 0) {
      let timer: ClockTimer | undefined;
      await Promise.race([
        Promise.all(answering),
        new Promise<void>((resolve) => {
          timer = this.#clock.setTimeout(resolve, ANSWER_GRACE_MS);
          timer.unref();
        }),
      ]);
      if (timer) this.#clock.clearTimeout(timer);
    }
    server.closeAllConnections();
    await closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  probe(): Probe {
    return {
      name: 'failover',
      check: async (): Promise<ProbeResult> => {
        const details = { mode: this.#mode, leader: this.#leader, pendingUpdateCount: this.#lastPending };
        if (this.#mode === 'stopped') return { status: 'unhealthy', message: 'failover stopped', details };
        if (this.#mode === 'polling') {
          return { status: 'degraded', message: 'webhook unreachable: receiving updates by long polling', details };
        }
        return { status: 'healthy', message: this.#leader ? 'receiving updates by webhook' : 'follower', details };
      },
    };
  }
}

/** Longest wait in stop() for answers to requests received in full (they are ready: handlers drained). */
const ANSWER_GRACE_MS = 2_000;

/** Attempts of setWebhook (the first one included) before its error is given up on. */
const SET_WEBHOOK_ATTEMPTS = 4;
/** Longest flood wait setWebhook honours; a longer one fails the call at once. */
const SET_WEBHOOK_MAX_WAIT_MS = 30_000;

/**
 * How long to wait before setWebhook attempt `attempt + 1`, or undefined to give up: only after an
 * answer saying the call was not performed (429: `retry_after`; 5xx: 500 ms, 1 s, 2 s), never
 * after other errors (a lost answer may have set the webhook, maybe dropping pending updates).
 */
function setWebhookRetryDelay(error: unknown, attempt: number): number | undefined {
  if (attempt >= SET_WEBHOOK_ATTEMPTS) return undefined;
  const code = (error as { errorCode?: unknown } | null)?.errorCode;
  if (code === 429) {
    const wait = retryAfter(error) || 1000;
    return wait <= SET_WEBHOOK_MAX_WAIT_MS ? wait : undefined;
  }
  if (typeof code === 'number' && code >= 500) return 500 * 2 ** (attempt - 1);
  return undefined;
}

/** Telegram's `retry_after` (429) in ms, or 0. */
function retryAfter(error: unknown): number {
  const ms = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' && ms > 0 ? ms : 0;
}

/**
 * Creates a failover that owns the Telegram transport of a bot: it serves the webhook, watches
 * getWebhookInfo, falls back to long polling when Telegram cannot reach the webhook, returns when
 * it can, and hands every update to the bot exactly once (dedupe by update_id).
 *
 * @param options - token, adapter, webhook and tuning; see {@link FailoverOptions}
 * @returns a stopped {@link Failover}; call `start()`
 * @throws TypeError when an option is invalid (the message names it)
 *
 * @example
 * ```ts
 * import { Bot } from 'grammy';
 * import { createFailover, grammyAdapter } from '@botkit/failover';
 *
 * const bot = new Bot(process.env.BOT_TOKEN!);
 * bot.command('start', (ctx) => ctx.reply('Hello'));
 * const failover = createFailover({
 *   token: process.env.BOT_TOKEN!,
 *   adapter: grammyAdapter(bot),
 *   webhook: { url: 'https://bot.example.com/telegram', secretToken: process.env.WEBHOOK_SECRET!, port: 8080 },
 * });
 * failover.on('modeChange', (from, to, reason) => console.log(from, '->', to, reason));
 * await failover.start();
 * ```
 */
export function createFailover(options: FailoverOptions): Failover {
  return new FailoverImpl(options);
}
