import http from 'node:http';
import type { Socket } from 'node:net';
import { sleep } from '@botkit/core';
import type { CallbackQuery, Message, Update, User, WebhookInfo } from '@grammyjs/types';
import { ApiFailure, defaultDescription, writeJson } from './api-error.js';
import { ChatStore } from './chats.js';
import { MiscMethods } from './misc-methods.js';
import { createFaultsController, type EmulatorFaults, FaultTable } from './faults.js';
import { type BotApiEmulatorOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { type Params, readParams } from './params.js';
import { handleWebhookMethod, type MethodContext, type WebhookState } from './methods.js';
import type { BotApiEmulator, RecordedRequest, WaitOptions } from './types.js';
import { DEFAULT_ALLOWED_UPDATES, UpdateQueue, updateTypeOf } from './update-queue.js';
import { Waiters } from './waiters.js';
import { type WebhookDelivery, WebhookDeliverer } from './webhook.js';

const HOST = '127.0.0.1';

interface MethodAnswer {
  result: unknown;
  description?: string;
}

type Handler = (params: Params, ctx: MethodContext) => MethodAnswer | Promise<MethodAnswer>;

/** A request log entry while the emulator fills it in. */
type LiveRecord = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] };

function pushBounded<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

class Emulator implements BotApiEmulator {
  readonly #o: ResolvedOptions;
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  readonly #active = new Set<AbortController>();
  readonly #queue: UpdateQueue;
  readonly #chats: ChatStore;
  readonly #faults = new FaultTable();
  readonly #requests: RecordedRequest[] = [];
  readonly #deliveries: WebhookDelivery[] = [];
  readonly #deliverer: WebhookDeliverer;
  readonly #requestListeners = new Set<() => void>();
  readonly #waiters = new Waiters();
  readonly #state: WebhookState;
  readonly #handlers: Map<string, Handler>;
  #port = 0;
  #refusing = false;
  #unreachable: string | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: ResolvedOptions) {
    this.#o = options;
    this.#queue = new UpdateQueue(options.firstUpdateId);
    this.#chats = new ChatStore(options.botInfo, () => options.clock.now());
    this.#deliverer = new WebhookDeliverer({
      clock: options.clock,
      queue: this.#queue,
      timeoutMs: options.webhookTimeoutMs,
      maxRetryDelayMs: options.webhookMaxRetryDelayMs,
      random: options.random,
      unreachable: () => this.#unreachable,
      onReply: (method, params) => void this.#runReply(method, params),
      record: (delivery) => pushBounded(this.#deliveries, delivery, options.logLimit),
      onGone: () => {
        this.#state.webhook = undefined;
        this.#deliverer.stop();
        this.#deliverer.resetErrors();
      },
    });
    this.#state = {
      clock: options.clock,
      queue: this.#queue,
      deliverer: this.#deliverer,
      webhook: undefined,
      allowed: new Set(DEFAULT_ALLOWED_UPDATES),
      poll: undefined,
      setWebhookIntervalMs: options.setWebhookIntervalMs,
      nextSetWebhookAt: Number.NEGATIVE_INFINITY,
    };
    const chats = this.#chats;
    const misc = new MiscMethods();
    this.#handlers = new Map<string, Handler>([
      ['getme', () => ({ result: options.botInfo })],
      ['sendmessage', (p) => ({ result: chats.sendMessage(p) })],
      ['senddocument', (p) => ({ result: chats.sendDocument(p) })],
      ['editmessagetext', (p) => ({ result: chats.editMessageText(p) })],
      ['answercallbackquery', (p) => ({ result: chats.answerCallbackQuery(p) })],
      ['deletemessage', (p) => ({ result: chats.deleteMessage(p) })],
      ['setmycommands', (p) => ({ result: misc.setMyCommands(p) })],
      ['getmycommands', (p) => ({ result: misc.getMyCommands(p) })],
      ['deletemycommands', (p) => ({ result: misc.deleteMyCommands(p) })],
      ['sendchataction', (p) => ({ result: misc.sendChatAction(p) })],
      ['getupdates', (p, ctx) => handleWebhookMethod('getUpdates', this.#state, p, ctx)],
      ['setwebhook', (p, ctx) => handleWebhookMethod('setWebhook', this.#state, p, ctx)],
      ['deletewebhook', (p, ctx) => handleWebhookMethod('deleteWebhook', this.#state, p, ctx)],
      ['getwebhookinfo', (p, ctx) => handleWebhookMethod('getWebhookInfo', this.#state, p, ctx)],
    ]);
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(port, HOST, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    const address = this.#server.address();
    this.#port = typeof address === 'object' && address ? address.port : port;
  }

  get apiRoot(): string {
    return `http://${HOST}:${this.#port}`;
  }
  get token(): string {
    return this.#o.token;
  }
  get port(): number {
    return this.#port;
  }
  get botInfo() {
    return this.#o.botInfo;
  }
  get clock() {
    return this.#o.clock;
  }
  get sentMessages(): readonly Message[] {
    return this.#chats.sent;
  }
  get callbackAnswers() {
    return this.#chats.answers;
  }
  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }
  get webhookDeliveries(): readonly WebhookDelivery[] {
    return this.#deliveries;
  }
  get pendingUpdates(): readonly Update[] {
    return this.#queue.pending(this.#o.clock.now()).map((u) => u.update);
  }
  get isPolling(): boolean {
    return this.#state.poll !== undefined;
  }
  get webhookInfo(): WebhookInfo {
    return (handleWebhookMethod('getWebhookInfo', this.#state, {}, this.#detachedContext()) as { result: WebhookInfo })
      .result;
  }

  // ---- injecting updates -------------------------------------------------------------------

  pushUpdate(update: Omit<Update, 'update_id'>): Update | undefined {
    if (typeof update !== 'object' || update === null) throw new TypeError('Expected update to be an object');
    if (this.#closed) throw new Error('The Bot API emulator is closed');
    const type = updateTypeOf(update);
    if (type && !this.#state.allowed.has(type)) return undefined;
    const stored = this.#queue.add(update, this.#o.clock.now(), this.#o.lifetimes);
    this.#state.poll?.wake();
    this.#deliverer.wake();
    return stored.update;
  }

  #user(chatId: number, from: Partial<User> | undefined): User {
    return { id: chatId > 0 ? chatId : 1000, is_bot: false, first_name: 'Test User', ...from };
  }

  sendMessage(chatId: number, text: string, options: { from?: Partial<User>; chat?: Message['chat'] } = {}): Message {
    if (!Number.isSafeInteger(chatId)) throw new TypeError(`Expected chatId to be an integer, got ${String(chatId)}`);
    if (typeof text !== 'string') throw new TypeError('Expected text to be a string');
    const message = this.#chats.userMessage(chatId, text, this.#user(chatId, options.from), options.chat);
    this.pushUpdate({ message } as Omit<Update, 'update_id'>);
    return message;
  }

  callbackQuery(
    chatId: number,
    data: string,
    options: { from?: Partial<User>; message?: Message } = {},
  ): CallbackQuery {
    if (!Number.isSafeInteger(chatId)) throw new TypeError(`Expected chatId to be an integer, got ${String(chatId)}`);
    if (typeof data !== 'string') throw new TypeError('Expected data to be a string');
    const from = this.#user(chatId, options.from);
    const message =
      options.message ??
      [...this.#chats.sent].reverse().find((m) => m.chat.id === chatId) ??
      this.#chats.buttonMessage(chatId, from);
    const query: CallbackQuery = {
      id: this.#chats.newCallbackQueryId(),
      from,
      message,
      chat_instance: String(chatId),
      data,
    };
    this.pushUpdate({ callback_query: query } as Omit<Update, 'update_id'>);
    return query;
  }

  // ---- waiting ---------------------------------------------------------------------------

  waitForMessage(predicate: (message: Message) => boolean = () => true, options?: WaitOptions): Promise<Message> {
    return this.#waiters.wait(
      () => this.#chats.sent.find(predicate),
      (check) => {
        this.#chats.onSent.add(check);
        return () => this.#chats.onSent.delete(check);
      },
      'a message from the bot',
      options,
    );
  }

  waitForRequest(
    match: string | ((request: RecordedRequest) => boolean),
    options?: WaitOptions,
  ): Promise<RecordedRequest> {
    const predicate =
      typeof match === 'string' ? (r: RecordedRequest) => r.method.toLowerCase() === match.toLowerCase() : match;
    return this.#waiters.wait(
      () => this.#requests.find(predicate),
      (check) => {
        this.#requestListeners.add(check);
        return () => this.#requestListeners.delete(check);
      },
      typeof match === 'string' ? `a ${match} request` : 'a matching request',
      options,
    );
  }

  // ---- faults ----------------------------------------------------------------------------

  readonly faults: EmulatorFaults = createFaultsController(this.#faults, {
    refuse: async () => {
      if (this.#refusing || this.#closed) return;
      this.#refusing = true;
      await this.#closeServer();
    },
    accept: async () => {
      if (!this.#refusing || this.#closed) return;
      await this.listen(this.#port);
      this.#refusing = false;
    },
    refusing: () => this.#refusing,
    setUnreachable: (message) => {
      this.#unreachable = message;
      if (message === undefined) this.#deliverer.wake();
    },
  });

  // ---- HTTP ------------------------------------------------------------------------------

  #detachedContext(): MethodContext {
    return { signal: new AbortController().signal };
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const controller = new AbortController();
    this.#active.add(controller);
    const onClose = () => {
      if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
    };
    res.once('close', onClose);
    let record: LiveRecord | undefined;
    try {
      const url = new URL(req.url ?? '/', this.apiRoot);
      const match = /^\/bot([^/]*)\/([^/]*)\/?$/.exec(url.pathname);
      if (!match) throw new ApiFailure(404, 'Not Found');
      let token: string;
      let method: string;
      try {
        token = decodeURIComponent(match[1]!);
        method = decodeURIComponent(match[2]!);
      } catch {
        throw new ApiFailure(404, 'Not Found');
      }
      if (token !== this.#o.token) throw new ApiFailure(401, 'Unauthorized');
      const handler = this.#handlers.get(method.toLowerCase());
      if (!handler) throw new ApiFailure(404, 'Not Found: method not found');
      const params = await readParams(req, url, controller.signal);
      record = { method, params, at: this.#o.clock.now(), status: undefined, fault: undefined };
      pushBounded(this.#requests, record, this.#o.logLimit);
      for (const listener of [...this.#requestListeners]) listener();
      const fault = this.#faults.take(method);
      if (fault) record.fault = fault.kind;
      if (fault?.kind === 'error') {
        const retryAfter = fault.retryAfterSeconds ?? (fault.errorCode === 429 ? 1 : undefined);
        throw new ApiFailure(
          fault.errorCode,
          fault.description ?? defaultDescription(fault.errorCode, retryAfter),
          retryAfter !== undefined ? { retry_after: retryAfter } : undefined,
        );
      }
      if (fault?.kind === 'drop' && !fault.afterProcessing) {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'delay') await sleep(fault.delayMs, { clock: this.#o.clock, signal: controller.signal });
      const answer = await handler(params, { signal: controller.signal });
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      record.status = 200;
      writeJson(res, 200, {
        ok: true,
        result: answer.result,
        ...(answer.description ? { description: answer.description } : {}),
      });
    } catch (error) {
      if (controller.signal.aborted) {
        if (!res.writableEnded) req.socket.destroy();
        return;
      }
      const failure =
        error instanceof ApiFailure ? error : new ApiFailure(500, 'Internal Server Error: emulator failure');
      if (record) record.status = failure.errorCode;
      const retryAfter = failure.parameters?.retry_after;
      writeJson(
        res,
        failure.errorCode,
        failure.toBody(),
        retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {},
      );
    } finally {
      res.off('close', onClose);
      this.#active.delete(controller);
    }
  }

  /** Runs a method the webhook answered with (webhook reply); its result goes nowhere. */
  async #runReply(method: string, params: Record<string, unknown>): Promise<void> {
    const handler = this.#handlers.get(method.toLowerCase());
    const record: LiveRecord = { method, params, at: this.#o.clock.now(), status: undefined, fault: undefined };
    pushBounded(this.#requests, record, this.#o.logLimit);
    for (const listener of [...this.#requestListeners]) listener();
    if (!handler) {
      record.status = 404;
      return;
    }
    try {
      await handler(params, this.#detachedContext());
      record.status = 200;
    } catch (error) {
      record.status = error instanceof ApiFailure ? error.errorCode : 500;
    }
  }

  async #closeServer(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const controller of this.#active) controller.abort(new Error('Bot API emulator stopped'));
    this.#state.poll?.cancel();
    this.#server.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#deliverer.stop();
      this.#waiters.close();
      if (this.#server.listening) await this.#closeServer();
      else this.#state.poll?.cancel();
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Starts a Telegram Bot API emulator on 127.0.0.1 that follows the official server's rules:
 * sequential `update_id`s, `getUpdates` with `offset`/`limit`/`timeout`/`allowed_updates` and
 * its 409 conflicts, webhooks with the secret header, retries on the real schedule, per-chat
 * ordering and `max_connections`, update lifetimes, and Telegram's JSON error shape. Point
 * grammY, Telegraf or `@botkit/core`'s `createBotApi` at its `apiRoot`.
 *
 * @param options - token, bot info, port, clock, webhook timeouts; see {@link BotApiEmulatorOptions}
 * @returns the running emulator; call `close()` when done
 * @throws TypeError when an option is invalid (the message names it); the signal's reason when aborted
 *
 * @example
 * ```ts
 * import { Bot } from 'grammy';
 * import { createBotApiEmulator } from '@botkit/testing';
 *
 * const emulator = await createBotApiEmulator();
 * const bot = new Bot(emulator.token, { client: { apiRoot: emulator.apiRoot } });
 * bot.command('start', (ctx) => ctx.reply('Welcome!'));
 * void bot.start();
 * emulator.sendMessage(42, '/start');
 * const reply = await emulator.waitForMessage((m) => m.chat.id === 42);
 * console.log(reply.text); // 'Welcome!'
 * await bot.stop();
 * await emulator.close();
 * ```
 */
export async function createBotApiEmulator(options: BotApiEmulatorOptions = {}): Promise<BotApiEmulator> {
  const resolved = resolveOptions(options);
  const { signal } = options;
  signal?.throwIfAborted();
  const emulator = new Emulator(resolved);
  await emulator.listen(resolved.port);
  if (signal?.aborted) {
    await emulator.close();
    throw signal.reason;
  }
  return emulator;
}
