import type { Clock } from '@botkit/core';
import type { CallbackQuery, Chat, Message, Update, User, UserFromGetMe, WebhookInfo } from '@grammyjs/types';
import type { CallbackAnswer } from './chats.js';
import type { EmulatorFaults } from './faults.js';
import type { WebhookDelivery } from './webhook.js';

/**
 * One HTTP call the bot made to the emulator, as recorded in {@link BotApiEmulator.requests}.
 * The token is never recorded.
 *
 * @example
 * ```ts
 * const polls = emulator.requests.filter((r) => r.method === 'getUpdates');
 * console.log(polls.map((r) => r.params.offset));
 * ```
 */
export interface RecordedRequest {
  /** The Bot API method as the client spelled it (`getUpdates`). */
  readonly method: string;
  /** Parameters from query string and body; uploaded files appear as `{ name, size, type }`. */
  readonly params: Readonly<Record<string, unknown>>;
  /** Clock time (epoch ms) the request arrived. */
  readonly at: number;
  /** HTTP status sent back; undefined while pending or when the connection was dropped. */
  readonly status: number | undefined;
  /** The kind of injected fault that hit this call, if any. */
  readonly fault: 'error' | 'drop' | 'delay' | undefined;
}

/**
 * Options of {@link BotApiEmulator.sendMessage}: who writes, and in which kind of chat.
 *
 * @example
 * ```ts
 * emulator.sendMessage(-100123, '/start@test_bot', { from: { id: 7, first_name: 'Ann' } });
 * ```
 */
export interface UserMessageOptions {
  /** The author. @defaultValue `{ id: chatId > 0 ? chatId : 1000, is_bot: false, first_name: 'Test User' }` */
  readonly from?: Partial<User> | undefined;
  /** The chat object; by default private for positive ids, supergroup for -100..., group otherwise. */
  readonly chat?: Chat | undefined;
}

/**
 * Options of {@link BotApiEmulator.callbackQuery}.
 *
 * @example
 * ```ts
 * emulator.callbackQuery(42, 'vote:yes', { message: emulator.sentMessages.at(-1) });
 * ```
 */
export interface CallbackQueryOptions {
  /** The user who pressed the button. @defaultValue the chat's user, as in {@link UserMessageOptions.from} */
  readonly from?: Partial<User> | undefined;
  /** The message with the button. @defaultValue the bot's last message in the chat, else a stub */
  readonly message?: Message | undefined;
}

/**
 * Options of the `waitFor...` helpers. The time limit is wall-clock time (it guards a test
 * against hanging), not emulator clock time.
 *
 * @example
 * ```ts
 * const reply = await emulator.waitForMessage((m) => m.chat.id === 42, { timeoutMs: 2000 });
 * ```
 */
export interface WaitOptions {
  /** Give up after this many wall-clock milliseconds. @defaultValue `10000` */
  readonly timeoutMs?: number | undefined;
  /** Cancels the wait; it rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A running Telegram Bot API emulator, returned by {@link createBotApiEmulator}.
 *
 * @example
 * ```ts
 * import { Bot } from 'grammy';
 * import { createBotApiEmulator } from '@botkit/testing';
 *
 * await using emulator = await createBotApiEmulator();
 * const bot = new Bot(emulator.token, { client: { apiRoot: emulator.apiRoot } });
 * bot.command('start', (ctx) => ctx.reply('Hi!'));
 * void bot.start();
 * emulator.sendMessage(42, '/start');
 * const reply = await emulator.waitForMessage((m) => m.chat.id === 42);
 * await bot.stop();
 * ```
 */
export interface BotApiEmulator {
  /** Server root for `client.apiRoot` (grammY), `telegram.apiRoot` (Telegraf), `createBotApi({ apiRoot })`. */
  readonly apiRoot: string;
  /** The token the emulator accepts. */
  readonly token: string;
  /** The TCP port the emulator listens on (127.0.0.1). */
  readonly port: number;
  /** What `getMe` answers. */
  readonly botInfo: UserFromGetMe;
  /** The clock the emulator runs on. */
  readonly clock: Clock;
  /**
   * Queues an update as Telegram would, with the next `update_id`. Updates of a type the bot
   * excluded with `allowed_updates` are discarded, as on the real server.
   *
   * @param update - the update without `update_id`
   * @returns the queued update, or undefined when `allowed_updates` discarded it
   */
  pushUpdate(update: Omit<Update, 'update_id'>): Update | undefined;
  /**
   * A user writes `text` in chat `chatId` (commands get `bot_command` entities).
   *
   * @param chatId - chat id (positive: private chat with that user)
   * @param text - message text
   * @param options - author and chat
   * @returns the user's message (queued as a `message` update unless `allowed_updates` excludes messages)
   */
  sendMessage(chatId: number, text: string, options?: UserMessageOptions): Message;
  /**
   * A user presses an inline button with callback `data` in chat `chatId`.
   *
   * @param chatId - chat of the message with the button
   * @param data - the button's `callback_data`
   * @param options - user and message
   * @returns the callback query (queued as a `callback_query` update)
   */
  callbackQuery(chatId: number, data: string, options?: CallbackQueryOptions): CallbackQuery;
  /** Messages the bot sent (`sendMessage`, `sendDocument`), in order, as edited since. */
  readonly sentMessages: readonly Message[];
  /** The bot's answers to callback queries. */
  readonly callbackAnswers: readonly CallbackAnswer[];
  /**
   * Resolves with the first message the bot sent (already, or later) that matches, in its
   * current state: an edit that makes a message match resolves it too.
   *
   * @param predicate - which message to wait for. @defaultValue any
   * @param options - wall-clock time limit and signal
   * @returns the message
   * @throws Error when the time limit passes or the emulator closes
   */
  waitForMessage(predicate?: (message: Message) => boolean, options?: WaitOptions): Promise<Message>;
  /**
   * Resolves with the first request (already recorded, or later) that matches.
   *
   * @param match - a method name (case-insensitive) or a predicate
   * @param options - wall-clock time limit and signal
   * @returns the request
   * @throws Error when the time limit passes or the emulator closes
   */
  waitForRequest(
    match: string | ((request: RecordedRequest) => boolean),
    options?: WaitOptions,
  ): Promise<RecordedRequest>;
  /** Updates waiting for the bot (not confirmed, not expired), oldest first. */
  readonly pendingUpdates: readonly Update[];
  /** What `getWebhookInfo` answers now. */
  readonly webhookInfo: WebhookInfo;
  /** Whether a `getUpdates` long poll is waiting right now. */
  readonly isPolling: boolean;
  /** Every call the bot made, oldest first (up to `logLimit`). */
  readonly requests: readonly RecordedRequest[];
  /** Every webhook delivery attempt, oldest first (up to `logLimit`). */
  readonly webhookDeliveries: readonly WebhookDelivery[];
  /** Fault injection. */
  readonly faults: EmulatorFaults;
  /**
   * Stops the emulator: ends pending long polls and webhook deliveries, clears its timers,
   * closes every connection and the port. Idempotent.
   *
   * @returns resolves when everything is released
   */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
