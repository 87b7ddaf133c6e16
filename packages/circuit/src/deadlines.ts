import type { Clock, ClockTimer } from '@botkit/core';

/** A pending call with a deadline, linked in insertion (= deadline) order. */
export interface DeadlineNode {
  /** Epoch ms at which the call times out. */
  at: number;
  prev: DeadlineNode | undefined;
  next: DeadlineNode | undefined;
  linked: boolean;
  expire(reason?: unknown): void;
}

/**
 * Deadlines of calls that all share one time limit, so they expire in insertion order. One
 * timer serves the whole list (armed for the oldest deadline), so a call adds a list node, never
 * a timer. Adding and removing are O(1).
 *
 * @internal
 */
export class DeadlineList {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #head: DeadlineNode | undefined;
  #tail: DeadlineNode | undefined;
  #timer: ClockTimer | undefined;
  #size = 0;

  constructor(clock: Clock, timeoutMs: number) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
  }

  /** Number of calls waiting. */
  get size(): number {
    return this.#size;
  }

  /** Links `node` with a deadline `timeoutMs` from now. */
  add(node: DeadlineNode): void {
    node.at = this.#clock.now() + this.#timeoutMs;
    node.prev = this.#tail;
    node.next = undefined;
    node.linked = true;
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
    this.#size++;
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
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
      node.expire(reason(node));
      count++;
    }
    return count;
  }

  /** Stops the timer; linked nodes stay linked but no longer expire on their own. */
  dispose(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = this.#clock.setTimeout(this.#fire, ms).unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = this.#clock.now();
    for (let node = this.#head; node && node.at <= now; node = this.#head) {
      this.remove(node);
      node.expire();
    }
    if (this.#head) this.#arm(this.#head.at - now);
  };
}
