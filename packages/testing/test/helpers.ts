import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Update } from '@grammyjs/types';
import { vi } from 'vitest';
import type { BotApiEmulator } from '../src/index.js';

/** A raw Bot API call: status and parsed JSON body, exactly as the emulator sent them. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  body: {
    ok: boolean;
    result?: unknown;
    error_code?: number;
    description?: string;
    parameters?: { retry_after?: number };
  };
}

/** POSTs JSON to `apiRoot/bot<token>/<method>` with fetch. */
export async function call(
  emulator: BotApiEmulator,
  method: string,
  params: Record<string, unknown> = {},
  options: { token?: string; signal?: AbortSignal } = {},
): Promise<RawAnswer> {
  const response = await fetch(`${emulator.apiRoot}/bot${options.token ?? emulator.token}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as RawAnswer['body'] };
}

/** Lets I/O callbacks run (a few turns of the event loop). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export interface HookRequest {
  readonly update: Update;
  readonly headers: http.IncomingHttpHeaders;
}

export interface HookReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (until the server closes). */
  hang?: boolean;
}

/** A webhook receiver: records requests and answers as `reply` says (200 by default). */
export interface HookServer {
  readonly url: string;
  readonly requests: HookRequest[];
  /** Requests received and not answered yet. */
  readonly open: number;
  reply: (request: HookRequest) => HookReply | Promise<HookReply>;
  close(): Promise<void>;
}

export async function startHookServer(): Promise<HookServer> {
  const requests: HookRequest[] = [];
  let open = 0;
  const hook: HookServer = {
    url: '',
    requests,
    get open() {
      return open;
    },
    reply: () => ({ status: 200 }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: HookRequest = {
      update: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Update,
      headers: req.headers,
    };
    requests.push(request);
    open++;
    res.on('close', () => open--);
    const reply = await hook.reply(request);
    if (reply.hang) return;
    res.writeHead(reply.status ?? 200, reply.headers ?? {});
    res.end(reply.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (hook as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return hook;
}

/** Generous limits for waiting on real I/O: CI machines are loaded; this is no speed claim. */
export const WAIT = { timeout: 10_000, interval: 10 } as const;

/** `vi.waitFor` with {@link WAIT}. */
export function eventually<T>(check: () => T | Promise<T>): Promise<T> {
  return vi.waitFor(check, WAIT);
}
