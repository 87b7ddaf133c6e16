/**
 * botkit demo (placeholder until the examples issue replaces it with the full scripted story).
 *
 * Offline and token-free: it starts a local HTTP server that answers like the Telegram Bot API,
 * talks to it with @botkit/core's client, and prints what it observed. Every line it prints is
 * checked; the demo exits 1 if a check fails.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBotApi, isBotkitError, TelegramErrorCode, type TelegramError } from '@botkit/core';

const token = '123456789:DEMO-token-that-must-never-be-printed-xyz';
let calls = 0;
const server = createServer((req, res) => {
  calls++;
  res.setHeader('content-type', 'application/json');
  if (req.url?.endsWith('/getMe')) {
    res.end(JSON.stringify({ ok: true, result: { id: 1, is_bot: true, first_name: 'Demo', username: 'demo_bot' } }));
  } else {
    res.statusCode = 429;
    res.end(
      JSON.stringify({
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 3',
        parameters: { retry_after: 3 },
      }),
    );
  }
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const checks: [string, boolean][] = [];
const api = createBotApi({ token, apiRoot });
const me = await api.call('getMe');
checks.push([`getMe answered: @${me.username}`, me.username === 'demo_bot']);
try {
  await api.call('sendMessage', { chat_id: 1, text: 'hello' });
  checks.push(['sendMessage under flood control was rejected', false]);
} catch (error) {
  const e = error as TelegramError;
  checks.push([
    `flood control classified: code=${e.code} retryAfterMs=${e.retryAfterMs} retryable=${e.retryable}`,
    isBotkitError(e, TelegramErrorCode.RateLimited) && e.retryAfterMs === 3000 && e.retryable,
  ]);
  const rendered = `${String(e)} ${JSON.stringify(e)} ${e.stack}`;
  checks.push(['the bot token appears in no error rendering', !rendered.includes(token)]);
}
server.close();

console.log('botkit demo (placeholder): Bot API client against a local fake server\n');
for (const [text, ok] of checks) console.log(`  ${ok ? 'ok  ' : 'FAIL'}  ${text}`);
console.log(`\n  ${calls} HTTP calls made, all on 127.0.0.1; no network, no real token.`);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
