import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBotApi, type TelegramError, TelegramErrorCode } from './bot-api.js';
import { createTestClock } from './clock.js';
import { isBotkitError } from './errors.js';

const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-secret';
type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let apiRoot: string;
let handler: Handler;
const seen: { url: string; body: string }[] = [];

beforeEach(async () => {
  seen.length = 0;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body });
      handler(req, body, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  server.close();
});

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

/** Every way a caught error can end up in a log line. */
function renderings(error: unknown): string[] {
  const e = error as Error;
  return [
    String(e),
    e.message,
    e.stack ?? '',
    JSON.stringify(e),
    inspect(e, { depth: 5 }),
    String((e.cause as Error | undefined)?.message),
    String((e.cause as Error | undefined)?.stack),
  ];
}

async function caught(promise: Promise<unknown>): Promise<TelegramError> {
  try {
    await promise;
  } catch (error) {
    return error as TelegramError;
  }
  throw new Error('expected a rejection');
}

describe('createBotApi', () => {
  it('posts JSON parameters to /bot<token>/<method> and returns the result', async () => {
    handler = (_req, body, res) => json(res, 200, { ok: true, result: { echoed: JSON.parse(body) } });
    const api = createBotApi({ token: TOKEN, apiRoot });
    const result = await api.callRaw('sendMessage', { chat_id: 1, text: 'hi' });
    expect(result).toEqual({ echoed: { chat_id: 1, text: 'hi' } });
    expect(seen[0]?.url).toBe(`/bot${TOKEN}/sendMessage`);
  });

  it('types results of known methods', async () => {
    handler = (_req, _body, res) =>
      json(res, 200, { ok: true, result: { id: 1, is_bot: true, first_name: 'B', username: 'b_bot' } });
    const api = createBotApi({ token: TOKEN, apiRoot });
    const me = await api.call('getMe');
    expect(me.username).toBe('b_bot');
  });

  it('turns 429 into a retryable RATE_LIMITED error with retry_after in milliseconds', async () => {
    handler = (_req, _body, res) =>
      json(res, 429, {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 5',
        parameters: { retry_after: 5 },
      });
    const error = await caught(createBotApi({ token: TOKEN, apiRoot }).callRaw('sendMessage', {}));
    expect(isBotkitError(error, TelegramErrorCode.RateLimited)).toBe(true);
    expect(error.retryAfterMs).toBe(5000);
    expect(error.errorCode).toBe(429);
    expect(error.retryable).toBe(true);
  });

  it('classifies 401, 403, 404, 409, 400 and 5xx; only 5xx is retryable', async () => {
    const cases: [number, string, boolean][] = [
      [401, TelegramErrorCode.Unauthorized, false],
      [403, TelegramErrorCode.Forbidden, false],
      [404, TelegramErrorCode.NotFound, false],
      [409, TelegramErrorCode.Conflict, false],
      [400, TelegramErrorCode.BadRequest, false],
      [502, TelegramErrorCode.ServerError, true],
    ];
    const api = createBotApi({ token: TOKEN, apiRoot });
    for (const [status, code, retryable] of cases) {
      handler = (_req, _body, res) =>
        json(res, status, { ok: false, error_code: status, description: `status ${status}` });
      const error = await caught(api.callRaw('getMe'));
      expect(error.code).toBe(code);
      expect(error.retryable).toBe(retryable);
      expect(error.description).toBe(`status ${status}`);
    }
  });

  it('treats a non-JSON proxy error page as a retryable server error', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad Gateway</html>');
    };
    const error = await caught(createBotApi({ token: TOKEN, apiRoot }).callRaw('getMe'));
    expect(error.code).toBe(TelegramErrorCode.ServerError);
    expect(error.errorCode).toBe(502);
  });

  it('exposes migrate_to_chat_id', async () => {
    handler = (_req, _body, res) =>
      json(res, 400, {
        ok: false,
        error_code: 400,
        description: 'Bad Request: group chat was upgraded',
        parameters: { migrate_to_chat_id: -100123 },
      });
    const error = await caught(createBotApi({ token: TOKEN, apiRoot }).callRaw('sendMessage', {}));
    expect(error.migrateToChatId).toBe(-100123);
  });

  it('never shows the token in message, toString, toJSON, inspect, stack or cause', async () => {
    // Telegram itself echoes nothing secret, but a proxy might: make the description contain the token.
    handler = (req, _body, res) =>
      json(res, 401, { ok: false, error_code: 401, description: `Unauthorized ${req.url}` });
    const api = createBotApi({ token: TOKEN, apiRoot });
    const error = await caught(api.callRaw('getMe'));
    expect(error.code).toBe(TelegramErrorCode.Unauthorized);
    for (const text of renderings(error)) expect(text).not.toContain(TOKEN);
    expect(JSON.stringify(api)).not.toContain(TOKEN);
    expect(inspect(api, { depth: 5 })).not.toContain(TOKEN);

    // Network failure: connection refused on a closed port.
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const netError = await caught(createBotApi({ token: TOKEN, apiRoot: `http://127.0.0.1:${port}` }).callRaw('getMe'));
    expect(netError.code).toBe(TelegramErrorCode.Network);
    expect(netError.retryable).toBe(true);
    expect(netError.message).toMatch(/ECONNREFUSED/);
    for (const text of renderings(netError)) expect(text).not.toContain(TOKEN);
  });

  it('times out on the injected clock when the server never answers', async () => {
    handler = () => {}; // never answers
    const clock = createTestClock();
    const api = createBotApi({ token: TOKEN, apiRoot, clock, timeoutMs: 5000 });
    const pending = caught(api.callRaw('getMe'));
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    await clock.advance(4999);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1);
    const error = await pending;
    expect(error.code).toBe(TelegramErrorCode.Timeout);
    expect(error.retryable).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('extends the time limit of getUpdates by its long-polling timeout', async () => {
    handler = () => {};
    const clock = createTestClock();
    const api = createBotApi({ token: TOKEN, apiRoot, clock, timeoutMs: 1000 });
    const pending = caught(api.callRaw('getUpdates', { timeout: 30 }));
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    await clock.advance(30_999);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1);
    expect((await pending).code).toBe(TelegramErrorCode.Timeout);
  });

  it('rejects with the signal reason when aborted, before or during the call', async () => {
    handler = () => {};
    const api = createBotApi({ token: TOKEN, apiRoot });
    const before = new AbortController();
    before.abort(new Error('not now'));
    await expect(api.callRaw('getMe', {}, { signal: before.signal })).rejects.toThrow('not now');
    expect(seen).toHaveLength(0);

    const during = new AbortController();
    const pending = api.callRaw('getMe', {}, { signal: during.signal });
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    const reason = new Error('user gave up');
    during.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('validates options without echoing the token', () => {
    expect(() => createBotApi({ token: '' })).toThrow(TypeError);
    expect(() => createBotApi({ token: TOKEN, apiRoot: `not a url ${TOKEN}` })).toThrow(/apiRoot/);
    try {
      createBotApi({ token: TOKEN, apiRoot: `not a url ${TOKEN}` });
    } catch (error) {
      expect(String(error)).not.toContain(TOKEN);
    }
    expect(() => createBotApi({ token: TOKEN, timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});
