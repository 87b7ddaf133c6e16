import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A Telegram-shaped reply: `{ ok: true, result }` or an error with `error_code`. */
export type FakeReply =
  | { ok: true; result: unknown }
  | { ok: false; error_code: number; description: string; parameters?: { retry_after?: number } };

/**
 * A tiny node:http server answering like the Bot API, for classification tests until the
 * @botkit/testing emulator is available. `reply(method, body)` sets what a method answers.
 */
export async function startFakeTelegram(token: string) {
  const replies = new Map<string, FakeReply>();
  const calls: Array<{ method: string; body: Record<string, unknown> }> = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (chunk) => {
      data += chunk;
    });
    req.on('end', () => {
      const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
      const method = match?.[2] ?? '';
      const body = data ? (JSON.parse(data) as Record<string, unknown>) : {};
      calls.push({ method, body });
      let reply: FakeReply =
        match?.[1] === token
          ? (replies.get(method) ?? { ok: false, error_code: 404, description: 'Not Found: method not found' })
          : { ok: false, error_code: 401, description: 'Unauthorized' };
      if (match?.[1] === token && method === 'getMe' && !replies.has('getMe')) {
        reply = { ok: true, result: { id: 42, is_bot: true, first_name: 'Test', username: 'test_bot' } };
      }
      const status = reply.ok ? 200 : reply.error_code;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    apiRoot: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    reply(method: string, value: FakeReply | undefined) {
      if (value) replies.set(method, value);
      else replies.delete(method);
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
