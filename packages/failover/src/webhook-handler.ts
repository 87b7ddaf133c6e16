import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, systemClock, type Update } from '@botkit/core';
import { PROBE_HEADER, PROBE_PARAM, probeProof } from './self-probe.js';

/** What the webhook endpoint does when the bot's handler runs longer than `handlerTimeoutMs`. */
export type HandlerTimeoutAction = 'respond' | 'fail';

/** Internal options of {@link createWebhookHandler}. */
export interface WebhookHandlerOptions {
  secretToken: string;
  /** Only requests to this path are served (404 otherwise); undefined serves any path. */
  path?: string | undefined;
  maxBodyBytes: number;
  handlerTimeoutMs: number;
  onHandlerTimeout: HandlerTimeoutAction;
  clock?: Clock | undefined;
  /** Hands the update to the bot; resolves when the handler finished. Never rejects. */
  onUpdate(update: Update): Promise<string>;
  onTimeout?(updateId: number): void;
}

/** A node:http request listener. */
export type WebhookRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

const digest = (value: string) => createHash('sha256').update(value).digest();

function reply(res: ServerResponse, status: number, extraHeaders: Record<string, string> = {}) {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...extraHeaders });
  res.end(status === 200 ? '' : `${status}\n`);
}

function probeChallenge(url: string | undefined): string | undefined {
  const query = (url ?? '').split('?')[1];
  if (!query) return undefined;
  const challenge = new URLSearchParams(query).get(PROBE_PARAM);
  return challenge && /^[0-9a-f]{32}$/.test(challenge) ? challenge : undefined;
}

function isUpdate(value: unknown): value is Update {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const id = (value as { update_id?: unknown }).update_id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0;
}

/**
 * Internal: the webhook endpoint. Checks the secret in constant time (401), the method (405), the
 * size (413) and the JSON (400) before anything reaches the bot; answers 200 once the handler
 * finished, or on `handlerTimeoutMs` either 200 (`respond`, the handler keeps running) or 503
 * (`fail`: 500, which Telegram retries later and reports as an app error, never a transport one).
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookRequestHandler {
  const expected = digest(options.secretToken);
  const clock = options.clock ?? systemClock;
  return (req, res) => {
    req.on('error', () => {});
    res.on('error', () => {});
    if (options.path !== undefined) {
      const pathname = (req.url ?? '/').split('?')[0];
      if (pathname !== options.path) return reply(res, 404);
    }
    if (req.method !== 'POST') {
      req.resume();
      // A self-probe: prove we hold the secret (HMAC of its challenge) without revealing it.
      const challenge = req.method === 'GET' ? probeChallenge(req.url) : undefined;
      const proof = challenge ? { [PROBE_HEADER]: probeProof(options.secretToken, challenge) } : {};
      return reply(res, 405, { allow: 'POST', ...proof });
    }
    const header = req.headers['x-telegram-bot-api-secret-token'];
    const given = typeof header === 'string' ? header : '';
    if (!timingSafeEqual(digest(given), expected)) {
      req.resume();
      return reply(res, 401);
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBodyBytes) {
      reply(res, 413, { connection: 'close' });
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (chunk: Buffer) => {
      if (aborted) return;
      size += chunk.length;
      if (size > options.maxBodyBytes) {
        aborted = true;
        reply(res, 413, { connection: 'close' });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (aborted) return;
      let update: unknown;
      try {
        update = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(res, 400);
      }
      if (!isUpdate(update)) return reply(res, 400);
      let timer: ReturnType<Clock['setTimeout']> | undefined;
      const handled = options.onUpdate(update);
      timer = clock.setTimeout(() => {
        timer = undefined;
        options.onTimeout?.(update.update_id);
        reply(res, options.onHandlerTimeout === 'respond' ? 200 : 500);
      }, options.handlerTimeoutMs);
      void handled.then((result) => {
        if (timer) clock.clearTimeout(timer);
        // busy: another run holds the update; 500 makes Telegram retry later (an app error, no failover).
        // unavailable: stopped or the bot cannot initialise; 503, Telegram retries later.
        reply(res, result === 'busy' ? 500 : result === 'unavailable' ? 503 : 200);
      });
    });
  };
}
