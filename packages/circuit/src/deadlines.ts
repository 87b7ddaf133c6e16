import type { Clock, ClockTimer } from '@botkit/core';

/** A pending call with a deadline, linked in insertion order. */
export interface DeadlineNode {
  /** Tick at which the call started. */
  at: number;
  prev: DeadlineNode | undefined;
  next: DeadlineNode | undefined;
  linked: boolean;
}

/** Longest tick: calls expire at most this late (plus event-loop lag). */
const MAX_TICK_MS = 10;

/**
 * Deadlines of calls that all share one time limit, so they expire in insertion order.
 *
 * Per call it only links a list node: no timer and no clock read (reading the time costs
 * 100+ ns on some virtual machines, more than the rest of the call). One timer ticks every
 * `min(10 ms, timeoutMs / 10)` while calls are pending and stops when none are; a call expires on
 * the first tick at least `timeoutMs` after it started, so never early and at most one tick late.
 *
 * @internal
 */
export class DeadlineList {
  readonly #clock: Clock;
  readonly #tickMs: number;
  readonly #ticks: number;
  readonly #base: number;
  readonly #onExpire: (node: DeadlineNode, reason: unknown) => void;
  #epoch = 0;
  #head: DeadlineNode | undefined;
  #tail: DeadlineNode | undefined;
  #timer: ClockTimer | undefined;
  #size = 0;

  /**
   * @param clock - time source
   * @param timeoutMs - the shared time limit
   * @param onExpire - called with each expired node, and the reason given to expireAll (undefined on timeout)
   */
  constructor(clock: Clock, timeoutMs: number, onExpire: (node: DeadlineNode, reason: unknown) => void) {
    this.#clock = clock;
    this.#tickMs = Math.min(MAX_TICK_MS, Math.max(1, Math.ceil(timeoutMs / 10)));
    this.#ticks = Math.ceil(timeoutMs / this.#tickMs);
    this.#base = clock.now();
    this.#onExpire = onExpire;
  }

  /** Number of calls waiting. */
  get size(): number {
    return this.#size;
  }

  /** Links `node`, which expires `timeoutMs` from now. */
  add(node: DeadlineNode): void {
    if (this.#timer === undefined) {
      this.#refresh();
      this.#arm();
    }
    node.at = this.#epoch;
    node.prev = this.#tail;
    node.next = undefined;
    node.linked = true;
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
    this.#size++;
  }

  /** Unlinks `node` (no-op when it is not linked). */
  remove(node: DeadlineNode): void {
    if (!node.linked) return;
    node.linked = false;
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    node.prev = undefined;
    node.next = undefined;
    this.#size--;
  }

  /** Expires every linked node now with `reason` (e.g. the connection closed); returns how many. */
  expireAll(reason: (node: DeadlineNode) => unknown): number {
    let count = 0;
    for (let node = this.#head; node; node = this.#head) {
      this.remove(node);
      this.#onExpire(node, reason(node));
      count++;
    }
    return count;
  }

  /** Stops the timer; linked nodes stay linked but no longer expire on their own. */
  dispose(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #refresh(): void {
    this.#epoch = Math.floor((this.#clock.now() - this.#base) / this.#tickMs);
  }

  #arm(): void {
    this.#timer = this.#clock.setTimeout(this.#tick, this.#tickMs).unref();
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    this.#refresh();
    // A node stamped with tick e started at or after e * tickMs: it is due once (e + ticks + 1)
    // ticks have begun, i.e. at least ticks * tickMs >= timeoutMs later.
    const limit = this.#epoch - this.#ticks - 1;
    for (let node = this.#head; node && node.at <= limit; node = this.#head) {
      this.remove(node);
      this.#onExpire(node, undefined);
    }
    if (this.#head) this.#arm();
  };
}
