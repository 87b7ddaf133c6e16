import type { Clock } from '@botkit/core';

const BUCKETS = 10;

/**
 * Error-rate window in 10 time buckets, rotated lazily from the clock on each record: no timer.
 *
 * @internal
 */
export class RollingWindow {
  readonly #clock: Clock;
  readonly #bucketMs: number;
  readonly #percentage: number;
  readonly #volume: number;
  readonly #epochs = new Float64Array(BUCKETS).fill(-1);
  readonly #calls = new Float64Array(BUCKETS);
  readonly #failures = new Float64Array(BUCKETS);

  constructor(clock: Clock, windowMs: number, percentage: number, volume: number) {
    this.#clock = clock;
    this.#bucketMs = windowMs / BUCKETS;
    this.#percentage = percentage;
    this.#volume = volume;
  }

  /** Records one call; returns true when the window now calls for opening. */
  record(failed: boolean): boolean {
    const epoch = Math.floor(this.#clock.now() / this.#bucketMs);
    const i = epoch % BUCKETS;
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch;
      this.#calls[i] = 0;
      this.#failures[i] = 0;
    }
    this.#calls[i] = (this.#calls[i] ?? 0) + 1;
    if (!failed) return false;
    this.#failures[i] = (this.#failures[i] ?? 0) + 1;
    let calls = 0;
    let failures = 0;
    for (let j = 0; j < BUCKETS; j++) {
      if ((this.#epochs[j] as number) > epoch - BUCKETS) {
        calls += this.#calls[j] as number;
        failures += this.#failures[j] as number;
      }
    }
    return calls >= this.#volume && (failures / calls) * 100 >= this.#percentage;
  }

  /** Forgets every call (on open and close). */
  reset(): void {
    this.#epochs.fill(-1);
  }
}
