import type { ApiMethods } from '@grammyjs/types';
import { type Dispatcher, request } from 'undici';
import { type Clock, systemClock } from './clock.js';
import { BotkitError } from './errors.js';
import { redact } from './redact.js';

/**
 * Codes of {@link TelegramError}, by cause.
 *
 * @example
 * ```ts
 * import { TelegramErrorCode, isBotkitError } from '@botkit/core';
 *
 * if (isBotkitError(error, TelegramErrorCode.RateLimited)) console.warn('slow down');
 * ```
 */
export const TelegramErrorCode = Object.freeze({
  /** 401: the token is wrong or revoked. */
  Unauthorized: 'BOTKIT_TELEGRAM_UNAUTHORIZED',
  /** 403: e.g. the bot was blocked by the user. Never retry. */
  Forbidden: 'BOTKIT_TELEGRAM_FORBIDDEN',
  /** 404: unknown method, or a malformed token. */
  NotFound: 'BOTKIT_TELEGRAM_NOT_FOUND',
  /** 409: another getUpdates is running, or a webhook is set. */
  Conflict: 'BOTKIT_TELEGRAM_CONFLICT',
  /** 429: flood control; see `retryAfterMs`. */
  RateLimited: 'BOTKIT_TELEGRAM_RATE_LIMITED',
  /** 5xx from Telegram or a proxy in front of it. */
  ServerError: 'BOTKIT_TELEGRAM_SERVER_ERROR',
  /** Any other 4xx (400 Bad Request...). Never retry. */
  BadRequest: 'BOTKIT_TELEGRAM_BAD_REQUEST',
  /** The request did not reach Telegram or no response came back (connection refused, reset, DNS). */
  Network: 'BOTKIT_TELEGRAM_NETWORK',
  /** No response within the time limit. */
  Timeout: 'BOTKIT_TELEGRAM_TIMEOUT',
} as const);

/** One of the {@link TelegramErrorCode} values. */
export type TelegramErrorCodeValue = (typeof TelegramErrorCode)[keyof typeof TelegramErrorCode];

/**
 * Details carried by a {@link TelegramError}.
 */
export interface TelegramErrorDetails {
  /** The Bot API method that failed, e.g. `sendMessage`. */
  method: string;
  /** Telegram's `error_code` (HTTP status), absent for network errors and timeouts. */
  errorCode?: number | undefined;
  /** Telegram's `description`, with any secret removed. */
  description?: string | undefined;
  /** `parameters.retry_after` converted to milliseconds. */
  retryAfterMs?: number | undefined;
  /** `parameters.migrate_to_chat_id` (the group became a supergroup). */
  migrateToChatId?: number | undefined;
  /** The underlying error (network errors), with secrets removed from its message. */
  cause?: unknown;
}

/**
 * A failed Bot API call. `code` says why (see {@link TelegramErrorCode}); `retryable` says
 * whether trying again can succeed (network errors, timeouts, 5xx, and 429 after
 * `retryAfterMs`). The bot token never appears in its message, `toString()`, `toJSON()` or cause.
 *
 * @example
 * ```ts
 * import { isBotkitError, type TelegramError } from '@botkit/core';
 *
 * try {
 *   await api.call('sendMessage', { chat_id: 1, text: 'hi' });
 * } catch (error) {
 *   if (isBotkitError(error, 'BOTKIT_TELEGRAM_RATE_LIMITED')) {
 *     await sleep((error as TelegramError).retryAfterMs ?? 1000);
 *   }
 * }
 * ```
 */
export class TelegramError extends BotkitError {
  /** The Bot API method that failed. */
  readonly method: string;
  /** Telegram's `error_code`, when Telegram answered. */
  readonly errorCode: number | undefined;
  /** Telegram's `description`, when Telegram answered. */
  readonly description: string | undefined;
  /** How long Telegram asks to wait before retrying (429), in milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** The new supergroup id when a group migrated. */
  readonly migrateToChatId: number | undefined;
  /** Whether retrying the same call can succeed. */
  readonly retryable: boolean;

  /**
   * @param code - one of {@link TelegramErrorCode}
   * @param message - description, already free of secrets
   * @param details - what Telegram said
   */
  constructor(code: TelegramErrorCodeValue, message: string, details: TelegramErrorDetails) {
    super(code, message, 'cause' in details ? { cause: details.cause } : {});
    this.method = details.method;
    this.errorCode = details.errorCode;
    this.description = details.description;
    this.retryAfterMs = details.retryAfterMs;
    this.migrateToChatId = details.migrateToChatId;
    this.retryable =
      code === TelegramErrorCode.Network ||
      code === TelegramErrorCode.Timeout ||
      code === TelegramErrorCode.ServerError ||
      code === TelegramErrorCode.RateLimited;
  }

  /**
   * A JSON form for structured logs, free of secrets.
   *
   * @returns name, code, method, error code, description, retry hints
   */
  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      method: this.method,
      errorCode: this.errorCode,
      description: this.description,
      retryAfterMs: this.retryAfterMs,
      migrateToChatId: this.migrateToChatId,
      retryable: this.retryable,
    };
  }
}

/**
 * Options of {@link createBotApi}.
 */
export interface BotApiOptions {
  /** The bot token from @BotFather. Kept private: never logged or put in errors. */
  token: string;
  /** Bot API server root. @defaultValue `'https://api.telegram.org'` */
  apiRoot?: string | undefined;
  /**
   * Time limit of one call in milliseconds. For `getUpdates` the long-polling `timeout`
   * parameter is added to it. @defaultValue `30000`
   */
  timeoutMs?: number | undefined;
  /** Clock for timeouts. @defaultValue {@link systemClock} */
  clock?: Clock | undefined;
  /** An undici dispatcher (Agent, Pool, ProxyAgent) to send requests through. */
  dispatcher?: Dispatcher | undefined;
}

/**
 * Per-call options of {@link BotApi.call}.
 */
export interface CallOptions {
  /** Cancels the call; it rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number | undefined;
}

/**
 * The Bot API method table from `@grammyjs/types` (JSON parameters, no file uploads).
 *
 * @example
 * ```ts
 * import type { BotApiMethods } from '@botkit/core';
 *
 * type Name = keyof BotApiMethods; // 'getMe' | 'sendMessage' | ...
 * ```
 */
export type BotApiMethods = ApiMethods<never>;

/**
 * Parameters of a Bot API method.
 *
 * @example
 * ```ts
 * import type { MethodParams } from '@botkit/core';
 *
 * const params: MethodParams<'sendMessage'> = { chat_id: 1, text: 'hi' };
 * ```
 */
export type MethodParams<M extends keyof BotApiMethods> = Parameters<BotApiMethods[M]>[0];
/**
 * Result of a Bot API method.
 *
 * @example
 * ```ts
 * import type { MethodResult } from '@botkit/core';
 *
 * type Me = MethodResult<'getMe'>; // UserFromGetMe
 * ```
 */
export type MethodResult<M extends keyof BotApiMethods> = ReturnType<BotApiMethods[M]>;

/**
 * A minimal Telegram Bot API client (see {@link createBotApi}).
 */
export interface BotApi {
  /** The server root requests go to (never includes the token). */
  readonly apiRoot: string;
  /**
   * Calls a Bot API method with JSON parameters.
   *
   * @param method - method name, e.g. `getMe`
   * @param params - the method's parameters
   * @param options - signal and timeout of this call
   * @returns Telegram's `result`
   * @throws {@link TelegramError} when Telegram answers `ok: false`, on network errors and timeouts
   */
  call<M extends keyof BotApiMethods>(
    method: M,
    params?: MethodParams<M>,
    options?: CallOptions,
  ): Promise<MethodResult<M>>;
  /**
   * Calls any method by name, for methods newer than the bundled types.
   *
   * @param method - method name
   * @param params - JSON-serialisable parameters
   * @param options - signal and timeout of this call
   * @returns Telegram's `result`
   */
  callRaw<T = unknown>(method: string, params?: Record<string, unknown>, options?: CallOptions): Promise<T>;
  /** A JSON form that omits the token. @returns `{ apiRoot }` */
  toJSON(): { apiRoot: string };
}

interface TelegramResponse {
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

function codeForStatus(status: number): TelegramErrorCodeValue {
  if (status === 401) return TelegramErrorCode.Unauthorized;
  if (status === 403) return TelegramErrorCode.Forbidden;
  if (status === 404) return TelegramErrorCode.NotFound;
  if (status === 409) return TelegramErrorCode.Conflict;
  if (status === 429) return TelegramErrorCode.RateLimited;
  if (status >= 500) return TelegramErrorCode.ServerError;
  return TelegramErrorCode.BadRequest;
}

function sanitizedCause(error: unknown, token: string): Error {
  if (!(error instanceof Error)) return new Error(redact(String(error), [token]));
  const clean = new Error(redact(error.message, [token]));
  clean.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') (clean as Error & { code: string }).code = code;
  clean.stack = redact(error.stack ?? '', [token]);
  return clean;
}

/**
 * Creates a minimal Bot API client on undici. It classifies failures into
 * {@link TelegramError} codes (401/404 token, 409 conflict, 429 with `retryAfterMs`, 5xx,
 * network, timeout), honours AbortSignal, and never exposes the token in errors or logs.
 *
 * @param options - token, API root, default timeout
 * @returns a {@link BotApi}
 * @throws TypeError when the token is missing or an option is invalid
 *
 * @example
 * ```ts
 * import { createBotApi } from '@botkit/core';
 *
 * const api = createBotApi({ token: process.env.BOT_TOKEN! });
 * const me = await api.call('getMe');
 * await api.call('sendMessage', { chat_id: 42, text: `I am @${me.username}` });
 * ```
 */
export function createBotApi(options: BotApiOptions): BotApi {
  const { token, clock = systemClock, dispatcher } = options;
  if (typeof token !== 'string' || token.length === 0) {
    throw new TypeError('Expected token to be a non-empty string');
  }
  const apiRoot = (options.apiRoot ?? 'https://api.telegram.org').replace(/\/+$/, '');
  try {
    new URL(apiRoot);
  } catch {
    throw new TypeError(`Expected apiRoot to be an absolute URL, got ${JSON.stringify(redact(apiRoot, [token]))}`);
  }
  const defaultTimeoutMs = options.timeoutMs ?? 30_000;
  if (!(defaultTimeoutMs > 0)) throw new TypeError(`Expected timeoutMs > 0, got ${defaultTimeoutMs}`);

  async function callRaw<T>(
    method: string,
    params: Record<string, unknown> = {},
    callOptions: CallOptions = {},
  ): Promise<T> {
    const { signal } = callOptions;
    signal?.throwIfAborted();
    const pollMs = method === 'getUpdates' && typeof params.timeout === 'number' ? params.timeout * 1000 : 0;
    const timeoutMs = callOptions.timeoutMs ?? defaultTimeoutMs + pollMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let status: number;
    let body: string;
    try {
      const response = await request(`${apiRoot}/bot${token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
        signal: controller.signal,
        ...(dispatcher ? { dispatcher } : {}),
      });
      status = response.statusCode;
      body = await response.body.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut) {
        throw new TelegramError(TelegramErrorCode.Timeout, `Telegram ${method} timed out after ${timeoutMs} ms`, {
          method,
        });
      }
      const cause = sanitizedCause(error, token);
      const reason = (cause as { code?: string }).code ?? cause.message;
      throw new TelegramError(TelegramErrorCode.Network, `Telegram ${method} failed: network error (${reason})`, {
        method,
        cause,
      });
    } finally {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }

    let parsed: TelegramResponse | undefined;
    try {
      parsed = JSON.parse(body) as TelegramResponse;
    } catch {
      parsed = undefined;
    }
    if (parsed?.ok === true) return parsed.result as T;
    const errorCode = parsed?.error_code ?? status;
    const description = redact(parsed?.description ?? `HTTP ${status} with a non-JSON body`, [token]);
    const retryAfter = parsed?.parameters?.retry_after;
    const migrate = parsed?.parameters?.migrate_to_chat_id;
    throw new TelegramError(codeForStatus(errorCode), `Telegram ${method} failed: ${errorCode} ${description}`, {
      method,
      errorCode,
      description,
      retryAfterMs: typeof retryAfter === 'number' ? retryAfter * 1000 : undefined,
      migrateToChatId: migrate,
    });
  }

  const api: BotApi = {
    apiRoot,
    call: (method, params, callOptions) =>
      callRaw(method, (params ?? {}) as Record<string, unknown>, callOptions) as never,
    callRaw,
    toJSON: () => ({ apiRoot }),
  };
  return Object.freeze(api);
}
