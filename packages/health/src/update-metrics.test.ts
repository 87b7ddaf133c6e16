import { testBotInfo } from '@botkit/testing';
import { Bot } from 'grammy';
import { Telegraf } from 'telegraf';
import { describe, expect, it } from 'vitest';
import { updateMetrics } from './update-metrics.js';

const botInfo = testBotInfo({ id: 1, first_name: 'Test' });
const message = (id: number, text: string): never =>
  ({
    update_id: id,
    message: {
      message_id: id,
      date: 0,
      chat: { id: 5, type: 'private', first_name: 'U' },
      from: { id: 5, is_bot: false, first_name: 'U' },
      text,
      entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]?.length ?? 0 }],
    },
  }) as never;

describe('updateMetrics middleware in real grammY and Telegraf pipelines (bot.handleUpdate)', () => {
  it('grammY: counts handled updates and errors per command, and rethrows handler errors', async () => {
    const metrics = updateMetrics();
    const bot = new Bot('123:fake', { botInfo });
    bot.use(metrics.middleware);
    bot.command('start', () => {});
    bot.command('fail', () => {
      throw new Error('handler bug');
    });
    await bot.handleUpdate(message(1, '/start'));
    await expect(bot.handleUpdate(message(2, '/fail'))).rejects.toThrow('handler bug');
    expect(metrics.stats()).toMatchObject({ handled_total: 2, errors_total: 1, in_flight: 0 });
    expect(metrics.series?.().errors_by_type_total).toEqual([
      { labels: { type: 'message', command: '/start' }, value: 0 },
      { labels: { type: 'message', command: '/fail' }, value: 1 },
    ]);
  });

  it('Telegraf: the same middleware works', async () => {
    const metrics = updateMetrics();
    const bot = new Telegraf('123:fake');
    bot.botInfo = botInfo;
    bot.use(metrics.middleware);
    bot.command('help', () => {});
    await bot.handleUpdate(message(1, '/help@test_bot'));
    expect(metrics.stats().handled_total).toBe(1);
    expect(metrics.series?.().handled_by_type_total).toEqual([
      { labels: { type: 'message', command: '/help' }, value: 1 },
    ]);
    expect(metrics.lastHandledAt).not.toBeNull();
  });

  it('validates options', () => {
    expect(() => updateMetrics({ name: 'Bad-Name' })).toThrow(/name/);
    expect(() => updateMetrics({ maxCommands: -1 })).toThrow(/maxCommands/);
  });
});
