import { createBotApi, isBotkitError } from '@botkit/core';
import type { Message } from '@grammyjs/types';
import { Bot, InputFile } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { type BotApiEmulator, createBotApiEmulator } from '../src/index.js';
import { call } from './helpers.js';

let emulator: BotApiEmulator;
afterEach(async () => {
  await emulator?.close();
});

describe('Bot API methods', () => {
  it('getMe answers the bot, with the id taken from the token', async () => {
    emulator = await createBotApiEmulator({ token: '5550001:AAtestTOKEN_for-me', botInfo: { username: 'my_bot' } });
    const me = await createBotApi({ token: emulator.token, apiRoot: emulator.apiRoot }).call('getMe');
    expect(me).toMatchObject({ id: 5550001, is_bot: true, username: 'my_bot', first_name: 'Test Bot' });
  });

  it('answers 404 "Not Found: method not found" for an unknown method, in Telegram\'s JSON shape', async () => {
    emulator = await createBotApiEmulator();
    const answer = await call(emulator, 'sendTelepathy');
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.body).toEqual({ ok: false, error_code: 404, description: 'Not Found: method not found' });
  });

  it('answers 401 Unauthorized to a wrong token, and 404 to a path without one', async () => {
    emulator = await createBotApiEmulator();
    const wrong = await call(emulator, 'getMe', {}, { token: '123:wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ ok: false, error_code: 401, description: 'Unauthorized' });
    const api = createBotApi({ token: '1:nope', apiRoot: emulator.apiRoot });
    await expect(api.call('getMe')).rejects.toSatisfy((e) => isBotkitError(e, 'BOTKIT_TELEGRAM_UNAUTHORIZED'));
    const noToken = await fetch(`${emulator.apiRoot}/getMe`);
    expect(noToken.status).toBe(404);
    expect(await noToken.json()).toEqual({ ok: false, error_code: 404, description: 'Not Found' });
  });

  it('accepts method names in any case, GET with a query string and urlencoded bodies', async () => {
    emulator = await createBotApiEmulator();
    const get = await fetch(`${emulator.apiRoot}/bot${emulator.token}/SENDMESSAGE?chat_id=9&text=hey`);
    expect(((await get.json()) as { result: Message.TextMessage }).result.text).toBe('hey');
    const form = await fetch(`${emulator.apiRoot}/bot${emulator.token}/sendMessage`, {
      method: 'POST',
      body: new URLSearchParams({ chat_id: '9', text: 'form' }),
    });
    expect(((await form.json()) as { result: Message.TextMessage }).result.chat.id).toBe(9);
  });

  it('sendMessage records the message with per-chat message ids and validates chat_id and text', async () => {
    emulator = await createBotApiEmulator();
    const user = emulator.sendMessage(3, 'hi');
    const sent = (
      await call(emulator, 'sendMessage', { chat_id: 3, text: 'hello', reply_markup: { inline_keyboard: [] } })
    ).body.result as Message.TextMessage;
    expect(sent).toMatchObject({ message_id: user.message_id + 1, chat: { id: 3, type: 'private' }, text: 'hello' });
    expect(sent.from?.id).toBe(emulator.botInfo.id);
    expect(emulator.sentMessages).toEqual([sent]);
    expect((await call(emulator, 'sendMessage', { text: 'x' })).body).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: chat_id is empty',
    });
    expect((await call(emulator, 'sendMessage', { chat_id: 3, text: '' })).body.description).toBe(
      'Bad Request: message text is empty',
    );
    expect((await call(emulator, 'sendMessage', { chat_id: 3, text: 'x'.repeat(4097) })).body.description).toBe(
      'Bad Request: message is too long',
    );
  });

  it("editMessageText changes the bot's message and refuses unchanged or missing ones", async () => {
    emulator = await createBotApiEmulator();
    const sent = (await call(emulator, 'sendMessage', { chat_id: 4, text: 'v1' })).body.result as Message;
    const edited = (await call(emulator, 'editMessageText', { chat_id: 4, message_id: sent.message_id, text: 'v2' }))
      .body.result as Message.TextMessage;
    expect(edited.text).toBe('v2');
    expect(edited.edit_date).toBeTypeOf('number');
    expect(emulator.sentMessages.map((m) => m.text)).toEqual(['v2']);
    expect(
      (await call(emulator, 'editMessageText', { chat_id: 4, message_id: sent.message_id, text: 'v2' })).body
        .description,
    ).toBe(
      'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    );
    expect((await call(emulator, 'editMessageText', { chat_id: 4, message_id: 999, text: 'x' })).body).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: message to edit not found',
    });
    const userMessage = emulator.sendMessage(4, 'mine');
    expect(
      (await call(emulator, 'editMessageText', { chat_id: 4, message_id: userMessage.message_id, text: 'x' })).body
        .description,
    ).toBe("Bad Request: message can't be edited");
  });

  it('answerCallbackQuery answers a pending query once; unknown or repeated ids are refused', async () => {
    emulator = await createBotApiEmulator();
    const query = emulator.callbackQuery(8, 'yes');
    expect((await call(emulator, 'answerCallbackQuery', { callback_query_id: query.id, text: 'Done' })).body).toEqual({
      ok: true,
      result: true,
    });
    expect(emulator.callbackAnswers).toMatchObject([{ callbackQueryId: query.id, text: 'Done', showAlert: false }]);
    const again = await call(emulator, 'answerCallbackQuery', { callback_query_id: query.id });
    expect(again.body).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: query is too old and response timeout expired or query ID is invalid',
    });
  });

  it('sendDocument accepts a multipart upload from grammY and records its name and size', async () => {
    emulator = await createBotApiEmulator();
    const bot = new Bot(emulator.token, { client: { apiRoot: emulator.apiRoot } });
    const bytes = new Uint8Array(12_345).fill(7);
    const message = await bot.api.sendDocument(11, new InputFile(bytes, 'backup.sqlite'), { caption: 'nightly' });
    expect(message.document).toMatchObject({ file_name: 'backup.sqlite', file_size: 12_345 });
    expect(message.caption).toBe('nightly');
    expect(emulator.sentMessages.at(-1)?.document?.file_size).toBe(12_345);
    const request = emulator.requests.find((r) => r.method === 'sendDocument');
    expect(request?.params.document).toEqual({ name: 'backup.sqlite', size: 12_345, type: expect.any(String) });
    // The returned file_id can be sent again.
    const resent = await bot.api.sendDocument(12, message.document.file_id);
    expect(resent.document.file_size).toBe(12_345);
    await expect(bot.api.sendDocument(12, 'no-such-file-id')).rejects.toMatchObject({
      error_code: 400,
      description: 'Bad Request: wrong file identifier/HTTP URL specified',
    });
  });

  it('user messages carry bot_command entities so frameworks see commands', () => {
    return createBotApiEmulator().then(async (e) => {
      emulator = e;
      const message = emulator.sendMessage(-1001234, 'hey /start@test_bot now') as Message.TextMessage;
      expect(message.chat.type).toBe('supergroup');
      expect(message.entities).toEqual([{ type: 'bot_command', offset: 4, length: 15 }]);
    });
  });

  it('records every request without the token', async () => {
    emulator = await createBotApiEmulator();
    await call(emulator, 'getMe');
    await call(emulator, 'sendMessage', { chat_id: 1, text: 'x' });
    expect(emulator.requests.map((r) => [r.method, r.status])).toEqual([
      ['getMe', 200],
      ['sendMessage', 200],
    ]);
    expect(JSON.stringify(emulator.requests)).not.toContain(emulator.token.split(':')[1]);
  });

  it('supports the calls bots make in passing: setMyCommands/getMyCommands/deleteMyCommands, sendChatAction, deleteMessage', async () => {
    emulator = await createBotApiEmulator();
    const bot = new Bot(emulator.token, { client: { apiRoot: emulator.apiRoot } });
    await bot.api.setMyCommands([{ command: 'start', description: 'Start' }]);
    await bot.api.setMyCommands([{ command: 'aide', description: 'Aide' }], { language_code: 'fr' });
    expect(await bot.api.getMyCommands()).toEqual([{ command: 'start', description: 'Start' }]);
    expect(await bot.api.getMyCommands({ language_code: 'fr' })).toEqual([{ command: 'aide', description: 'Aide' }]);
    await bot.api.deleteMyCommands();
    expect(await bot.api.getMyCommands()).toEqual([]);
    await expect(bot.api.setMyCommands([{ command: 'Bad Command!', description: 'x' }])).rejects.toMatchObject({
      error_code: 400,
    });

    expect(await bot.api.sendChatAction(5, 'typing')).toBe(true);
    expect((await call(emulator, 'sendChatAction', { chat_id: 5, action: 'dancing' })).body).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: wrong parameter action in request',
    });

    const sent = await bot.api.sendMessage(5, 'oops');
    expect(await bot.api.deleteMessage(5, sent.message_id)).toBe(true);
    expect(emulator.sentMessages).toEqual([]);
    await expect(bot.api.deleteMessage(5, sent.message_id)).rejects.toMatchObject({
      description: 'Bad Request: message to delete not found',
    });
  });
});
