import { isIP } from 'node:net';
import type { Clock, ClockTimer } from '@botkit/core';
import type { Update, WebhookInfo } from '@grammyjs/types';
import { ApiFailure, badRequest } from './api-error.js';
import {
  boolParam,
  clampedIntParam,
  fileContent,
  intParam,
  isUploadedFile,
  jsonParam,
  type Params,
  stringParam,
} from './params.js';
import { DEFAULT_ALLOWED_UPDATES, resolveAllowedUpdates, UPDATE_TYPES, type UpdateQueue } from './update-queue.js';
import type { WebhookConfig, WebhookDeliverer } from './webhook.js';

/** Context of one call. */
export interface MethodContext {
  /** Aborts when the client hangs up or the emulator closes. */
  readonly signal: AbortSignal;
}

/** The waiting `getUpdates` long poll. */
export interface LongPoll {
  /** New updates arrived: answer if any match. */
  wake(): void;
  /** Answer with a 409 conflict. */
  conflict(description: string): void;
  /** Stop waiting without answering (emulator closing). */
  cancel(): void;
}

/** Transport state shared by getUpdates and the webhook methods. */
export interface WebhookState {
  readonly clock: Clock;
  readonly queue: UpdateQueue;
  readonly deliverer: WebhookDeliverer;
  webhook: WebhookConfig | undefined;
  /** The effective set of allowed update types. */
  allowed: Set<string>;
  poll: LongPoll | undefined;
  /** Minimum clock time between two setWebhook calls with a URL (the server answers 429 sooner). */
  readonly setWebhookIntervalMs: number;
  /** Clock time before which setWebhook with a URL answers 429. */
  nextSetWebhookAt: number;
}

const LONG_POLL_MAX_TIMEOUT_SECONDS = 50;
const SECRET_TOKEN = /^[A-Za-z0-9_-]+$/;
const OTHER_GET_UPDATES =
  'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
const WEBHOOK_ACTIVE =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const BY_SET_WEBHOOK = 'Conflict: terminated by setWebhook request';

type Answer = { result: unknown; description?: string };

function setAllowedUpdates(state: WebhookState, params: Params): void {
  const resolved = resolveAllowedUpdates(jsonParam(params, 'allowed_updates'));
  if (resolved) state.allowed = resolved;
}

function getUpdates(state: WebhookState, params: Params, ctx: MethodContext): Answer | Promise<Answer> {
  if (state.webhook) throw new ApiFailure(409, WEBHOOK_ACTIVE);
  const offset = intParam(params, 'offset') ?? 0;
  const limit = clampedIntParam(params, 'limit', 100, 1, 100);
  const timeout = clampedIntParam(params, 'timeout', 0, 0, LONG_POLL_MAX_TIMEOUT_SECONDS);
  setAllowedUpdates(state, params);
  const { clock, queue } = state;
  const from = queue.applyOffset(offset, clock.now());
  const first = queue.take(from, limit, clock.now());
  if (first.length > 0 || timeout === 0 || ctx.signal.aborted) return { result: first };
  // Only a request that is going to wait ends the one already waiting (as on the real server).
  state.poll?.conflict(OTHER_GET_UPDATES);
  return new Promise<Answer>((resolve, reject) => {
    let timer: ClockTimer | undefined;
    let batching: NodeJS.Immediate | undefined;
    const done = () => {
      if (timer) clock.clearTimeout(timer);
      if (batching) clearImmediate(batching);
      batching = undefined;
      ctx.signal.removeEventListener('abort', onAbort);
      if (state.poll === poll) state.poll = undefined;
    };
    const onAbort = () => {
      done();
      reject(ctx.signal.reason);
    };
    const poll: LongPoll = {
      // Like the server, wait a moment after the first new update so updates pushed together
      // are answered together.
      wake() {
        if (batching) return;
        batching = setImmediate(() => {
          batching = undefined;
          const updates: Update[] = queue.take(from, limit, clock.now());
          if (updates.length === 0) return;
          done();
          resolve({ result: updates });
        });
      },
      conflict(description) {
        done();
        reject(new ApiFailure(409, description));
      },
      cancel() {
        done();
        reject(new Error('Bot API emulator stopped'));
      },
    };
    timer = clock.setTimeout(() => {
      done();
      resolve({ result: queue.take(from, limit, clock.now()) });
    }, timeout * 1000);
    timer.unref();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    state.poll = poll;
  });
}

function deleteWebhook(state: WebhookState, params: Params): Answer {
  if (boolParam(params, 'drop_pending_updates')) state.queue.clear();
  if (!state.webhook) return { result: true, description: 'Webhook is already deleted' };
  state.webhook = undefined;
  state.deliverer.stop();
  state.deliverer.resetErrors();
  return { result: true, description: 'Webhook was deleted' };
}

function setWebhook(state: WebhookState, params: Params): Answer {
  const url = stringParam(params, 'url') ?? '';
  if (url === '') return deleteWebhook(state, params);
  const now = state.clock.now();
  if (now < state.nextSetWebhookAt) {
    throw new ApiFailure(429, 'Too Many Requests: retry after 1', { retry_after: 1 });
  }
  state.nextSetWebhookAt = now + state.setWebhookIntervalMs;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest('invalid webhook URL specified');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw badRequest('invalid webhook URL specified');
  const secret = stringParam(params, 'secret_token') ?? '';
  if (secret.length > 256) throw badRequest('secret token is too long');
  if (secret !== '' && !SECRET_TOKEN.test(secret)) throw badRequest('secret token contains unallowed characters');
  const maxConnections = clampedIntParam(params, 'max_connections', 40, 1, 100);
  const ipAddress = stringParam(params, 'ip_address') || undefined;
  const certificate = params.certificate;
  const hasCustomCertificate = isUploadedFile(certificate);
  const ca = hasCustomCertificate ? fileContent(certificate) : undefined;
  setAllowedUpdates(state, params);
  const drop = boolParam(params, 'drop_pending_updates');
  if (drop) state.queue.clear();
  const current = state.webhook;
  if (
    !drop &&
    current &&
    current.url === url &&
    current.maxConnections === maxConnections &&
    (current.secretToken ?? '') === secret &&
    current.ipAddress === ipAddress &&
    !hasCustomCertificate
  ) {
    return { result: true, description: 'Webhook is already set' };
  }
  const config: WebhookConfig = {
    url,
    secretToken: secret || undefined,
    maxConnections,
    hasCustomCertificate,
    ipAddress,
    ca,
  };
  state.webhook = config;
  state.poll?.conflict(BY_SET_WEBHOOK);
  state.deliverer.resetErrors();
  state.deliverer.start(config);
  return { result: true, description: 'Webhook was set' };
}

/** The webhook's IP address as getWebhookInfo shows it: the host when it is an IP, else unresolved. */
function ipOf(url: string): string {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return '127.0.0.1';
  return isIP(host) ? host : '<unknown>';
}

function getWebhookInfo(state: WebhookState): Answer {
  const { deliverer, webhook } = state;
  const info: WebhookInfo = {
    url: webhook?.url ?? '',
    has_custom_certificate: webhook?.hasCustomCertificate ?? false,
    pending_update_count: state.queue.pending(state.clock.now()).length,
  };
  if (webhook) info.ip_address = webhook.ipAddress ?? ipOf(webhook.url);
  if (deliverer.lastErrorDate !== undefined) {
    info.last_error_date = deliverer.lastErrorDate;
    info.last_error_message = deliverer.lastErrorMessage ?? '';
  }
  if (webhook) info.max_connections = webhook.maxConnections;
  const allowed = state.allowed;
  if (allowed.size !== DEFAULT_ALLOWED_UPDATES.size || [...allowed].some((t) => !DEFAULT_ALLOWED_UPDATES.has(t))) {
    (info as { allowed_updates?: string[] }).allowed_updates = UPDATE_TYPES.filter((t) => allowed.has(t));
  }
  return { result: info };
}

/** getUpdates, setWebhook, deleteWebhook and getWebhookInfo with the official server's rules. */
export function handleWebhookMethod(
  method: 'getUpdates' | 'setWebhook' | 'deleteWebhook' | 'getWebhookInfo',
  state: WebhookState,
  params: Params,
  ctx: MethodContext,
): Answer | Promise<Answer> {
  switch (method) {
    case 'getUpdates':
      return getUpdates(state, params, ctx);
    case 'setWebhook':
      return setWebhook(state, params);
    case 'deleteWebhook':
      return deleteWebhook(state, params);
    default:
      return getWebhookInfo(state);
  }
}
