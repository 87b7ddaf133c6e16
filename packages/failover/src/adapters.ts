import { isBotkitError, type Update } from '@botkit/core';

/**
 * What the failover feeds updates to. Build one with {@link grammyAdapter} or
 * {@link telegrafAdapter}, or pass a plain `(update) => Promise<void>` function.
 *
 * @example
 * ```ts
 * import type { UpdateAdapter } from '@botkit/failover';
 *
 * const adapter: UpdateAdapter = {
 *   init: async () => {},
 *   handleUpdate: async (update) => console.log(update.update_id),
 * };
 * ```
 */
export interface UpdateAdapter {
  /** Prepares the bot once before the first update (e.g. grammY's `bot.init()`). */
  init?(signal: AbortSignal): Promise<void>;
  /** Handles one update; resolves when the bot finished with it. */
  handleUpdate(update: Update): Promise<void>;
}

/**
 * A plain update handler, for bots built on neither grammY nor Telegraf.
 *
 * @example
 * ```ts
 * import type { UpdateHandler } from '@botkit/failover';
 *
 * const handler: UpdateHandler = async (update) => {
 *   if (update.message) console.log(update.message.text);
 * };
 * ```
 */
export type UpdateHandler = (update: Update) => Promise<void>;

/**
 * The shape of a grammY `Bot` the adapter needs (structural, so grammY stays an optional peer).
 *
 * @example
 * ```ts
 * import { Bot } from 'grammy';
 * import type { GrammyBotLike } from '@botkit/failover';
 *
 * const bot: GrammyBotLike = new Bot(process.env.BOT_TOKEN!);
 * ```
 */
export interface GrammyBotLike {
  /** grammY's `bot.init(signal?)` (calls getMe once). */
  init(signal?: never): Promise<void>;
  /** grammY's `bot.handleUpdate(update)`; throws a `BotError` when middleware throws. */
  handleUpdate(update: never): Promise<void>;
  /** grammY's error handler installed with `bot.catch()`. */
  errorHandler?: (error: never) => unknown;
}

/**
 * The shape of a Telegraf instance the adapter needs (structural, so Telegraf stays an optional peer).
 *
 * @example
 * ```ts
 * import { Telegraf } from 'telegraf';
 * import type { TelegrafBotLike } from '@botkit/failover';
 *
 * const bot: TelegrafBotLike = new Telegraf(process.env.BOT_TOKEN!);
 * ```
 */
export interface TelegrafBotLike {
  /** Telegraf's `bot.handleUpdate()` (fetches `botInfo` on first use; errors go to `bot.catch()`). */
  handleUpdate(update: never): Promise<unknown>;
  /** Telegraf's `bot.botInfo`, fetched by `init()` when missing. */
  botInfo?: unknown;
  /** Telegraf's API client, used to fetch `botInfo` once. */
  telegram: { getMe(): Promise<unknown> };
}

/**
 * Feeds updates to a grammY bot through `bot.init()` and `bot.handleUpdate()`. Do not also call
 * `bot.start()` or mount `webhookCallback(bot)`: the failover owns the transport. Errors of the
 * middleware go to the handler installed with `bot.catch()`, like `bot.start()` does; without
 * one they are reported on the failover's `error` event.
 *
 * @param bot - a grammY `Bot`
 * @returns an {@link UpdateAdapter}
 *
 * @example
 * ```ts
 * import { Bot } from 'grammy';
 * import { createFailover, grammyAdapter } from '@botkit/failover';
 *
 * const bot = new Bot(process.env.BOT_TOKEN!);
 * bot.on('message', (ctx) => ctx.reply('hi'));
 * const failover = createFailover({
 *   token: process.env.BOT_TOKEN!,
 *   adapter: grammyAdapter(bot),
 *   webhook: { url: 'https://bot.example.com/telegram', secretToken: process.env.WEBHOOK_SECRET!, port: 8080 },
 * });
 * await failover.start();
 * ```
 */
export function grammyAdapter(bot: GrammyBotLike): UpdateAdapter {
  if (typeof bot?.handleUpdate !== 'function' || typeof bot.init !== 'function') {
    throw new TypeError('Expected bot to be a grammY Bot (with init() and handleUpdate())');
  }
  // grammY's default errorHandler logs and rethrows; a user handler set with bot.catch() swallows.
  return {
    init: (signal) => bot.init(signal as never),
    handleUpdate: async (update) => {
      try {
        await bot.handleUpdate(update as never);
      } catch (error) {
        const name = (error as { name?: unknown } | null)?.name;
        const inner = (error as { error?: unknown } | null)?.error;
        // Refused by shutdown.middleware(): hand the update back to Telegram instead of bot.catch().
        if (name === 'BotError' && isRefusal(inner)) throw inner;
        if (name === 'BotError' && typeof bot.errorHandler === 'function') {
          await bot.errorHandler(error as never);
        } else {
          throw error;
        }
      }
    },
  };
}

/**
 * Feeds updates to a Telegraf bot through `bot.handleUpdate()`. Do not also call `bot.launch()`
 * or mount `bot.webhookCallback()`: the failover owns the transport. Webhook replies are not
 * used, so every API call of the bot is a normal request.
 *
 * @param bot - a `Telegraf` instance
 * @returns an {@link UpdateAdapter}
 *
 * @example
 * ```ts
 * import { Telegraf } from 'telegraf';
 * import { createFailover, telegrafAdapter } from '@botkit/failover';
 *
 * const bot = new Telegraf(process.env.BOT_TOKEN!);
 * bot.on('message', (ctx) => ctx.reply('hi'));
 * const failover = createFailover({
 *   token: process.env.BOT_TOKEN!,
 *   adapter: telegrafAdapter(bot),
 *   webhook: { url: 'https://bot.example.com/telegram', secretToken: process.env.WEBHOOK_SECRET!, port: 8080 },
 * });
 * await failover.start();
 * ```
 */
export function telegrafAdapter(bot: TelegrafBotLike): UpdateAdapter {
  if (typeof bot?.handleUpdate !== 'function' || typeof bot.telegram?.getMe !== 'function') {
    throw new TypeError('Expected bot to be a Telegraf instance (with handleUpdate() and telegram)');
  }
  passRefusalsThrough(bot);
  return {
    init: async () => {
      bot.botInfo ??= await bot.telegram.getMe();
    },
    handleUpdate: async (update) => {
      await bot.handleUpdate(update as never);
    },
  };
}

/**
 * Whether a handler error is a refusal to start work while the process shuts down
 * (`BOTKIT_SHUTTING_DOWN`, thrown by `@botkit/shutdown`'s middleware): the update was not handled,
 * so the failover must neither confirm it nor mark it done.
 */
export function isRefusal(error: unknown): boolean {
  return isBotkitError(error, 'BOTKIT_SHUTTING_DOWN');
}

/**
 * Telegraf sends middleware errors to `bot.catch()`'s handler, and `handleUpdate()` resolves. Wrap
 * that handler (also one installed later) so a shutdown refusal rejects `handleUpdate()` instead.
 */
function passRefusalsThrough(bot: TelegrafBotLike): void {
  const target = bot as unknown as { handleError?: unknown };
  let current = target.handleError;
  if (typeof current !== 'function') return; // not a Telegraf we know: errors keep their default path
  Object.defineProperty(target, 'handleError', {
    configurable: true,
    enumerable: true,
    get: () => (error: unknown, ctx: unknown) => {
      if (isRefusal(error)) throw error;
      return (current as (error: unknown, ctx: unknown) => unknown)(error, ctx);
    },
    set: (handler: unknown) => {
      current = handler;
    },
  });
}

/**
 * Normalises the `adapter` option: a plain function becomes `{ handleUpdate }`.
 *
 * @param adapter - an adapter or a function
 * @returns an {@link UpdateAdapter}
 * @throws TypeError when `adapter` is neither
 *
 * @example
 * ```ts
 * import { toAdapter } from '@botkit/failover';
 *
 * const adapter = toAdapter(async (update) => console.log(update.update_id));
 * ```
 */
export function toAdapter(adapter: UpdateAdapter | UpdateHandler): UpdateAdapter {
  if (typeof adapter === 'function') return { handleUpdate: adapter };
  if (adapter && typeof adapter.handleUpdate === 'function') return adapter;
  throw new TypeError(
    'Expected adapter to be grammyAdapter(bot), telegrafAdapter(bot) or an (update) => Promise<void>',
  );
}
