import type { ServerResponse } from 'node:http';

/**
 * The JSON body Telegram answers a failed call with: `{ ok: false, error_code, description }`,
 * plus `parameters` (`retry_after`, `migrate_to_chat_id`) when Telegram gives them.
 *
 * @example
 * ```ts
 * import type { TelegramErrorBody } from '@botkit/testing';
 *
 * const tooMany: TelegramErrorBody = {
 *   ok: false,
 *   error_code: 429,
 *   description: 'Too Many Requests: retry after 5',
 *   parameters: { retry_after: 5 },
 * };
 * ```
 */
export interface TelegramErrorBody {
  /** Always `false`. */
  ok: false;
  /** The HTTP status, repeated in the body. */
  error_code: number;
  /** What went wrong, in Telegram's words (`Bad Request: chat not found`). */
  description: string;
  /** Hints for the client, only when Telegram gives them. */
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

/** A failed call, thrown inside the emulator and turned into a {@link TelegramErrorBody}. */
export class ApiFailure extends Error {
  readonly errorCode: number;
  readonly description: string;
  readonly parameters: TelegramErrorBody['parameters'];

  constructor(errorCode: number, description: string, parameters?: TelegramErrorBody['parameters']) {
    super(description);
    this.errorCode = errorCode;
    this.description = description;
    this.parameters = parameters;
  }

  toBody(): TelegramErrorBody {
    const body: TelegramErrorBody = { ok: false, error_code: this.errorCode, description: this.description };
    if (this.parameters) body.parameters = this.parameters;
    return body;
  }
}

/** 400 `Bad Request: ...`. */
export const badRequest = (what: string): ApiFailure => new ApiFailure(400, `Bad Request: ${what}`);

/** Builds Telegram's default description for an error code (used by fault injection). */
export function defaultDescription(errorCode: number, retryAfterSeconds?: number): string {
  switch (errorCode) {
    case 400:
      return 'Bad Request';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden: bot was blocked by the user';
    case 404:
      return 'Not Found';
    case 409:
      return 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
    case 429:
      return `Too Many Requests: retry after ${retryAfterSeconds ?? 1}`;
    case 500:
      return 'Internal Server Error';
    case 502:
      return 'Bad Gateway';
    case 503:
      return 'Service Unavailable';
    case 504:
      return 'Gateway Timeout';
    default:
      return errorCode >= 500 ? 'Internal Server Error' : 'Bad Request';
  }
}

/** Sends a JSON answer (unless the connection is already gone). */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.writableEnded || res.destroyed) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}
