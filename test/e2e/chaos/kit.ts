/**
 * Shared pieces of the chaos scenarios: the example apps (grammY in ESM from source, Telegraf in
 * CommonJS on the CJS builds) wired against the emulator, a ledger of sent and handled updates,
 * and a steady load generator.
 */
import { createRequire } from 'node:module';
import { sleep } from '@botkit/core';
import type { BotApiEmulator } from '@botkit/testing';
import { type App, type AppConfig, createApp } from '../../../examples/grammy-bot/src/create-bot.js';

export {
  ADMIN_CHAT,
  ask,
  FAST,
  spawnBot,
  tempDir,
  testConfig,
} from '../../../examples/grammy-bot/test/helpers.js';
export type { App, AppConfig };

/** The two frameworks the examples are written for. */
export type Framework = 'grammY' | 'Telegraf';
export const FRAMEWORKS: readonly Framework[] = ['grammY', 'Telegraf'];

/** What the scenarios use of an example app; both examples return this shape. */
export type ExampleApp = Pick<
  App,
  | 'mode'
  | 'failover'
  | 'monitor'
  | 'healthServer'
  | 'shutdown'
  | 'backups'
  | 'circuit'
  | 'notes'
  | 'alerts'
  | 'updates'
  | 'start'
  | 'stop'
>;

const requireCjs = createRequire(import.meta.url);

/**
 * Builds the example app of `framework` (not started): grammY from its TypeScript source,
 * Telegraf through Node's own `require()` on botkit's CommonJS builds.
 */
export async function createExampleApp(framework: Framework, config: AppConfig): Promise<ExampleApp> {
  if (framework === 'grammY') return createApp(config);
  const { createApp: createTelegrafApp } = requireCjs('../../../examples/telegraf-bot/src/create-bot.cjs') as {
    createApp(config: AppConfig): Promise<ExampleApp>;
  };
  return createTelegrafApp(config);
}

/** Where each sent update went: handled how many times, answered or not. */
export class Ledger {
  /** update_id -> chat of every update sent through {@link Ledger.send}. */
  readonly sent = new Map<number, number>();
  /** update_id -> how many times the bot finished handling it. */
  readonly handled = new Map<number, number>();

  constructor(readonly emulator: BotApiEmulator) {}

  /** The `onUpdateHandled` callback to put in the app's config. */
  readonly onHandled = (updateId: number): void => {
    this.handled.set(updateId, (this.handled.get(updateId) ?? 0) + 1);
  };

  /** A user writes `text` in `chatId`; returns the update_id Telegram gave it. */
  send(chatId: number, text: string): number {
    const message = this.emulator.sendMessage(chatId, text);
    const update = this.emulator.pendingUpdates.at(-1);
    if (update?.message?.message_id !== message.message_id || update.message.chat.id !== chatId)
      throw new Error('the emulator did not queue the message as the newest update');
    this.sent.set(update.update_id, chatId);
    return update.update_id;
  }

  /** Sent updates never handled. */
  get lost(): number[] {
    return [...this.sent.keys()].filter((id) => !this.handled.has(id));
  }

  /** Extra handlings beyond the first, summed over all updates. */
  get duplicated(): number {
    let extra = 0;
    for (const count of this.handled.values()) extra += Math.max(0, count - 1);
    return extra;
  }

  /** Sent updates handled at least once. */
  get handledCount(): number {
    return [...this.sent.keys()].filter((id) => this.handled.has(id)).length;
  }

  /** Messages the bot sent to `chatId`. */
  repliesIn(chatId: number): number {
    return this.emulator.sentMessages.filter((m) => m.chat.id === chatId).length;
  }

  /** Resolves once every sent update was handled, or rejects naming how many are missing. */
  async settle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lost.length > 0) {
      if (Date.now() > deadline)
        throw new Error(`${this.lost.length} of ${this.sent.size} updates not handled after ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}

/** A steady stream of user messages over `chats` chats until stopped. */
export interface Load {
  /** How many messages were sent so far. */
  readonly sent: number;
  /** Stops sending; resolves when the generator has stopped. */
  stop(): Promise<void>;
}

/**
 * Sends `perSecond` messages a second, round-robin over `chats` chats (ids `firstChat`...),
 * with texts made by `text(i)` (default: a plain message the bot answers with its help text).
 */
export function startLoad(
  ledger: Ledger,
  options: { perSecond: number; chats: number; firstChat?: number; text?: (i: number) => string },
): Load {
  const first = options.firstChat ?? 1000;
  const text = options.text ?? ((i: number) => `load message ${i}`);
  const stepMs = 1000 / options.perSecond;
  let sent = 0;
  let running = true;
  const done = (async () => {
    const started = performance.now();
    while (running) {
      ledger.send(first + (sent % options.chats), text(sent));
      sent++;
      const due = started + sent * stepMs;
      await sleep(Math.max(0, due - performance.now()));
    }
  })();
  return {
    get sent() {
      return sent;
    },
    async stop() {
      running = false;
      await done;
    },
  };
}
