import type { WebhookInfo } from '@botkit/core';

/**
 * How a webhook delivery error reported by Telegram (`last_error_message`) is classified:
 * `transport` when Telegram could not reach the app (connection refused or timed out, DNS, TLS,
 * 502/503/504 from a proxy), `app` when the app answered badly (500, 401 secret mismatch, 404, a
 * slow handler).
 */
export type WebhookErrorKind = 'transport' | 'app';

const TRANSPORT =
  /connection (refused|timed out|reset|closed|aborted)|connect(ion)? timeout|failed to (resolve|connect)|resolve host|dns|name or service|no address|ssl|tls|certificate|handshake|network is unreachable|no route to host|host is unreachable|unexpected eof|\b50[234]\b|bad gateway|service unavailable|gateway time-?out/i;

/**
 * Classifies Telegram's `last_error_message` (see {@link WebhookErrorKind}). Only transport errors
 * cause a failover: an error produced by the app itself would follow it to polling.
 *
 * @param message - `last_error_message` from getWebhookInfo
 * @returns `'transport'` or `'app'`
 *
 * @example
 * ```ts
 * import { classifyWebhookError } from '@botkit/failover';
 *
 * classifyWebhookError('Connection refused'); // 'transport'
 * classifyWebhookError('Wrong response from the webhook: 500 Internal Server Error'); // 'app'
 * ```
 */
export function classifyWebhookError(message: string): WebhookErrorKind {
  if (/read timeout/i.test(message)) return 'app';
  return TRANSPORT.test(message) ? 'transport' : 'app';
}

/**
 * One observation handed to a {@link WebhookDetector}.
 *
 * @example
 * ```ts
 * const observation: WebhookObservation = { info, lastSwitchAt: Date.now() - 60_000, lastWebhookRequestAt: undefined };
 * ```
 */
export interface WebhookObservation {
  /** What getWebhookInfo returned. */
  info: WebhookInfo;
  /** When the failover last changed mode (epoch ms); older errors are ignored. */
  lastSwitchAt: number;
  /** When the webhook endpoint last received an authenticated request (epoch ms), if ever. */
  lastWebhookRequestAt: number | undefined;
}

/**
 * What a {@link WebhookDetector} concluded from one observation.
 *
 * @example
 * ```ts
 * const verdict = detector.observe(observation);
 * if (verdict.status === 'unhealthy' && verdict.shouldSwitch) console.log(verdict.reason);
 * ```
 */
export type WebhookVerdict =
  | { status: 'healthy' }
  | { status: 'appError'; message: string; errorDate: number }
  | { status: 'unhealthy'; reason: string; consecutive: number; shouldSwitch: boolean };

/**
 * The detection state machine: a pure object fed with getWebhookInfo results, no timers or I/O.
 *
 * @example
 * ```ts
 * const detector = createWebhookDetector({ failuresToSwitch: 2 });
 * detector.observe({ info, lastSwitchAt, lastWebhookRequestAt });
 * ```
 */
export interface WebhookDetector {
  /**
   * Folds one observation into the state.
   *
   * @param observation - the getWebhookInfo result and the failover's own facts
   * @returns the verdict; `shouldSwitch` once `failuresToSwitch` consecutive checks were unhealthy
   */
  observe(observation: WebhookObservation): WebhookVerdict;
  /** Forgets the history (after a mode change). */
  reset(): void;
  /** Consecutive unhealthy observations so far. */
  readonly consecutive: number;
}

/**
 * Options of {@link createWebhookDetector}.
 */
export interface WebhookDetectorOptions {
  /** Consecutive unhealthy checks before `shouldSwitch`. @defaultValue `2` */
  failuresToSwitch?: number | undefined;
}

/**
 * Creates the detection state machine. The webhook is unhealthy in one observation when Telegram
 * holds pending updates whose count is not decreasing, and `last_error_date` is newer than the last
 * mode change and than the last request the endpoint received, and the error is a transport error
 * (see {@link classifyWebhookError}). `last_synchronization_error_date` is ignored. App errors are
 * returned as `appError` (once per error date) and never count towards a switch.
 *
 * @param options - `failuresToSwitch`
 * @returns a {@link WebhookDetector}
 * @throws TypeError when `failuresToSwitch` is not an integer >= 1
 *
 * @example
 * ```ts
 * import { createWebhookDetector } from '@botkit/failover';
 *
 * const detector = createWebhookDetector({ failuresToSwitch: 2 });
 * const info = { url: 'https://x', has_custom_certificate: false, pending_update_count: 3,
 *   last_error_date: Math.floor(Date.now() / 1000), last_error_message: 'Connection refused' };
 * detector.observe({ info, lastSwitchAt: 0, lastWebhookRequestAt: undefined }); // consecutive 1
 * detector.observe({ info, lastSwitchAt: 0, lastWebhookRequestAt: undefined }); // shouldSwitch: true
 * ```
 */
export function createWebhookDetector(options: WebhookDetectorOptions = {}): WebhookDetector {
  const failuresToSwitch = options.failuresToSwitch ?? 2;
  if (!Number.isInteger(failuresToSwitch) || failuresToSwitch < 1) {
    throw new TypeError(`Expected detection.failuresToSwitch to be an integer >= 1, got ${failuresToSwitch}`);
  }
  let consecutive = 0;
  let previousPending: number | undefined;
  let reportedAppErrorDate: number | undefined;
  return {
    get consecutive() {
      return consecutive;
    },
    reset() {
      consecutive = 0;
      previousPending = undefined;
    },
    observe({ info, lastSwitchAt, lastWebhookRequestAt }) {
      const pending = info.pending_update_count;
      const before = previousPending;
      previousPending = pending;
      const errorDate = info.last_error_date;
      const message = info.last_error_message ?? '';
      // last_error_date has a resolution of one second: an error counts only when it happened in a
      // later second than the switch and the last request we received.
      const errorSec = errorDate ?? 0;
      const fresh =
        errorDate !== undefined &&
        errorSec > Math.floor(lastSwitchAt / 1000) &&
        (lastWebhookRequestAt === undefined || errorSec > Math.floor(lastWebhookRequestAt / 1000));
      if (!fresh) {
        consecutive = 0;
        return { status: 'healthy' };
      }
      if (classifyWebhookError(message) === 'app') {
        consecutive = 0;
        if (reportedAppErrorDate === errorSec) return { status: 'healthy' };
        reportedAppErrorDate = errorSec;
        return { status: 'appError', message, errorDate: errorSec * 1000 };
      }
      const stuck = pending > 0 && (before === undefined || pending >= before);
      if (!stuck) {
        consecutive = 0;
        return { status: 'healthy' };
      }
      consecutive += 1;
      return {
        status: 'unhealthy',
        reason: `webhook unreachable: ${message} (${pending} pending)`,
        consecutive,
        shouldSwitch: consecutive >= failuresToSwitch,
      };
    },
  };
}
