/**
 * The `{ signal }` option every async botkit operation accepts.
 *
 * @example
 * ```ts
 * import type { AbortableOptions } from '@botkit/core';
 *
 * async function work({ signal }: AbortableOptions = {}) {
 *   signal?.throwIfAborted();
 * }
 * ```
 */
export interface AbortableOptions {
  /** Cancels the operation; it rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * A signal that aborts when any of the given signals aborts (with that signal's reason);
 * `undefined` entries are ignored. Uses `AbortSignal.any`.
 *
 * @param signals - signals to combine
 * @returns the combined signal (a never-aborting one when none are given)
 *
 * @example
 * ```ts
 * import { anySignal } from '@botkit/core';
 *
 * const signal = anySignal([options.signal, shutdown.signal]);
 * ```
 */
export function anySignal(signals: Iterable<AbortSignal | undefined>): AbortSignal {
  const list = [...signals].filter((s): s is AbortSignal => s !== undefined);
  if (list.length === 1) return list[0] as AbortSignal;
  return AbortSignal.any(list);
}
