import { redact } from '@botkit/core';
import type { Logger } from '@botkit/core';

/** Log levels, least to most severe. */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A tiny pino-compatible logger writing one JSON line per entry to stdout (stderr for errors).
 * Every line goes through `redact()` plus the given secrets, so no token or password reaches the log.
 */
export function createJsonLogger(options: { level?: Level; secrets?: readonly string[]; name?: string } = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const secrets = (options.secrets ?? []).filter((s) => s.length > 0);
  const write = (level: Level) => (objOrMsg: unknown, msg?: string) => {
    if (ORDER[level] < min) return;
    const fields = typeof objOrMsg === 'object' && objOrMsg !== null ? serialise(objOrMsg) : {};
    const text = typeof objOrMsg === 'string' ? objOrMsg : (msg ?? '');
    let line = JSON.stringify({ time: new Date().toISOString(), level, name: options.name, msg: text, ...fields });
    for (const secret of secrets) line = line.split(secret).join('[redacted]');
    line = redact(line);
    (level === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') } as Logger;
}

function serialise(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    out[key] = value instanceof Error ? { name: value.name, message: value.message, code: codeOf(value) } : value;
  }
  if (obj instanceof Error) out.err = { name: obj.name, message: obj.message, code: codeOf(obj) };
  return out;
}

function codeOf(error: Error): unknown {
  return (error as { code?: unknown }).code;
}
