/**
 * A reverse proxy in front of the bot's webhook for the failover-flaps scenario: a real HTTP hop
 * between Telegram (the emulator) and the bot that can turn lossy, like a broken load balancer
 * that forwards each request to the bot but answers Telegram `502 Bad Gateway`.
 */
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The running proxy. */
export interface WebhookProxy {
  /** `http://127.0.0.1:<port>`: put `${url}/telegram` in the webhook config. */
  readonly url: string;
  /** While true, the bot's answers are replaced by 502 (the request still reaches the bot). */
  lossy: boolean;
  /** Requests forwarded to the bot. */
  readonly forwarded: number;
  /** Answers of the bot replaced by 502. */
  readonly answersLost: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Starts a proxy on a free port of 127.0.0.1 that forwards every request to 127.0.0.1:`targetPort`. */
export async function startWebhookProxy(targetPort: number): Promise<WebhookProxy> {
  let forwarded = 0;
  let answersLost = 0;
  const server = createServer((req, res) => {
    res.on('error', () => {});
    const upstream = request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers, agent: false },
      (up) => {
        if (proxy.lossy) {
          // The request reached the bot; its answer is lost on the way back to Telegram.
          up.resume();
          up.on('end', () => {
            answersLost += 1;
            res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad Gateway');
          });
        } else {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        }
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end('Bad Gateway');
      else res.destroy();
    });
    forwarded += 1;
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const proxy: WebhookProxy = {
    url: `http://127.0.0.1:${port}`,
    lossy: false,
    get forwarded() {
      return forwarded;
    },
    get answersLost() {
      return answersLost;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return proxy;
}
