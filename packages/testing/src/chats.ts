import type { Chat, Document, Message, MessageEntity, User, UserFromGetMe } from '@grammyjs/types';
import { ApiFailure, badRequest } from './api-error.js';
import { intParam, isUploadedFile, jsonParam, type Params, stringParam } from './params.js';

/**
 * An answer the bot gave to a callback query (`answerCallbackQuery`).
 *
 * @example
 * ```ts
 * const answer = emulator.callbackAnswers.at(-1);
 * console.log(answer?.text, answer?.showAlert);
 * ```
 */
export interface CallbackAnswer {
  /** The `callback_query_id` answered. */
  readonly callbackQueryId: string;
  /** Notification text, if any. */
  readonly text: string | undefined;
  /** Whether an alert was requested instead of a notification. */
  readonly showAlert: boolean;
  /** URL to open, if any. */
  readonly url: string | undefined;
  /** Clock time (epoch ms) of the answer. */
  readonly at: number;
}

const BOT_COMMAND = /(^|\s)(\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?)(?=$|\s)/g;

/** `bot_command` entities for a user's text, as Telegram's clients produce them. */
export function commandEntities(text: string): MessageEntity[] {
  const entities: MessageEntity[] = [];
  for (const match of text.matchAll(BOT_COMMAND)) {
    const offset = (match.index ?? 0) + (match[1]?.length ?? 0);
    entities.push({ type: 'bot_command', offset, length: match[2]!.length });
  }
  return entities;
}

/** A chat object for an id: private for positive ids, supergroup for -100..., group otherwise. */
export function chatFor(chatId: number, user: User): Chat {
  if (chatId > 0) {
    const chat: Chat.PrivateChat = { id: chatId, type: 'private', first_name: user.first_name };
    if (user.last_name) chat.last_name = user.last_name;
    if (user.username) chat.username = user.username;
    return chat;
  }
  if (String(chatId).startsWith('-100')) return { id: chatId, type: 'supergroup', title: 'Test Supergroup' };
  return { id: chatId, type: 'group', title: 'Test Group' };
}

interface PendingQuery {
  readonly createdAt: number;
  readonly answered: boolean;
}

const TEXT_LIMIT = 4096;

/** Messages of every chat, the bot's sent messages, uploaded files and callback queries. */
export class ChatStore {
  readonly #bot: UserFromGetMe;
  readonly #now: () => number;
  readonly #nextMessageId = new Map<number, number>();
  readonly #messages = new Map<string, Message>();
  readonly #chats = new Map<number, Chat>();
  readonly #files = new Map<string, Document>();
  readonly #queries = new Map<string, PendingQuery>();
  #fileSeq = 0;
  #querySeq = 0;
  readonly sent: Message[] = [];
  readonly answers: CallbackAnswer[] = [];
  readonly onSent = new Set<(message: Message) => void>();

  constructor(bot: UserFromGetMe, now: () => number) {
    this.#bot = bot;
    this.#now = now;
  }

  #date(): number {
    return Math.floor(this.#now() / 1000);
  }

  #messageId(chatId: number): number {
    const id = this.#nextMessageId.get(chatId) ?? 1;
    this.#nextMessageId.set(chatId, id + 1);
    return id;
  }

  #chat(chatId: number): Chat {
    return this.#chats.get(chatId) ?? chatFor(chatId, { id: chatId, is_bot: false, first_name: 'Test User' });
  }

  message(chatId: number, messageId: number): Message | undefined {
    return this.#messages.get(`${chatId}:${messageId}`);
  }

  /** A message written by a user (to inject as an update). */
  userMessage(chatId: number, text: string, from: User, chat: Chat | undefined): Message {
    const resolvedChat = chat ?? this.#chats.get(chatId) ?? chatFor(chatId, from);
    this.#chats.set(chatId, resolvedChat);
    const message = {
      message_id: this.#messageId(chatId),
      from,
      chat: resolvedChat,
      date: this.#date(),
      text,
    } as Message.TextMessage;
    const entities = commandEntities(text);
    if (entities.length > 0) message.entities = entities;
    this.#messages.set(`${chatId}:${message.message_id}`, message);
    return message;
  }

  /** The bot's message a callback button belongs to, when the test gave none: a stub in the chat. */
  buttonMessage(chatId: number, user: User): Message {
    const message = {
      message_id: this.#messageId(chatId),
      from: this.#bot,
      chat: this.#chats.get(chatId) ?? chatFor(chatId, user),
      date: this.#date(),
      text: 'Choose:',
    } as Message.TextMessage;
    this.#messages.set(`${chatId}:${message.message_id}`, message);
    return message;
  }

  /** A new callback query id, remembered until answered. */
  newCallbackQueryId(): string {
    const id = `${Date.now().toString(36)}${(++this.#querySeq).toString(36)}`;
    this.#queries.set(id, { createdAt: this.#now(), answered: false });
    return id;
  }

  #record(message: Message): Message {
    this.#messages.set(`${message.chat.id}:${message.message_id}`, message);
    this.sent.push(message);
    for (const listener of this.onSent) listener(message);
    return message;
  }

  #chatId(params: Params): number {
    const raw = params.chat_id;
    if (raw === undefined || raw === null || raw === '') throw badRequest('chat_id is empty');
    if (typeof raw === 'string' && raw.startsWith('@')) throw badRequest('chat not found');
    return intParam(params, 'chat_id')!;
  }

  #replyMarkup(params: Params): unknown {
    return jsonParam(params, 'reply_markup');
  }

  sendMessage(params: Params): Message {
    const chatId = this.#chatId(params);
    const text = stringParam(params, 'text') ?? '';
    if (text.trim() === '') throw badRequest('message text is empty');
    if (text.length > TEXT_LIMIT) throw badRequest('message is too long');
    const message = {
      message_id: this.#messageId(chatId),
      from: this.#bot,
      chat: this.#chat(chatId),
      date: this.#date(),
      text,
    } as Message.TextMessage;
    const entities = jsonParam(params, 'entities');
    if (Array.isArray(entities) && entities.length > 0) message.entities = entities as MessageEntity[];
    const markup = this.#replyMarkup(params);
    if (markup !== undefined) (message as { reply_markup?: unknown }).reply_markup = markup;
    return this.#record(message);
  }

  sendDocument(params: Params): Message {
    const chatId = this.#chatId(params);
    const input = params.document;
    let document: Document;
    if (isUploadedFile(input)) {
      const seq = ++this.#fileSeq;
      document = {
        file_id: `BQACAgIAAxkBAAI${seq.toString(36).padStart(6, '0')}`,
        file_unique_id: `AgAD${seq.toString(36).padStart(6, '0')}`,
        file_name: input.name,
        mime_type: input.type,
        file_size: input.size,
      };
      this.#files.set(document.file_id, document);
    } else if (typeof input === 'string' && this.#files.has(input)) {
      document = this.#files.get(input)!;
    } else if (typeof input === 'string' && /^https?:\/\//i.test(input)) {
      const seq = ++this.#fileSeq;
      const name = new URL(input).pathname.split('/').pop() || 'file';
      document = {
        file_id: `BQACAgIAAxkBAAI${seq.toString(36).padStart(6, '0')}`,
        file_unique_id: `AgAD${seq}`,
        file_name: name,
      };
      this.#files.set(document.file_id, document);
    } else if (input === undefined || input === '') {
      throw badRequest('there is no document in the request');
    } else {
      throw badRequest('wrong file identifier/HTTP URL specified');
    }
    const message = {
      message_id: this.#messageId(chatId),
      from: this.#bot,
      chat: this.#chat(chatId),
      date: this.#date(),
      document,
    } as Message.DocumentMessage;
    const caption = stringParam(params, 'caption');
    if (caption) message.caption = caption;
    const markup = this.#replyMarkup(params);
    if (markup !== undefined) (message as { reply_markup?: unknown }).reply_markup = markup;
    return this.#record(message);
  }

  editMessageText(params: Params): Message | true {
    const text = stringParam(params, 'text') ?? '';
    if (text.trim() === '') throw badRequest('message text is empty');
    if (text.length > TEXT_LIMIT) throw badRequest('MESSAGE_TOO_LONG');
    if (params.inline_message_id !== undefined && params.inline_message_id !== '') return true;
    const chatId = this.#chatId(params);
    const messageId = intParam(params, 'message_id');
    if (messageId === undefined) throw badRequest('message identifier is not specified');
    const existing = this.message(chatId, messageId);
    if (!existing) throw badRequest('message to edit not found');
    if (existing.from?.id !== this.#bot.id) throw badRequest("message can't be edited");
    const markup = this.#replyMarkup(params);
    if (
      existing.text === text &&
      JSON.stringify(existing.reply_markup ?? null) === JSON.stringify(markup ?? existing.reply_markup ?? null)
    ) {
      throw badRequest(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    }
    const edited = { ...existing, text, edit_date: this.#date() } as Message.TextMessage;
    const entities = jsonParam(params, 'entities');
    if (Array.isArray(entities) && entities.length > 0) edited.entities = entities as MessageEntity[];
    else delete edited.entities;
    if (markup !== undefined) (edited as { reply_markup?: unknown }).reply_markup = markup;
    this.#messages.set(`${chatId}:${messageId}`, edited);
    const index = this.sent.indexOf(existing);
    if (index >= 0) this.sent[index] = edited;
    for (const listener of this.onSent) listener(edited);
    return edited;
  }

  deleteMessage(params: Params): true {
    const chatId = this.#chatId(params);
    const messageId = intParam(params, 'message_id');
    if (messageId === undefined) throw badRequest('message identifier is not specified');
    const existing = this.message(chatId, messageId);
    if (!existing) throw badRequest('message to delete not found');
    this.#messages.delete(`${chatId}:${messageId}`);
    const index = this.sent.indexOf(existing);
    if (index >= 0) this.sent.splice(index, 1);
    return true;
  }

  answerCallbackQuery(params: Params): true {
    const id = stringParam(params, 'callback_query_id');
    if (!id) throw badRequest('query ID is empty');
    const query = this.#queries.get(id);
    if (!query || query.answered) {
      throw badRequest('query is too old and response timeout expired or query ID is invalid');
    }
    this.#queries.delete(id);
    const text = stringParam(params, 'text');
    if (text !== undefined && text.length > 200) throw new ApiFailure(400, 'Bad Request: MESSAGE_TOO_LONG');
    this.answers.push({
      callbackQueryId: id,
      text,
      showAlert: params.show_alert === true || params.show_alert === 'true',
      url: stringParam(params, 'url'),
      at: this.#now(),
    });
    return true;
  }
}
