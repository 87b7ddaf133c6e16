import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Lifecycle } from '@botkit/core';
import { createMetricsRenderer, type MetricsRegistry, type PromClientModule } from './metrics.js';
import type { HealthMonitor } from './monitor.js';
import type { HealthStatus } from './types.js';

/**
 * Anything that tells whether the process is shutting down, such as the `@botkit/shutdown`
 * manager: an `isShuttingDown` flag and a `shutdownStarted` event. `/ready` answers 503 from the
 * moment either says so.
 *
 * @example
 * ```ts
 * import { EventEmitter } from 'node:events';
 * import type { ShutdownSource } from '@botkit/health';
 *
 * const shutdown = Object.assign(new EventEmitter(), { isShuttingDown: false });
 * const source: ShutdownSource = shutdown;
 * ```
 */
export interface ShutdownSource {
  /** True once shutdown has started. */
  readonly isShuttingDown: boolean;
  /**
   * Subscribes to the start of shutdown.
   *
   * @param event - `'shutdownStarted'`
   * @param listener - called once shutdown starts
   */
  on(event: 'shutdownStarted', listener: () => void): unknown;
}

/**
 * How much `/health` reveals: `none` (overall status and readiness), `summary` (plus each probe's
 * status, message, latency and last check) or `full` (plus details, streaks and stats).
 *
 * @example
 * ```ts
 * import type { HealthDetails } from '@botkit/health';
 *
 * const publicEndpoint: HealthDetails = 'none';
 * ```
 */
export type HealthDetails = 'none' | 'summary' | 'full';

/**
 * Options of {@link healthHandler}.
 *
 * @example
 * ```ts
 * import type { HealthHandlerOptions } from '@botkit/health';
 *
 * const options: HealthHandlerOptions = { details: 'full', basePath: '/_' };
 * ```
 */
export interface HealthHandlerOptions {
  /** Turns `/ready` to 503 once shutdown starts (e.g. the `@botkit/shutdown` manager). */
  shutdown?: ShutdownSource | undefined;
  /** What `/health` shows. @defaultValue `'summary'` */
  details?: HealthDetails | undefined;
  /** Prefix of the routes, e.g. `/_` serves `/_/health`. @defaultValue `''` */
  basePath?: string | undefined;
  /** The prom-client module; loaded on the first `/metrics` request when omitted. */
  promClient?: PromClientModule | undefined;
  /** Your own registries (e.g. prom-client's default `register`), appended to `/metrics`. */
  registries?: readonly MetricsRegistry[] | undefined;
}

/**
 * A node:http style request handler (also usable as Express middleware): it answers `/live`,
 * `/ready`, `/health` and `/metrics`, and calls `next()` (or answers 404) for anything else.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { healthHandler, type HealthRequestHandler } from '@botkit/health';
 *
 * const handler: HealthRequestHandler = healthHandler(monitor);
 * createServer((req, res) => handler(req, res)).listen(8080);
 * ```
 */
export type HealthRequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

function view(status: HealthStatus, details: HealthDetails): unknown {
  if (details === 'full') return status;
  if (details === 'none') return { status: status.status, ready: status.ready };
  const probes: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(status.probes)) {
    probes[name] = {
      status: p.status,
      ...(p.message !== undefined ? { message: p.message } : {}),
      latencyMs: p.latencyMs,
      lastCheckedAt: p.lastCheckedAt,
      since: p.since,
    };
  }
  return { status: status.status, ready: status.ready, checkedAt: status.checkedAt, probes };
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/**
 * Creates a request handler serving `/live` (200 while the process runs), `/ready` (503 once
 * shutdown starts or while a critical probe is unhealthy or not yet checked), `/health` (the
 * JSON status; 503 when unhealthy) and `/metrics` (Prometheus text through prom-client). Every
 * answer comes from the monitor's last results: requests never trigger probes, so a burst of
 * requests cannot cause a probe storm. Responses carry `Cache-Control: no-store`.
 *
 * @param monitor - the monitor whose results to serve
 * @param options - shutdown source, detail level, base path, prom-client and extra registries
 * @returns a handler for node:http, Express, or Fastify (`fastify.all('/*', (req, reply) => handler(req.raw, reply.raw))`)
 * @throws TypeError when an option is invalid
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createHealthMonitor, healthHandler } from '@botkit/health';
 *
 * const monitor = createHealthMonitor({ probes: [] });
 * const app = express();
 * app.use(healthHandler(monitor, { details: 'none' }));
 * ```
 */
export function healthHandler(monitor: HealthMonitor, options: HealthHandlerOptions = {}): HealthRequestHandler {
  const details = options.details ?? 'summary';
  if (details !== 'none' && details !== 'summary' && details !== 'full') {
    throw new TypeError(`Expected details to be 'none', 'summary' or 'full', got ${JSON.stringify(details)}`);
  }
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  if (base && !base.startsWith('/')) throw new TypeError(`Expected basePath to start with "/", got ${base}`);
  const { shutdown } = options;
  if (shutdown !== undefined && (typeof shutdown !== 'object' || typeof shutdown.on !== 'function')) {
    throw new TypeError('Expected shutdown to have isShuttingDown and on(event, listener)');
  }
  let shuttingDown = false;
  shutdown?.on('shutdownStarted', () => {
    shuttingDown = true;
  });
  const renderMetrics = createMetricsRenderer(monitor, {
    promClient: options.promClient,
    registries: options.registries,
  });

  let cachedRevision = -1;
  let cachedBody: Buffer = Buffer.alloc(0);
  let cachedCode = 200;
  let cachedReady = false;
  const refresh = () => {
    // `full` shows live stats (query counters...), which change between probe runs.
    const live = details === 'full' && monitor.statsSources().length > 0;
    if (monitor.revision !== cachedRevision || live) {
      const status = monitor.status();
      cachedRevision = monitor.revision;
      cachedBody = Buffer.from(JSON.stringify(view(status, details)));
      cachedCode = status.status === 'unhealthy' || status.status === 'unknown' ? 503 : 200;
      cachedReady = status.ready;
    }
  };

  const send = (req: IncomingMessage, res: ServerResponse, code: number, body: Buffer | string, type?: string) => {
    const headers = type ? { 'content-type': type, 'cache-control': 'no-store' } : JSON_HEADERS;
    res.writeHead(code, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  return (req, res, next) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q === -1 ? url : url.slice(0, q);
    if (base) {
      if (!path.startsWith(base)) return notFound(req, res, next);
      path = path.slice(base.length);
    }
    if (path !== '/live' && path !== '/ready' && path !== '/health' && path !== '/metrics') {
      return notFound(req, res, next);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'cache-control': 'no-store' });
      res.end();
      return;
    }
    switch (path) {
      case '/live':
        return send(req, res, 200, '{"status":"ok"}');
      case '/ready': {
        if (shuttingDown || shutdown?.isShuttingDown === true) {
          return send(req, res, 503, '{"ready":false,"reason":"shutting down"}');
        }
        refresh();
        const ready = cachedReady;
        return send(
          req,
          res,
          ready ? 200 : 503,
          ready ? '{"ready":true}' : '{"ready":false,"reason":"critical probe not healthy"}',
        );
      }
      case '/health': {
        refresh();
        return send(req, res, cachedCode, cachedBody);
      }
      default:
        renderMetrics().then(
          (text) => send(req, res, 200, text, 'text/plain; version=0.0.4; charset=utf-8'),
          (error: unknown) =>
            send(req, res, 500, error instanceof Error ? error.message : 'metrics failed', 'text/plain; charset=utf-8'),
        );
    }
  };
}

function notFound(req: IncomingMessage, res: ServerResponse, next: ((error?: unknown) => void) | undefined) {
  if (next) return next();
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : 'not found');
}

/**
 * Options of {@link createHealthServer}.
 *
 * @example
 * ```ts
 * import type { HealthServerOptions } from '@botkit/health';
 *
 * const options: HealthServerOptions = { port: 8080, host: '0.0.0.0', details: 'summary' };
 * ```
 */
export interface HealthServerOptions extends HealthHandlerOptions {
  /** TCP port; `0` picks a free one (see `port` after `start()`). @defaultValue `8080` */
  port?: number | undefined;
  /** Interface to listen on. @defaultValue `'0.0.0.0'` */
  host?: string | undefined;
}

/**
 * A small node:http server for the health endpoints (see {@link createHealthServer}).
 */
export interface HealthServer extends Lifecycle {
  /** The underlying node:http server. */
  readonly server: Server;
  /** The port listened on (resolved after `start()` when `port` was 0). */
  readonly port: number;
  /** `http://host:port`, after `start()`. */
  readonly url: string;
  /**
   * Starts listening; idempotent.
   *
   * @returns resolves once the server accepts connections
   */
  start(): Promise<void>;
}

/**
 * Starts a dedicated node:http server for `/live`, `/ready`, `/health` and `/metrics` (see
 * {@link healthHandler}). Use it when your bot has no HTTP server of its own, or to keep health
 * checks on a separate port from the webhook.
 *
 * @param monitor - the monitor whose results to serve
 * @param options - port, host, plus every {@link HealthHandlerOptions} option
 * @returns a {@link HealthServer}; call `start()` to listen and `stop()` to close it
 * @throws TypeError when an option is invalid
 *
 * @example
 * ```ts
 * import { createHealthMonitor, createHealthServer } from '@botkit/health';
 *
 * const monitor = createHealthMonitor({ probes: [] });
 * const server = createHealthServer(monitor, { port: 8080 });
 * await server.start();
 * monitor.start();
 * ```
 */
export function createHealthServer(monitor: HealthMonitor, options: HealthServerOptions = {}): HealthServer {
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(`Expected port to be an integer between 0 and 65535, got ${options.port}`);
  }
  const host = options.host ?? '0.0.0.0';
  const handler = healthHandler(monitor, options);
  const server = createServer((req, res) => handler(req, res));
  let listening: Promise<void> | undefined;
  const boundPort = () => {
    const address = server.address();
    return typeof address === 'object' && address ? address.port : port;
  };
  const health: HealthServer = {
    server,
    get port() {
      return boundPort();
    },
    get url() {
      return `http://${host.includes(':') ? `[${host}]` : host}:${boundPort()}`;
    },
    start() {
      listening ??= new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return listening;
    },
    async stop() {
      if (!listening) return;
      listening = undefined;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    [Symbol.asyncDispose]: () => health.stop(),
  };
  return health;
}
