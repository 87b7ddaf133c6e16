import type { Update } from '@grammyjs/types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBotApiEmulator } from '../src/index.js';
import { call } from './helpers.js';

type Command =
  | { kind: 'push'; count: number }
  | {
      kind: 'poll';
      offset: 'none' | 'next' | 'stale' | 'future' | 'negative' | 'nearFuture';
      k: number;
      limit: number;
    };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('poll' as const),
    offset: fc.constantFrom('none', 'next', 'stale', 'future', 'negative', 'nearFuture'),
    k: fc.integer({ min: 1, max: 5 }),
    limit: fc.integer({ min: 1, max: 6 }),
  }),
);

describe('getUpdates offsets (property)', () => {
  it('returns exactly the updates the documented offset rules leave, in order, never a confirmed one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 12 }), async (commands) => {
        const emulator = await createBotApiEmulator();
        try {
          // The model: pending ids, and the id the next update gets.
          let pending: number[] = [];
          let nextId = 1;
          let lastSeen = 0;
          for (const c of commands) {
            if (c.kind === 'push') {
              for (let i = 0; i < c.count; i++) {
                emulator.sendMessage(1, `m${nextId}`);
                pending.push(nextId++);
              }
              continue;
            }
            const head = pending[0] ?? nextId;
            let offset: number | undefined;
            let from: number;
            switch (c.offset) {
              case 'none':
                offset = undefined;
                from = head;
                break;
              case 'next': // the usual: one past the last update seen
                offset = lastSeen + 1;
                from = offset;
                break;
              case 'stale': // an old offset: confirms nothing new
                offset = Math.max(1, lastSeen - c.k);
                from = offset;
                break;
              case 'nearFuture': // up to 10 past the next id still confirms everything
                offset = nextId + Math.min(c.k, 10);
                from = offset;
                break;
              case 'future': // more than 10 past: ignored, read from the oldest
                offset = nextId + 10 + c.k;
                from = head;
                break;
              default: // negative: counted from the next id, earlier ones forgotten
                offset = -c.k;
                from = pending.length > 0 ? Math.max(nextId - c.k, head) : head;
            }
            pending = pending.filter((id) => id >= from);
            const expected = pending.slice(0, c.limit);
            const answer = await call(emulator, 'getUpdates', {
              ...(offset !== undefined ? { offset } : {}),
              limit: c.limit,
            });
            const ids = (answer.body.result as Update[]).map((u) => u.update_id);
            expect(ids).toEqual(expected);
            expect(emulator.pendingUpdates.map((u) => u.update_id)).toEqual(pending);
            if (ids.length > 0) lastSeen = ids.at(-1)!;
          }
        } finally {
          await emulator.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
