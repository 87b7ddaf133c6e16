import { createHmac, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type Clock, withTimeout } from '@botkit/core';

/** Query parameter carrying the probe's challenge. */
export const PROBE_PARAM = 'botkit_probe';
/** Response header carrying the proof. */
export const PROBE_HEADER = 'x-botkit-probe';

/** Internal: the proof an endpoint knowing `secret` gives for `challenge`. */
export function probeProof(secret: string, challenge: string): string {
  return createHmac('sha256', secret).update(challenge).digest('hex');
}

/**
 * Internal: sends `GET <url>?botkit_probe=<challenge>` and tells whether one of our endpoints
 * (any replica: they share the secret) answered with the right proof. Never sends the secret.
 */
export async function selfProbe(url: string, secret: string, timeoutMs: number, clock: Clock): Promise<boolean> {
  const challenge = randomBytes(16).toString('hex');
  const target = new URL(url);
  target.searchParams.set(PROBE_PARAM, challenge);
  const expected = probeProof(secret, challenge);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  try {
    return await withTimeout(
      (signal) =>
        new Promise<boolean>((resolve) => {
          const req = send(
            target,
            { method: 'GET', signal, headers: { 'user-agent': 'botkit-failover-self-probe' } },
            (res) => {
              res.resume();
              resolve(res.headers[PROBE_HEADER] === expected);
            },
          );
          req.on('error', () => resolve(false));
          req.end();
        }),
      { timeoutMs, clock, what: 'self-probe' },
    );
  } catch {
    return false;
  }
}
