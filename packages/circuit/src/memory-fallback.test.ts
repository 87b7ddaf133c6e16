import { createTestClock, isBotkitError } from '@botkit/core';
import { describe, expect, it } from 'vitest';
import { CircuitErrorCode, CircuitOpenError } from './errors.js';
import { memoryFallback } from './memory-fallback.js';

const open = new CircuitOpenError('redis');

describe('memoryFallback', () => {
  it('serves values it saw while closed, and honours EX/PX TTLs of local writes', async () => {
    const clock = createTestClock();
    const cache = memoryFallback({ clock, maxAgeMs: 60_000 });
    cache.observe('get', ['a'], 'A');
    cache.observe('set', ['b', 'B', 'EX', 10], 'OK');
    expect(cache.serve('get', ['a'], open)).toBe('A');
    expect(cache.serve('mget', ['a', 'b'], open)).toEqual(['A', 'B']);
    expect(cache.serve('set', ['c', 'C', 'PX', 500], open)).toBe('OK');
    expect(cache.serve('setex', ['d', 1, 'D'], open)).toBe('OK');
    await clock.advance(500);
    expect(() => cache.serve('get', ['c'], open)).toThrow(CircuitOpenError);
    expect(cache.serve('get', ['d'], open)).toBe('D');
    await clock.advance(9_500);
    expect(() => cache.serve('get', ['b'], open)).toThrow(CircuitOpenError);
    await clock.advance(50_000);
    expect(() => cache.serve('get', ['a'], open)).toThrow(CircuitOpenError); // maxAgeMs
  });

  it('applies DEL and EXPIRE locally with Redis-like replies', async () => {
    const clock = createTestClock();
    const cache = memoryFallback({ clock, onMiss: 'null' });
    cache.serve('set', ['a', '1'], open);
    cache.serve('set', ['b', '2'], open);
    expect(cache.serve('del', ['a', 'zzz'], open)).toBe(1);
    expect(cache.serve('get', ['a'], open)).toBeNull();
    expect(cache.serve('expire', ['b', 2], open)).toBe(1);
    expect(cache.serve('pexpire', ['missing', 2], open)).toBe(0);
    await clock.advance(2000);
    expect(cache.serve('get', ['b'], open)).toBeNull();
  });

  it('fails non-idempotent and conditional writes fast with the breaker error', () => {
    const cache = memoryFallback({ onMiss: 'null' });
    for (const [command, args] of [
      ['incr', ['n']],
      ['lpush', ['l', 'x']],
      ['hset', ['h', 'f', 'v']],
      ['set', ['k', 'v', 'NX']],
      ['set', ['k', 'v', 'GET']],
      ['exec', []],
    ] as const) {
      let thrown: unknown;
      try {
        cache.serve(command, args, open);
      } catch (error) {
        thrown = error;
      }
      expect(isBotkitError(thrown, CircuitErrorCode.Open)).toBe(true);
    }
    expect(cache.size).toBe(0);
  });

  it('rethrows the original failure for commands it cannot serve when the breaker is not open', () => {
    const cache = memoryFallback();
    const timeout = new Error('timeout');
    expect(() => cache.serve('get', ['x'], timeout)).toThrow(timeout);
  });

  it('stays within maxEntries, evicting the least recently used key', () => {
    const cache = memoryFallback({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) cache.observe('get', [key], key.toUpperCase());
    cache.serve('get', ['a'], open); // a is now the most recent
    cache.observe('get', ['d'], 'D');
    expect(cache.size).toBe(3);
    expect(() => cache.serve('get', ['b'], open)).toThrow(CircuitOpenError);
    expect(cache.serve('get', ['a'], open)).toBe('A');
    for (let i = 0; i < 10_000; i++) cache.observe('set', [`k${i}`, 'v'], 'OK');
    expect(cache.size).toBe(3);
  });

  it('forgets keys that Redis deleted or that a conditional SET touched, and clear() empties it', () => {
    const cache = memoryFallback();
    cache.observe('get', ['a'], 'A');
    cache.observe('get', ['b'], 'B');
    cache.observe('del', ['a'], 1);
    cache.observe('set', ['b', 'X', 'NX'], null);
    expect(cache.size).toBe(0);
    cache.observe('get', ['c'], 'C');
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('validates its options', () => {
    expect(() => memoryFallback({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => memoryFallback({ maxAgeMs: -1 })).toThrow(/maxAgeMs/);
    expect(() => memoryFallback({ onMiss: 'empty' as never })).toThrow(/onMiss/);
  });
});
