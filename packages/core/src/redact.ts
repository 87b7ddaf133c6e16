/** Shape of a Telegram bot token: `<bot id>:<35-ish url-safe characters>`. */
const TOKEN_PATTERN = /(?<!\d)\d{5,}:[A-Za-z0-9_-]{20,}/g;
/** `scheme://user:password@` in any URL. */
const URL_PASSWORD_PATTERN = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)@/gi;
/** `password=...` in query strings and key/value connection strings. */
const PASSWORD_PARAM_PATTERN = /\b(password|passwd|pwd|secret|token)=([^\s&;]+)/gi;

const MASK = '***';

/**
 * Removes secrets from text meant for logs, errors or health output: Telegram bot tokens,
 * passwords in URLs (`redis://:pw@host`, `postgres://u:pw@host`), `password=` parameters, and
 * any extra literal secrets given.
 *
 * @param text - text that may contain secrets
 * @param secrets - literal values to mask as well (e.g. a token in an unusual format)
 * @returns the text with every secret replaced by `***`
 *
 * @example
 * ```ts
 * import { redact } from '@botkit/core';
 *
 * redact('postgres://bot:hunter2@db:5432/app'); // 'postgres://bot:***@db:5432/app'
 * redact('GET /bot123456:AAE...xyz/getMe'); // 'GET /bot***\/getMe'
 * ```
 */
export function redact(text: string, secrets: Iterable<string | undefined> = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join(MASK);
  }
  return out
    .replace(TOKEN_PATTERN, MASK)
    .replace(URL_PASSWORD_PATTERN, `$1${MASK}@`)
    .replace(PASSWORD_PARAM_PATTERN, `$1=${MASK}`);
}

/**
 * Renders a connection URL for humans with its password (and any `password=` parameter)
 * masked; input that is not a URL is passed through {@link redact}.
 *
 * @param url - a connection URL such as `postgres://user:pw@host/db`
 * @returns the URL with secrets masked
 *
 * @example
 * ```ts
 * import { redactUrl } from '@botkit/core';
 *
 * redactUrl('redis://:s3cret@cache:6379/0'); // 'redis://:***@cache:6379/0'
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    for (const key of [...parsed.searchParams.keys()]) {
      if (/^(password|passwd|pwd|secret|token)$/i.test(key)) parsed.searchParams.set(key, MASK);
    }
    return redact(parsed.toString()).replace(/%2A%2A%2A/g, MASK);
  } catch {
    return redact(url);
  }
}
