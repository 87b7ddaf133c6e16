import type { BotCommand } from '@grammyjs/types';
import { badRequest } from './api-error.js';
import { jsonParam, type Params, stringParam } from './params.js';

const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

const COMMAND_NAME = /^[a-z0-9_]{1,32}$/;

/** Methods bots commonly call at start-up or in passing: commands menu and chat actions. */
export class MiscMethods {
  /** Commands per scope and language (`JSON.stringify([scope, language])`). */
  readonly #commands = new Map<string, BotCommand[]>();

  #key(params: Params): string {
    const scope = jsonParam(params, 'scope') ?? { type: 'default' };
    return JSON.stringify([scope, stringParam(params, 'language_code') ?? '']);
  }

  setMyCommands(params: Params): true {
    const commands = jsonParam(params, 'commands');
    if (!Array.isArray(commands)) throw badRequest('parameter "commands" is required');
    if (commands.length > 100) throw badRequest('too many commands specified');
    for (const item of commands as Partial<BotCommand>[]) {
      if (typeof item?.command !== 'string' || !COMMAND_NAME.test(item.command.replace(/^\//, ''))) {
        throw badRequest('BOT_COMMAND_INVALID');
      }
      if (typeof item.description !== 'string' || item.description.length === 0) {
        throw badRequest('command description is empty');
      }
    }
    const list = (commands as BotCommand[]).map(({ command, description }) => ({
      command: command.replace(/^\//, ''),
      description,
    }));
    if (list.length === 0) this.#commands.delete(this.#key(params));
    else this.#commands.set(this.#key(params), list);
    return true;
  }

  getMyCommands(params: Params): BotCommand[] {
    return this.#commands.get(this.#key(params)) ?? [];
  }

  deleteMyCommands(params: Params): true {
    this.#commands.delete(this.#key(params));
    return true;
  }

  sendChatAction(params: Params): true {
    if (params.chat_id === undefined || params.chat_id === '') throw badRequest('chat_id is empty');
    const action = stringParam(params, 'action');
    if (!action) throw badRequest('parameter "action" is required');
    if (!CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
    return true;
  }
}
