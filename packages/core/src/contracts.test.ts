import { describe, expect, it } from 'vitest';
import { BotkitError, isBotkitError } from './errors.js';
import { isProbeStatus, type ProbeStatus, worstStatus } from './probe.js';
import { redact, redactUrl } from './redact.js';

describe('errors', () => {
  it('recognises botkit errors by brand and code, not instanceof', () => {
    const error = new BotkitError('BOTKIT_X', 'boom', { cause: new Error('inner') });
    expect(isBotkitError(error)).toBe(true);
    expect(isBotkitError(error, 'BOTKIT_X')).toBe(true);
    expect(isBotkitError(error, 'BOTKIT_Y')).toBe(false);
    expect(isBotkitError(new Error('plain'))).toBe(false);
    expect(isBotkitError(null)).toBe(false);
    expect(isBotkitError({ code: 'BOTKIT_X' })).toBe(false);
    // An error created by a duplicate install of @botkit/core: another class, same global brand.
    const foreign = Object.assign(new Error('dup'), { code: 'BOTKIT_X' });
    Object.defineProperty(foreign, Symbol.for('botkit.error'), { value: true });
    expect(isBotkitError(foreign, 'BOTKIT_X')).toBe(true);
  });

  it('serialises code and cause for logs', () => {
    class MyError extends BotkitError {}
    const error = new MyError('BOTKIT_X', 'boom', { cause: Object.assign(new Error('inner'), { code: 'ECONNRESET' }) });
    expect(error.name).toBe('MyError');
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'MyError',
      code: 'BOTKIT_X',
      message: 'boom',
      cause: { name: 'Error', message: 'inner', code: 'ECONNRESET' },
    });
  });
});

describe('worstStatus', () => {
  it('orders unhealthy > unknown > degraded > healthy', () => {
    const all: ProbeStatus[] = ['healthy', 'degraded', 'unknown', 'unhealthy'];
    for (let i = 0; i < all.length; i++) {
      for (let j = 0; j < all.length; j++) {
        expect(worstStatus([all[i] as ProbeStatus, all[j] as ProbeStatus])).toBe(all[Math.max(i, j)]);
      }
    }
    expect(worstStatus([])).toBe('healthy');
    expect(isProbeStatus('degraded')).toBe(true);
    expect(isProbeStatus('toString')).toBe(false);
  });
});

describe('redact', () => {
  it('masks bot tokens, URL passwords, password parameters and literal secrets', () => {
    expect(redact('POST /bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe')).toBe('POST /bot***/getMe');
    expect(redact('connect postgres://bot:hunter2@db:5432/app failed')).toBe(
      'connect postgres://bot:***@db:5432/app failed',
    );
    expect(redact('redis://:s3cr3t@cache:6379')).toBe('redis://:***@cache:6379');
    expect(redact('host=db password=hunter2 user=x')).toBe('host=db password=*** user=x');
    expect(redact('key is abcd-1234', ['abcd-1234'])).toBe('key is ***');
  });

  it('redactUrl keeps the useful parts of a URL', () => {
    expect(redactUrl('postgres://bot:hunter2@db:5432/app?sslmode=require&password=x')).toBe(
      'postgres://bot:***@db:5432/app?sslmode=require&password=***',
    );
    expect(redactUrl('redis://localhost:6379')).toBe('redis://localhost:6379');
    expect(redactUrl('/var/lib/bot.sqlite')).toBe('/var/lib/bot.sqlite');
  });
});
