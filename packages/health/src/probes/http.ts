import { type Probe, redactUrl } from '@botkit/core';
import { type Dispatcher, request } from 'undici';
import type { HealthProbeResult } from '../types.js';

/**
 * Options of {@link httpProbe}.
 *
 * @example
 * ```ts
 * import type { HttpProbeOptions } from '@botkit/health';
 *
 * const options: HttpProbeOptions = { expectStatus: [200, 204], method: 'HEAD' };
 * ```
 */
export interface HttpProbeOptions {
  /** Probe name. @defaultValue `http:<host>` */
  name?: string | undefined;
  /** Accepted status code(s). @defaultValue any 2xx */
  expectStatus?: number | readonly number[] | undefined;
  /** HTTP method. @defaultValue `'GET'` */
  method?: 'GET' | 'HEAD' | undefined;
  /** Extra request headers (e.g. an API key; never shown in health output). */
  headers?: Record<string, string> | undefined;
  /** An undici dispatcher (Agent, Pool, ProxyAgent) to reuse connections through. */
  dispatcher?: Dispatcher | undefined;
}

/**
 * A probe that requests a URL with undici and checks the status code. Unhealthy on an
 * unexpected status or a network error. The URL is shown with any password masked.
 *
 * @param url - absolute http(s) URL
 * @param options - expected status, method, headers
 * @returns a `Probe`
 * @throws TypeError when the URL is not absolute
 *
 * @example
 * ```ts
 * import { createHealthMonitor, httpProbe } from '@botkit/health';
 *
 * const monitor = createHealthMonitor({
 *   probes: [httpProbe('https://payments.example.com/health', { expectStatus: 200 })],
 * });
 * ```
 */
export function httpProbe(url: string, options: HttpProbeOptions = {}): Probe {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`Expected url to be an absolute URL, got ${JSON.stringify(redactUrl(String(url)))}`);
  }
  const expected =
    options.expectStatus === undefined
      ? undefined
      : new Set(typeof options.expectStatus === 'number' ? [options.expectStatus] : options.expectStatus);
  const shown = redactUrl(url);
  return {
    name: options.name ?? `http:${parsed.host}`,
    async check({ signal }): Promise<HealthProbeResult> {
      const response = await request(url, {
        method: options.method ?? 'GET',
        signal,
        ...(options.headers ? { headers: options.headers } : {}),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
      await response.body.dump();
      const code = response.statusCode;
      const ok = expected ? expected.has(code) : code >= 200 && code < 300;
      return ok
        ? { status: 'healthy', details: { statusCode: code } }
        : { status: 'unhealthy', message: `${shown} answered ${code}`, details: { statusCode: code } };
    },
  };
}
