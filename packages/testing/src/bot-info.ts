import type { UserFromGetMe } from '@grammyjs/types';

/**
 * A complete `getMe` result for tests: pass it as grammY's `botInfo` (or Telegraf's
 * `botInfo`) so a bot can handle updates without calling `getMe`, or as the emulator's
 * `botInfo` option. Every field can be overridden.
 *
 * @param overrides - fields to change, e.g. `{ id: 42, username: 'my_bot' }`
 * @returns a `UserFromGetMe` with `is_bot: true`, username `test_bot`, id `123456789`
 *
 * @example
 * ```ts
 * import { Bot } from 'grammy';
 * import { testBotInfo } from '@botkit/testing';
 *
 * const bot = new Bot('123456789:TEST', { botInfo: testBotInfo() });
 * bot.command('start', (ctx) => ctx.reply('hi'));
 * await bot.handleUpdate({ update_id: 1, message: { ... } }); // no getMe call
 * ```
 */
export function testBotInfo(overrides: Partial<UserFromGetMe> = {}): UserFromGetMe {
  return {
    id: 123456789,
    is_bot: true,
    first_name: 'Test Bot',
    username: 'test_bot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
    ...overrides,
  } as UserFromGetMe;
}
