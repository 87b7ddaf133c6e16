import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../src/create-bot.js';

describe('configFromEnv', () => {
  it('reads the documented variables and defaults; without WEBHOOK_URL the bot only polls', () => {
    const config = configFromEnv({
      BOT_TOKEN: '123:abc',
      ADMIN_CHAT_ID: '-100123',
      WEBHOOK_URL: '',
      WEBHOOK_SECRET: '',
    });
    expect(config).toMatchObject({
      token: '123:abc',
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: './data/bot.db',
      webhook: undefined,
      adminChatId: -100123,
      health: { port: 8080 },
      backup: { dir: './data/backups', cron: '0 * * * *' },
      shutdownTimeoutMs: 25_000,
    });
    const withWebhook = configFromEnv({
      BOT_TOKEN: '123:abc',
      WEBHOOK_URL: 'https://bot.example.com/tg',
      WEBHOOK_SECRET: 's3cret_token',
      WEBHOOK_PORT: '3001',
      HEALTH_PORT: '9090',
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    expect(withWebhook.webhook).toEqual({ url: 'https://bot.example.com/tg', secretToken: 's3cret_token', port: 3001 });
    expect(withWebhook.health.port).toBe(9090);
    expect(withWebhook.shutdownTimeoutMs).toBe(10_000);
  });

  it('names what is wrong without printing a secret', () => {
    expect(() => configFromEnv({})).toThrow(/BOT_TOKEN is required/);
    expect(() => configFromEnv({ BOT_TOKEN: '1:a', WEBHOOK_URL: 'https://x/tg' })).toThrow(
      /WEBHOOK_SECRET is required/,
    );
    let message = '';
    try {
      configFromEnv({ BOT_TOKEN: '1:a', WEBHOOK_URL: 'https://x/tg', WEBHOOK_SECRET: 'bad secret!' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/WEBHOOK_SECRET must be 1-256 characters/);
    expect(message).not.toContain('bad secret!');
    expect(() => configFromEnv({ BOT_TOKEN: '1:a', HEALTH_PORT: 'eighty' })).toThrow(/HEALTH_PORT/);
  });
});
