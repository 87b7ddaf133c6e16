import type { Update } from '@grammyjs/types';

/**
 * A kind of update: a field name of Telegram's `Update` object other than `update_id`
 * (`'message'`, `'callback_query'`...), as used in `allowed_updates`.
 *
 * @example
 * ```ts
 * import type { UpdateType } from '@botkit/testing';
 *
 * const wanted: UpdateType[] = ['message', 'callback_query'];
 * ```
 */
export type UpdateType = Exclude<Extract<keyof Update, string>, 'update_id'>;

/**
 * Every update type the emulator knows, in the order of the Bot API documentation.
 *
 * @example
 * ```ts
 * import { UPDATE_TYPES } from '@botkit/testing';
 *
 * console.log(UPDATE_TYPES.includes('message')); // true
 * ```
 */
export const UPDATE_TYPES: readonly UpdateType[] = Object.freeze([
  'message',
  'edited_message',
  'channel_post',
  'edited_channel_post',
  'business_connection',
  'business_message',
  'edited_business_message',
  'deleted_business_messages',
  'message_reaction',
  'message_reaction_count',
  'inline_query',
  'chosen_inline_result',
  'callback_query',
  'shipping_query',
  'pre_checkout_query',
  'purchased_paid_media',
  'poll',
  'poll_answer',
  'my_chat_member',
  'chat_member',
  'chat_join_request',
  'chat_boost',
  'removed_chat_boost',
] as UpdateType[]);

/** Types a bot receives when it never set `allowed_updates` (or set an empty list). */
const OPT_IN_TYPES = new Set<string>(['chat_member', 'message_reaction', 'message_reaction_count']);

/**
 * How long Telegram keeps an update of each type waiting for the bot, in milliseconds, like
 * the official Bot API server: 24 h for messages and most updates, 150 s for callback
 * queries, shipping and pre-checkout queries, 30 s for inline queries, 10 min for chosen
 * inline results. An update older than this is dropped without being delivered.
 *
 * @example
 * ```ts
 * import { DEFAULT_UPDATE_LIFETIMES_MS } from '@botkit/testing';
 *
 * console.log(DEFAULT_UPDATE_LIFETIMES_MS.callback_query); // 150000
 * ```
 */
export const DEFAULT_UPDATE_LIFETIMES_MS: Readonly<Record<UpdateType, number>> = Object.freeze(
  Object.fromEntries(
    UPDATE_TYPES.map((type) => {
      const seconds =
        type === 'inline_query'
          ? 30
          : type === 'chosen_inline_result'
            ? 600
            : type === 'callback_query' || type === 'shipping_query' || type === 'pre_checkout_query'
              ? 150
              : 86_400;
      return [type, seconds * 1000];
    }),
  ) as Record<UpdateType, number>,
);

/** The type of an update: its first field other than `update_id`. */
export function updateTypeOf(update: object): UpdateType | undefined {
  for (const key of Object.keys(update)) {
    if (key !== 'update_id' && (UPDATE_TYPES as readonly string[]).includes(key)) return key as UpdateType;
  }
  return undefined;
}

/** The default set of allowed update types. */
export const DEFAULT_ALLOWED_UPDATES: ReadonlySet<string> = new Set(
  UPDATE_TYPES.filter((type) => !OPT_IN_TYPES.has(type)),
);

/**
 * Resolves `allowed_updates` as the official server does: names match in any case, unknown
 * names are ignored, and a list with no known name (or an empty list) means the default set
 * (every type except `chat_member`, `message_reaction`, `message_reaction_count`). Returns
 * undefined when the value does not change the setting (absent, not a list, or a list with a
 * non-string item).
 */
export function resolveAllowedUpdates(value: unknown): Set<string> | undefined {
  if (!Array.isArray(value)) return undefined;
  if (value.some((item) => typeof item !== 'string')) return undefined;
  const wanted = new Set((value as string[]).map((name) => name.toLowerCase()));
  const known = UPDATE_TYPES.filter((type) => wanted.has(type));
  return new Set(known.length > 0 ? known : DEFAULT_ALLOWED_UPDATES);
}

interface Keyed {
  chat?: { id: number };
  from?: { id: number };
  message?: { chat?: { id: number } };
  user?: { id: number };
}

/**
 * Webhook delivery order key: updates with the same key are delivered one at a time, in order.
 * Messages and other chat updates are ordered per chat; callback and inline queries per user.
 */
export function orderingKeyOf(update: Update, type: UpdateType | undefined, fallback: number): string {
  const payload = (type ? (update as unknown as Record<string, Keyed>)[type] : undefined) ?? {};
  if (payload.chat?.id !== undefined) return `chat:${payload.chat.id}`;
  if (type === 'callback_query' || type === 'inline_query' || type === 'chosen_inline_result') {
    if (payload.from?.id !== undefined) return `user:${payload.from.id}`;
  }
  if (payload.message?.chat?.id !== undefined) return `chat:${payload.message.chat.id}`;
  if (payload.user?.id !== undefined) return `user:${payload.user.id}`;
  return `unique:${fallback}`;
}

/** How far past the next update id an offset may be before the server ignores it. */
const FUTURE_OFFSET_SLACK = 10;

/** One update waiting at "Telegram". */
export interface StoredUpdate {
  readonly id: number;
  readonly update: Update;
  readonly type: UpdateType | undefined;
  readonly key: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Webhook retry state, as in the official server: base delay in seconds and failures so far. */
  delaySeconds: number;
  failCount: number;
  wakeupAt: number;
  inFlight: boolean;
}

/** The pending-update queue with sequential ids, confirmation by offset and expiry. */
export class UpdateQueue {
  #items: StoredUpdate[] = [];
  #nextId: number;

  constructor(firstUpdateId: number) {
    this.#nextId = firstUpdateId;
  }

  get nextId(): number {
    return this.#nextId;
  }

  add(update: Omit<Update, 'update_id'>, now: number, lifetimes: Readonly<Record<string, number>>): StoredUpdate {
    const id = this.#nextId++;
    const full = { update_id: id, ...update } as Update;
    const type = updateTypeOf(full);
    const lifetime = (type ? lifetimes[type] : undefined) ?? 86_400_000;
    const stored: StoredUpdate = {
      id,
      update: full,
      type,
      key: orderingKeyOf(full, type, id),
      createdAt: now,
      expiresAt: now + lifetime,
      delaySeconds: 1,
      failCount: 0,
      wakeupAt: now,
      inFlight: false,
    };
    this.#items.push(stored);
    return stored;
  }

  /** Forgets updates whose lifetime has passed. */
  purgeExpired(now: number): void {
    if (this.#items.some((u) => u.expiresAt < now)) this.#items = this.#items.filter((u) => u.expiresAt >= now);
  }

  /** Pending updates in id order (after dropping expired ones). */
  pending(now: number): readonly StoredUpdate[] {
    this.purgeExpired(now);
    return this.#items;
  }

  /** Confirms (forgets) every update with an id lower than `offset`. */
  confirmBelow(offset: number): void {
    if (this.#items.length > 0 && this.#items[0]!.id < offset) this.#items = this.#items.filter((u) => u.id >= offset);
  }

  /** Forgets one update (delivered to the webhook, or dropped). */
  forget(id: number): void {
    const index = this.#items.findIndex((u) => u.id === id);
    if (index >= 0) this.#items.splice(index, 1);
  }

  has(id: number): boolean {
    return this.#items.some((u) => u.id === id);
  }

  clear(): void {
    this.#items = [];
  }

  /**
   * Resolves a `getUpdates` offset like the official server: a positive offset confirms (forgets)
   * every lower id; a negative one counts from the end (`next id + offset`) and forgets every
   * earlier update; 0 starts at the oldest pending update. An offset more than 10 past the next
   * id is "in the future": it confirms nothing and reads from the oldest pending update.
   * Returns the lowest id to return.
   */
  applyOffset(offset: number, now: number): number {
    this.purgeExpired(now);
    const head = this.#items[0]?.id ?? this.#nextId;
    let from = offset;
    if (offset <= 0) {
      if (offset < 0 && this.#items.length > 0) from = this.#nextId + offset;
      if (from < head) from = head;
    } else if (offset > this.#nextId + FUTURE_OFFSET_SLACK) {
      from = head;
    }
    this.confirmBelow(from);
    return from;
  }

  /** Up to `limit` pending updates with `id >= from`. */
  take(from: number, limit: number, now: number): Update[] {
    this.purgeExpired(now);
    const out: Update[] = [];
    for (const item of this.#items) {
      if (item.id < from) continue;
      out.push(item.update);
      if (out.length >= limit) break;
    }
    return out;
  }
}
