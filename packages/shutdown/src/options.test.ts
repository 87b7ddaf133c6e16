import { describe, expect, it } from 'vitest';
import { createShutdown, type Hook, type ShutdownOptions } from './index.js';

describe('option validation', () => {
  it.each<[string, unknown, RegExp]>([
    ['negative timeout', { timeoutMs: -1 }, /Expected timeoutMs to be a finite number > 0, got -1/],
    ['zero timeout', { timeoutMs: 0 }, /timeoutMs .* > 0, got 0/],
    ['infinite timeout', { timeoutMs: Number.POSITIVE_INFINITY }, /timeoutMs .* got Infinity/],
    ['string timeout', { timeoutMs: '30s' }, /timeoutMs .* got 30s/],
    ['negative pre-drain delay', { preDrainDelayMs: -5 }, /preDrainDelayMs .* >= 0, got -5/],
    [
      'pre-drain delay past the deadline',
      { timeoutMs: 1000, preDrainDelayMs: 1000 },
      /preDrainDelayMs \(1000\) to be less than timeoutMs \(1000\)/,
    ],
    ['negative drain timeout', { drainTimeoutMs: -1 }, /drainTimeoutMs/],
    ['negative grace', { abortGraceMs: -1 }, /abortGraceMs/],
    ['zero hook timeout', { hookTimeoutMs: 0 }, /hookTimeoutMs .* > 0/],
    ['unknown signal', { signals: ['SIGFOO'] }, /signal names such as 'SIGTERM', got SIGFOO/],
    ['uncatchable signal', { signals: ['SIGKILL'] }, /catchable, got SIGKILL/],
    ['signals not an array', { signals: 'SIGTERM' }, /signals to be an array/],
    ['exit not a function', { exit: 1 }, /exit to be a function, got number/],
    ['logger without methods', { logger: {} }, /logger.info to be a function/],
    ['clock without methods', { clock: { now: () => 0 } }, /clock.setTimeout to be a function/],
    ['handleErrors not a boolean', { handleErrors: 'yes' }, /handleErrors to be a boolean/],
    ['options not an object', null, /options to be an object, got null/],
  ])('rejects %s with a TypeError naming it', (_, options, message) => {
    expect(() => createShutdown(options as ShutdownOptions)).toThrow(TypeError);
    expect(() => createShutdown(options as ShutdownOptions)).toThrow(message);
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      'a non-function hook',
      () => createShutdown().add('redis', 'quit' as unknown as Hook),
      /hook "redis" to be a function, got string/,
    ],
    [
      'an unknown phase',
      () => createShutdown().add('redis', () => {}, { phase: 'cleanup' as never }),
      /Unknown phase "cleanup" for hook "redis"; expected one of intake, drain, services, connections, flush/,
    ],
    ['an empty name', () => createShutdown().add('', () => {}), /hook name to be a non-empty string/],
    [
      'a negative hook timeout',
      () => createShutdown().add('pg', () => {}, { timeoutMs: -1 }),
      /timeoutMs of hook "pg" .* got -1/,
    ],
    ['track() of a number', () => createShutdown().track(42 as never), /track\(\) to receive a promise or a function/],
  ])('rejects %s with a TypeError naming it', (_, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });

  it('accepts the defaults and an empty signal list', () => {
    expect(() => createShutdown()).not.toThrow();
    expect(() => createShutdown({ signals: [] })).not.toThrow();
  });
});
