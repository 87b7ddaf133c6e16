import type { WaitOptions } from './types.js';

const DEFAULT_WAIT_MS = 10_000;

/**
 * Waits for something to show up (a message, a request), with a wall-clock time limit, an
 * AbortSignal, and rejection when the emulator closes. Leaves no timer or listener behind.
 */
export class Waiters {
  readonly #onClose = new Set<() => void>();
  #closed = false;

  /**
   * @param find - returns the value once it exists
   * @param subscribe - calls `check` whenever the value may have appeared; returns an unsubscribe
   * @param what - for error messages
   * @param options - time limit and signal
   */
  wait<T>(
    find: () => T | undefined,
    subscribe: (check: () => void) => () => void,
    what: string,
    options: WaitOptions = {},
  ): Promise<T> {
    const { timeoutMs = DEFAULT_WAIT_MS, signal } = options;
    if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) {
      return Promise.reject(new TypeError(`Expected timeoutMs > 0, got ${String(timeoutMs)}`));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    if (this.#closed) return Promise.reject(new Error('The Bot API emulator is closed'));
    return new Promise<T>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        unsubscribe();
        this.#onClose.delete(onClose);
        signal?.removeEventListener('abort', onAbort);
      };
      const check = () => {
        const value = find();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const onAbort = () => {
        cleanup();
        reject(signal?.reason);
      };
      const onClose = () => {
        cleanup();
        reject(new Error(`The Bot API emulator closed while waiting for ${what}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const unsubscribe = subscribe(check);
      this.#onClose.add(onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Rejects every pending wait, and every later one. */
  close(): void {
    this.#closed = true;
    for (const listener of [...this.#onClose]) listener();
  }
}
